"""Bound books captured page by page after one start sheet, through the real station: sheets printed by
`station separators --start-page`, pages rendered as ledgers (bench/bound_book.py) and degraded, the
pipeline with OCR, placement by the register, export and `station verify`."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pymupdf
import pytest

from bench import bound_book, corpus
from station.catalog.models import Capture, Entry, Page, Scan, ScanPage, open_catalog
from station.errors import IncompleteBookError
from tests.helpers import assert_states_current, run_cli
from tests.test_resume import captured, station

# 14 A4 ledger pages, 45 registrations, pages 6 and 9 left blank, page numbers printed at the foot.
PRINTED = "KS.2015.06"
# 14 A4 pages, 46 registrations with handwritten numbers, page 4 blank, no page numbers printed.
UNNUMBERED = "KS.2015.02"
SEED = 3


def _book_home(root: Path, book_id: str) -> tuple[Path, bound_book.BoundBook]:
    book = bound_book.make_book(book_id, 14, SEED)
    home = root / "home"
    bound_book.write_register(root / "register.xlsx", book)
    run_cli(home, "book", "add", book_id, "--register", root / "register.xlsx")
    return home, book


def _capture(root: Path, home: Path, book: bound_book.BoundBook, name: str, start_page: int = 1,
             fault: str | None = None, at: int = 0, pages: int | None = None) -> list[dict]:
    sheet = root / f"start-{start_page}.pdf"
    run_cli(home, "separators", book.book_id, "--start-page", start_page, "-o", sheet)
    short = bound_book.BoundBook(book.book_id, book.entries, book.page_of, pages or book.pages, book.blank,
                                 book.style, book.size_mm)
    truth = bound_book.write_capture_set(root / name, short, SEED, start_page=start_page, fault=fault, at=at,
                                         sheet_pdf=sheet)
    run_cli(home, "process", root / name, "--paper", book.paper)
    return truth


def _filed_pages(home: Path, book: bound_book.BoundBook, truths: dict[str, int]) -> dict[int, list[int]]:
    """Registration → the book pages (by the captures' truth) in its counting placed scan."""
    with open_catalog(home)() as session:
        rows = session.execute(
            Scan.__table__.select().with_only_columns(Entry.number, Capture.batch_id, Capture.source_name, ScanPage.position)
            .join_from(Scan, Entry, Entry.id == Scan.entry_id).join(ScanPage, ScanPage.scan_id == Scan.id)
            .join(Page, Page.id == ScanPage.page_id).join(Capture, Capture.id == Page.capture_id)
            .where(Entry.book_id == book.book_id, Scan.placed).order_by(Entry.number, ScanPage.position))
        filed: dict[int, list[int]] = {}
        for number, batch, source, _ in rows:
            filed.setdefault(number, []).append(truths[f"{batch}/{source}"])
    return filed


def _states_kept(home: Path, book_id: str) -> None:
    """The stored states are current, and `station status` of every book (read from them) says of this
    one what `station status BOOK` (worked out in Python) does, its breaks included."""
    assert_states_current(home)
    (summary,) = json.loads(run_cli(home, "status", "--json").output)["books"]
    (detail,) = json.loads(run_cli(home, "status", book_id, "--json").output)["books"]
    detail.pop("entries")
    assert summary == detail


def _truth_pages(truth: list[dict], batch: int = 1) -> dict[str, int]:
    """"batch/file" of each capture → the book page it shows."""
    return {f"{batch}/{t['file']}": t["book_page"] for t in truth if t["book_page"] is not None}


def _own_pages(book: bound_book.BoundBook, number: int) -> list[int]:
    """The book pages a registration's PDF must hold: its page, and the blank-free pages it runs on to."""
    spans = bound_book_spans(book)
    return [p for p in spans[number] if p not in book.blank]


def bound_book_spans(book: bound_book.BoundBook) -> dict[int, range]:
    from station.capture.bypage import spans
    return spans(book.page_of, book.pages)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("bound-clean")
    home, book = _book_home(root, PRINTED)
    truth = _capture(root, home, book, "captures")
    return root, home, book, truth


def test_one_start_sheet_files_every_registration_with_exactly_its_pages(clean):
    root, home, book, truth = clean
    assert len(book.entries) == 45 and len(truth) == 15        # the start sheet and 14 book pages
    status = json.loads(run_cli(home, "status", book.book_id, "--json").output)["books"][0]
    assert status["by_page"] and not status["breaks"]
    assert (status["done"], status["doubtful"], status["missing"]) == (45, 0, 0), status
    filed = _filed_pages(home, book, _truth_pages(truth))
    assert filed == {e.number: _own_pages(book, e.number) for e in book.entries}

    out = root / "export"
    run_cli(home, "export", book.book_id, "-o", out)
    with zipfile.ZipFile(out / f"{book.book_id}.zip") as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == 45
        # A page holding four registrations is in each of their PDFs: the same image, four times.
        counts = [pymupdf.open(stream=archive.read(n), filetype="pdf").page_count for n in pdfs]
    assert sorted(counts) == sorted(len(_own_pages(book, e.number)) for e in book.entries)
    run_cli(home, "verify", out)
    strip = json.loads(run_cli(home, "book", "pages", book.book_id, "--json").output)
    assert [p["book_page"] for p in strip["pages"]] == list(range(1, 15))
    assert [p["blank"] for p in strip["pages"]] == [p in book.blank for p in range(1, 15)]
    assert strip["confirmed_pages"] >= 10 and not strip["breaks"] and not strip["notes"]


def test_a_missed_page_turn_is_refused_at_export_naming_the_page_then_mended_by_capturing_it(tmp_path):
    home, book = _book_home(tmp_path, PRINTED)
    truth = _capture(tmp_path, home, book, "captures", fault="missed", at=12)
    on_12 = book.numbers_on(12)
    refused = run_cli(home, "export", book.book_id, "-o", tmp_path / "out", code=IncompleteBookError.exit_code).output
    assert "trang 12 không thấy" in refused and "page 12 not found" in refused
    assert f"số {on_12[0]}" in refused
    # Exported anyway: nothing from page 12 on goes into a wrong PDF.
    run_cli(home, "export", book.book_id, "-o", tmp_path / "out", "--allow-incomplete")
    filed = _filed_pages(home, book, _truth_pages(truth))
    assert not set(filed) & set(on_12)
    assert all(pages == _own_pages(book, n) for n, pages in filed.items())
    assert len(filed) == 45 - len(on_12)
    listing = run_cli(home, "book", "pages", book.book_id).output
    assert "trang  12" in listing and "chưa chụp / not captured" in listing
    _states_kept(home, book.book_id)

    # The operator captures page 12 after a start sheet for it: the station puts it in its place.
    more = _capture(tmp_path, home, book, "page12", start_page=12, pages=12)
    status = json.loads(run_cli(home, "status", book.book_id, "--json").output)["books"][0]
    assert (status["done"], status["doubtful"]) == (45, 0), status
    filed = _filed_pages(home, book, {**_truth_pages(truth), **_truth_pages(more, batch=2)})
    assert filed == {e.number: _own_pages(book, e.number) for e in book.entries}
    _states_kept(home, book.book_id)
    run_cli(home, "export", book.book_id, "-o", tmp_path / "again")


def test_a_page_captured_twice_is_dropped_and_the_operator_clears_the_break(tmp_path):
    home, book = _book_home(tmp_path, PRINTED)
    truth = _capture(tmp_path, home, book, "captures", fault="double", at=4)
    status = json.loads(run_cli(home, "status", book.book_id, "--json").output)["books"][0]
    assert status["done"] == 45 and len(status["breaks"]) == 1 and "page 4 captured again" in status["breaks"][0]
    assert _filed_pages(home, book, _truth_pages(truth)) == {e.number: _own_pages(book, e.number)
                                                             for e in book.entries}
    strip = json.loads(run_cli(home, "book", "pages", book.book_id, "--json").output)
    extra = strip["breaks"][0]["page_id"]
    _states_kept(home, book.book_id)
    run_cli(home, "page", "delete", extra)
    status = json.loads(run_cli(home, "status", book.book_id, "--json").output)["books"][0]
    assert status["done"] == 45 and not status["breaks"]
    _states_kept(home, book.book_id)


def test_pages_stuck_together_in_a_book_without_page_numbers_are_caught_by_the_rows_read(tmp_path):
    home, book = _book_home(tmp_path, UNNUMBERED)
    truth = _capture(tmp_path, home, book, "captures", fault="stuck", at=9)
    status = json.loads(run_cli(home, "status", book.book_id, "--json").output)["books"][0]
    assert len(status["breaks"]) == 1 and "page 9 not found" in status["breaks"][0], status["breaks"]
    filed = _filed_pages(home, book, _truth_pages(truth))
    assert not set(filed) & set(book.numbers_on(9))
    assert all(pages == _own_pages(book, n) for n, pages in filed.items())    # nothing shifted
    # The strip shows the gap where it is.
    strip = json.loads(run_cli(home, "book", "pages", book.book_id, "--json").output)
    gap = next(p for p in strip["pages"] if p["book_page"] == 9)
    assert gap["page_id"] is None and "trang 9 không thấy" in gap["doubt"]


def test_a_by_page_batch_killed_midway_resumes_to_the_same_placement(clean, tmp_path):
    """kill -9 of `station process` on a bound book, run again: every page filed once, in its place."""
    root, _, book, truth = clean
    home = tmp_path / "home"
    assert station(home, "book", "add", book.book_id, "--register", root / "register.xlsx").returncode == 0
    env = dict(os.environ, STATION_HOME=str(home))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "station"), "process", str(root / "captures"),
                             "--paper", book.paper], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while captured(home) < 7 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "batch ended before the kill"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    again = station(home, "process", root / "captures", "--paper", book.paper)
    assert again.returncode == 0, again.stderr
    status = json.loads(station(home, "status", book.book_id, "--json").stdout)["books"][0]
    assert (status["done"], status["doubtful"], status["breaks"]) == (45, 0, []), status
    assert _filed_pages(home, book, _truth_pages(truth)) == {e.number: _own_pages(book, e.number)
                                                             for e in book.entries}


