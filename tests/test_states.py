"""Entries' stored states (station.review.states): they follow every change through the catalog's
sessions, an upgrade from the release before them fills them, `station doctor` notices one that is
wrong and `station book restate` puts it right; status and /api/books read them and say what the
per-book views, which work states out in Python, say."""
import json
import sqlite3

import numpy as np
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from bench import corpus
from station import doctor
from station.capture.assign import reset_batch
from station.capture.daemon import Station
from station.catalog import migrate
from station.catalog.models import Batch, StoredEntryState, open_catalog
from station.review import states
from station.config import load_config
from station.web.app import create_app
from tests.helpers import assert_states_current, run_cli

BOOK = "KS.2017.01"
OTHER = "KT.2018.02"
DPI = 200


@pytest.fixture
def home(tmp_path):
    """Entry 1 with three pages, the last of which reads entry 2's number (a missed separator), entry 2
    missing, entry 3 with one page; another book never scanned."""
    home = tmp_path / "home"
    entries = corpus.make_entries("KS", 2017, 1, 3, seed=41)
    corpus.write_register_xlsx(tmp_path / "register.xlsx", entries)
    run_cli(home, "book", "add", BOOK, "--register", tmp_path / "register.xlsx")
    run_cli(home, "book", "add", OTHER, "--entries", "1-5")
    run_cli(home, "separators", BOOK, "--entries", "1,3", "-o", tmp_path / "sheets.pdf")
    caps = tmp_path / "caps"
    caps.mkdir()
    images = [corpus.render_pdf_page(tmp_path / "sheets.pdf", 0, DPI),
              corpus.render_register_page(entries[0], 1, DPI, seed=2), corpus.render_register_page(entries[0], 2, DPI, seed=3),
              corpus.render_register_page(entries[1], 1, DPI, seed=4),
              corpus.render_pdf_page(tmp_path / "sheets.pdf", 1, DPI), corpus.render_register_page(entries[2], 1, DPI, seed=5)]
    for i, image in enumerate(images, 1):
        corpus.save_image(caps / f"{i:04d}.jpg", image, DPI)
    run_cli(home, "process", caps)
    return home


def stored(home, book=BOOK) -> dict[int, str]:
    with sqlite3.connect(home / "catalog.sqlite") as db:
        return dict(db.execute("select e.number, s.status from entry_states s join entries e on e.id = s.entry_id "
                               "where s.book_id = ? order by e.number", (book,)).fetchall())


def page_ids(home, number) -> list[int]:
    return [p["id"] for scan in json.loads(run_cli(home, "entry", "show", BOOK, number, "--json").output)["scans"]
            for p in scan["pages"]]


def overview(home) -> list[dict]:
    return json.loads(run_cli(home, "status", "--json").output)["books"]


def one_by_one(home) -> list[dict]:
    """What status says of each book on its own (worked out in Python), without the entries."""
    books = []
    for book in (BOOK, OTHER):
        (found,) = json.loads(run_cli(home, "status", book, "--json").output)["books"]
        found.pop("entries")
        books.append(found)
    return books


def test_stored_states_follow_filing_corrections_and_deletions(home):
    assert stored(home) == {1: "doubtful", 2: "doubtful", 3: "done"}   # 2: its number read in 1
    assert stored(home, OTHER) == dict.fromkeys(range(1, 6), "missing")
    assert overview(home) == one_by_one(home)
    assert_states_current(home)
    misplaced = page_ids(home, 1)[2]
    run_cli(home, "page", "move", misplaced, BOOK, 2, operator="t")
    assert stored(home) == {1: "done", 2: "done", 3: "done"}
    run_cli(home, "page", "delete", misplaced, operator="t")
    assert stored(home) == {1: "done", 2: "doubtful", 3: "done"}     # a scan with no page left
    run_cli(home, "entry", "accept", BOOK, 3, "--reason", "đã đối chiếu", operator="t")
    assert overview(home) == one_by_one(home)
    assert_states_current(home)


