"""Open-book captures: find the binding fold (gutter) between two facing pages and split there.

Overhead book scanners and cameras photograph the open book: left page, gutter, right page, on a
dark cradle. The gutter is told by three cues, all measured on a coarse copy:
- the book's shape: two pages side by side make a landscape book at least two pages wide;
- a brightness valley: pages curve down into the fold and catch less light than on both sides;
- a text gap: nothing written crosses the fold, so a band of columns carries no ink.
A single sheet is never cut: unless the shape allows two pages and the evidence is strong, the
capture stays one page. Each page keeps a few mm past the fold and still goes through straighten().
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline import pixels
from pipeline.sheet import MM_PER_INCH, order_corners, paper_level_and_threshold, paper_rgb

# 0.5 mm a pixel: enough for a fold to ~1 mm; a text line is still several pixels tall.
WORK_DPI = 50.0
# Dark regions narrower than this are ink or the gutter shadow, not cradle (as in find_sheet).
SURROUND_MIN_MM = 3.0
SURROUND_MIN_SHARE = 0.005
# Bright parts smaller than this share of the largest are fingers, clips or labels, not pages.
PAGE_MIN_SHARE = 0.1

# Two facing pages make a landscape book (two A4 pages: 420 x 297 mm), each page this wide at least.
SPREAD_MIN_ASPECT = 1.0
PAGE_MIN_MM = 90.0
# The fold is searched for in this part of the book's width (page stacks of unequal thickness and
# a book off-centre on the cradle move it away from the middle).
CENTRAL_SPAN = (0.3, 0.7)
# A book not squared on the cradle: tilt searched coarse, then fine around the best coarse tilt.
MAX_TILT_DEG = 5.0
TILT_COARSE_STEP = 1.0
TILT_FINE_STEP = 0.1
# The fold runs along the spine, square to the covers: the book outline's tilt (to ~0.1° on a
# cradle) is taken unless a searched tilt scores this much better; a broad shadow or a wide gap
# scores about the same over a degree or so.
OUTLINE_TILT_MARGIN = 1.15
# When the search decides, fine tilts scoring within this share of the best are not told apart:
# the middle of that plateau.
TILT_PLATEAU_SHARE = 0.95

# Rows near the book's top and bottom are left out: the pages pinch into the fold there, edges and
# cradle shadow would look like ink or shading.
ROW_TRIM_SHARE = 0.1
# Ink: darker than INK_RATIO times its surroundings. Against a vertical window this finds text and
# ruled rows but not the fold's shading or crease, which run along the window; against a
# horizontal window it also finds vertical rules and the crease, which must not count as paper.
INK_RATIO = 0.85
INK_WINDOW_MM = 8.0
LINE_WINDOW_MM = 4.0
# Ink this close to a column crosses it.
CROSS_REACH_MM = 0.5
# A column is clear when at most this share of its rows (~1.5 mm of an A4 page) is crossed by ink:
# dust. A page's own ruling is more: a table lying sideways crosses ~1.5 % of the rows. The fold can
# never be a column crossed in more than CROSS_MAX of its rows (a table ruled across the spread may
# cross some).
CLEAR_MAX = 0.006
CROSS_MAX = 0.15
# Columns with fewer paper (non-ink) pixels than this share of their rows get the neighbours' level.
PAPER_MIN_SHARE = 0.2

# Paper near ink (blurred stroke edges at the coarse scale) is not paper for the brightness profile.
INK_FRINGE_MM = 1.0
# Valley: the profile of paper brightness, opened over VALLEY_MIN_MM (a darker stretch narrower than
# that is leftover ink, e.g. a text line of a sheet lying sideways, not shading), against the
# brightest paper within SIDE_REACH_MM on each side. Measured so, a single page's own tone makes
# valleys of up to ~2.5 %; a gutter shadow is 10-50 % darker.
PROFILE_SMOOTH_MM = 2.0
VALLEY_MIN_MM = 6.0
SIDE_REACH_MM = 30.0
SIDE_EDGE_MM = 5.0
DEPTH_NOISE = 0.03
DEPTH_FULL = 0.12
# Text gap: margins of both pages meet at the fold; a page's own blank stretches between text lines
# (a sheet lying sideways) are mostly narrower. Wider than GAP_MAX_MM is a blank stretch of a page
# (free lines left unwritten, a blank page), not two margins.
GAP_MIN_MM = 4.0
GAP_FULL_MM = 20.0
GAP_MAX_MM = 60.0
# A gap counts only with a faint valley (depth ramping over this range): single sheets lying
# sideways show blank stretches between text lines at under 1.5 % depth, gutters at 1.5-7 % even
# with no shadow to speak of (page edges meet there).
GAP_VALLEY = (0.01, 0.025)
# From this depth on, the valley's bottom places the fold; below, the middle of the text gap.
LOCATE_MIN_DEPTH = 0.03

MIN_CONFIDENCE = 0.5
# Each page keeps this much past the fold, so an error of a few mm loses nothing of it.
PAGE_MARGIN_MM = 4.0


@dataclass(frozen=True)
class Gutter:
    """The fold as a line: x at the capture's middle row, tilted by angle_deg."""
    x: int
    confidence: float  # 0 (no evidence) .. 1 (strong shading and/or a wide text gap)
    # Counter-clockwise tilt of the fold from vertical, like a skew; the top leans left when > 0.
    angle_deg: float
    # Cue that carried the confidence: "shading", "text-gap"; "none" (no evidence at all),
    # "not-landscape" (the book's shape rules out two pages; not searched).
    method: str

    def x_at(self, y: float, height: int) -> float:
        """x of the fold at row y of a capture `height` rows tall."""
        return self.x + (y - (height - 1) / 2) * math.tan(math.radians(self.angle_deg))


