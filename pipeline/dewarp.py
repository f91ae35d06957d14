"""Pages of a bound book, split from an open spread: even out the fold's light, give the corners back
to the paper, and straighten the lines that bow where the page curls up into the spine.

Why a split page needs this (a loose sheet does not):
- Light. Near the spine the page turns away from the overhead light and the fold shades itself:
  paper loses 30-50 % of its brightness within the last 5-15 mm. Past the cut, straighten() paints
  the paper's colour, so along that edge the shading is a valley narrower than the 15 mm closing of
  tone.flatten_background, which fills it like a stroke: the background is taken for bright paper
  there (measured: ~200 where the paper is 136-178) and a grey band stays. The shading runs along
  the fold, so it is measured per column at 0.25 mm (each column's paper level) and divided out
  before flattening.
- Corners. Lifted into the spine the page looks bigger there (it is nearer the camera): its top and
  bottom edges bend outwards. find_sheet keeps the convex hull of the sheet, so the cradle between
  the hull's straight edge and the bent edge stays as dark wedges; they are painted paper.
- Curl. A point lifted by z is seen H / (H - z) times farther from the optical centre (camera
  height H): vertically, at a column x the page is seen scaled about the optical centre's row, so a
  flat-page row Y is seen at y = a(x) + b(x) * Y. Lines of text and ruled lines give y at many
  columns; a(x), b(x) are fitted per column across lines (as Leptonica's vertical disparity model,
  with the column's scale as the physical model in place of a polynomial) and the page is remapped.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.pixels import brightest, shrink

MM_PER_INCH = 25.4
WORK_DPI = 100.0
# Cradle: darker than this share of the paper level (as in find_sheet).
SURROUND_SHARE = 0.6
SURROUND_MIN_MM = 3.0
# A page lifted by 40 mm under a camera 450 mm high looks up to ~10 % bigger by the spine: its edge
# bends out by up to ~15 mm. A wedge is somewhere at least WEDGE_MIN_THICK_MM thick (ruled lines
# are 0.1-0.5 mm) over WEDGE_MIN_LEN_MM (no stroke of writing is that solid).
WEDGE_REACH_MM = 20.0
WEDGE_MIN_THICK_MM = 1.0
WEDGE_MIN_LEN_MM = 10.0
# The cradle's blurred rim on the paper is painted with it.
SURROUND_RIM_MM = 0.5
# A column's paper level: this percentile of its brightness (ink and ruled lines are darker, and
# cover less than this share of a column's rows), closed over RULE_MAX_MM so a vertical rule is not
# taken for shading.
PAPER_PERCENTILE = 90
RULE_MAX_MM = 2.0
# The fold's shading is divided out from the spine side edge up to where it is this close to the
# page's paper level; beyond, flatten_background follows the gentle rest. Never brightened more
# than GAIN_MAX (deeper is cradle, not paper).
GAIN_MIN = 1.02
GAIN_MAX = 3.0
# straighten() paints paper colour past the sheet's outline: up to this wide along the edge.
EDGE_FILL_MM = 5.0

# Lines: ruled lines are dark runs at least RULE_MIN_MM long once thickened by RULE_THICKEN_MM
# (so a bowed rule still runs along a row); text lines are words joined across WORD_GAP_MM gaps.
RULE_THICKEN_MM = 1.0
RULE_RUN_MM = 5.0
RULE_MIN_MM = 25.0
WORD_GAP_MM = 3.0
TEXT_LINE_MIN_MM = 40.0
TEXT_LINE_MAX_HEIGHT_MM = 8.0
# A line counts only when it reaches this far out from the spine (a share of the page's width): its
# outer part lies flat and gives the line's true row. A broken piece near the spine has no true row.
FLAT_REACH_SHARE = 0.55
REFERENCE_MM = 10.0
# A line's centre is sampled every SAMPLE_MM; a line whose samples stray from their smooth curve by
# more than LINE_NOISE_MM (text whose words jump rows, pieces of two lines joined) is not used.
SAMPLE_MM = 1.0
LINE_SMOOTH_MM = 3.0
LINE_NOISE_MM = 0.8
# A page needs this many lines to measure its curl on; a column's scale is measured on lines
# lying on average at least SCALE_MIN_REACH_MM from the optical centre's row.
MIN_LINES = 3
SCALE_MIN_REACH_MM = 20.0
# A page lifted by at most ~50 mm under a camera at least ~380 mm high is seen at most this much
# bigger, and never smaller (it never sinks below the cradle).
MAX_SCALE = 1.15
# The optical centre's row lies in this part of the page's height (the book lies under the camera).
CENTRE_SPAN = (0.25, 0.75)
# A line farther than FIT_OUTLIER_MM from the fit at a column (a text line's word off its row) is
# left out there; the scale is smoothed along the page over MODEL_SMOOTH_MM (the paper bends
# smoothly).
FIT_OUTLIER_MM = 1.0
MODEL_SMOOTH_MM = 3.0
# The curl fitted on every other line must at least halve the typical other line's distance from
# straight (root mean square), among the lines off straight by HOLDOUT_BOW_MM or more.
HOLDOUT_GAIN = 0.5
HOLDOUT_BOW_MM = 0.2
# Below this largest displacement anywhere on the page it is flat: left as it is.
FLAT_MM = 0.5
# Columns displaced less than this anywhere are left as they are (cheaper than remapping them).
MOVE_MIN_MM = 0.1


@dataclass(frozen=True, eq=False)
class Disparity:
    """A page's curl: the flat page's row Y is seen at row shift + factor * Y, per column counted
    from the spine side edge outwards, one every `step_mm`; shift and rows in mm."""
    shift_mm: np.ndarray
    factor: np.ndarray
    step_mm: float


@dataclass(frozen=True, eq=False)
class BoundPage:
    image: np.ndarray
    gain_max: float  # strongest brightening of the fold's shading (1: none)
    shaded_mm: float  # width of the shaded zone evened out, from the spine side edge
    surround_share: float  # share of the page painted paper (cradle seen past the bent outline)
    lines: int  # lines the curl was measured on
    disparity_mm: float  # largest vertical displacement corrected (0: the page lay flat)
    # The curl measured on this page's own lines (None: too few lines), for the facing page.
    measured: Disparity | None
    borrowed: bool  # too few lines of its own: the facing page's curl was applied
    seconds: float


@dataclass(frozen=True)
class _Line:
    xs: np.ndarray  # sampled columns, work pixels
    ys: np.ndarray  # centre row at each
    reference: float  # the row on the flat page: its outer end's
    ruled: bool  # a ruled line (text lines' centres are rougher)


def flatten_bound_page(page: np.ndarray, dpi: float, spine_right: bool,
                       paper_rgb: tuple[int, int, int], facing: Disparity | None = None
                       ) -> BoundPage:
    """A straightened page of a split spread (RGB or grey), the spine on its right or left edge.
    facing: the other page's measured curl, applied when this page has too few lines of its own
    (both pages of a spread rise into the same spine)."""
    t0 = time.perf_counter()
    small, scale = shrink(page, WORK_DPI / dpi)
    if not spine_right:  # measured with the spine on the right; the full page is never flipped
        small = small[:, ::-1]
    px_mm = dpi * scale / MM_PER_INCH
    paper_level = float(max(paper_rgb))
    fill = paper_rgb if page.ndim == 3 else paper_level
    value = brightest(small)
    surround = _surround(value, paper_level, px_mm)
    gain, shaded = _fold_gain(value, surround, px_mm)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small.copy()
    if shaded:
        grey = np.clip(grey * gain[None, :], 0, 255).astype(np.uint8)
    grey[surround] = 255
    lines = _lines(grey, px_mm)
    model = _disparity(lines, grey.shape, px_mm) if len(lines) >= MIN_LINES else None
    if model is not None and not _holds_up(lines, grey.shape, px_mm):
        model = None
    measured = None if model is None else _from_spine(*model, px_mm)
    borrowed = model is None and facing is not None
    if borrowed:
        model = _to_columns(facing, grey.shape[1], px_mm)

    out = page.copy()
    h, w = page.shape[:2]
    # Each full-size column's position in the work copy.
    full_cols = (np.arange(w) + 0.5) * scale - 0.5

    if shaded:
        zone = _spine_zone(w, int(np.ceil(shaded / scale)) + 1, spine_right)
        g = _per_full_column(gain, full_cols[zone], small.shape[1], spine_right)
        part = out[:, zone].astype(np.float32)
        part *= g[None, :, None] if part.ndim == 3 else g[None, :]
        out[:, zone] = np.clip(part, 0, 255).astype(np.uint8)
    if surround.any():
        mask = surround if spine_right else surround[:, ::-1]
        full = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        out[full.astype(bool)] = fill
    disparity = 0.0
    if model is not None:
        shift, factor = model
        rows = np.array([0.0, grey.shape[0] - 1.0])
        disparity = float(np.abs(shift[:, None] + (factor[:, None] - 1) * rows[None, :]).max()) / px_mm
        if disparity >= FLAT_MM:
            out = _remap(out, shift / scale, factor, scale, small.shape[1], spine_right,
                         MOVE_MIN_MM * dpi / MM_PER_INCH, fill)
    return BoundPage(out, float(gain.max()), shaded / px_mm, float(surround.mean()), len(lines),
                     round(disparity, 2) if disparity >= FLAT_MM else 0.0, measured, borrowed,
                     time.perf_counter() - t0)


def _from_spine(shift: np.ndarray, factor: np.ndarray, px_mm: float) -> Disparity:
    """Work-column model (spine on the right) as a Disparity."""
    return Disparity(shift[::-1] / px_mm, factor[::-1].copy(), 1.0 / px_mm)


def _to_columns(d: Disparity, width: int, px_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """A Disparity as a work-column model of a page `width` columns wide (spine on the right);
    past the measured columns the last ones hold."""
    from_spine = (width - 1 - np.arange(width)) / px_mm
    at = np.arange(d.shift_mm.size) * d.step_mm
    return np.interp(from_spine, at, d.shift_mm) * px_mm, np.interp(from_spine, at, d.factor)


def _spine_zone(w: int, count: int, spine_right: bool) -> slice:
    """The `count` full-size columns along the spine side edge."""
    count = min(w, count)
    return slice(w - count, w) if spine_right else slice(0, count)


def _per_full_column(values: np.ndarray, cols: np.ndarray, work_w: int, spine_right: bool
                     ) -> np.ndarray:
    """Per work column values (measured with the spine on the right) at full-size columns whose
    work-copy positions are `cols`."""
    if not spine_right:
        values = values[::-1]
    return np.interp(cols, np.arange(work_w), values).astype(np.float32)


def _surround(value: np.ndarray, paper_level: float, px_mm: float) -> np.ndarray:
    """Cradle left inside the page's crop, with its blurred rim: along the sides, dark regions
    touching the edge; along the top and bottom, dark wedges between the crop's straight edge and
    the page's edge bent outwards by the curl. A wedge need not touch the crop's edge (the crop
    paints paper past the hull), so it is told by its shape: at least SURROUND_MIN_MM along the
    edge, solid over WEDGE_MIN_LEN_MM and thicker than any ruled line, within WEDGE_REACH_MM of
    the edge."""
    dark = (value < SURROUND_SHARE * paper_level).astype(np.uint8)
    h = dark.shape[0]
    k = max(3, int(round(SURROUND_MIN_MM * px_mm)))
    side = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((k, 1), np.uint8))
    _, labels = cv2.connectedComponents(side, connectivity=4)
    touching = np.unique(np.concatenate([labels[:, 0], labels[:, -1]]))
    surround = np.isin(labels, touching[touching != 0]).astype(np.uint8)
    thick = max(2, int(round(WEDGE_MIN_THICK_MM * px_mm)))
    long = max(k, int(round(WEDGE_MIN_LEN_MM * px_mm)))
    along = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((thick, long), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(along, connectivity=4)
    reach = WEDGE_REACH_MM * px_mm
    tops, bottoms = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT]
    wedge = (bottoms <= reach) | (tops >= h - reach)
    wedge[0] = False
    if wedge.any():
        # The opening cut off the wedges' thin points: the whole dark regions they lie in.
        n, dark_labels = cv2.connectedComponents(dark, connectivity=8)
        keep = np.zeros(n, bool)
        keep[np.unique(dark_labels[wedge[labels]])] = True
        keep[0] = False
        surround |= keep[dark_labels].astype(np.uint8)
    rim_px = max(1, int(round(SURROUND_RIM_MM * px_mm)))
    return cv2.dilate(surround, np.ones((2 * rim_px + 1,) * 2, np.uint8)).astype(bool)


def _fold_gain(value: np.ndarray, surround: np.ndarray, px_mm: float) -> tuple[np.ndarray, int]:
    """Per work column, the factor that brings its paper to the page's level; and how many columns
    from the spine side edge need it."""
    # The PAPER_PERCENTILE of each column's pixels outside the surround (which sort first as 0).
    # Rows a millimetre apart are plenty for a level along the fold.
    step = max(1, int(round(px_mm)))
    value, surround = value[::step], surround[::step]
    h = value.shape[0]
    outside = (~surround).sum(axis=0)
    ordered = np.sort(np.where(surround, 0, value), axis=0)
    rank = np.clip(h - outside + (PAPER_PERCENTILE / 100 * (outside - 1)).astype(int), 0, h - 1)
    level = np.take_along_axis(ordered, rank[None, :], axis=0)[0].astype(np.float32)
    counted = outside > 0.5 * h
    if counted.sum() < 2:
        return np.ones(level.size, np.float32), 0
    idx = np.arange(level.size)
    level = np.interp(idx, idx[counted], level[counted]).astype(np.float32)
    k = max(3, int(round(RULE_MAX_MM * px_mm)) | 1)
    level = cv2.morphologyEx(level[None, :], cv2.MORPH_CLOSE, np.ones((1, k), np.uint8),
                             borderType=cv2.BORDER_REPLICATE)[0]
    paper = float(np.median(level))
    gain = np.clip(paper / np.maximum(level, 1.0), 1.0, GAIN_MAX).astype(np.float32)
    # The shaded run that starts at the spine side: past the paper colour straighten() may have
    # painted along the edge.
    shaded = np.flatnonzero(gain >= GAIN_MIN)
    if shaded.size == 0 or shaded[-1] < gain.size - EDGE_FILL_MM * px_mm:
        return np.ones_like(gain), 0
    end = int(shaded[-1])
    start = end
    while start > 0 and gain[start - 1] >= GAIN_MIN:
        start -= 1
    gain[:start] = 1.0
    return gain, gain.size - start


def _lines(grey: np.ndarray, px_mm: float) -> list[_Line]:
    """Ruled lines and text lines reaching out to the page's flat part, as sampled centre rows."""
    # Ink: darker than its ~4 mm neighbourhood (as geometry's skew measure), whatever the light.
    block = max(3, int(round(4 * px_mm)) | 1)
    ink = cv2.adaptiveThreshold(grey, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 20)

    def rect(w_mm: float, h_mm: float) -> np.ndarray:
        return cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, int(round(w_mm * px_mm))),
                                                          max(1, int(round(h_mm * px_mm)))))

    thick = cv2.dilate(ink, rect(0, RULE_THICKEN_MM))
    rules = cv2.morphologyEx(thick, cv2.MORPH_OPEN, rect(RULE_RUN_MM, 0))
    found = _centres(rules, px_mm, RULE_MIN_MM, RULE_THICKEN_MM + 2.0, ruled=True)
    text = ink & (1 - cv2.dilate(rules, rect(0, 1.0)))
    words = cv2.morphologyEx(text, cv2.MORPH_CLOSE, rect(WORD_GAP_MM, 0))
    found += _centres(words, px_mm, TEXT_LINE_MIN_MM, TEXT_LINE_MAX_HEIGHT_MM, ruled=False)
    return found


