"""kill -9 at named points and at a random moment, then restart: every capture filed once, every PDF
whole and its entry's pages, `station verify` clean, no temp file, and the export byte-identical to an
uninterrupted run's. The short form of bench/crash_campaign.py (the long form: `make soak`)."""
import io
import random
import shutil
import signal
import sqlite3
import time

import pymupdf
import pytest
from PIL import Image

from bench import corpus
from bench.crash_campaign import (BOOK_ID, QUICK_TRIALS, Daemon, check_home, cli, end_in, env_for, export_problems,
                                  fresh_home, random_trial, run_trial, start, station)
from pipeline.pdf import assemble_pdf
from station.catalog.books import BookId
from station.catalog.register import read_register
from station.export.workbook import write_export_workbook


@pytest.mark.parametrize("trial", QUICK_TRIALS, ids=lambda t: t.label.replace(" ", "-"))
def test_killed_at_a_point_then_restarted_loses_nothing(scanned_book, trial, tmp_path):
    outcome = run_trial(scanned_book, trial, tmp_path)
    assert outcome.killed, f"{trial.label}: never reached, the station ended first"
    assert outcome.problems == []


@pytest.mark.parametrize("mode", ["process", "daemon"])
def test_killed_at_a_random_moment_then_restarted_loses_nothing(scanned_book, mode, tmp_path):
    trial = random_trial(scanned_book, mode, random.Random(mode), 0.3, 0.6)  # mid-batch, by the reference run
    outcome = run_trial(scanned_book, trial, tmp_path)
    assert outcome.killed, f"the batch ended within {trial.delay:.1f} s, before the kill"
    assert outcome.problems == []


def test_a_folder_processed_again_is_skipped_not_taken_for_a_rescan(scanned_book, tmp_path):
    """The same captures (same SHA-256) again after the batch finished: all recognized and skipped,
    no entry gets a second scan, the export is unchanged."""
    home = tmp_path / "home"
    shutil.copytree(scanned_book.processed, home)
    again = cli(home, "process", scanned_book.captures)
    assert again.exit_code == 0, again.output
    assert f"{len(scanned_book.names)} ảnh đã có trong danh mục, bỏ qua" in again.output
    assert check_home(scanned_book, home) == []
    detail = [cli(home, "entry", "show", BOOK_ID, number).output for number in scanned_book.pages]
    assert all(text.count("lượt quét") == 1 for text in detail), detail
    assert export_problems(scanned_book, home, tmp_path / "export") == []


def test_pdfs_and_export_workbooks_carry_no_time_of_making(tmp_path):
    """The same pages, the same register: the same bytes later, so a PDF rebuilt after a crash and a
    re-export compare by checksum (what the trials above rely on)."""
    page = io.BytesIO()
    Image.new("RGB", (400, 560), "white").save(page, "JPEG", dpi=(50, 50))
    with pymupdf.open() as text:  # a text layer, as pipeline.ocr makes them
        text.new_page(width=576, height=806).insert_text((72, 72), "Số: 1", render_mode=3)
        layer = text.tobytes()
    entries = corpus.make_entries("KS", 2017, 1, 2, seed=3)
    corpus.write_register_xlsx(tmp_path / "register.xlsx", entries)
    register = read_register(tmp_path / "register.xlsx", BookId.parse(BOOK_ID))

    def make(tag):
        write_export_workbook(tmp_path / f"{tag}.xlsx", register, {entries[0].number: "KS.2017.01.x.01.pdf"})
        return (assemble_pdf([page.getvalue()], "t"), assemble_pdf([page.getvalue()], "t", [layer]),
                (tmp_path / f"{tag}.xlsx").read_bytes())

    first = make("first")
    time.sleep(2.1)  # past a second for PDF dates, past two for zip entry dates
    assert make("second") == first


def test_a_batch_the_daemon_recovered_is_continued_by_processing_the_folder_again(scanned_book, tmp_path):
    """`station process` cut by a power cut, `station run` started at boot (it processes what was
    captured), then the operator runs the same `station process` again: the rest of the folder joins
    the entry whose separator came before the cut, not held as pages before any separator."""
    home = fresh_home(scanned_book, tmp_path / "trial")
    first = start(["process", scanned_book.captures], env_for(home, crash="write:captures:4"), tmp_path / "first.log")
    assert end_in(first, None) == -signal.SIGKILL
    daemon = Daemon(tmp_path / "station", home)
    daemon.start()
    assert daemon.stop() in (0, -signal.SIGTERM)
    again = station(["process", scanned_book.captures], env_for(home))
    assert "Tiếp tục lô bị gián đoạn" in again.stdout
    assert check_home(scanned_book, home) == []
    assert export_problems(scanned_book, home, tmp_path / "export") == []


def test_the_checks_find_what_a_bad_recovery_would_leave(scanned_book, tmp_path):
    """The campaign's checks bite: a capture filed twice, a torn PDF, a temp file and a stray page."""
    home = tmp_path / "home"
    shutil.copytree(scanned_book.processed, home)
    with sqlite3.connect(home / "catalog.sqlite") as db:
        db.execute("insert into captures (batch_id, seq, source_name, stored_file, frame, sha256, stored_at) "
                   "select batch_id, 99, source_name, stored_file, frame, sha256, stored_at from captures where seq = 2")
        pdf = db.execute("select file from pdfs limit 1").fetchone()[0]
    (home / pdf).write_bytes((home / pdf).read_bytes()[:1000])
    (home / "pages" / ".00003.jpg.x1y2.tmp").write_bytes(b"half")
    (home / "pages" / "stray.jpg").write_bytes(b"jpeg")
    found = "\n".join(check_home(scanned_book, home))
    for words in (f"capture {scanned_book.names[1]} filed 2 times", "never processed", "does not match its checksum",
                  "temp file left", "file no catalog row names: pages/stray.jpg"):
        assert words in found, found