def test_rescan_then_pick_and_an_undone_batch(home, tmp_path):
    sheets = tmp_path / "again.pdf"
    run_cli(home, "separators", BOOK, "--entries", "3", "-o", sheets)
    caps = tmp_path / "again"
    caps.mkdir()
    sheet = corpus.render_pdf_page(sheets, 0, DPI)       # through the scanner again: not the same bytes
    noise = np.random.default_rng(7).normal(0, 3, sheet.shape)
    corpus.save_image(caps / "0001.jpg", np.clip(sheet + noise, 0, 255).astype(np.uint8), DPI)
    corpus.save_image(caps / "0002.jpg", corpus.render_register_page(corpus.make_entries("KS", 2017, 1, 3, seed=41)[2],
                                                                      1, DPI, seed=9), DPI)
    run_cli(home, "process", caps)
    assert stored(home)[3] == "doubtful"                              # scanned twice: pick one
    latest = json.loads(run_cli(home, "entry", "show", BOOK, 3, "--json").output)["scans"][-1]["id"]
    run_cli(home, "entry", "pick", BOOK, 3, latest, operator="t")
    assert stored(home)[3] == "done"
    assert_states_current(home)
    # A batch undone by bulk statements (as a resumed batch is before its replay): its books follow.
    sessions = open_catalog(home)
    with sessions() as session:
        first = session.scalar(select(Batch.id).order_by(Batch.id))
        reset_batch(session, first)
        session.commit()
    assert stored(home) == {1: "missing", 2: "missing", 3: "done"}
    assert_states_current(home)


def test_upgrade_from_the_release_before_stored_states_fills_them(home):
    before = overview(home)
    engine = create_engine(f"sqlite:///{home / 'catalog.sqlite'}")
    with engine.begin() as connection:
        command.downgrade(migrate.SCRIPTS.config(connection), "0003")
    with engine.connect() as connection:
        assert migrate.SCRIPTS.revision(connection) == "0003"
        assert "entry_states" not in {name for (name,) in connection.exec_driver_sql(
            "select name from sqlite_master where type = 'table'")}
    engine.dispose()
    assert overview(home) == before                                   # opened: upgraded and filled
    with open_catalog(home)() as session:
        assert len(session.scalars(select(StoredEntryState)).all()) == 8
    assert_states_current(home)


def test_a_release_that_states_entries_differently_states_every_book_again(home, monkeypatch):
    with sqlite3.connect(home / "catalog.sqlite") as db:     # as the release before would have said it
        db.execute("update entry_states set reasons = '[\"older words\"]' where status = 'doubtful'")
    monkeypatch.setattr(states, "STATES_VERSION", states.STATES_VERSION + 1)
    open_catalog(home).kw["bind"].dispose()
    with sqlite3.connect(home / "catalog.sqlite") as db:
        assert db.execute("select distinct stated_by from book_states").fetchall() == [(states.STATES_VERSION,)]
    assert_states_current(home)


def test_doctor_names_a_book_whose_stored_state_is_wrong_and_restate_mends_it(home):
    cfg = load_config(home=home)
    assert doctor._check_states("states", cfg).level == "ok"
    with sqlite3.connect(home / "catalog.sqlite") as db:     # a fault in keeping them, or a hand edit
        db.execute("update entry_states set status = 'done', reasons = '[]' where entry_id = "
                   "(select id from entries where book_id = ? and number = 2)", (BOOK,))
        db.execute("update book_states set done = 2, doubtful = 0 where book_id = ?", (BOOK,))
    assert overview(home)[0]["done"] == 2
    check = doctor._check_states("states", cfg)
    assert check.level == "warn" and BOOK in check.detail and OTHER not in check.detail
    assert "2/2" in check.detail and f"station book restate {BOOK}" in check.fix
    assert "1 books restated" in run_cli(home, "book", "restate", BOOK).output
    assert doctor._check_states("states", cfg).level == "ok"
    assert overview(home) == one_by_one(home)
    assert "2 books restated" in run_cli(home, "book", "restate").output
    run_cli(home, "book", "restate", "HN.1999.01", code=7)


def test_api_books_reads_the_stored_states_and_agrees_with_each_book(home):
    client = TestClient(create_app(Station(load_config(home=home), open_catalog(home)), token=None),
                        base_url="http://127.0.0.1")
    books = client.get("/api/books").json()["books"]
    for summary in books:
        detail = client.get(f"/api/books/{summary['book']}").json()
        detail.pop("entries")
        assert summary == detail
    assert [(b["book"], b["done"], b["doubtful"], b["missing"]) for b in books] == [(BOOK, 1, 2, 0), (OTHER, 0, 0, 5)]
