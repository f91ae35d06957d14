"""Sheet finding, skew, orientation and straighten on rendered register pages and real scans.

Angles are checked against the degradation's ground truth; crops against the sheet corners that
bench.corpus reports; orientation against the known feed rotation.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from bench import corpus
from pipeline import deskew, geometry, orientation, sheet
from pipeline.settings import PageSettings

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract is ~5x slower with OpenMP threads

REAL = Path(__file__).parent / "data" / "realscans"
NO_OSD = PageSettings(fix_orientation=False)
WITH_OSD = PageSettings()
MAX_RESIDUAL_DEG = 0.3


@lru_cache(maxsize=None)
def register_page(number: int, page: int, dpi: int) -> np.ndarray:
    entry = corpus.make_entries("KS", 2017, 1, 6, seed=7)[number]
    return corpus.render_register_page(entry, page, dpi, seed=number)


def dark_share_at_edges(img: np.ndarray, dpi: float, mm: float = 2.0) -> float:
    """Largest share of near-black pixels in the outer `mm` strip of any edge."""
    v = img.max(axis=2) if img.ndim == 3 else img
    m = max(1, int(round(mm * dpi / 25.4)))
    return max(float((s < 90).mean()) for s in (v[:m], v[-m:], v[:, :m], v[:, -m:]))


HARSH = dict(blur_sigma=1.5, noise_sigma=10.0, jpeg_quality=45, streaks=3, brightness=0.9)


@pytest.mark.parametrize("dpi,skew,border_mm,harsh", [
    (150, -10.0, 12.0, True),
    (150, 10.0, 0.0, True),
    (150, -6.0, 0.0, False),
    (150, 6.0, 15.0, True),
    (200, 8.4, 10.0, True),
    (200, -3.2, 0.0, True),
    (300, -6.0, 20.0, True),
    (300, 9.7, 0.0, False),
    (600, -6.0, 8.0, False),
])
def test_straighten_removes_skew(dpi: int, skew: float, border_mm: float, harsh: bool) -> None:
    page = register_page(int(abs(skew)) % 6, 1 + (dpi == 300), dpi)
    deg = corpus.Degradation(skew_deg=skew, border_mm=border_mm,
                             **(HARSH if harsh else dict(noise_sigma=3.0)))
    capture = corpus.degrade(page, dpi, deg, seed=dpi)
    out = geometry.straighten(capture, dpi, NO_OSD)
    assert abs(out.skew_deg - skew) <= MAX_RESIDUAL_DEG
    assert out.skew_confidence > 0.5
    # Measured again on the result: the page now lies straight.
    assert abs(deskew.measure_skew(out.image, dpi).angle_deg) <= MAX_RESIDUAL_DEG
    assert dark_share_at_edges(out.image, dpi) < 0.01
    assert geometry.dark_edges(out.image).clean
    # The sheet was found (dark cradle or white lid around yellowed paper) and nothing of it lost:
    # the result is the A4 sheet within a few mm.
    assert out.border_removed
    h, w = out.image.shape[:2]
    ph, pw = page.shape[:2]
    tol = 6 * dpi / 25.4
    assert abs(h - ph) <= tol and abs(w - pw) <= tol


@pytest.mark.parametrize("skew,border_mm", [(4.5, 15.0), (-8.0, 6.0)])
def test_find_sheet_matches_truth(skew: float, border_mm: float) -> None:
    dpi = 150
    capture, truth = corpus.degrade_ex(register_page(1, 1, dpi), dpi,
                                       corpus.Degradation(skew_deg=skew, border_mm=border_mm,
                                                          noise_sigma=6.0, blur_sigma=1.0), seed=3)
    box = sheet.find_sheet(capture, dpi)
    assert box.border_found
    err_mm = np.abs(np.array(box.corners) - truth).max() * 25.4 / dpi
    assert err_mm < 2.0
    assert abs(box.angle_deg - skew) < 0.5
    # The kept outline lies inside the true sheet: no cradle is kept.
    outline = np.array(box.outline)
    inside = [_inside(p, truth) for p in outline]
    assert all(inside)


def _inside(p: np.ndarray, quad: np.ndarray) -> bool:
    # Convex quad, corners in order: p is on the same side of every edge.
    def cross(a: np.ndarray, b: np.ndarray) -> float:
        return float(a[0] * b[1] - a[1] * b[0])

    signs = [cross(quad[(i + 1) % 4] - quad[i], p - quad[i]) for i in range(4)]
    return all(s >= -1.0 for s in signs) or all(s <= 1.0 for s in signs)


def test_capture_without_border_is_kept_whole() -> None:
    dpi = 150
    page = register_page(2, 2, dpi)
    out = geometry.straighten(page, dpi, NO_OSD)
    assert not out.border_removed
    assert out.image.shape == page.shape
    assert abs(out.skew_deg) <= MAX_RESIDUAL_DEG


def test_blank_page_is_not_rotated_and_flagged() -> None:
    dpi = 150
    capture = corpus.degrade(corpus.render_blank_page(dpi, 4, bleed_through=True), dpi,
                             corpus.Degradation(skew_deg=3.0, border_mm=10.0, noise_sigma=5.0),
                             seed=4)
    out = geometry.straighten(capture, dpi, WITH_OSD)
    assert out.rotation == 0 and not out.orientation_confident
    assert out.skew_confidence < 0.3
    # No text to measure: the sheet's own edges square the page.
    assert abs(out.skew_deg - 3.0) < 0.5
    assert dark_share_at_edges(out.image, dpi) < 0.01


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_orientation_of_register_pages(rotation: int) -> None:
    dpi = 200
    page = register_page(rotation // 90, 1 + (rotation == 180), dpi)
    capture = corpus.degrade(page, dpi, corpus.Degradation(rotation=rotation, skew_deg=2.5,
                                                           border_mm=8.0, noise_sigma=5.0,
                                                           blur_sigma=0.8), seed=5)
    out = geometry.straighten(capture, dpi, WITH_OSD)
    assert out.orientation_confident
    # The feed turned the page counter-clockwise; straighten turns it back clockwise.
    assert out.rotation == rotation
    assert out.image.shape[0] > out.image.shape[1]  # portrait again
    assert abs(out.skew_deg - 2.5) <= MAX_RESIDUAL_DEG


def _cardinal(index: int, dpi: int = 150) -> np.ndarray:
    with pymupdf.open(REAL / "cardinal.pdf") as doc:
        pix = doc[index].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, :pix.width]


@pytest.mark.parametrize("index,expected", [(0, 0), (1, 270), (2, 180), (3, 90)])
def test_orientation_of_cardinal_pdf(index: int, expected: int) -> None:
    # Pages of cardinal.pdf show linn.png turned 0, 90 (clockwise), 180 and 270 degrees.
    page = _cardinal(index)
    result = orientation.detect_orientation(page, 150)
    assert result.confident and result.rotation == expected
    assert result.seconds < 10
    upright = orientation.rotate_quarter(page, result.rotation)
    assert upright.shape[0] > upright.shape[1]


@pytest.mark.parametrize("skew", [-7.0, 4.0])
def test_real_typewriter_skew(skew: float) -> None:
    dpi = 300
    text = np.asarray(Image.open(REAL / "typewriter.png").convert("L"))
    base = deskew.measure_skew(text, dpi).angle_deg  # the scan's own small skew
    capture = corpus.degrade(text, dpi, corpus.Degradation(skew_deg=skew, border_mm=10.0,
                                                           noise_sigma=4.0), seed=6)
    out = geometry.straighten(capture, dpi, NO_OSD)
    assert abs(out.skew_deg - (base + skew)) <= MAX_RESIDUAL_DEG
    assert out.border_removed and geometry.dark_edges(out.image).clean
    assert dark_share_at_edges(out.image, dpi) < 0.01


def test_real_yellowed_book_page_upside_down() -> None:
    dpi = 150
    book = np.asarray(Image.open(REAL / "c02-22.jpg").convert("RGB"))
    base = deskew.measure_skew(book, dpi).angle_deg
    capture = corpus.degrade(book, dpi, corpus.Degradation(skew_deg=-5.0, rotation=180,
                                                           border_mm=12.0, noise_sigma=5.0),
                             seed=8)
    out = geometry.straighten(capture, dpi, WITH_OSD)
    assert out.rotation == 180 and out.orientation_confident
    # A half turn keeps line slopes: the capture shows the scan's own skew plus the one added.
    assert abs(out.skew_deg - (base - 5.0)) <= MAX_RESIDUAL_DEG
    assert abs(deskew.measure_skew(out.image, dpi).angle_deg) <= MAX_RESIDUAL_DEG
    assert out.border_removed and dark_share_at_edges(out.image, dpi) < 0.01


def test_dark_edges_finds_a_left_over_frame() -> None:
    page = np.full((400, 300, 3), 230, np.uint8)
    page[:, :7] = 30
    page[-4:, :] = 40
    bands = geometry.dark_edges(page)
    assert (bands.left, bands.bottom, bands.top, bands.right) == (7, 4, 0, 0)
