"""Grey captures (SANE "Gray" mode, grey hot-folder files) go through the pipeline as grey: one
channel, not three equal ones, and the same verdicts, skew, orientation and number as the colour
capture of the same sheet."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bench import corpus
from pipeline.load import load_frame
from pipeline.page import process_capture
from pipeline.settings import PageSettings
from tests.helpers import run_cli

DPI = 300
COLOUR = PageSettings(read_entry_number=True)
ENTRY = corpus.make_entries("KS", 2017, 1, 30, seed=23)[11]


def _both(tmp_path, name: str, rgb: np.ndarray):
    """The same sheet saved as a colour and as a grey JPEG, each processed from its file."""
    colour, grey = tmp_path / f"{name}-colour.jpg", tmp_path / f"{name}-grey.jpg"
    corpus.save_image(colour, rgb, DPI)
    corpus.save_image(grey, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), DPI)
    return process_capture(colour, 0, COLOUR)[0], process_capture(grey, 0, COLOUR)[0]


def test_grey_file_loads_as_one_channel(tmp_path):
    path = tmp_path / "g.png"
    corpus.save_image(path, np.full((300, 200), 240, np.uint8), DPI)
    loaded = load_frame(path, 0, 10**8)
    assert loaded.pixels.shape == (300, 200) and loaded.file_dpi == pytest.approx(DPI, abs=0.01)


def test_grey_content_page_matches_its_colour_capture(tmp_path):
    page = corpus.render_register_page(ENTRY, 1, DPI, seed=4)
    capture = corpus.degrade(page, DPI, corpus.Degradation(rotation=180, skew_deg=3.0, border_mm=8.0,
                                                            noise_sigma=5.0, blur_sigma=0.6), seed=4)
    colour, grey = _both(tmp_path, "content", capture)
    assert colour.verdict == grey.verdict == "content"
    assert grey.rotation == colour.rotation == 180 and grey.orientation_confident
    assert grey.skew_deg == pytest.approx(colour.skew_deg, abs=0.1)
    assert grey.reading.number == colour.reading.number == ENTRY.number
    # A grey capture has no colour to keep: its page is a grey JPEG, smaller than the colour one.
    assert colour.image.mode == "RGB" and grey.image.mode == "L"
    assert (grey.image.width, grey.image.height) == pytest.approx((colour.image.width, colour.image.height), abs=4)
    assert grey.image.kb < colour.image.kb


def test_grey_blank_back_and_separator(tmp_path):
    blank_colour, blank_grey = _both(tmp_path, "blank", corpus.render_blank_page(DPI, seed=6, bleed_through=True))
    assert blank_colour.verdict == blank_grey.verdict == "blank"
    home = tmp_path / "home"
    run_cli(home, "book", "add", "KS.2017.01", "--entries", "1-3")
    run_cli(home, "separators", "KS.2017.01", "-o", tmp_path / "sheets.pdf")
    sheet = corpus.degrade(corpus.render_pdf_page(tmp_path / "sheets.pdf", 1, DPI), DPI,
                           corpus.Degradation(skew_deg=-5.0, noise_sigma=8.0), seed=7)
    sep_colour, sep_grey = _both(tmp_path, "separator", sheet)
    assert sep_colour.verdict == sep_grey.verdict == "separator"
    assert sep_grey.separator.entries == (2,)
