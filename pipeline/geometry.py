"""Page geometry: find the sheet in a capture, measure skew and orientation, straighten.

All functions take RGB (or grey) uint8 arrays and the capture's dpi, and return frozen dataclasses
so each step can be tested and benchmarked alone. `straighten` chains them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract
from PIL import Image

from pipeline.pixels import brightest, shrink
from pipeline.settings import PageSettings
from pipeline.tone import flatten_background

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
# Pull the crop this far inside the detected paper edge, past the edge shadow and the pixels
# that mix paper and surround.
SHEET_INSET_MM = 1.5

# Skew search: 100 dpi keeps text lines several pixels tall, enough for a 0.05° fine step.
SKEW_WORK_DPI = 100.0
SKEW_COARSE_STEP = 0.5
SKEW_FINE_STEP = 0.05
SKEW_MAX_POINTS = 200_000
# Fewer ink pixels than this share of the page: nothing to measure a skew on.
SKEW_MIN_INK_SHARE = 0.001
# Below this confidence the skew is not applied (blank or pictorial page).
SKEW_MIN_CONFIDENCE = 0.1

# Orientation, first pass, from the page's own text (~0.1 s instead of Tesseract OSD's 1-3 s):
# letters joined along a line make words that are long in the direction the text runs (0/180 vs
# 90/270), and within a word more ink stands above the x-height band than below it: ascenders,
# capitals and, in Vietnamese, most diacritics (up vs down). OSD decides only where this is unsure.
# 100 dpi keeps an 11 pt x-height ~7 px tall, enough to see what stands above and below it.
ORIENT_WORK_DPI = 100.0
# Ink runs longer than this along a row or column are ruled lines and table borders, not text.
ORIENT_RULE_MM = 10.0
# Closing along the line joins a word's letters; across it, joins diacritics to their letters.
ORIENT_LETTER_GAP_MM = 1.5
ORIENT_ACCENT_GAP_MM = 0.8
# A word blob: 1.5-8 mm tall (6-28 pt text with its accents), at least 2.5 times as long as tall.
ORIENT_WORD_MIN_MM = 1.5
ORIENT_WORD_MAX_MM = 8.0
ORIENT_WORD_ASPECT = 2.5
ORIENT_MIN_WORDS = 8
# Calibrated on 193 rendered register pages (3 layouts, 150/200/300 dpi, ordinary and harsh
# captures, all four feeds; seeds 3 and 5) and the real scans in tests/data: the word length along
# the text's direction was at least 4 times that across it on all pages but one (1.3: a harsh
# capture of a ruled note table, left to OSD). bench/bench_ocr.py checks other seeds.
ORIENT_MIN_DIRECTION_RATIO = 2.5
# Width-weighted mean of (above - below) / (above + below) over the words, -1..1. Right answers
# scored up to 0.85, and no sign was wrong on those pages, but the weakest scored 0.001-0.07
# (ruled note tables with handwriting): under 0.15 (23 of the 193 pages) OSD decides.
ORIENT_MIN_UPDOWN = 0.15

# Tesseract OSD: at 150 dpi its confidences drop; above 200 dpi they no longer rise. ~1 s a call.
OSD_WORK_DPI = 200.0
OSD_TIMEOUT_S = 15.0
# Binarisations tried in turn: (threshold, cv2 flags) on the flattened grey page.
OSD_THRESHOLDS = ((0, cv2.THRESH_BINARY + cv2.THRESH_OTSU), (160, cv2.THRESH_BINARY))
# Tesseract's orientation_conf, calibrated on cardinal.pdf (24-30) and rendered register pages
# (mostly 3-12; harsh blurred captures lower). Every wrong answer seen scored below 1.5.
OSD_MIN_CONFIDENCE = 2.0

# A row/column counts as dark frame when most of it is much darker than the paper.
EDGE_DARK_SHARE = 0.6
EDGE_MAX_TRIM_SHARE = 0.15


@dataclass(frozen=True)
class SheetBox:
    """The sheet inside a capture, in capture pixel coordinates."""
    # Corners (x, y), order: top-left, top-right, bottom-right, bottom-left of the sheet as seen.
    corners: tuple[tuple[float, float], ...]
    # Convex outline of the paper, pulled ~1 mm inside its edge: what is kept of the capture.
    outline: tuple[tuple[float, float], ...]
    center: tuple[float, float]
    size: tuple[float, float]  # (width, height) of the rotated rectangle
    angle_deg: float  # counter-clockwise angle of the sheet's top edge, like the skew
    border_found: bool  # False: no surround found, the whole capture is the sheet
    paper_rgb: tuple[int, int, int]  # typical paper colour, used to fill exposed corners


@dataclass(frozen=True)
class Skew:
    # Counter-clockwise angle of the text lines (cv2 convention); undone by rotating -angle.
    angle_deg: float
    confidence: float  # 0 (no text / flat profile) .. 1 (sharp, unique peak)
    ink_share: float


@dataclass(frozen=True)
class Orientation:
    rotation: int  # clockwise degrees to apply so text reads upright: 0, 90, 180, 270
    # Tesseract's orientation_conf (0 if OSD failed), or the text-line up/down score (0-1)
    confidence: float
    confident: bool  # False: no rotation applied, caller decides whether the page is doubtful
    attempts: int  # OSD calls made (one per binarisation tried; 0 when the text lines decided)
    seconds: float
    error: str | None = None  # why no answer: Tesseract's complaint, or the two methods disagreeing
    method: str = "osd"  # "text-lines" or "osd"


@dataclass(frozen=True)
class TextOrientation:
    """The first, cheap pass: orientation read from the shape of the page's words."""
    rotation: int  # best guess, clockwise degrees to apply: 0, 90, 180, 270
    direction_ratio: float  # word length along rows / along columns: >1 text runs across the page
    updown: float  # -1..1: > 0 the words stand upright (in the direction found)
    words: int
    direction_sure: bool  # 0/180 told from 90/270
    confident: bool  # the whole answer, up/down included
    seconds: float


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
    trimmed: EdgeBands  # dark bands cut off by the final check
    seconds: dict[str, float]


