"""Perspective: a sheet photographed from a tilted camera is a quadrilateral, not a rectangle.

The far edge comes out shorter than the near one (keystone). The four sides are fitted to the sheet's
edge found by pipeline.sheet, and the quadrilateral is mapped back onto the stated paper's
rectangle at the capture's resolution, so lines of equal length on paper are equal again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.paper import MM_PER_INCH, Paper
from pipeline.sheet import SheetBox, order_corners

# Opposite sides differing by less than this share: a sheet squared by rotation alone, as a
# scanner or an overhead camera square above the book sees it.
KEYSTONE_MIN = 0.01
# An edge segment belongs to a side when its direction is within this angle of the side's.
SIDE_MAX_ANGLE_DEG = 8.0
# The rectified sheet takes the paper's proportions when its own (perspective foreshortens the
# depth) are within this share of them; otherwise the paper is not what was stated: its own.
PAPER_ASPECT_TOLERANCE = 0.2
# Once the sheet's edges are square, text stands at most this far off them (printed forms, lines
# written along the form's rules): the skew search needs no wider range.
RECTIFIED_MAX_SKEW_DEG = 3.0


@dataclass(frozen=True)
class SheetQuad:
    """The sheet's four corners in capture pixels: top-left, top-right, bottom-right, bottom-left."""
    corners: tuple[tuple[float, float], ...]
    size: tuple[float, float]  # (width, height): means of the opposite sides, pixels
    keystone: float  # largest difference of two opposite sides over the longer one


def sheet_quad(box: SheetBox) -> SheetQuad | None:
    """The four sides fitted to the sheet's edge; None when no surround was found or the edge is
    not four-sided."""
    if not box.border_found:
        return None
    edge = np.array(box.edge, np.float64)
    rough = _four_corners(edge)
    if rough is None:
        return None
    lines = [_fit_side(edge, rough[i], rough[(i + 1) % 4]) for i in range(4)]
    corners = np.array([_intersect(lines[i - 1], lines[i]) for i in range(4)])
    if not np.isfinite(corners).all():
        return None
    corners = order_corners(corners)
    tl, tr, br, bl = corners
    top, bottom = np.hypot(*(tr - tl)), np.hypot(*(br - bl))
    left, right = np.hypot(*(bl - tl)), np.hypot(*(br - tr))
    keystone = max(abs(top - bottom) / max(top, bottom), abs(left - right) / max(left, right))
    return SheetQuad(tuple((float(x), float(y)) for x, y in corners),
                     (float(top + bottom) / 2, float(left + right) / 2), float(keystone))


def _four_corners(edge: np.ndarray) -> np.ndarray | None:
    """The convex edge simplified to four vertices (the tolerance grows until four are left)."""
    contour = edge.astype(np.float32).reshape(-1, 1, 2)
    perimeter = cv2.arcLength(contour, True)
    for share in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(contour, share * perimeter, True).reshape(-1, 2)
        if len(approx) == 4:
            return approx.astype(np.float64)
        if len(approx) < 4:
            return None
    return None


def _fit_side(edge: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point and unit direction of the line through the edge segments running along a -> b, points
    weighted by segment length: the rounded corners' short cuts do not pull the side."""
    side = (b - a) / np.hypot(*(b - a))
    normal = np.array([-side[1], side[0]])
    reach = 0.05 * np.hypot(*(b - a))
    points = []
    for p, q in zip(edge, np.roll(edge, -1, axis=0)):
        length = np.hypot(*(q - p))
        if length == 0:
            continue
        along = abs(float(np.dot((q - p) / length, side)))
        near = max(abs(np.dot(p - a, normal)), abs(np.dot(q - a, normal))) <= reach
        if along >= math.cos(math.radians(SIDE_MAX_ANGLE_DEG)) and near:
            steps = max(2, int(length))
            points.append(p + np.linspace(0, 1, steps)[:, None] * (q - p))
    if not points:
        return a, side
    vx, vy, x0, y0 = cv2.fitLine(np.vstack(points).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    return np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)


def _intersect(l1: tuple[np.ndarray, np.ndarray], l2: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    (p, d), (q, e) = l1, l2
    det = d[0] * -e[1] - d[1] * -e[0]
    if abs(det) < 1e-9:
        return np.array([np.nan, np.nan])
    t = ((q - p)[0] * -e[1] - (q - p)[1] * -e[0]) / det
    return p + t * d


def rectified_size(quad: SheetQuad, dpi: float, paper: Paper) -> tuple[float, float]:
    """(width, height) in pixels of the flat sheet: the paper's sides, portrait or landscape as the
    sheet lies, unless the sheet's own proportions say it is another paper."""
    width, height = quad.size
    short_mm, long_mm = (paper.short_mm, paper.long_mm)
    w_mm, h_mm = (short_mm, long_mm) if height >= width else (long_mm, short_mm)
    if abs((width / height) / (w_mm / h_mm) - 1) > PAPER_ASPECT_TOLERANCE:
        return width, height
    px_per_mm = dpi / MM_PER_INCH
    return w_mm * px_per_mm, h_mm * px_per_mm


def rectify(img: np.ndarray, quad: SheetQuad, dpi: float, paper: Paper, inset_mm: float,
            fill: tuple[int, int, int]) -> np.ndarray:
    """The sheet mapped onto its rectangle at `dpi`, `inset_mm` inside its edge all round (past the
    edge shadow and the pixels mixing paper and table)."""
    width, height = rectified_size(quad, dpi, paper)
    inset = inset_mm * dpi / MM_PER_INCH
    target = np.float32([[-inset, -inset], [width - inset, -inset],
                         [width - inset, height - inset], [-inset, height - inset]])
    m = cv2.getPerspectiveTransform(np.float32(quad.corners), target)
    size = (max(1, int(round(width - 2 * inset))), max(1, int(round(height - 2 * inset))))
    value = fill if img.ndim == 3 else max(fill)
    return cv2.warpPerspective(img, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=value)