def _centres(mask: np.ndarray, px_mm: float, min_len_mm: float, max_height_mm: float,
             ruled: bool) -> list[_Line]:
    h, w = mask.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    step = max(1, int(round(SAMPLE_MM * px_mm)))
    smooth = max(3, int(round(LINE_SMOOTH_MM / SAMPLE_MM)) | 1)
    found = []
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        # The spine is on the right: the line must reach the flat part on the left.
        if cw < min_len_mm * px_mm or x > (1 - FLAT_REACH_SHARE) * w:
            continue
        if area / cw > max_height_mm * px_mm:
            continue
        own = (labels[y:y + ch, x:x + cw] == i)
        count = own.sum(axis=0)
        rows = (own * np.arange(ch)[:, None]).sum(axis=0) / np.maximum(count, 1) + y
        cols = np.arange(0, cw - step + 1, step)
        sums = np.add.reduceat(rows * (count > 0), cols)
        hits = np.add.reduceat((count > 0).astype(np.float64), cols)
        keep = hits > 0.5 * step
        if keep.sum() < smooth:
            continue
        xs = x + cols[keep] + step / 2 - 0.5
        ys = sums[keep] / hits[keep]
        pad = smooth // 2
        smoothed = np.convolve(np.pad(ys, pad, mode="edge"), np.ones(smooth) / smooth, mode="valid")
        if np.abs(ys - smoothed).max() > LINE_NOISE_MM * px_mm:
            continue
        near_outer = xs <= xs[0] + REFERENCE_MM * px_mm
        found.append(_Line(xs, smoothed, float(np.median(smoothed[near_outer])), ruled))
    return found