@dataclass(frozen=True, eq=False)
class SpreadSplit:
    pages: tuple[np.ndarray, ...]  # (left, right), or (capture,) when not split
    gutter: Gutter | None  # the fold cut at; None when not split
    reason: str | None  # why the capture was not split


@dataclass(frozen=True, eq=False)
class _Book:
    """The book in the coarse copy."""
    outline: np.ndarray  # convex hull of the book, (n, 1, 2) float32 coarse-copy points
    center: tuple[float, float]
    size_mm: tuple[float, float]  # (width, height) of its rotated rectangle
    angle_deg: float
    outlined: bool  # False: no surround found, the whole capture is taken for the book
    fill_rgb: tuple[int, int, int]  # painted past a cut: the cradle's colour, else the paper's


@dataclass(frozen=True)
class _Candidate:
    score: float  # unbounded, compared across tilts: valley depth and gap width in "full" units
    x: float  # column in the tilt-corrected coarse copy
    shade: float  # 0..1 evidence of a valley
    gap: float  # 0..1 evidence of a text gap


def find_gutter(img_rgb: np.ndarray, dpi: float) -> Gutter:
    """The binding fold of an open book in an RGB capture, with the confidence that there is one."""
    return _locate(img_rgb, dpi)[0]


def split_spread(img_rgb: np.ndarray, dpi: float, *, min_confidence: float = MIN_CONFIDENCE
                 ) -> SpreadSplit:
    """(left, right) pages cut at the gutter, or the whole capture with the reason it was not cut.

    Past the cut (PAGE_MARGIN_MM beyond the fold, along its tilt) each page is painted the cradle's
    colour, so find_sheet in straighten() sees the cut as the page's edge.
    """
    gutter, book = _locate(img_rgb, dpi)
    if gutter.method == "not-landscape":
        w, h = book.size_mm
        return SpreadSplit((img_rgb,), None,
                           f"not a spread: the book is {w:.0f}x{h:.0f} mm, not two pages wide")
    if gutter.confidence < min_confidence:
        return SpreadSplit((img_rgb,), None,
                           f"no gutter: best fold candidate ({gutter.method}) has confidence "
                           f"{gutter.confidence:.2f} < {min_confidence:.2f}")
    return SpreadSplit(_cut(img_rgb, dpi, gutter, book.fill_rgb), gutter, None)


