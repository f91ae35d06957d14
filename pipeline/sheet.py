"""The sheet in a capture: its corners and outline inside the surround (dark cradle or table, or a
white scanner lid around tinted paper), and the paper's level and colour.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.pixels import brightest, darkest, shrink

MM_PER_INCH = 25.4

# Sheet finding runs on a coarse copy: the sheet edge only needs ~0.5 mm precision.
SHEET_WORK_DPI = 50.0
# Dark regions narrower than this are ink or ruled lines, not cradle/lid/table.
SHEET_MIN_BORDER_MM = 3.0
# Below this share of the capture, a dark area touching the edge is not a border (shadow, speck).
SHEET_MIN_BORDER_SHARE = 0.005
# White-lid surround: only told from paper that is tinted (chroma in OpenCV 8-bit Lab units); the
# lid has less than half the paper's chroma and is not darker than the paper.
LID_MIN_PAPER_CHROMA = 6.0
LID_CHROMA_SHARE = 0.5
LID_MAX_DARKER = 8
# Wooden or coloured table (phone photos): far more saturated than paper, in shadow as in light (HSV
# saturation 0-1: yellowed paper ~0.15-0.2, wood ~0.6). Below this brightness saturation is noise,
# and such pixels are dark surround anyway.
TABLE_MIN_EXTRA_SATURATION = 0.2
TABLE_MIN_VALUE = 40
# A coloured table when most of the capture's outer edge is table-like. Then brightness does not
# tell the surround: paper in a shadow or where the light falls off is as dark as a cradle.
TABLE_EDGE_SHARE = 0.5
# Pull the crop this far inside the detected paper edge, past the edge shadow and the pixels
# that mix paper and surround.
SHEET_INSET_MM = 1.5


@dataclass(frozen=True)
class SheetBox:
    """The sheet inside a capture, in capture pixel coordinates."""
    # Corners (x, y), order: top-left, top-right, bottom-right, bottom-left of the sheet as seen.
    corners: tuple[tuple[float, float], ...]
    # Convex outline of the paper, pulled ~1 mm inside its edge: what is kept of the capture.
    outline: tuple[tuple[float, float], ...]
    # Convex outline of the paper at its edge (pipeline.perspective fits the four sides to it).
    edge: tuple[tuple[float, float], ...]
    center: tuple[float, float]
    size: tuple[float, float]  # (width, height) of the rotated rectangle
    angle_deg: float  # counter-clockwise angle of the sheet's top edge, like the skew
    border_found: bool  # False: no surround found, the whole capture is the sheet
    paper_rgb: tuple[int, int, int]  # typical paper colour, used to fill exposed corners


def paper_level_and_threshold(value: np.ndarray) -> tuple[float, float]:
    otsu, _ = cv2.threshold(value, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = value[value > otsu]
    paper = float(np.median(bright)) if bright.size else 255.0
    # A cradle is far darker than paper; Otsu alone would split a blank page's lighting gradient.
    return paper, min(float(otsu), 0.6 * paper)


def find_sheet(img: np.ndarray, dpi: float) -> SheetBox:
    """Locate the sheet: the capture minus the surround (dark cradle, wooden or coloured table,
    or a white scanner lid around tinted paper) that touches the image edge."""
    small, scale = shrink(img, SHEET_WORK_DPI / dpi)
    value = brightest(small)
    _, thr = paper_level_and_threshold(value)
    h, w = value.shape
    centre = (slice(h // 4, h - h // 4), slice(w // 4, w - w // 4))
    paper = paper_rgb(small[centre], thr)
    candidate = (value < thr).astype(np.uint8)
    if small.ndim == 3:
        table = _table_like(small, paper)
        if _edge_ring(table).mean() > TABLE_EDGE_SHARE:
            candidate = table | (value < TABLE_MIN_VALUE)
        else:
            candidate |= _lid_like(small, paper)
    k = max(3, int(round(SHEET_MIN_BORDER_MM * dpi * scale / MM_PER_INCH)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    wide = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, kernel)
    _, labels = cv2.connectedComponents(wide, connectivity=4)
    edge_labels = np.unique(_edge_ring(labels))
    edge_labels = edge_labels[edge_labels != 0]
    background = np.isin(labels, edge_labels).astype(np.uint8)
    # Opening rounds off the sharp wedges at a skewed sheet's corners; give them back so the
    # sheet rectangle's angle is not pulled by the corners.
    background = (background | (cv2.dilate(background, kernel) & candidate)).astype(bool)
    full_h, full_w = img.shape[:2]
    if background.mean() < SHEET_MIN_BORDER_SHARE:
        return whole_sheet(full_w, full_h, paper)
    sheet = (~background).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(sheet, connectivity=4)
    if n < 2:
        return whole_sheet(full_w, full_h, paper)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    sheet = (labels == biggest).astype(np.uint8)
    hull = _hull(sheet)
    rect = cv2.minAreaRect(hull.reshape(-1, 2).astype(np.float32))
    # The outline kept is the hull pulled in past the paper edge and its shadow line.
    filled = cv2.fillPoly(np.zeros_like(sheet), [hull], 1)
    inset = max(1, int(round(SHEET_INSET_MM * dpi * scale / MM_PER_INCH)))
    filled = cv2.erode(filled, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2))
    if not filled.any():
        return whole_sheet(full_w, full_h, paper)
    outline = _hull(filled).reshape(-1, 2).astype(np.float64)

    def to_full(p: np.ndarray) -> np.ndarray:
        # Pixel centres -> pixel-edge coordinates, then back to capture scale.
        return (np.asarray(p, np.float64) + 0.5) / scale

    corners = order_corners(to_full(cv2.boxPoints(rect)))
    tl, tr, br, bl = corners
    width = float(np.hypot(*(tr - tl)))
    height = float(np.hypot(*(bl - tl)))
    angle = float(np.degrees(np.arctan2(-(tr[1] - tl[1]), tr[0] - tl[0])))
    center = corners.mean(axis=0)
    return SheetBox(
        corners=tuple((float(x), float(y)) for x, y in corners),
        outline=tuple((float(x), float(y)) for x, y in to_full(outline)),
        edge=tuple((float(x), float(y)) for x, y in to_full(hull.reshape(-1, 2))),
        center=(float(center[0]), float(center[1])),
        size=(width, height), angle_deg=angle, border_found=True, paper_rgb=paper)


def _hull(mask: np.ndarray) -> np.ndarray:
    """Convex hull of a mask's pixels, from its outer contours: the same hull as from every pixel,
    ~20 times faster on a 50 dpi page."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return cv2.convexHull(np.vstack(contours))


