"""Numbers read on the pages against the separators, and page counts against the book.

End to end: a rendered book whose separators for entries 3 and 4 were swapped in the feeder goes
through `station process` (ministry-color reads "Số: N" on every content page); both entries come out
doubtful with the evidence, the others done, and moving the pages back clears them. Catalog-level:
the same rules, and the page-count guard, on hand-made catalog rows.
"""
import json
import os
import shutil
import stat

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bench import corpus
from station.capture.daemon import Station
from station.catalog import library
from station.catalog.models import Batch, Book, Capture, Entry, Page, Scan, ScanPage, Verdict, open_catalog
from station.config import load_config
from station.web.app import create_app
from tests.helpers import add_rendered_book, run_cli

BOOK = "KS.2017.01"


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code).output


def status(home):
    return {e["number"]: e for e in json.loads(cli(home, "status", BOOK, "--json"))["books"][0]["entries"]}


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    """Five entries; the separator of entry 3 stands before entry 4's pages and the other way round."""
    root = tmp_path_factory.mktemp("swapped")
    home = root / "home"
    entries = add_rendered_book(home, root, 5, seed=23)
    captures = root / "captures"
    truths = corpus.write_captures(captures, entries, root / "sheets.pdf", seed=23, max_skew=4.0,
                                   upside_down_separators=0)
    sheets = {t.entries[0]: captures / t.file for t in truths if t.kind == "separator"}
    sheet3 = sheets[3].read_bytes()
    sheets[3].write_bytes(sheets[4].read_bytes())
    sheets[4].write_bytes(sheet3)
    output = cli(home, "process", captures)
    return dict(root=root, home=home, truths=truths, output=output)


def test_swapped_separators_flag_both_entries(swapped):
    entries = status(swapped["home"])
    assert [n for n, e in entries.items() if e["status"] == "done"] == [1, 2, 5]
    for mine, other in ((3, 4), (4, 3)):
        assert entries[mine]["status"] == "doubtful"
        text = " ".join(entries[mine]["reasons"])
        # Its pages read the other number, and its own number was read on the other's pages.
        assert f"«Số: {other}» nhưng nằm trong số {mine}" in text
        assert f"số {mine} đọc được trên trang" in text and f"nằm trong số {other}" in text
    cli(swapped["home"], "export", BOOK, "-o", swapped["root"] / "refused", code=8)


def test_evidence_is_kept_and_shown(swapped):
    home = swapped["home"]
    detail = json.loads(cli(home, "entry", "show", BOOK, "3", "--json"))
    assert detail["evidence"]
    for item in detail["evidence"]:
        assert {item["read_number"], *item["filed_under"]} == {3, 4}
        path = home / item["evidence"]
        assert path.name.endswith("-evidence.jpg") and path.parent.parent.name == "pages"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        crop = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
        # "Số: N" and a margin: a small image, wider than tall, ink on paper.
        assert crop is not None and crop.shape[1] > crop.shape[0] and path.stat().st_size < 20_000
        assert crop.min() < 100 < crop.max()
    pages = [p for scan in detail["scans"] for p in scan["pages"]]
    assert any(p["read_number"] == 4 and p["number_evidence"] and p["read_volume"] == "01/2017" for p in pages)
    # The dashboard shows the crop beside the number read.
    client = TestClient(create_app(Station(load_config(home=home), open_catalog(home)), token=None),
                        base_url="http://127.0.0.1")
    shown = next(p for p in pages if p["number_evidence"])
    answer = client.get(f"/api/pages/{shown['id']}/evidence")
    assert answer.status_code == 200 and answer.content == (home / shown["number_evidence"]).read_bytes()
    assert client.get("/api/pages/999999/evidence").status_code == 404


