"""Phone photos of register pages and separator sheets (bench/photo.py): a sheet on a wooden table,
camera tilted (keystone 6-12 %, either way), turned a few degrees either way, light falling off to
one side, a soft shadow, 72 dpi in the file.

Ruled lines of known length are drawn in the sheet's margins before it is photographed: equal on
paper, they must come out equal (within 1.5 %) and level on the page; no table may be left at its
edges; the number is read; separators are read; the whole CLI files every entry without a rescan
warning. Photos are taken at 9 MP here (16 MP in the CLI test, where 200 dpi on A3 needs them).
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
from functools import lru_cache

import cv2
import numpy as np
import pytest
from PIL import Image

from bench import corpus, photo
from pipeline import geometry
from pipeline.deskew import ink_mask
from pipeline.page import capture_resolution, process_capture
from pipeline.paper import parse_paper
from pipeline.perspective import sheet_quad
from pipeline.settings import PageSettings
from tests.helpers import run_cli

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

BOOK = "KS.2017.01"
ENTRIES = corpus.make_entries("KS", 2017, 1, 4, seed=21)
SMALL_FRAME = (2592, 3456)  # 9 MP
RENDER_DPI = 200  # of the A4-proportioned render; an A3 sheet is the same pixels, √2 larger
# Rulers drawn on the sheet, in millimetres of an A4 sheet (scaled with the sheet for A3).
RULER_INSET_MM = 6.0
RULER_H = (25.0, 185.0)  # x from, to: a line near the top and one near the bottom
RULER_V = (35.0, 262.0)  # y from, to: a line near the left edge and one near the right
MAX_KEYSTONE = 0.015
MAX_SKEW_DEG = 0.3
EDGE_STRIP_MM = 1.5
SATURATION_OF_WOOD = 0.45  # HSV; flattened paper and ink strokes stay far below at the edge


def sheet_mm(paper: str) -> tuple[float, float]:
    return (210.0, 297.0) if paper == "A4" else (297.0, 420.0)


@lru_cache(maxsize=None)
def ruled_sheet(number_index: int) -> np.ndarray:
    """A register page with four thin black rulers in its margins."""
    page = corpus.render_register_page(ENTRIES[number_index], 1, RENDER_DPI, seed=number_index).copy()
    px = RENDER_DPI / 25.4
    t = max(1, round(0.3 * px))
    h, w = page.shape[:2]
    x0, x1 = (round(v * px) for v in RULER_H)
    y0, y1 = (round(v * px) for v in RULER_V)
    m = round(RULER_INSET_MM * px)
    for y in (m, h - 1 - m):
        cv2.line(page, (x0, y), (x1, y), (20, 20, 20), t)
    for x in (m, w - 1 - m):
        cv2.line(page, (x, y0), (x, y1), (20, 20, 20), t)
    return page


def take_photo(sheet: np.ndarray, seed: int, keystone_sign: int, turn_sign: int,
               frame=SMALL_FRAME) -> bytes:
    setup = photo.random_setup(seed, frame)
    setup = dataclasses.replace(setup, keystone=keystone_sign * abs(setup.keystone),
                                turn_deg=turn_sign * abs(setup.turn_deg))
    return photo.jpeg_bytes(photo.photograph(sheet, setup, seed))


def ruler_lengths(page: np.ndarray, dpi: float, sheet_scale: float) -> dict[str, tuple[float, float]]:
    """(length px, tilt degrees) of each ruler found in its margin band of the page."""
    grey = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    ink = ink_mask(grey, dpi) > 0
    px = dpi / 25.4 * sheet_scale
    band = round(2 * RULER_INSET_MM * px)
    h, w = ink.shape
    found = {}
    for name, strip, along_rows in (("top", ink[:band], True), ("bottom", ink[h - band:], True),
                                    ("left", ink[:, :band], False), ("right", ink[:, w - band:], False)):
        lines = strip if along_rows else strip.T
        long_run = round(20 * px)
        kept = cv2.morphologyEx(lines.astype(np.uint8), cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_RECT, (long_run, 1)))
        ys, xs = np.nonzero(kept)
        assert xs.size, f"{name} ruler not found"
        slope = np.polyfit(xs, ys, 1)[0]
        found[name] = (float(xs.max() - xs.min() + 1), float(np.degrees(np.arctan(slope))))
    return found


@pytest.mark.parametrize("seed,keystone_sign,turn_sign", [(7, 1, -1), (8, -1, 1)])
def test_sheet_corners_found_where_the_photo_put_them(seed, keystone_sign, turn_sign):
    setup = photo.random_setup(seed, SMALL_FRAME)
    setup = dataclasses.replace(setup, keystone=keystone_sign * abs(setup.keystone),
                                turn_deg=turn_sign * abs(setup.turn_deg))
    shot = photo.photograph(ruled_sheet(0), setup, seed)
    paper = parse_paper("A4")
    found, sheet = capture_resolution(shot.image, None, paper)
    quad = sheet_quad(sheet)
    px_per_mm = found.dpi / 25.4
    assert np.abs(np.array(quad.corners) - shot.corners).max() <= 1.0 * px_per_mm
    assert quad.keystone == pytest.approx(abs(setup.keystone), abs=0.01)


CASES = [(1, "A4", 1, 1), (2, "A4", -1, -1), (3, "A3", 1, -1), (4, "A3", -1, 1)]


@pytest.mark.parametrize("seed,paper,keystone_sign,turn_sign", CASES)
def test_photo_is_rectified_to_the_paper(tmp_path, seed, paper, keystone_sign, turn_sign):
    index = seed % len(ENTRIES)
    path = tmp_path / "photo.jpg"
    path.write_bytes(take_photo(ruled_sheet(index), seed, keystone_sign, turn_sign))
    result, = process_capture(path, 0, PageSettings(paper=paper, read_entry_number=True))
    assert result.verdict == "content" and result.file_dpi == 72
    assert result.keystone >= 0.05 and result.orientation_confident and result.rotation == 0
    page = np.asarray(Image.open(io.BytesIO(result.image.data)).convert("RGB"))
    dpi = result.image.dpi
    width_mm, height_mm = (v / dpi * 25.4 for v in (page.shape[1], page.shape[0]))
    paper_w, paper_h = sheet_mm(paper)
    # The page is the sheet less SHEET_INSET_MM all round.
    assert abs(width_mm - paper_w) <= 5 and abs(height_mm - paper_h) <= 5
    scale = paper_w / 210.0
    rulers = ruler_lengths(page, dpi, scale)
    top, bottom, left, right = (rulers[k][0] for k in ("top", "bottom", "left", "right"))
    assert abs(top - bottom) / max(top, bottom) <= MAX_KEYSTONE, rulers
    assert abs(left - right) / max(left, right) <= MAX_KEYSTONE, rulers
    expected_h = (RULER_H[1] - RULER_H[0]) * scale * dpi / 25.4
    assert abs(top / expected_h - 1) <= 0.03, (top, expected_h)
    assert max(abs(tilt) for _, tilt in rulers.values()) <= MAX_SKEW_DEG, rulers
    assert geometry.dark_edges(page).clean
    strip = max(1, round(EDGE_STRIP_MM * dpi / 25.4))
    hsv = cv2.cvtColor(page, cv2.COLOR_RGB2HSV)
    for edge in (hsv[:strip], hsv[-strip:], hsv[:, :strip], hsv[:, -strip:]):
        assert (edge[..., 1] > SATURATION_OF_WOOD * 255).mean() < 0.02, "table left at the edge"
    assert result.reading.number == ENTRIES[index].number


@pytest.mark.parametrize("seed", [1, 2])
def test_blank_sheet_photo_is_blank(tmp_path, seed):
    # Fall-off and the soft shadow's edge are light, not ink: flattening must leave nothing.
    path = tmp_path / "blank.jpg"
    path.write_bytes(take_photo(corpus.render_blank_page(RENDER_DPI, seed, bleed_through=seed == 2),
                                seed, (-1) ** seed, 1))
    result, = process_capture(path, 0, PageSettings(paper="A4"))
    assert result.verdict == "blank" and result.keystone >= 0.05


def separator_sheet(tmp_path, entries: str) -> np.ndarray:
    home = tmp_path / "home"
    run_cli(home, "book", "add", BOOK, "--entries", "1-4")
    run_cli(home, "separators", BOOK, "--entries", entries, "-o", tmp_path / "s.pdf")
    return corpus.render_pdf_page(tmp_path / "s.pdf", 0, 150)


@pytest.mark.parametrize("seed,keystone_sign,turn_sign", [(5, 1, 1), (6, -1, -1)])
def test_separator_photo_reads(tmp_path, seed, keystone_sign, turn_sign):
    path = tmp_path / "sep.jpg"
    path.write_bytes(take_photo(separator_sheet(tmp_path, "3"), seed, keystone_sign, turn_sign))
    result, = process_capture(path, 0, PageSettings(paper="A3"))
    assert result.verdict == "separator" and result.separator.entries == (3,)


def test_cli_files_phone_photos_of_an_a3_book(tmp_path):
    home = tmp_path / "home"
    run_cli(home, "book", "add", BOOK, "--entries", "1-2")
    run_cli(home, "separators", BOOK, "-o", tmp_path / "s.pdf")
    caps = tmp_path / "caps"
    caps.mkdir()
    frame = photo.PHONE_FRAME_PX  # 16 MP: 200 dpi and more on an A3 sheet
    for i, entry in enumerate(ENTRIES[:2]):
        sheet = corpus.render_pdf_page(tmp_path / "s.pdf", i, 150)
        (caps / f"{2 * i + 1:04d}.jpg").write_bytes(take_photo(sheet, 10 + i, (-1) ** i, 1, frame))
        page = corpus.render_register_page(entry, 1, RENDER_DPI, seed=i)
        (caps / f"{2 * i + 2:04d}.jpg").write_bytes(take_photo(page, 20 + i, (-1) ** (i + 1), -1, frame))
    output = run_cli(home, "process", caps, "--paper", "A3").output
    assert "quét lại" not in output
    status = json.loads(run_cli(home, "status", BOOK, "--json").output)["books"][0]
    assert [e["status"] for e in status["entries"]] == ["done", "done"], status
    assert "quét lại" not in json.dumps(status, ensure_ascii=False)