def whole_sheet(w: int, h: int, paper_rgb: tuple[int, int, int]) -> SheetBox:
    """A capture that is all sheet: no surround found, or a sheet already cut out."""
    corners = ((0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h)))
    return SheetBox(corners=corners, outline=corners, edge=corners, center=(w / 2, h / 2),
                    size=(float(w), float(h)), angle_deg=0.0, border_found=False,
                    paper_rgb=paper_rgb)


def _lid_like(small_rgb: np.ndarray, paper_rgb: tuple[int, int, int]) -> np.ndarray:
    """Pixels as light as the paper but clearly more neutral: a white lid around yellowed paper.

    White paper on a white lid cannot be told apart this way; then nothing is marked and the whole
    capture stays the sheet.
    """
    lab = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2LAB).astype(np.int16)
    paper = cv2.cvtColor(np.uint8([[paper_rgb]]), cv2.COLOR_RGB2LAB).astype(np.int16)[0, 0]
    paper_chroma = float(np.hypot(paper[1] - 128, paper[2] - 128))
    if paper_chroma < LID_MIN_PAPER_CHROMA:
        return np.zeros(small_rgb.shape[:2], np.uint8)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    lid = (lab[..., 0] >= paper[0] - LID_MAX_DARKER) & (chroma < LID_CHROMA_SHARE * paper_chroma)
    return lid.astype(np.uint8)


def _edge_ring(mask: np.ndarray) -> np.ndarray:
    return np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])


def _table_like(small_rgb: np.ndarray, paper_rgb: tuple[int, int, int]) -> np.ndarray:
    """Pixels far more saturated than the paper: a wooden or coloured table around the sheet."""
    value = brightest(small_rgb).astype(np.int16)
    saturation = (value - darkest(small_rgb)) / np.maximum(value, 1)
    paper_saturation = (max(paper_rgb) - min(paper_rgb)) / max(1, max(paper_rgb))
    table = (saturation > paper_saturation + TABLE_MIN_EXTRA_SATURATION) & (value >= TABLE_MIN_VALUE)
    return table.astype(np.uint8)


def paper_rgb(small: np.ndarray, thr: float) -> tuple[int, int, int]:
    px = small.reshape(-1, 1) if small.ndim == 2 else small.reshape(-1, small.shape[2])
    value = px.max(axis=1)
    # The brighter half of the centre, past any ink: the paper.
    keep = value >= max(thr, np.percentile(value, 50))
    if not keep.any():
        keep = np.ones_like(value, bool)
    med = np.median(px[keep], axis=0)
    if med.size == 1:
        return (int(med[0]),) * 3
    return (int(med[0]), int(med[1]), int(med[2]))


def order_corners(c: np.ndarray) -> np.ndarray:
    # Top-left has the smallest x+y, bottom-right the largest; top-right the smallest y-x.
    s = c.sum(axis=1)
    d = c[:, 1] - c[:, 0]
    return np.array([c[np.argmin(s)], c[np.argmin(d)], c[np.argmax(s)], c[np.argmax(d)]],
                    dtype=np.float64)
