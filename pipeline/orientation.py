"""Quarter-turn orientation of a page: from the shape of its words first, Tesseract OSD where
they are unsure."""
from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline import tesseract
from pipeline.deskew import ink_mask
from pipeline.pixels import grey, scaled
from pipeline.tone import flatten_background

MM_PER_INCH = 25.4

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

# Tesseract OSD: at 150 dpi its confidences drop; above 200 dpi they no longer rise. ~0.3 s a call.
OSD_WORK_DPI = 200.0
# Binarisations tried in turn: (threshold, cv2 flags) on the flattened grey page.
OSD_THRESHOLDS = ((0, cv2.THRESH_BINARY + cv2.THRESH_OTSU), (160, cv2.THRESH_BINARY))
# Tesseract's orientation_conf, calibrated on cardinal.pdf (24-30) and rendered register pages
# (mostly 3-12; harsh blurred captures lower). Every wrong answer seen scored below 1.5.
OSD_MIN_CONFIDENCE = 2.0


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
    small, scale = scaled(grey(img), dpi, ORIENT_WORK_DPI)
    work_dpi = dpi * scale
    ink = ink_mask(np.ascontiguousarray(small), work_dpi)
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


def find_orientation(img: np.ndarray, dpi: float) -> Orientation:
    """The text lines decide when they are sure; otherwise Tesseract OSD, whose answer is not
    trusted when it contradicts the direction of the lines."""
    cue = text_orientation(img, dpi)
    if cue.confident:
        return Orientation(cue.rotation, round(abs(cue.updown), 3), True, 0, cue.seconds,
                           method="text-lines")
    if cue.words == 0:  # not one word (a blank back with specks): nothing for OSD to read either
        return Orientation(0, 0.0, False, 0, cue.seconds, "no text lines found", method="text-lines")
    osd = detect_orientation(img, dpi)
    seconds = cue.seconds + osd.seconds
    if osd.confident and cue.direction_sure and osd.rotation % 180 != cue.rotation % 180:
        return Orientation(0, osd.confidence, False, osd.attempts, seconds,
                           "text lines and OSD disagree on the text direction")
    return Orientation(osd.rotation, osd.confidence, osd.confident, osd.attempts, seconds, osd.error)


def detect_orientation(img: np.ndarray, dpi: float) -> Orientation:
    """Quarter-turn orientation by Tesseract OSD on a ~200 dpi binarised copy.

    Black text on pure white: Otsu after flattening the paper tone. When that leaves OSD unsure
    (blurred captures: Otsu's strokes swell and merge), a second try at a darker fixed threshold,
    which keeps strokes thin; on rendered harsh captures this turns 22/28 confident answers into
    26/28, for a second call on the unsure pages only.
    """
    start = time.perf_counter()
    small, scale = scaled(img, dpi, OSD_WORK_DPI)
    flat_grey = grey(flatten_background(small, dpi * scale))
    best = (0, 0.0)
    error = None
    for attempt, (thr, flags) in enumerate(OSD_THRESHOLDS, start=1):
        _, binary = cv2.threshold(flat_grey, thr, 255, flags)
        try:
            found = tesseract.orientation(binary, dpi * scale)
        except RuntimeError as exc:
            error = str(exc).strip()[:200]
            break
        if found is None:       # too few characters: no evidence either way
            error = "OSD: quá ít chữ / too few characters"
            continue
        rotate, conf = found
        if conf > best[1]:
            best = (rotate, conf)
        if conf >= OSD_MIN_CONFIDENCE:
            break
    confident = best[1] >= OSD_MIN_CONFIDENCE
    return Orientation(best[0] if confident else 0, best[1], confident, attempt,
                       time.perf_counter() - start, None if confident else error)


def rotate_quarter(img: np.ndarray, clockwise_deg: int) -> np.ndarray:
    k = (clockwise_deg // 90) % 4
    return img if k == 0 else np.ascontiguousarray(np.rot90(img, -k))