def _scaled(img: np.ndarray, dpi: float, work_dpi: float) -> tuple[np.ndarray, float]:
    # No whole-factor shortcut: the orientation thresholds were calibrated on pages shrunk by the
    # exact scale, and the up/down score moves by up to 0.2 with the pixel phase of the shrink.
    return shrink(img, work_dpi / dpi, whole_factor=False)


def _grey(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _value(img: np.ndarray) -> np.ndarray:
    # Brightness as max channel: red seals and blue ink stay "bright" like paper, a cradle does not.
    return brightest(img)


def _paper_level_and_threshold(value: np.ndarray) -> tuple[float, float]:
    otsu, _ = cv2.threshold(value, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = value[value > otsu]
    paper = float(np.median(bright)) if bright.size else 255.0
    # A cradle is far darker than paper; Otsu alone would split a blank page's lighting gradient.
    return paper, min(float(otsu), 0.6 * paper)


def find_sheet(img: np.ndarray, dpi: float) -> SheetBox:
    """Locate the sheet: the capture minus the surround (dark cradle/table, or a white scanner lid
    around tinted paper) that touches the image edge."""
    small, scale = shrink(img, SHEET_WORK_DPI / dpi)
    value = _value(small)
    _, thr = _paper_level_and_threshold(value)
    h, w = value.shape
    centre = (slice(h // 4, h - h // 4), slice(w // 4, w - w // 4))
    paper_rgb = _paper_rgb(small[centre], thr)
    candidate = (value < thr).astype(np.uint8)
    if small.ndim == 3:
        candidate |= _lid_like(small, paper_rgb)
    k = max(3, int(round(SHEET_MIN_BORDER_MM * dpi * scale / MM_PER_INCH)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    wide = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, kernel)
    _, labels = cv2.connectedComponents(wide, connectivity=4)
    edge_labels = np.unique(np.concatenate(
        [labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge_labels = edge_labels[edge_labels != 0]
    background = np.isin(labels, edge_labels).astype(np.uint8)
    # Opening rounds off the sharp wedges at a skewed sheet's corners; give them back so the
    # sheet rectangle's angle is not pulled by the corners.
    background = (background | (cv2.dilate(background, kernel) & candidate)).astype(bool)
    full_h, full_w = img.shape[:2]
    if background.mean() < SHEET_MIN_BORDER_SHARE:
        return _whole(full_w, full_h, paper_rgb)
    sheet = (~background).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(sheet, connectivity=4)
    if n < 2:
        return _whole(full_w, full_h, paper_rgb)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    sheet = (labels == biggest).astype(np.uint8)
    hull = _hull(sheet)
    rect = cv2.minAreaRect(hull.reshape(-1, 2).astype(np.float32))
    # The outline kept is the hull pulled in past the paper edge and its shadow line.
    filled = cv2.fillPoly(np.zeros_like(sheet), [hull], 1)
    inset = max(1, int(round(SHEET_INSET_MM * dpi * scale / MM_PER_INCH)))
    filled = cv2.erode(filled, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2))
    if not filled.any():
        return _whole(full_w, full_h, paper_rgb)
    outline = _hull(filled).reshape(-1, 2).astype(np.float64)

    def to_full(p: np.ndarray) -> np.ndarray:
        # Pixel centres -> pixel-edge coordinates, then back to capture scale.
        return (np.asarray(p, np.float64) + 0.5) / scale

    corners = _order_corners(to_full(cv2.boxPoints(rect)))
    tl, tr, br, bl = corners
    width = float(np.hypot(*(tr - tl)))
    height = float(np.hypot(*(bl - tl)))
    angle = float(np.degrees(np.arctan2(-(tr[1] - tl[1]), tr[0] - tl[0])))
    center = corners.mean(axis=0)
    return SheetBox(
        corners=tuple((float(x), float(y)) for x, y in corners),
        outline=tuple((float(x), float(y)) for x, y in to_full(outline)),
        center=(float(center[0]), float(center[1])),
        size=(width, height), angle_deg=angle, border_found=True, paper_rgb=paper_rgb)


def _hull(mask: np.ndarray) -> np.ndarray:
    """Convex hull of a mask's pixels, from its outer contours: the same hull as from every pixel,
    ~20 times faster on a 50 dpi page."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return cv2.convexHull(np.vstack(contours))


def _whole(w: int, h: int, paper_rgb: tuple[int, int, int]) -> SheetBox:
    corners = ((0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h)))
    return SheetBox(corners=corners, outline=corners, center=(w / 2, h / 2),
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


def _paper_rgb(small: np.ndarray, thr: float) -> tuple[int, int, int]:
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


def _order_corners(c: np.ndarray) -> np.ndarray:
    # Top-left has the smallest x+y, bottom-right the largest; top-right the smallest y-x.
    s = c.sum(axis=1)
    d = c[:, 1] - c[:, 0]
    return np.array([c[np.argmin(s)], c[np.argmin(d)], c[np.argmax(s)], c[np.argmax(d)]],
                    dtype=np.float64)


def _ink_mask(grey_small: np.ndarray, dpi_small: float) -> np.ndarray:
    # Local threshold: ink is darker than its ~4 mm neighbourhood, whatever the paper tone.
    block = max(3, int(round(4 * dpi_small / MM_PER_INCH)) | 1)
    return cv2.adaptiveThreshold(grey_small, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                 cv2.THRESH_BINARY_INV, block, 20)


def measure_skew(img: np.ndarray, dpi: float, max_deg: float = 10.0) -> Skew:
    """Skew of text lines and ruled lines by projection profiles, coarse then fine search.

    Both row and column profiles are scored, so the result is also right for pages fed sideways
    (skew is measured modulo 90°).
    """
    small, scale = _scaled(_grey(img), dpi, SKEW_WORK_DPI)
    ink = _ink_mask(small, dpi * scale)
    ys, xs = np.nonzero(ink)
    share = ys.size / ink.size
    if share < SKEW_MIN_INK_SHARE or max_deg <= 0:
        return Skew(0.0, 0.0, share)
    if ys.size > SKEW_MAX_POINTS:
        pick = np.random.default_rng(0).choice(ys.size, SKEW_MAX_POINTS, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64) - ink.shape[0] / 2
    xs = xs.astype(np.float64) - ink.shape[1] / 2

    def score(deg: float) -> float:
        t = np.radians(deg)
        c, s = np.cos(t), np.sin(t)
        total = 0.0
        # Rows of text rotated counter-clockwise by t lie on y*cos + x*sin = const.
        for proj in (ys * c + xs * s, xs * c - ys * s):
            hist = np.bincount(np.round(proj - proj.min()).astype(np.int64))
            total += float(np.sum(np.diff(hist.astype(np.float64)) ** 2))
        return total

    coarse = np.arange(-max_deg, max_deg + 1e-9, SKEW_COARSE_STEP)
    coarse_scores = np.array([score(a) for a in coarse])
    best = float(coarse[np.argmax(coarse_scores)])
    fine = np.arange(best - SKEW_COARSE_STEP, best + SKEW_COARSE_STEP + 1e-9, SKEW_FINE_STEP)
    fine_scores = np.array([score(a) for a in fine])
    i = int(np.argmax(fine_scores))
    angle = float(fine[i])
    if 0 < i < len(fine) - 1:
        # Parabola through the peak and its neighbours: sub-step precision for free.
        a, b, c = fine_scores[i - 1], fine_scores[i], fine_scores[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            angle += 0.5 * (a - c) / denom * SKEW_FINE_STEP
    angle = float(np.clip(angle, -max_deg, max_deg))
    peak = float(fine_scores[i])
    # A unique sharp peak stands far above the typical (median) score of the coarse scan.
    confidence = float(np.clip(1.0 - np.median(coarse_scores) / peak, 0.0, 1.0)) if peak else 0.0
    return Skew(angle, confidence, share)


def _word_blobs(ink: np.ndarray, dpi: float, across: bool) -> np.ndarray:
    """Bounding boxes (x, y, w, h, area) of word-like blobs for text running along the rows
    (across=False) or along the columns (across=True)."""
    along = max(2, int(round(ORIENT_LETTER_GAP_MM * dpi / MM_PER_INCH)))
    accent = max(1, int(round(ORIENT_ACCENT_GAP_MM * dpi / MM_PER_INCH)))
    size = (accent, along) if across else (along, accent)
    joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, size))
    _, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    stats = stats[1:]
    length, height = (stats[:, 3], stats[:, 2]) if across else (stats[:, 2], stats[:, 3])
    lo, hi = (v * dpi / MM_PER_INCH for v in (ORIENT_WORD_MIN_MM, ORIENT_WORD_MAX_MM))
    keep = (height >= lo) & (height <= hi) & (length >= ORIENT_WORD_ASPECT * height)
    return stats[keep]


def _updown(ink: np.ndarray, words: np.ndarray, across: bool) -> float:
    """Width-weighted mean over words of (ink above - ink below the x-height band) / both.

    The band is the rows where the word's ink profile reaches half its peak. For text along the
    columns "above" is the left side: such text was turned counter-clockwise."""
    total = weight = 0.0
    for x, y, w, h, _ in words:
        profile = ink[y:y + h, x:x + w].sum(axis=0 if across else 1, dtype=np.float64)
        band = np.flatnonzero(profile >= 0.5 * profile.max())
        above, below = profile[:band[0]].sum(), profile[band[-1] + 1:].sum()
        if above + below > 0:
            length = h if across else w
            total += length * (above - below) / (above + below)
            weight += length
    return total / weight if weight else 0.0


def text_orientation(img: np.ndarray, dpi: float) -> TextOrientation:
    """Quarter-turn orientation from the page's words (see ORIENT_* above)."""
    start = time.perf_counter()
    small, scale = _scaled(_grey(img), dpi, ORIENT_WORK_DPI)
    work_dpi = dpi * scale
    ink = _ink_mask(np.ascontiguousarray(small), work_dpi)
    rule = max(3, int(round(ORIENT_RULE_MM * work_dpi / MM_PER_INCH)))
    rules = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (rule, 1))),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, rule))))
    ink = cv2.subtract(ink, rules)
    rows, cols = _word_blobs(ink, work_dpi, False), _word_blobs(ink, work_dpi, True)
    along_rows, along_cols = float(rows[:, 2].sum()), float(cols[:, 3].sum())
    ratio = (along_rows + 1.0) / (along_cols + 1.0)
    across = along_cols > along_rows
    words = cols if across else rows
    updown = _updown(ink, words, across)
    if across:
        rotation = 90 if updown > 0 else 270
    else:
        rotation = 0 if updown >= 0 else 180
    direction_sure = (len(words) >= ORIENT_MIN_WORDS
                      and max(ratio, 1 / ratio) >= ORIENT_MIN_DIRECTION_RATIO)
    confident = direction_sure and abs(updown) >= ORIENT_MIN_UPDOWN
    return TextOrientation(rotation, ratio, updown, len(words), direction_sure, confident,
                           time.perf_counter() - start)


def find_orientation(img: np.ndarray, dpi: float, timeout_s: float = OSD_TIMEOUT_S) -> Orientation:
    """The text lines decide when they are sure; otherwise Tesseract OSD, whose answer is not
    trusted when it contradicts the direction of the lines."""
    cue = text_orientation(img, dpi)
    if cue.confident:
        return Orientation(cue.rotation, round(abs(cue.updown), 3), True, 0, cue.seconds,
                           method="text-lines")
    if cue.words == 0:  # not one word (a blank back with specks): nothing for OSD to read either
        return Orientation(0, 0.0, False, 0, cue.seconds, "no text lines found", method="text-lines")
    osd = detect_orientation(img, dpi, timeout_s)
    seconds = cue.seconds + osd.seconds
    if osd.confident and cue.direction_sure and osd.rotation % 180 != cue.rotation % 180:
        return Orientation(0, osd.confidence, False, osd.attempts, seconds,
                           "text lines and OSD disagree on the text direction")
    return Orientation(osd.rotation, osd.confidence, osd.confident, osd.attempts, seconds, osd.error)


def detect_orientation(img: np.ndarray, dpi: float, timeout_s: float = OSD_TIMEOUT_S
                       ) -> Orientation:
    """Quarter-turn orientation by Tesseract OSD on a ~200 dpi binarised copy.

    Black text on pure white: Otsu after flattening the paper tone. When that leaves OSD unsure
    (blurred captures: Otsu's strokes swell and merge), a second try at a darker fixed threshold,
    which keeps strokes thin; on rendered harsh captures this turns 22/28 confident answers into
    26/28, for a second ~1 s call on the unsure pages only.
    """
    start = time.perf_counter()
    small, scale = _scaled(img, dpi, OSD_WORK_DPI)
    grey = _grey(flatten_background(small, dpi * scale))
    best = (0, 0.0)
    error = None
    for attempt, (thr, flags) in enumerate(OSD_THRESHOLDS, start=1):
        _, binary = cv2.threshold(grey, thr, 255, flags)
        try:
            osd = pytesseract.image_to_osd(
                Image.fromarray(binary), config=f"--psm 0 --dpi {int(round(dpi * scale))}",
                output_type=pytesseract.Output.DICT, timeout=timeout_s)
        except (pytesseract.TesseractError, RuntimeError) as exc:
            # Too few characters, or timeout: no evidence either way.
            error = str(exc).strip()[:200]
            if "timeout" in error.lower():
                break
            continue
        conf = float(osd.get("orientation_conf", 0.0))
        if conf > best[1]:
            best = (int(osd.get("rotate", 0)) % 360, conf)
        if conf >= OSD_MIN_CONFIDENCE:
            break
    confident = best[1] >= OSD_MIN_CONFIDENCE
    return Orientation(best[0] if confident else 0, best[1], confident, attempt,
                       time.perf_counter() - start, None if confident else error)


def rotate_quarter(img: np.ndarray, clockwise_deg: int) -> np.ndarray:
    k = (clockwise_deg // 90) % 4
    return img if k == 0 else np.ascontiguousarray(np.rot90(img, -k))


def dark_edges(img: np.ndarray, paper_level: float | None = None) -> EdgeBands:
    """Width of the dark frame along each edge: rows/columns mostly much darker than paper."""
    if paper_level is None:
        quarter = cv2.resize(img, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        paper_level, _ = _paper_level_and_threshold(_value(quarter))
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


def straighten(img_rgb: np.ndarray, dpi: float, settings: PageSettings) -> Straightened:
    """Crop to the sheet, deskew with paper fill, fix the quarter turn, trim any dark frame."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    box = find_sheet(img_rgb, dpi)
    times["sheet"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    crop, offset = _crop_to_sheet(img_rgb, box)
    times["crop"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    skew = measure_skew(crop, dpi, settings.max_deskew_deg)
    times["skew"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if skew.confidence >= SKEW_MIN_CONFIDENCE:
        angle = skew.angle_deg
    elif box.border_found and abs(box.angle_deg) <= settings.max_deskew_deg:
        # No text to go by (blank back): square the sheet itself, so its edges (shadows, yellowed
        # rims) end up along the image edges, where the blank check's margin ignores them.
        angle = box.angle_deg
    else:
        angle = 0.0
    page = _deskew_and_cut(crop, offset, box, angle)
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
        orientation_method=method, sheet_box=box, border_removed=box.border_found, trimmed=bands, seconds=times)


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