def _locate(img: np.ndarray, dpi: float) -> tuple[Gutter, _Book]:
    small, scale = pixels.scaled(img, dpi, WORK_DPI)
    sdpi = dpi * scale
    book = _find_book(small, sdpi)
    centre_x = int(round((book.center[0] + 0.5) / scale - 0.5))
    w_mm, h_mm = book.size_mm
    if w_mm < SPREAD_MIN_ASPECT * h_mm or w_mm < 2 * PAGE_MIN_MM:
        return Gutter(centre_x, 0.0, round(book.angle_deg, 2), "not-landscape"), book
    grey = pixels.grey(small)
    px_per_mm = sdpi / MM_PER_INCH
    seen: dict[float, _Candidate | None] = {}

    def at(theta: float) -> _Candidate | None:
        key = round(float(theta), 3)
        if key not in seen:
            seen[key] = _evaluate(grey, book, key, px_per_mm)
        return seen[key]

    theta = _search_tilt(at, book)
    cand = at(theta) if theta is not None else None
    if cand is None:
        return Gutter(centre_x, 0.0, round(book.angle_deg, 2), "none"), book
    # Back to capture pixels: undo the tilt correction for the fold's point on the book's middle
    # row, then follow the fold's tilt to the capture's middle row.
    inv = cv2.invertAffineTransform(cv2.getRotationMatrix2D(book.center, -theta, 1.0))
    xs, ys = inv @ np.array([cand.x, book.center[1], 1.0])
    xc, yc = (xs + 0.5) / scale - 0.5, (ys + 0.5) / scale - 0.5
    x_mid = xc + ((img.shape[0] - 1) / 2 - yc) * math.tan(math.radians(theta))
    confidence = 1.0 - (1.0 - cand.shade) * (1.0 - cand.gap)
    method = ("none" if confidence == 0 else "shading" if cand.shade >= cand.gap else "text-gap")
    return Gutter(int(round(x_mid)), round(confidence, 3), round(theta, 2), method), book


def _search_tilt(at: Callable[[float], _Candidate | None], book: _Book) -> float | None:
    """Tilt of the fold: the book outline's unless a searched tilt scores clearly better."""
    def score(theta: float) -> float:
        cand = at(theta)
        return cand.score if cand else -np.inf

    coarse = np.arange(-MAX_TILT_DEG, MAX_TILT_DEG + 1e-9, TILT_COARSE_STEP)
    coarse_scores = [score(t) for t in coarse]
    if book.outlined and abs(book.angle_deg) <= MAX_TILT_DEG:
        own = score(book.angle_deg)
        if own > 0 and own * OUTLINE_TILT_MARGIN >= max(coarse_scores):
            return book.angle_deg
    best = float(coarse[int(np.argmax(coarse_scores))])
    fine = np.arange(best - TILT_COARSE_STEP + TILT_FINE_STEP, best + TILT_COARSE_STEP - 1e-9,
                     TILT_FINE_STEP)
    scores = np.array([score(t) for t in fine])
    i = int(np.argmax(scores))
    if not np.isfinite(scores[i]) or scores[i] <= 0:
        return None
    # Near-equal scores do not tell tilts apart: the middle of the run around the best.
    top = TILT_PLATEAU_SHARE * scores[i]
    lo, hi = i, i
    while lo > 0 and scores[lo - 1] >= top:
        lo -= 1
    while hi < len(scores) - 1 and scores[hi + 1] >= top:
        hi += 1
    return round(float(fine[lo] + fine[hi]) / 2, 3)


