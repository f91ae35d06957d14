"""Operator corrections through the CLI: each one recorded, PDFs rewritten, bad ones refused unchanged."""
import json
import sqlite3

import pymupdf
import pytest

from bench import corpus
from station.catalog.models import Entry, open_catalog
from station.review.corrections import Conflict, Corrections
from tests.helpers import assert_states_current, run_cli

BOOK = "KS.2017.01"
DPI = 200


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code, operator="tester").output


@pytest.fixture
def book(tmp_path):
    """Entry 1 with three pages, the last of which really belongs to entry 2 (a missed separator)."""
    home = tmp_path / "home"
    entries = corpus.make_entries("KS", 2017, 1, 3, seed=41)
    corpus.write_register_xlsx(tmp_path / "register.xlsx", entries)
    cli(home, "book", "add", BOOK, "--register", tmp_path / "register.xlsx")
    cli(home, "separators", BOOK, "--entries", "1", "-o", tmp_path / "s1.pdf")
    caps = tmp_path / "caps"
    caps.mkdir()
    corpus.save_image(caps / "0001.jpg", corpus.render_pdf_page(tmp_path / "s1.pdf", 0, DPI), DPI)
    for i, (entry, page) in enumerate([(0, 1), (0, 2), (1, 1)], start=2):
        corpus.save_image(caps / f"{i:04d}.jpg", corpus.render_register_page(entries[entry], page, DPI, seed=i), DPI)
    cli(home, "process", caps)
    return home


def pages_of(home, number):
    with open_catalog(home)() as session:
        entry = session.query(Entry).filter_by(book_id=BOOK, number=number).one()
        scan = entry.scans[-1] if entry.scans else None
        ids = [sp.page_id for sp in scan.pages if not sp.page.deleted] if scan else []
        pdf_pages = pymupdf.open(home / entry.pdf.file).page_count if entry.pdf else 0
        return ids, pdf_pages, entry.version


def audit(home):
    with sqlite3.connect(home / "catalog.sqlite") as db:
        return db.execute("select operator, action, book_id, entry_number from corrections order by id").fetchall()


def test_move_page_to_the_entry_it_belongs_to(book):
    ids, _, _ = pages_of(book, 1)
    assert len(ids) == 3
    cli(book, "page", "move", ids[2], BOOK, 2)
    assert pages_of(book, 1)[:2] == (ids[:2], 2)
    assert pages_of(book, 2)[:2] == ([ids[2]], 1)
    assert audit(book) == [("tester", "move_page", BOOK, 2)]
    status = {e["number"]: e["status"] for e in json.loads(cli(book, "status", BOOK, "--json"))["books"][0]["entries"]}
    assert status == {1: "done", 2: "done", 3: "missing"}
    assert_states_current(book)


def test_reorder_delete_share_and_accept(book):
    ids, _, _ = pages_of(book, 1)
    cli(book, "entry", "reorder", BOOK, 1, ids[1], ids[0], ids[2])
    assert pages_of(book, 1)[0] == [ids[1], ids[0], ids[2]]
    cli(book, "entry", "reorder", BOOK, 1, ids[0], ids[1], code=12)  # not the entry's pages: refused
    assert pages_of(book, 1)[0] == [ids[1], ids[0], ids[2]]
    cli(book, "page", "delete", ids[2])
    assert pages_of(book, 1)[:2] == ([ids[1], ids[0]], 2)
    cli(book, "page", "delete", ids[2], code=12)
    cli(book, "page", "share", ids[0], BOOK, 3)
    assert pages_of(book, 3)[:2] == ([ids[0]], 1) and ids[0] in pages_of(book, 1)[0]
    cli(book, "entry", "accept", BOOK, 1, "--reason", "  ", code=12)
    cli(book, "entry", "accept", BOOK, 1, "--reason", "đối chiếu sổ gốc")
    actions = [a for _, a, _, _ in audit(book)]
    assert actions == ["reorder", "delete_page", "share_page", "accept"]
    assert_states_current(book)


def test_bad_requests_change_nothing(book):
    before = pages_of(book, 1)
    cli(book, "page", "move", 99999, BOOK, 2, code=12)
    cli(book, "page", "move", before[0][0], BOOK, 77, code=12)
    cli(book, "page", "move", before[0][0], "KT.2001.01", 1, code=12)
    assert pages_of(book, 1) == before and audit(book) == []


def test_concurrent_edits_one_wins_the_other_gets_a_conflict(book):
    ids, _, version = pages_of(book, 2)
    sessions = open_catalog(book)
    with sessions() as first, sessions() as second:
        one, two = Corrections(first, book, "a"), Corrections(second, book, "b")
        page_1 = pages_of(book, 1)[0]
        one.move_page(page_1[2], BOOK, 2, expected_version=version)
        with pytest.raises(Conflict):
            two.move_page(page_1[1], BOOK, 2, expected_version=version)
    assert pages_of(book, 2)[0] == [page_1[2]]
    assert [op for op, *_ in audit(book)] == ["a"]


def test_api_corrections_and_their_audit_records(book):
    from fastapi.testclient import TestClient

    from station.capture.daemon import Station
    from station.config import load_config
    from station.web.app import create_app
    cfg = load_config(home=book)
    client = TestClient(create_app(Station(cfg, open_catalog(book)), token=None), base_url="http://127.0.0.1")
    entry = client.get(f"/api/books/{BOOK}/entries/1").json()
    # The missed separator is caught: entry 2's first page, filed under 1, reads "Số: 2".
    assert entry["status"] == "doubtful" and entry["version"] >= 1
    assert any("reads no. 2 but is filed under no. 1" in reason for reason in entry["reasons"])
    pages = [p["id"] for p in entry["scans"][0]["pages"]]
    moved = client.post(f"/api/pages/{pages[2]}/move", json={"book": BOOK, "number": 2, "version": 1},
                        headers={"X-Operator": "lan.nguyen"})
    assert moved.status_code == 200 and [p["id"] for p in moved.json()["scans"][0]["pages"]] == [pages[2]]
    # A second operator working from the old view of entry 2: refused, nothing changed.
    stale = client.post(f"/api/pages/{pages[1]}/move", json={"book": BOOK, "number": 2, "version": 1})
    assert stale.status_code == 409
    assert client.post("/api/pages/99999/move", json={"book": BOOK, "number": 2}).status_code == 404
    assert client.post(f"/api/pages/{pages[0]}/move", json={"book": BOOK, "number": 99}).status_code == 404
    assert client.post(f"/api/books/{BOOK}/entries/1/reorder", json={"pages": [1]}).status_code == 400
    assert client.post(f"/api/books/{BOOK}/entries/1/accept", json={"reason": ""}).status_code == 422
    log = client.get("/api/corrections", params={"book": BOOK}).json()["corrections"]
    assert [(c["operator"], c["action"], c["number"]) for c in log] == [("lan.nguyen", "move_page", 2)]
    assert client.get(f"/api/books/{BOOK}/entries/2").json()["pdf"]["pages"] == 1
    assert client.get(f"/api/books/{BOOK}/entries/1").json()["status"] == "done"