def test_a_loose_sheet_with_its_own_separator_inside_a_bound_book(tmp_path):
    """Start sheet, pages 1-5, an entry separator and the loose sheet of a registration the ledger does
    not hold, a start sheet for page 6, pages 6-14: one batch, every registration in its place."""
    book = bound_book.make_book(PRINTED, 14, SEED)
    loose = corpus.EntryInfo("KS", 2015, 6, 46, book.entries[-1].reg_date, "Lê Thị Lan")
    home = tmp_path / "home"
    corpus.write_register_xlsx(tmp_path / "register.xlsx", [*book.entries, loose], pages=book.page_of)
    run_cli(home, "book", "add", book.book_id, "--register", tmp_path / "register.xlsx")
    for start in (1, 6):
        run_cli(home, "separators", book.book_id, "--start-page", start, "-o", tmp_path / f"start-{start}.pdf")
    run_cli(home, "separators", book.book_id, "--entries", "46", "-o", tmp_path / "loose.pdf")
    first = bound_book.BoundBook(book.book_id, book.entries, book.page_of, 5, book.blank, book.style, book.size_mm)
    parts = [bound_book.write_capture_set(tmp_path / "a", first, SEED, sheet_pdf=tmp_path / "start-1.pdf"),
             None,
             bound_book.write_capture_set(tmp_path / "c", book, SEED, start_page=6, sheet_pdf=tmp_path / "start-6.pdf")]
    batch = tmp_path / "batch"
    batch.mkdir()
    names = [tmp_path / "a" / t["file"] for t in parts[0]]
    with pymupdf.open(tmp_path / "loose.pdf") as sheets:
        corpus.save_image(tmp_path / "loose-sheet.jpg", corpus.raster(sheets[0], 200), 200)
    corpus.save_image(tmp_path / "loose-page.jpg", corpus.render_register_page(loose, 1, 200, SEED), 200)
    names += [tmp_path / "loose-sheet.jpg", tmp_path / "loose-page.jpg"]
    names += [tmp_path / "c" / t["file"] for t in parts[2]]
    for i, path in enumerate(names):
        shutil.copy(path, batch / f"{i:04d}.jpg")
    run_cli(home, "process", batch, "--paper", book.paper)
    status = json.loads(run_cli(home, "status", book.book_id, "--json").output)["books"][0]
    assert (status["done"], status["doubtful"], status["missing"], status["breaks"]) == (46, 0, 0, []), status
    truths = {f"1/{i:04d}.jpg": t["book_page"] for i, t in enumerate(parts[0]) if t["book_page"]}
    offset = len(parts[0]) + 2
    truths.update({f"1/{i + offset:04d}.jpg": t["book_page"] for i, t in enumerate(parts[2]) if t["book_page"]})
    assert _filed_pages(home, book, truths) == {e.number: _own_pages(book, e.number) for e in book.entries}
    entry = json.loads(run_cli(home, "entry", "show", book.book_id, 46, "--json").output)
    assert entry["status"] == "done" and len(entry["scans"]) == 1
