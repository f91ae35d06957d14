"""Page geometry: the straighten chain. Find the sheet (sheet.py), measure the skew (deskew.py), cut
and deskew, fix the quarter turn (orientation.py), trim any dark frame left.

All functions take RGB (or grey) uint8 arrays and the capture's dpi, and return frozen dataclasses
so each step can be tested and benchmarked alone. `straighten` chains them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.deskew import SKEW_MIN_INK_SHARE, measure_skew
from pipeline.orientation import find_orientation, rotate_quarter
from pipeline.paper import parse_paper
from pipeline.perspective import KEYSTONE_MIN, RECTIFIED_MAX_SKEW_DEG, rectify, sheet_quad
from pipeline.pixels import brightest
from pipeline.settings import PageSettings
from pipeline.sheet import (SHEET_INSET_MM, SheetBox, find_sheet, paper_level_and_threshold,
                            whole_sheet)

# Below this confidence the skew is not applied (blank or pictorial page).
SKEW_MIN_CONFIDENCE = 0.1

# A row/column counts as dark frame when most of it is much darker than the paper.
EDGE_DARK_SHARE = 0.6
EDGE_MAX_TRIM_SHARE = 0.15


@dataclass(frozen=True)
class EdgeBands:
    """Width in pixels of a dark frame along each edge (0 = clean)."""
    top: int
    bottom: int
    left: int
    right: int

    @property
    def clean(self) -> bool:
        return self.top == self.bottom == self.left == self.right == 0


@dataclass(frozen=True, eq=False)
class Straightened:
    image: np.ndarray
    skew_deg: float  # rotation removed, counter-clockwise positive: text skew, else the sheet's
    skew_confidence: float  # of the text skew; low on blank pages
    rotation: int  # clockwise quarter turn applied after deskew
    orientation_confident: bool
    orientation_confidence: float
    orientation_method: str | None  # "text-lines", "osd", or None when not looked for
    sheet_box: SheetBox
    border_removed: bool
    keystone: float  # of the sheet as captured: > KEYSTONE_MIN, its perspective was rectified
    trimmed: EdgeBands  # dark bands cut off by the final check
    seconds: dict[str, float]


def dark_edges(img: np.ndarray, paper_level: float | None = None) -> EdgeBands:
    """Width of the dark frame along each edge: rows/columns mostly much darker than paper."""
    if paper_level is None:
        quarter = cv2.resize(img, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        paper_level, _ = paper_level_and_threshold(brightest(quarter))
    limit_dark = 0.5 * paper_level
    h, w = img.shape[:2]

    def value(line: np.ndarray) -> np.ndarray:
        return line.max(axis=-1) if img.ndim == 3 else line

    def run(line_at, count: int) -> int:
        # Walk inward only while lines are dark: a clean edge costs one row or column.
        limit = int(count * EDGE_MAX_TRIM_SHARE)
        n = 0
        while n < limit and (value(line_at(n)) < limit_dark).mean() > EDGE_DARK_SHARE:
            n += 1
        return n if n < limit else 0  # a "frame" this wide is content, not a frame

    return EdgeBands(top=run(lambda i: img[i], h), bottom=run(lambda i: img[h - 1 - i], h),
                     left=run(lambda i: img[:, i], w), right=run(lambda i: img[:, w - 1 - i], w))


def straighten(img_rgb: np.ndarray, dpi: float, settings: PageSettings,
               sheet: SheetBox | None = None, *, rectify_perspective: bool = True) -> Straightened:
    """Crop to the sheet (rectifying a photographed sheet's perspective), deskew with paper fill,
    fix the quarter turn, trim any dark frame. `sheet`: the sheet already found in this capture.
    rectify_perspective=False for a page of an open book: its outline widens towards the spine
    because the page curls up to the camera, not because the camera looks at it askew (dewarp.py)."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    box = find_sheet(img_rgb, dpi) if sheet is None else sheet
    quad = sheet_quad(box)
    keystone = quad.keystone if quad else 0.0
    times["sheet"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    max_skew = settings.max_deskew_deg
    if rectify_perspective and quad is not None and keystone > KEYSTONE_MIN:
        crop = rectify(img_rgb, quad, dpi, parse_paper(settings.paper), SHEET_INSET_MM, box.paper_rgb)
        offset, cut = (0, 0), whole_sheet(crop.shape[1], crop.shape[0], box.paper_rgb)
        max_skew = min(max_skew, RECTIFIED_MAX_SKEW_DEG)
        times["perspective"] = time.perf_counter() - t0
    else:
        crop, offset = _crop_to_sheet(img_rgb, box)
        cut = box
        times["crop"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    skew = measure_skew(crop, dpi, max_skew)
    times["skew"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if skew.confidence >= SKEW_MIN_CONFIDENCE:
        angle = skew.angle_deg
    elif cut.border_found and abs(cut.angle_deg) <= settings.max_deskew_deg:
        # No text to go by (blank back): square the sheet itself, so its edges (shadows, yellowed
        # rims) end up along the image edges, where the blank check's margin ignores them.
        angle = cut.angle_deg
    else:
        angle = 0.0
    page = _deskew_and_cut(crop, offset, cut, angle)
    times["deskew"] = time.perf_counter() - t0

    rotation, confident, orient_conf, method = 0, True, 0.0, None
    if settings.fix_orientation and skew.ink_share < SKEW_MIN_INK_SHARE:
        confident = False  # no text to read the orientation from
    elif settings.fix_orientation:
        orient = find_orientation(page, dpi)
        times["orientation"] = orient.seconds
        rotation, confident, orient_conf = orient.rotation, orient.confident, orient.confidence
        method = orient.method
        page = rotate_quarter(page, rotation)

    t0 = time.perf_counter()
    bands = dark_edges(page, paper_level=float(max(box.paper_rgb)))
    h, w = page.shape[:2]
    page = page[bands.top:h - bands.bottom, bands.left:w - bands.right]
    times["trim"] = time.perf_counter() - t0
    return Straightened(
        image=np.ascontiguousarray(page), skew_deg=angle, skew_confidence=skew.confidence,
        rotation=rotation, orientation_confident=confident, orientation_confidence=orient_conf,
        orientation_method=method, sheet_box=box, border_removed=box.border_found, keystone=keystone,
        trimmed=bands, seconds=times)


def _crop_to_sheet(img: np.ndarray, box: SheetBox) -> tuple[np.ndarray, tuple[int, int]]:
    """Axis-aligned crop around the sheet with everything outside it painted paper colour."""
    if not box.border_found:
        return img, (0, 0)
    h, w = img.shape[:2]
    c = np.array(box.outline)
    x0, y0 = max(0, int(np.floor(c[:, 0].min()))), max(0, int(np.floor(c[:, 1].min())))
    x1, y1 = min(w, int(np.ceil(c[:, 0].max()))), min(h, int(np.ceil(c[:, 1].max())))
    crop = img[y0:y1, x0:x1].copy()
    frame = np.array([[0, 0], [x1 - x0, 0], [x1 - x0, y1 - y0], [0, y1 - y0]], np.int32)
    # Two contours fill by even-odd: the ring between the crop's frame and the outline.
    fill = box.paper_rgb if crop.ndim == 3 else max(box.paper_rgb)
    cv2.fillPoly(crop, [frame, np.round(c - (x0, y0)).astype(np.int32)], fill)
    return crop, (x0, y0)


def _deskew_and_cut(crop: np.ndarray, offset: tuple[int, int], box: SheetBox, angle: float
                    ) -> np.ndarray:
    """Rotate by -angle about the sheet centre onto a canvas just holding the rotated outline.

    Nothing of the sheet is cut: where the rotation exposes corners they get the paper colour, which
    flattening later turns white like the rest of the paper.
    """
    if abs(angle) < 0.02:
        return crop
    fill = box.paper_rgb if crop.ndim == 3 else max(box.paper_rgb)
    outline = np.array(box.outline) - offset
    center = outline.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), -angle, 1.0)
    moved = outline @ m[:, :2].T + m[:, 2]
    x0, y0 = moved.min(axis=0)
    x1, y1 = moved.max(axis=0)
    m[:, 2] -= (x0, y0)
    size = (max(1, int(round(x1 - x0))), max(1, int(round(y1 - y0))))
    return cv2.warpAffine(crop, m, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
