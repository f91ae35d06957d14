"""Blank page detection: duplex backs are dropped, pages carrying anything written are kept.

A blank back still shows paper grain, sensor noise, faint bleed-through from the other side, edge
shadows and a few dust specks; none of that is ink. A page with one short handwritten line or a
signature is not blank, even though its ink covers well under 0.1 % of the sheet, so besides the ink
share the verdict also looks for one connected mark of writing size.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.pixels import darkest, shrink
from pipeline.settings import PageSettings
from pipeline.tone import flatten_background

MM_PER_INCH = 25.4
# 150 dpi keeps a 0.3 mm pen stroke dark enough to see after downscaling.
WORK_DPI = 150.0
# Edge shadows, paper edges and punch holes live in the outer few millimetres.
MARGIN_MM = 6.0
# Flattened paper is 255; ink is at least this much darker in its darkest channel. Bleed-through
# (≤ ~10 % darker than paper, ~16 after flattening) stays well above, faded ink (≥ ~25 % darker,
# ~64 after flattening) below.
INK_DARKNESS = 55
# Dust: specks smaller than this (largest side) are not ink.
SPECK_MM = 0.8
# Streaks and folds: straight, thin and very long.
STREAK_MAX_WIDTH_MM = 1.2
STREAK_MIN_LENGTH_MM = 80.0
# Strokes closer than this belong to one mark (letters of a word, parts of a signature).
MARK_JOIN_MM = 2.5
# A mark this wide or tall is writing, whatever the ink share: a short word, a signature, a number.
# Dust on blank backs stays under ~1 mm; when in doubt a page is kept (dropping ink loses data).
MARK_MIN_MM = 5.0


@dataclass(frozen=True)
class InkMeasure:
    ratio: float  # ink pixels / inspected area (sheet minus margin), specks and streaks excluded
    components: int  # ink components kept
    specks: int  # components dismissed as dust
    streaks: int  # components dismissed as scanner streaks or folds
    largest_mark_mm: float  # largest extent of a group of nearby strokes, in mm


@dataclass(frozen=True)
class BlankVerdict:
    blank: bool
    ink_ratio: float
    largest_mark_mm: float


def measure_ink(img: np.ndarray, dpi: float, *, marks_below: float = 1.0) -> InkMeasure:
    """The page's ink: its share and components; the largest mark only while the share is below
    `marks_below` (is_blank needs it only there: a page with more ink is not blank whatever its
    marks, and joining them is half the cost of the check on a written page). Else largest_mark_mm
    is the largest single component, a lower bound."""
    small, scale = shrink(img, WORK_DPI / dpi)
    px_per_mm = dpi * scale / MM_PER_INCH
    flat = flatten_background(small, dpi * scale)
    # Darkest channel: blue ink is dark in red, a red seal in green/blue.
    value = darkest(flat)
    m = int(round(MARGIN_MM * px_per_mm))
    inner = value[m:value.shape[0] - m, m:value.shape[1] - m]
    if inner.size == 0:
        return InkMeasure(0.0, 0, 0, 0, 0.0)
    ink = (inner < 255 - INK_DARKNESS).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    bw, bh = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    long_side, short_side = np.maximum(bw, bh), np.minimum(bw, bh)
    speck = long_side < SPECK_MM * px_per_mm
    streak = ((short_side <= STREAK_MAX_WIDTH_MM * px_per_mm)
              & (long_side >= STREAK_MIN_LENGTH_MM * px_per_mm))
    keep = ~(speck | streak)
    kept_labels = np.flatnonzero(keep) + 1
    ink_px = int(stats[kept_labels, cv2.CC_STAT_AREA].sum())
    ratio = ink_px / inner.size
    largest = float(long_side[keep].max()) / px_per_mm if kept_labels.size else 0.0
    if kept_labels.size and ratio < marks_below:
        kept = np.isin(labels, kept_labels).astype(np.uint8)
        j = max(1, int(round(MARK_JOIN_MM * px_per_mm)))
        joined = cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * j + 1,) * 2))
        _, _, mstats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        extent = np.maximum(mstats[1:, cv2.CC_STAT_WIDTH], mstats[1:, cv2.CC_STAT_HEIGHT]) - 2 * j
        largest = float(extent.max()) / px_per_mm
    return InkMeasure(ratio=ratio, components=int(keep.sum()),
                      specks=int(speck.sum()), streaks=int((streak & ~speck).sum()),
                      largest_mark_mm=largest)


def is_blank(img: np.ndarray, dpi: float, settings: PageSettings) -> BlankVerdict:
    ink = measure_ink(img, dpi, marks_below=settings.blank_ink_ratio)
    blank = ink.ratio < settings.blank_ink_ratio and ink.largest_mark_mm < MARK_MIN_MM
    return BlankVerdict(blank=blank, ink_ratio=ink.ratio, largest_mark_mm=ink.largest_mark_mm)
