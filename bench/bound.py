"""Open bound books under an overhead camera: pages that curl up into the spine.

Each page is a cylinder-like surface: flat on the cradle far from the spine, lifted by
z(s) = curl_mm * (1 - s / rise_mm)^2 within rise_mm of it (s: distance from the spine along the
paper). Bending shortens the page's footprint (dX/ds = cos of the surface slope). A camera
height_mm above the spine's middle sees a point lifted by z at H / (H - z) times its distance from
the optical centre: text lines bow away from the middle near the spine, and the page grows there.
Light falls with the surface slope; the fold casts its own shadow. Content is moved towards the
spine so writing reaches text_to_spine_mm of it. Everything else (cradle, tilt, blur, noise, JPEG)
is corpus.degrade_ex.

The truth returned: where each page's ruled lines lie on the flat page, and where the fold lies in
the capture.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from bench import corpus

MM_PER_INCH = 25.4
A4_MM = (210.0, 297.0)
CRADLE_RGB = (45, 45, 48)
# A ruled line: a dark run at least this long on the flat page (text never makes one).
RULE_MIN_MM = 60.0
# Ink darker than this share of the page's paper level.
INK_SHARE = 0.6


@dataclass(frozen=True)
class RuledLine:
    """A straight ruled line on the flat page, in mm from its top-left corner."""
    y_mm: float
    x0_mm: float
    x1_mm: float


@dataclass(frozen=True, eq=False)
class BoundSpread:
    capture: np.ndarray
    dpi: int
    fold: tuple[tuple[float, float], tuple[float, float]]  # (x, y) top and bottom, capture pixels
    left: np.ndarray  # flat source pages (content already moved towards the spine)
    right: np.ndarray
    rules: tuple[tuple[RuledLine, ...], tuple[RuledLine, ...]]  # (left page, right page)
    curl_mm: tuple[float, float]  # lift at the spine of (left, right)

    def fold_x(self, y: float) -> float:
        (xt, yt), (xb, yb) = self.fold
        return xt + (y - yt) * (xb - xt) / (yb - yt)


@lru_cache(maxsize=32)
def register_page(number: int, page: int, dpi: int) -> np.ndarray:
    entry = corpus.make_entries("KS", 2017, 1, 8, seed=11)[number]
    return corpus.render_register_page(entry, page, dpi, seed=number)


def ruled_lines(page: np.ndarray, dpi: int) -> tuple[RuledLine, ...]:
    """The long horizontal dark runs of a flat page."""
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    paper = float(np.percentile(grey, 90))
    ink = (grey < INK_SHARE * paper).astype(np.uint8)
    px = dpi / MM_PER_INCH
    long_run = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_RECT, (int(RULE_MIN_MM * px), 1)))
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(long_run, connectivity=8)
    lines = [RuledLine(float(centroids[i][1]) / px, stats[i, cv2.CC_STAT_LEFT] / px,
                       (stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH]) / px)
             for i in range(1, n)]
    return tuple(sorted(lines, key=lambda r: r.y_mm))


def _towards_spine(page: np.ndarray, dpi: int, spine_right: bool, text_to_spine_mm: float
                   ) -> np.ndarray:
    """The page with its content slid sideways so the ink nearest the spine is text_to_spine_mm
    from it: the inner margin loses a strip, the outer margin gains a copy of its own paper next
    to the ink (away from the paper's darker edge)."""
    if not spine_right:
        return _towards_spine(page[:, ::-1], dpi, True, text_to_spine_mm)[:, ::-1].copy()
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    ink_cols = np.flatnonzero((grey < INK_SHARE * np.percentile(grey, 90)).sum(axis=0)
                              > 0.002 * grey.shape[0])
    if ink_cols.size == 0:
        return page
    w = page.shape[1]
    first, last = int(ink_cols[0]), int(ink_cols[-1])
    shift = min(int(round(w - 1 - last - text_to_spine_mm * dpi / MM_PER_INCH)), first // 2)
    if shift <= 0:
        return page
    return np.ascontiguousarray(np.hstack([page[:, :first], page[:, first - shift:first],
                                           page[:, first:w - shift]]))


@dataclass(frozen=True)
class _Surface:
    """One page's bent surface as seen from above: arc length s (mm from the spine) to the
    footprint's distance X from the spine and the perspective scale H / (H - z)."""
    s: np.ndarray
    x: np.ndarray
    scale: np.ndarray
    shade: np.ndarray


def _surface(curl_mm: float, rise_mm: float, height_mm: float, width_mm: float,
             slope_shading: float, shadow: float, shadow_mm: float) -> _Surface:
    s = np.linspace(0.0, width_mm, int(width_mm * 20) + 1)  # 0.05 mm steps
    t = np.clip(1.0 - s / rise_mm, 0.0, None)
    z = curl_mm * t ** 2
    slope = np.clip(2.0 * curl_mm * t / rise_mm, 0.0, 0.95)  # dz/ds
    cos = np.sqrt(1.0 - slope ** 2)
    x = np.concatenate([[0.0], np.cumsum((cos[1:] + cos[:-1]) / 2 * np.diff(s))])
    scale = height_mm / (height_mm - z)
    # Overhead light: a surface tilted away catches less of it; the fold shades itself.
    shade = (1.0 - slope_shading * (1.0 - cos)) * (1.0 - shadow * np.exp(-s / shadow_mm))
    return _Surface(s, x * scale, scale, shade)


def render_bound_spread(dpi: int, seed: int, *, curl_mm: float, text_to_spine_mm: float = 10.0,
                        skew_deg: float = 0.0, height_mm: float | None = None,
                        pages: tuple[int, int] | None = None, border_mm: float = 20.0,
                        blur: float = 0.8, noise: float = 5.0, jpeg: int | None = 75
                        ) -> BoundSpread:
    """An open book on a dark cradle under an overhead camera, each page lifted by up to curl_mm
    into the spine. Deterministic from seed. pages: which register pages lie open (page 2 has a
    ruled table, page 3 ruled free lines, 0 a blank page); by default a seed-chosen pair with rules
    on both."""
    rng = np.random.default_rng(seed)
    pages = pages or ((2, 3), (3, 2), (2, 2), (3, 3))[seed % 4]
    height_mm = height_mm or float(rng.uniform(400, 500))
    px = dpi / MM_PER_INCH
    flat = []
    for side, page_no in enumerate(pages):
        page = (register_page((seed + 3 * side) % 8, page_no, dpi) if page_no else
                corpus.render_blank_page(dpi, seed + side))
        flat.append(_towards_spine(page, dpi, spine_right=side == 0,
                                   text_to_spine_mm=text_to_spine_mm))
    ph, pw = flat[0].shape[:2]
    page_h_mm, page_w_mm = ph / px, pw / px
    # Optical centre: over the spine, near the book's middle row.
    centre_y_mm = page_h_mm / 2 + float(rng.uniform(-15, 15))
    curls = (curl_mm * float(rng.uniform(0.85, 1.0)), curl_mm * float(rng.uniform(0.85, 1.0)))
    shadow = float(rng.uniform(0.25, 0.4)) if curl_mm > 0 else float(rng.uniform(0.05, 0.15))
    surfaces = [_surface(c, float(rng.uniform(90, 130)), height_mm, page_w_mm,
                         slope_shading=0.5, shadow=shadow, shadow_mm=float(rng.uniform(3, 8)))
                for c in curls]
    half_w_mm = max(float(sf.x[-1]) for sf in surfaces)
    max_scale = max(float(sf.scale.max()) for sf in surfaces)
    top_mm = centre_y_mm * max_scale - centre_y_mm  # the page grows this much above row 0
    bottom_mm = (page_h_mm - centre_y_mm) * max_scale - (page_h_mm - centre_y_mm)
    out_w = int(round(2 * half_w_mm * px))
    out_h = int(round((page_h_mm + top_mm + bottom_mm) * px))
    spine_x = out_w / 2
    out_y_mm = (np.arange(out_h, dtype=np.float32) + 0.5) / px - top_mm
    canvas = np.empty((out_h, out_w, 3), np.uint8)
    canvas[:] = CRADLE_RGB
    for side, (page, sf) in enumerate(zip(flat, surfaces)):
        cols = np.arange(0, int(spine_x)) if side == 0 else np.arange(int(spine_x), out_w)
        dist_mm = np.abs((cols + 0.5) - spine_x) / px  # footprint distance from the spine as seen
        inside = dist_mm <= sf.x[-1]
        s = np.interp(dist_mm, sf.x, sf.s)
        scale = np.interp(s, sf.s, sf.scale).astype(np.float32)
        shade = np.interp(s, sf.s, sf.shade).astype(np.float32)
        src_x = ((page_w_mm - s) if side == 0 else s) * px - 0.5
        src_x = np.where(inside, src_x, -10.0).astype(np.float32)
        src_y = (centre_y_mm + (out_y_mm[:, None] - centre_y_mm) / scale[None, :]) * px - 0.5
        map_x = np.broadcast_to(src_x[None, :], src_y.shape).astype(np.float32)
        part = cv2.remap(page, map_x, src_y.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=CRADLE_RGB)
        on_page = (src_y >= -0.5) & (src_y <= ph - 0.5) & inside[None, :]
        lit = np.where(on_page, shade[None, :], 1.0)
        canvas[:, cols] = np.clip(part * lit[..., None], 0, 255).astype(np.uint8)
    deg = corpus.Degradation(skew_deg=skew_deg, border_mm=border_mm, blur_sigma=blur,
                             noise_sigma=noise, jpeg_quality=jpeg)
    capture, corners = corpus.degrade_ex(canvas, dpi, deg, seed)
    tl, tr, br, bl = corners
    fold = (tuple((tl + tr) / 2), tuple((bl + br) / 2))
    rules = tuple(ruled_lines(p, dpi) for p in flat)
    return BoundSpread(capture, dpi, fold, flat[0], flat[1], rules, curls)


# --------------------------------------------------------------------------------------------
# Measures on a processed page

SIDE_BAND_MM = 5.0
# A rule is followed from its outer end towards the spine 1 mm at a time, at most TRACK_REACH_MM
# up or down a step past its slope so far, on a TRACK_BAND_MM wide band of columns, as long as it
# is this much darker than the paper; its path is a running median over TRACK_MEDIAN_MM steps.
TRACK_STEP_MM = 1.0
TRACK_REACH_MM = 0.5
TRACK_BAND_MM = 3.0
TRACK_MEDIAN_MM = 7
TRACK_DARK_SHARE = 0.8


def paper_level(page: np.ndarray) -> float:
    grey = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    return float(np.median(grey))


def side_bands(page: np.ndarray, dpi: float) -> dict[str, float]:
    """Median brightness of a SIDE_BAND_MM strip along each edge, as a share of the page's paper."""
    grey = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    k = max(1, int(round(SIDE_BAND_MM * dpi / MM_PER_INCH)))
    paper = paper_level(grey)
    strips = {"top": grey[:k], "bottom": grey[-k:], "left": grey[:, :k], "right": grey[:, -k:]}
    return {side: float(np.median(strip)) / paper for side, strip in strips.items()}


def corner_darkness(page: np.ndarray, dpi: float, size_mm: float = 10.0) -> float:
    """Darkest median brightness of the four corner squares, as a share of the paper."""
    grey = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    k = max(1, int(round(size_mm * dpi / MM_PER_INCH)))
    paper = paper_level(grey)
    squares = (grey[:k, :k], grey[:k, -k:], grey[-k:, :k], grey[-k:, -k:])
    return min(float(np.median(sq)) for sq in squares) / paper


def _vertical_offset(page: np.ndarray, flat: np.ndarray, dpi: float, spine_right: bool) -> float:
    """Rows to add to a flat-page row to find it on the processed page, from the outer part
    (away from the curl), by matching row profiles."""
    px = dpi / MM_PER_INCH
    band = int(60 * px)

    def profile(img: np.ndarray) -> np.ndarray:
        grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        outer = grey[:, :band] if spine_right else grey[:, -band:]
        p = outer.astype(np.float32).mean(axis=1)
        return p - cv2.GaussianBlur(p[:, None], (0, 0), 5 * px)[:, 0]

    a, b = profile(page), profile(flat)
    reach = int(30 * px)
    scores = [float(np.dot(a[max(0, s):len(b) + s][:len(b) - max(0, -s)],
                           b[max(0, -s):][:len(a) - max(0, s)])) for s in range(-reach, reach + 1)]
    return float(int(np.argmax(scores)) - reach)


def rule_bows(page: np.ndarray, flat: np.ndarray, rules: tuple[RuledLine, ...], dpi: float,
              spine_right: bool) -> list[float | None]:
    """Each ruled line's largest distance (mm) from its straight fit on the processed page, followed
    from its outer end; None for a line not followed over 80 % of its length."""
    grey = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    # A thin rule falls across two rows where it slopes by a fraction of a pixel.
    grey = cv2.erode(grey, np.ones((2, 1), np.uint8)).astype(np.float32)
    h, w = grey.shape
    px = dpi / MM_PER_INCH
    offset = _vertical_offset(page, flat, dpi, spine_right)
    paper = paper_level(page)
    step, reach = int(TRACK_STEP_MM * px), max(1, int(TRACK_REACH_MM * px))
    half = max(1, int(TRACK_BAND_MM / 2 * px))
    # Outer edges of the flat page and the processed page are both its cut edge: x lines up there.
    flat_w = flat.shape[1]
    bows: list[float | None] = []
    for rule in rules:
        outer_mm = rule.x0_mm if spine_right else flat_w / px - rule.x1_mm
        # Started at the outer end, before any writing on the line.
        x = int((outer_mm + 1.0) * px) if spine_right else w - 1 - int((outer_mm + 1.0) * px)
        direction = 1 if spine_right else -1
        y_guess = rule.y_mm * px + offset
        points: list[tuple[float, float]] = []
        slope = 0.0
        while 0 <= x - half and x + half < w and len(points) * TRACK_STEP_MM < rule.x1_mm - rule.x0_mm:
            window = reach if points else int(3 * px)
            centre = y_guess + slope * step * direction if points else y_guess
            lo, hi = int(centre) - window, int(centre) + window + 1
            if lo < 0 or hi > h:
                break
            # The band's columns moved along the line's slope; a row is as dark as its median
            # column: a rule darkens every column, handwriting on it only some.
            offsets = np.round(slope * direction * np.arange(-half, half + 1)).astype(int)
            if lo + offsets.min() < 0 or hi + offsets.max() > h:
                break
            column = np.percentile(np.stack([grey[lo + o:hi + o, x + j] for j, o in
                                             zip(range(-half, half + 1), offsets)], axis=1),
                                   50, axis=1)
            i = int(np.argmin(column))
            if column[i] > TRACK_DARK_SHARE * paper:
                break
            weights = np.clip(paper - column[max(0, i - 2):i + 3], 0, None)
            y = lo + max(0, i - 2) + float(np.dot(weights, np.arange(weights.size)) / weights.sum())
            if points:
                slope = 0.7 * slope + 0.3 * (y - points[-1][1]) / step
            points.append((x, y))
            y_guess = y
            x += direction * step
        length_mm = len(points) * TRACK_STEP_MM
        if length_mm < 0.8 * (rule.x1_mm - rule.x0_mm):
            bows.append(None)
            continue
        xs, ys = np.array(points).T
        # A few millimetres followed along a stroke of the writing on the line are not its bow.
        half_run = TRACK_MEDIAN_MM // 2
        ys = np.array([np.median(ys[max(0, i - half_run):i + half_run + 1]) for i in range(ys.size)])
        fit = np.polyval(np.polyfit(xs, ys, 1), xs)
        bows.append(float(np.abs(ys - fit).max()) / px)
    return bows