def _find_book(small: np.ndarray, sdpi: float) -> _Book:
    """The book: everything but the dark surround touching the capture's edge, as one convex outline
    (a dark gutter may cut the pages apart; both are kept)."""
    value = pixels.brightest(small)
    _, thr = paper_level_and_threshold(value)
    h, w = value.shape
    candidate = (value < thr).astype(np.uint8)
    k = max(3, int(round(SURROUND_MIN_MM * sdpi / MM_PER_INCH)) | 1)
    wide = cv2.morphologyEx(candidate, cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    _, labels = cv2.connectedComponents(wide, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    surround = np.isin(labels, edge[edge != 0])
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~surround).astype(np.uint8),
                                                           connectivity=4)
    if surround.mean() < SURROUND_MIN_SHARE or n < 2:
        frame = np.float32([[[0, 0]], [[w - 1, 0]], [[w - 1, h - 1]], [[0, h - 1]]])
        return _Book(frame, (w / 2 - 0.5, h / 2 - 0.5),
                     (w / sdpi * MM_PER_INCH, h / sdpi * MM_PER_INCH), 0.0, False,
                     paper_rgb(small, thr))
    areas = stats[1:, cv2.CC_STAT_AREA]
    pages = np.isin(labels, 1 + np.flatnonzero(areas >= PAGE_MIN_SHARE * areas.max()))
    contours, _ = cv2.findContours(pages.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(np.concatenate(contours)).astype(np.float32)
    tl, tr, _, bl = order_corners(cv2.boxPoints(cv2.minAreaRect(hull)))
    size = (float(np.hypot(*(tr - tl))) / sdpi * MM_PER_INCH,
            float(np.hypot(*(bl - tl))) / sdpi * MM_PER_INCH)
    angle = float(np.degrees(np.arctan2(-(tr[1] - tl[1]), tr[0] - tl[0])))
    mom = cv2.moments(hull)
    fill = np.broadcast_to(np.median(small[surround], axis=0), 3)  # grey captures: one level
    return _Book(hull, (mom["m10"] / mom["m00"], mom["m01"] / mom["m00"]), size, angle, True,
                 (int(fill[0]), int(fill[1]), int(fill[2])))


def _column_sums(mask: np.ndarray) -> np.ndarray:
    return cv2.reduce(mask, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[0].astype(np.float64)


def _evaluate(grey: np.ndarray, book: _Book, theta: float, px_per_mm: float) -> _Candidate | None:
    """Best fold candidate once the coarse copy is turned so a fold tilted by theta is vertical."""
    h, w = grey.shape
    m = cv2.getRotationMatrix2D(book.center, -theta, 1.0)
    v = cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    outline = cv2.transform(book.outline, m)
    inside = cv2.fillPoly(np.zeros((h, w), np.uint8), [np.round(outline).astype(np.int32)], 1)
    counts = _column_sums(inside)
    cols = np.flatnonzero(counts >= 0.5 * counts.max())
    xl, xr = int(cols[0]), int(cols[-1])
    trim = max(1, int(round(ROW_TRIM_SHARE * counts.max())))
    rows = cv2.erode(inside, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * trim + 1)),
                     borderType=cv2.BORDER_CONSTANT, borderValue=0)
    n_rows = _column_sums(rows)

    def odd(mm: float) -> int:
        return max(3, int(round(mm * px_per_mm)) | 1)

    def darker(window: tuple[int, int]) -> np.ndarray:
        return cv2.compare(v, cv2.convertScaleAbs(cv2.blur(v, window), alpha=INK_RATIO),
                           cv2.CMP_LT)

    text = darker((1, odd(INK_WINDOW_MM)))
    reach = cv2.dilate(text, np.ones((1, odd(2 * CROSS_REACH_MM)), np.uint8))
    crossed = _column_sums(cv2.bitwise_and(reach, reach, mask=rows)) / 255 / np.maximum(n_rows, 1)
    ink = cv2.dilate(cv2.bitwise_or(text, darker((odd(LINE_WINDOW_MM), 1))),
                     np.ones((odd(INK_FRINGE_MM),) * 2, np.uint8))
    paper = cv2.bitwise_and(rows, cv2.bitwise_not(ink))
    n_paper = _column_sums(paper)
    profile = _column_sums(cv2.bitwise_and(v, v, mask=paper)) / np.maximum(n_paper, 1)

    book_cols = np.zeros(w, bool)
    book_cols[xl:xr + 1] = n_rows[xl:xr + 1] > 0
    known = book_cols & (n_paper >= PAPER_MIN_SHARE * np.maximum(n_rows, 1))
    if known.sum() < 2:
        return None
    idx = np.arange(w)
    k = odd(PROFILE_SMOOTH_MM)
    profile = np.convolve(np.pad(np.interp(idx, idx[known], profile[known]), k // 2, mode="edge"),
                          np.ones(k) / k, mode="valid")
    # Brightest paper on each side within reach, the book's outer edges excluded.
    reach_px = max(2, int(round(SIDE_REACH_MM * px_per_mm)))
    edge_px = int(round(SIDE_EDGE_MM * px_per_mm))
    sides = np.full(w, -np.inf)
    sides[xl + edge_px:xr - edge_px + 1] = profile[xl + edge_px:xr - edge_px + 1]
    level = np.minimum(_window_max(sides, -reach_px, -1), _window_max(sides, 1, reach_px))
    half = odd(VALLEY_MIN_MM) // 2
    with np.errstate(invalid="ignore", divide="ignore"):
        known_level = np.isfinite(level) & (level > 0)
        # The valley as measured: deepest when the tilt is right.
        sharp = np.clip(np.where(known_level, 1.0 - profile / level, 0.0), 0.0, 1.0)
        # Only valleys at least VALLEY_MIN_MM wide: evidence of shading.
        depth = np.clip(np.where(known_level, 1.0 - _window_max(profile, -half, half) / level, 0.0),
                        0.0, 1.0)

    # Width of the clear band (no ink across the rows) each column lies in.
    clear = book_cols & (crossed <= CLEAR_MAX)
    band_lo, band_hi = _runs(clear)
    band_mm = np.where(clear, (band_hi - band_lo + 1) / px_per_mm, 0.0)
    band_mm = np.where(band_mm <= GAP_MAX_MM, band_mm, 0.0)

    x0 = int(math.ceil(xl + CENTRAL_SPAN[0] * (xr - xl)))
    x1 = int(math.floor(xl + CENTRAL_SPAN[1] * (xr - xl)))
    valid = np.zeros(w, bool)
    valid[x0:x1 + 1] = book_cols[x0:x1 + 1] & (crossed[x0:x1 + 1] <= CROSS_MAX)
    if not valid.any():
        return None
    shade = np.clip((depth - DEPTH_NOISE) / (DEPTH_FULL - DEPTH_NOISE), 0.0, 1.0)
    # A blank stretch of one page is as clear as a gutter; the fold also darkens a little.
    faint = np.clip((depth - GAP_VALLEY[0]) / (GAP_VALLEY[1] - GAP_VALLEY[0]), 0.0, 1.0)
    gap = faint * np.clip((band_mm - GAP_MIN_MM) / (GAP_FULL_MM - GAP_MIN_MM), 0.0, 1.0)
    confidence = 1.0 - (1.0 - shade) * (1.0 - gap)
    # Compared across tilts: the valley sharpens and the gap widens as the tilt comes right.
    score = sharp / DEPTH_FULL + band_mm / GAP_FULL_MM
    # The most evident column; among equals (a whole gap at full confidence) the darkest.
    x = int(np.argmax(np.where(valid, confidence + 1e-3 * score, -np.inf)))
    x_fold = float(x)
    if depth[x] > LOCATE_MIN_DEPTH and 0 < x < w - 1:
        # Sub-pixel bottom of the valley.
        a, b, c = profile[x - 1:x + 2]
        if a - 2 * b + c > 0:
            x_fold += float(np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5))
    elif band_mm[x] > 0:
        # No real valley: the fold is where both pages' margins meet, the gap's middle.
        x_fold = float(np.clip((band_lo[x] + band_hi[x]) / 2, x0, x1))
    return _Candidate(float(score[x]), x_fold, float(shade[x]), float(gap[x]))


