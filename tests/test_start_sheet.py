"""The book-start sheet (`station separators BOOK --start-page N`): printed through the real CLI, read
back by the pipeline from its scan, clean and degraded, and unmistakable for an entry separator."""
from __future__ import annotations

import os

import numpy as np
import pymupdf
import pytest

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bench import corpus
from pipeline.page import process_capture
from pipeline.separator import make_start_payload
from pipeline.settings import PageSettings
from station.errors import BookError, InputError
from tests.helpers import run_cli

BOOK = "KS.2017.01"
START = 37
DPI = 300


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("start-sheet") / "home"
    run_cli(home, "book", "add", BOOK, "--entries", "1-3")
    return home


@pytest.fixture(scope="module")
def start_pdf(home, tmp_path_factory):
    out = tmp_path_factory.mktemp("printed") / "to-bat-dau.pdf"
    result = run_cli(home, "separators", BOOK, "--start-page", START, "-o", out)
    assert str(out) in result.output
    with pymupdf.open(out) as doc:
        yield doc.tobytes()


def _raster(pdf: bytes, dpi: int) -> np.ndarray:
    with pymupdf.open(stream=pdf) as doc:
        assert doc.page_count == 1
        pix = doc[0].get_pixmap(dpi=dpi)
        return np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w, pix.n).copy()


def test_start_sheet_says_what_it_is_and_from_which_page(start_pdf):
    with pymupdf.open(stream=start_pdf) as doc:
        page = doc[0]
        text = page.get_text()
        assert page.rect == pymupdf.paper_rect("a4")
        spans = [s for block in page.get_text("dict")["blocks"] for line in block.get("lines", ())
                 for s in line["spans"]]
    lines = text.splitlines()
    assert "TỜ BẮT ĐẦU SỔ" in text and "TỜ PHÂN CÁCH" not in text and "Số đăng ký" not in text
    assert "SỔ ĐĂNG KÝ KHAI SINH" in text and "Quyển số 01/2017" in text and f"Sổ {BOOK}" in text
    assert any(line.startswith("Bắt đầu từ trang") for line in lines) and str(START) in lines
    assert make_start_payload(BOOK, START).encode() in lines
    # The page number is the largest type on the sheet: an operator reads it from across the table.
    biggest = max(spans, key=lambda s: s["size"])
    assert biggest["text"] == str(START) and biggest["size"] >= 96
    # The instructions: on top, from page N on, two pages an open spread, another sheet to resume.
    assert f"từ trang {START} trở đi" in text and f"from page {START} on" in text
    assert "left then right" in text and "print another start sheet" in text and "book start sheet" in text


@pytest.mark.parametrize("damage", [
    None,
    corpus.Degradation(skew_deg=-4.0, rotation=180, blur_sigma=2.0, noise_sigma=12, jpeg_quality=40,
                       border_mm=6, streaks=3, brightness=0.9),
], ids=["clean", "degraded"])
def test_scanned_start_sheet_is_a_separator_naming_the_book_and_page(start_pdf, tmp_path, damage):
    img = _raster(start_pdf, DPI)
    if damage is not None:
        img = corpus.degrade(img, DPI, damage, seed=5)
    path = tmp_path / "capture.jpg"
    corpus.save_image(path, img, DPI)
    (result,) = process_capture(path, 0, PageSettings())
    assert result.verdict == "separator", result.reason
    assert result.separator == make_start_payload(BOOK, START)
    assert result.separator.start_page == START and result.separator.book_id == BOOK
    assert result.separator.entries == ()


@pytest.mark.parametrize("kind", ["start", "entry", "shared"])
def test_a_sheet_with_its_codes_torn_off_is_still_held_as_a_separator(kind, home, start_pdf, tmp_path):
    """Whatever the sheet, its bands mark it when both codes are lost (a shared sheet's long heading
    once split its band into strips too thin to count)."""
    if kind == "start":
        pdf = start_pdf
    else:
        out = tmp_path / "sheet.pdf"
        run_cli(home, "separators", BOOK, *(["--entries", "2"] if kind == "entry" else ["--shared", "1-3"]),
                "-o", out)
        pdf = out.read_bytes()
    img = _raster(pdf, DPI)
    h = img.shape[0]
    img[int(h * 0.33):int(h * 0.70)] = 255   # both codes gone: the bands remain
    path = tmp_path / "torn.jpg"
    corpus.save_image(path, img, DPI)
    (result,) = process_capture(path, 0, PageSettings())
    assert result.verdict == "doubtful" and result.separator is None and result.reason


def _refused(home, tmp_path, error, *args):
    out = tmp_path / "sheet.pdf"
    result = run_cli(home, "separators", *args, "-o", out, code=error.exit_code)
    assert not out.exists()
    errors = [line for line in result.output.splitlines() if line.startswith("Lỗi")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("page", [0, -2, 10_000])
def test_start_page_out_of_range_is_refused(home, tmp_path, page):
    line = _refused(home, tmp_path, InputError, BOOK, "--start-page", page)
    assert "9999" in line and "start page" in line


@pytest.mark.parametrize("other", [["--entries", "1-2"], ["--shared", "1-2"]])
def test_start_page_excludes_entries_and_shared(home, tmp_path, other):
    line = _refused(home, tmp_path, InputError, BOOK, "--start-page", 3, *other)
    assert "--start-page" in line and other[0] in line


def test_start_sheet_for_an_unknown_book_is_refused(home, tmp_path):
    line = _refused(home, tmp_path, BookError, "KT.2001.02", "--start-page", 3)
    assert "KT.2001.02" in line