def _disparity(lines: list[_Line], shape: tuple[int, int], px_mm: float
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per work column, (a, b) of y = a + b * Y: seen row y of the flat page's row Y.

    One camera sees the whole page: every column is scaled about the same row, the optical
    centre's (yc), so y - yc = b(x) * (Y - yc) and a = yc * (1 - b). yc is the row that explains
    the lines best; b(x) then comes from every line at x, even a single one far from yc."""
    h, w = shape
    # Every line's seen row at every column it covers (NaN elsewhere), against its flat row.
    seen = np.full((len(lines), w), np.nan)
    for k, ln in enumerate(lines):
        cols = np.arange(int(np.ceil(ln.xs[0])), int(np.floor(ln.xs[-1])) + 1)
        seen[k, cols] = np.interp(cols, ln.xs, ln.ys)
    flat = np.broadcast_to(np.array([ln.reference for ln in lines])[:, None], seen.shape)
    use = np.isfinite(seen)
    # Every millimetre of the page's middle: the camera is over the book.
    candidates = np.arange(CENTRE_SPAN[0] * h, CENTRE_SPAN[1] * h, px_mm)
    for _ in range(2):  # a fit, then again without the lines that strayed from it
        centre, factor, known = _scale_fit(np.where(use, seen, 0.0), np.where(use, flat, 0.0),
                                           use, candidates, px_mm)
        stray = use & (np.abs(seen - centre - factor * (flat - centre)) > FIT_OUTLIER_MM * px_mm)
        if not stray.any():
            break
        use &= ~stray
    if known.sum() < 2:
        return None
    idx = np.arange(w)
    # Past the lines' ends the nearest measured column holds (np.interp keeps the end values).
    factor = np.interp(idx, idx[known], np.clip(factor[known], 1.0, MAX_SCALE))
    factor = cv2.GaussianBlur(factor[None, :], (0, 0), MODEL_SMOOTH_MM * px_mm,
                              borderType=cv2.BORDER_REPLICATE)[0]
    return centre * (1.0 - factor), factor


def _holds_up(lines: list[_Line], shape: tuple[int, int], px_mm: float) -> bool:
    """Whether the curl fitted on every other line (by row) straightens most of the lines between
    them, and the other way round: a model from few or noisy lines that only fits its own lines
    (a few text lines in one part of the page) would bend the rest of the page."""
    # Every other ruled line and every other text line (by row): on a ruled page where writing
    # sits on every rule, alternating over all lines would put every rule in one half.
    halves: tuple[list[_Line], list[_Line]] = ([], [])
    for ruled in (True, False):
        kind = sorted((ln for ln in lines if ln.ruled == ruled), key=lambda ln: ln.reference)
        halves[0].extend(kind[::2])
        halves[1].extend(kind[1::2])
    for fitted, checked in (halves, halves[::-1]):
        if len(fitted) < MIN_LINES:
            return len(lines) >= 2 * MIN_LINES  # too few to check: enough lines to trust the fit
        model = _disparity(fitted, shape, px_mm)
        if model is None:
            return False
        shift, factor = model
        # Ruled lines, when there are enough, are the sharper judges.
        ruled = [ln for ln in checked if ln.ruled]
        ratios = []
        for ln in (ruled if len(ruled) >= MIN_LINES else checked):
            cols = np.clip(np.round(ln.xs).astype(int), 0, shape[1] - 1)
            before = float(np.sqrt(np.mean(np.square(ln.ys - ln.reference))))
            after = float(np.sqrt(np.mean(np.square(ln.ys - shift[cols] - factor[cols] * ln.reference))))
            if before >= HOLDOUT_BOW_MM * px_mm:  # a line that was straight tells nothing
                ratios.append(after / before)
        if ratios and np.median(ratios) > HOLDOUT_GAIN:
            return False
    return True


def _scale_fit(seen: np.ndarray, flat: np.ndarray, use: np.ndarray, candidates: np.ndarray,
               px_mm: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Least squares of seen - yc = b * (flat - yc) per column, over the lines used there, for the
    candidate yc that leaves the least residual: (yc, b per column, columns measured)."""
    n = use.sum(axis=0).astype(np.float64)
    sf, sy = flat.sum(axis=0), seen.sum(axis=0)
    sff, sfy, syy = (flat * flat).sum(axis=0), (flat * seen).sum(axis=0), (seen * seen).sum(axis=0)
    c = candidates[:, None]
    uu = sff - 2 * c * sf + n * c * c  # sum of (flat - yc)^2, per candidate and column
    uv = sfy - c * (sf + sy) + n * c * c
    vv = syy - 2 * c * sy + n * c * c
    # A line within a few millimetres of yc tells nothing of the scale.
    known = (n > 0) & (uu >= (SCALE_MIN_REACH_MM * px_mm) ** 2 * np.maximum(n, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = np.where(known, vv - uv * uv / uu, 0.0).sum(axis=1) / np.maximum(
            known.sum(axis=1), 1)
        best = int(np.argmin(residual))
        factor = np.where(known[best], uv[best] / uu[best], 1.0)
    return float(candidates[best]), factor, known[best]


def _remap(page: np.ndarray, shift: np.ndarray, factor: np.ndarray, scale: float, work_w: int,
           spine_right: bool, move_min_px: float, fill) -> np.ndarray:
    """Each output row Y at column x takes the seen row shift(x) + factor(x) * Y (shift in
    full-size pixels per work column, measured with the spine on the right). Only the columns by
    the spine that move by more than move_min_px anywhere are remapped."""
    h, w = page.shape[:2]
    rows = np.array([0.0, h - 1.0])
    moves = np.abs(shift[:, None] + (factor[:, None] - 1) * rows[None, :]).max(axis=1) > move_min_px
    still = np.flatnonzero(~moves)
    first = int(still[-1]) + 1 if still.size else 0  # work column where the moving run starts
    if first >= work_w:
        return page
    zone = _spine_zone(w, int(np.ceil((work_w - first) / scale)) + 1, spine_right)
    cols = (np.arange(w)[zone] + 0.5) * scale - 0.5
    a = _per_full_column(shift, cols, work_w, spine_right)
    b = _per_full_column(factor, cols, work_w, spine_right)
    map_y = a[None, :] + b[None, :] * np.arange(h, dtype=np.float32)[:, None]
    map_x = np.empty_like(map_y)
    map_x[:] = np.arange(w, dtype=np.float32)[zone][None, :]
    page[:, zone] = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=fill)
    return page