def _window_max(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """max(a[i + lo : i + hi + 1]) for every i; -inf where that window lies outside a."""
    pad = np.full(max(abs(lo), abs(hi)), -np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, a, pad]), hi - lo + 1)
    return windows.max(axis=1)[lo + pad.size:lo + pad.size + a.size]


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each index, the first and last index of the run of True it lies in (itself if False)."""
    n = flags.size
    idx = np.arange(n)
    starts = np.where(flags & ~np.concatenate([[False], flags[:-1]]), idx, 0)
    ends = np.where(flags & ~np.concatenate([flags[1:], [False]]), idx, n - 1)
    lo = np.maximum.accumulate(starts)
    hi = np.minimum.accumulate(ends[::-1])[::-1]
    return np.where(flags, lo, idx), np.where(flags, hi, idx)


def _cut(img: np.ndarray, dpi: float, gutter: Gutter, fill: tuple[int, int, int]
         ) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape[:2]
    margin = PAGE_MARGIN_MM * dpi / MM_PER_INCH
    top, bottom = gutter.x_at(-0.5, h), gutter.x_at(h - 0.5, h)
    x1 = min(w, int(math.ceil(max(top, bottom) + margin)) + 1)
    left = img[:, :x1].copy()
    cv2.fillPoly(left, [np.round([[top + margin, 0], [x1, 0], [x1, h], [bottom + margin, h]])
                        .astype(np.int32)], fill)
    x0 = max(0, int(math.floor(min(top, bottom) - margin)))
    right = img[:, x0:].copy()
    cv2.fillPoly(right, [np.round([[0, 0], [top - margin - x0, 0], [bottom - margin - x0, h],
                                   [0, h]]).astype(np.int32)], fill)
    return left, right
