"""Quarter-turn orientation: the text-line first pass, its Tesseract OSD fallback, and what a page
whose orientation stays unsure becomes.

Rendered register pages (printed form and handwriting-like fonts) at 150-300 dpi, skewed and noisy,
fed at 0/90/180/270; and the real scans in tests/data/realscans.
"""
from __future__ import annotations

import dataclasses
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bench import corpus
from pipeline import geometry, orientation, page
from pipeline.settings import PageSettings

REAL = Path(__file__).parent / "data" / "realscans"
NO_OSD = PageSettings(fix_orientation=False)


@lru_cache(maxsize=None)
def straight_capture(dpi: int, rotation: int, layout: int) -> np.ndarray:
    """A register page fed turned by `rotation` (counter-clockwise), skewed, noisy, blurred, with a
    dark border, then cropped and deskewed: what orientation detection gets."""
    entry = corpus.make_entries("KS", 2017, 1, 40, seed=13)[dpi % 37]
    image = corpus.render_register_page(entry, layout, dpi, seed=dpi + rotation)
    deg = corpus.Degradation(rotation=rotation, skew_deg=-3.5 if rotation % 180 else 4.0, border_mm=10.0,
                             noise_sigma=7.0, blur_sigma=0.9, jpeg_quality=70)
    return geometry.straighten(corpus.degrade(image, dpi, deg, seed=rotation + dpi), dpi, NO_OSD).image


CASES = [(dpi, rotation, layout) for dpi, layout in ((150, 1), (200, 3), (300, 2)) for rotation in (0, 90, 180, 270)]


@pytest.mark.parametrize("dpi,rotation,layout", CASES)
def test_text_lines_tell_the_orientation(dpi, rotation, layout):
    found = orientation.text_orientation(straight_capture(dpi, rotation, layout), dpi)
    assert found.confident, found
    assert found.rotation == rotation  # the feed turned it counter-clockwise: turn back clockwise
    assert found.words >= orientation.ORIENT_MIN_WORDS


@pytest.mark.parametrize("dpi,rotation,layout", CASES[::3])
def test_straighten_turns_the_page_upright(dpi, rotation, layout):
    entry = corpus.make_entries("KS", 2017, 1, 40, seed=13)[dpi % 37]
    capture = corpus.degrade(corpus.render_register_page(entry, layout, dpi, seed=1), dpi,
                             corpus.Degradation(rotation=rotation, skew_deg=2.0, noise_sigma=5.0), seed=2)
    out = geometry.straighten(capture, dpi, PageSettings())
    assert out.orientation_confident and out.rotation == rotation
    assert out.orientation_method == "text-lines"
    assert out.image.shape[0] > out.image.shape[1]


def _cardinal(index: int, dpi: int) -> np.ndarray:
    with pymupdf.open(REAL / "cardinal.pdf") as doc:
        pix = doc[index].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, :pix.width].copy()


@pytest.mark.parametrize("index,expected", [(0, 0), (1, 270), (2, 180), (3, 90)])
def test_real_brochure_at_four_orientations(index, expected):
    found = orientation.text_orientation(_cardinal(index, 150), 150)
    assert found.confident and found.rotation == expected


@pytest.mark.parametrize("name,dpi", [("c02-22.jpg", 150), ("typewriter.png", 300)])
@pytest.mark.parametrize("quarter_turns", [0, 1, 2, 3])
def test_real_scans_turned(name, dpi, quarter_turns):
    image = np.asarray(Image.open(REAL / name).convert("L"))
    turned = np.ascontiguousarray(np.rot90(image, quarter_turns))  # counter-clockwise
    found = orientation.text_orientation(turned, dpi)
    assert found.confident and found.rotation == 90 * quarter_turns


def _cue(**changes) -> orientation.TextOrientation:
    base = orientation.TextOrientation(rotation=0, direction_ratio=9.0, updown=0.05, words=60,
                                       direction_sure=True, confident=False, seconds=0.05)
    return dataclasses.replace(base, **changes)


def test_unsure_text_lines_fall_back_to_osd(monkeypatch):
    page_image = straight_capture(200, 180, 3)
    monkeypatch.setattr(orientation, "text_orientation", lambda img, dpi: _cue(rotation=0))
    found = orientation.find_orientation(page_image, 200)
    assert found.method == "osd" and found.attempts >= 1
    assert found.confident and found.rotation == 180  # OSD agrees with the lines' direction


def test_osd_contradicting_the_line_direction_is_not_trusted(monkeypatch):
    monkeypatch.setattr(orientation, "text_orientation", lambda img, dpi: _cue(rotation=0))
    monkeypatch.setattr(orientation, "detect_orientation",
                        lambda img, dpi: orientation.Orientation(90, 9.0, True, 1, 1.0))
    found = orientation.find_orientation(np.zeros((10, 10), np.uint8), 200)
    assert not found.confident and found.rotation == 0 and "disagree" in found.error


def test_no_words_means_no_osd_call(monkeypatch):
    def no_osd(*args, **kwargs):
        raise AssertionError("OSD called on a page without words")
    monkeypatch.setattr(orientation, "detect_orientation", no_osd)
    specks = np.full((1170, 827), 235, np.uint8)
    specks[::97, ::89] = 40
    found = orientation.find_orientation(specks, 100)
    assert not found.confident and found.rotation == 0


def test_content_page_with_unsure_orientation_is_filed_with_a_reason(monkeypatch):
    monkeypatch.setattr(geometry, "find_orientation",
                        lambda img, dpi: orientation.Orientation(0, 0.5, False, 1, 1.0, "unsure"))
    entry = corpus.make_entries("KS", 2017, 1, 3, seed=2)[1]
    result = page.process_page(corpus.render_register_page(entry, 2, 200, seed=3), 200, PageSettings())
    assert result.verdict == "content" and not result.orientation_confident
    assert page.ORIENTATION_UNSURE in result.reason