def test_moving_the_pages_back_clears_both(swapped, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(swapped["home"], home)
    shown = {n: json.loads(cli(home, "entry", "show", BOOK, str(n), "--json")) for n in (3, 4)}
    for number, other in ((3, 4), (4, 3)):
        for page in shown[number]["scans"][0]["pages"]:
            cli(home, "page", "move", page["id"], BOOK, other)
    entries = status(home)
    assert all(entries[n]["status"] == "done" for n in range(1, 6)), entries


def test_no_false_alarm_on_a_right_book(swapped):
    """The entries the swap did not touch read their own numbers (or nothing), never another's."""
    sessions = open_catalog(swapped["home"])
    truth = {t.file: t for t in swapped["truths"]}
    with sessions() as session:
        rows = session.execute(select(Capture.source_name, Page).join(Page, Page.capture_id == Capture.id)).all()
        read = [(truth[name].entries[0], page.read_number) for name, page in rows
                if page.read_number is not None]
        assert read and all(true == got for true, got in read)
        first_pages = [name for name, _ in rows if truth[name].kind == "content" and truth[name].page_in_entry == 1]
        assert len(read) >= len(first_pages) - 1


# --- the same rules on hand-made catalog rows -------------------------------------------------------

def _book(session, counts: dict[int, int], page_no: dict[int, str] | None = None,
          readings: dict[tuple[int, int], int] | None = None, ocr: bool = False) -> Book:
    """A book whose entry n has counts[n] content pages; readings[(n, k)] = number read on its page k;
    ocr: every page was given to OCR (the profile reads numbers), whether or not it read one."""
    book = Book(id=BOOK, book_type="KS", year=2017, volume=1)
    session.add(book)
    batch = Batch(source="test", profile="ministry-color")
    session.add(batch)
    session.flush()
    seq = 0
    for number in sorted(set(counts) | set(page_no or {})):
        entry = Entry(number=number, page_no=(page_no or {}).get(number), register_row=number + 1)
        book.entries.append(entry)
        if not counts.get(number):
            continue
        scan = Scan(entry=entry, batch_id=batch.id)
        session.add(scan)
        for k in range(counts[number]):
            seq += 1
            capture = Capture(batch_id=batch.id, seq=seq, source_name=f"{seq:04d}.jpg", stored_file="x", sha256="0")
            page = Page(capture=capture, verdict=Verdict.content, read_number=(readings or {}).get((number, k)),
                        measures={"ocr": {"box": None, "error": None}} if ocr else None)
            session.add_all([capture, page])
            session.flush()
            scan.pages.append(ScanPage(page_id=page.id, position=k, page=page))
    session.commit()
    return book


def test_report_flags_the_entry_that_swallowed_the_next(tmp_path):
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        # Register: two book pages per entry; entry 6's separator was lost, entry 5 holds its pages.
        counts = {n: 2 for n in range(1, 13)}
        counts[5], counts[6] = 4, 0
        book = _book(session, counts, page_no={n: str(2 * n - 1) for n in range(1, 13)})
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert report[5].status == "doubtful"
        assert "suspiciously many pages" in " ".join(report[5].reasons) and "trangSo" in " ".join(report[5].reasons)
        assert report[6].status == "missing"
        assert all(report[n].status == "done" for n in counts if n not in (5, 6))


def test_report_flags_a_page_read_as_another_entry(tmp_path):
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        # Entry 2's first page reads 3; entry 3 was never scanned; entry 1 reads its own number.
        book = _book(session, {1: 2, 2: 2, 3: 0, 4: 1}, readings={(1, 0): 1, (2, 0): 3})
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert report[1].status == "done" and report[4].status == "done"
        assert report[2].status == "doubtful" and "reads no. 3 but is filed under no. 2" in report[2].reasons[0]
        # Not simply missing: its page is in entry 2's PDF.
        assert report[3].status == "doubtful" and "no. 3 read on page" in report[3].reasons[0]
        detail = library.entry_detail(session, BOOK, 3)
        assert [(e["read_number"], e["filed_under"]) for e in detail["evidence"]] == [(3, [2])]


def test_shared_page_may_read_either_number(tmp_path):
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        book = _book(session, {1: 1, 2: 1}, readings={(1, 0): 2})
        shared = book.entries[0].scans[0].pages[0].page
        book.entries[1].scans[0].pages.append(ScanPage(page_id=shared.id, position=1, page=shared))
        session.commit()
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert report[1].status == report[2].status == "done"


def test_accepting_overrides_the_number_check(tmp_path):
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        book = _book(session, {1: 1, 2: 1}, readings={(1, 0): 2})
        book.entries[0].accepted_reason = "số in sai trên giấy, đã đối chiếu sổ gốc"
        session.commit()
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert report[1].status == "done"
        assert report[2].status == "doubtful"  # its number stands on a page of entry 1: still to look at


def test_a_book_whose_numbers_are_not_read_says_the_cross_check_is_inactive(tmp_path):
    """Pages OCR reads nothing on (a form it does not know) must not pass for a checked book."""
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        book = _book(session, {n: 1 for n in range(1, 7)}, readings={(1, 0): 1, (2, 0): 2}, ocr=True)
        report = library.book_report(session, book)
        assert all(e.status == "done" for e in report.entries)
        (note,) = report.notes
        assert "cross-check inactive for this book (number read on 2 of 6 first pages)" in note
        assert "đối chiếu số đăng ký không hoạt động" in note
        # Read on most first pages: the check works, nothing to say.
        for entry in book.entries[2:5]:
            entry.scans[0].pages[0].page.read_number = entry.number
        session.commit()
        assert library.book_report(session, book).notes == []


def test_a_profile_that_reads_no_numbers_says_the_cross_check_is_off(tmp_path):
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        book = _book(session, {1: 1, 2: 2})
        (note,) = library.book_report(session, book).notes
        assert "cross-check off" in note


def test_a_table_page_holding_several_registrations(tmp_path):
    """Rows 7-10 read on one page: filed under 7 alone, 8-10 learn the page is theirs too."""
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        book = _book(session, {7: 1, 8: 0, 9: 0, 10: 0, 11: 1}, ocr=True)
        table = book.entries[0].scans[0].pages[0].page
        table.measures = {**table.measures, "read_numbers": [7, 8, 9, 10]}
        session.commit()
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert report[7].status == "done"
        assert all(report[n].status == "doubtful" and f"no. {n} read on page {table.id}" in report[n].reasons[0]
                   for n in (8, 9, 10))
        # Shared into all four (station page share): every one done.
        for entry in book.entries[1:4]:
            scan = Scan(entry=entry, batch_id=book.entries[0].scans[0].batch_id)
            session.add(scan)
            scan.pages.append(ScanPage(page_id=table.id, position=0, page=table))
        session.commit()
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert all(report[n].status == "done" for n in (7, 8, 9, 10, 11)), report
        # Filed under an entry it does not hold: misplaced.
        moved = book.entries[4].scans[0].pages[0].page
        moved.measures = {**moved.measures, "read_numbers": [3, 4]}
        session.commit()
        report = {e.number: e for e in library.book_report(session, book).entries}
        assert report[11].status == "doubtful" and "reads no. 3, 4 but is filed under no. 11" in report[11].reasons[0]


def test_a_page_over_the_size_cap_warns_but_never_holds_its_entry(tmp_path):
    sessions = open_catalog(tmp_path)
    with sessions() as session:
        book = _book(session, {1: 1, 2: 1})
        dense = book.entries[0].scans[0].pages[0].page
        dense.over_budget = True
        dense.measures = {"warnings": ["trang 208 KB, vượt giới hạn 193 KB / page 208 KB, over the 193 KB cap"]}
        session.commit()
        report = library.book_report(session, book)
        first = report.entries[0]
        assert first.status == "done" and not first.reasons and "208 KB" in first.warnings[0]
        assert any("1 pages over the profile's size cap" in note for note in report.notes)
