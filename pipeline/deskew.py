"""Skew of a page's text lines and ruled lines, and the ink mask it is measured on."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.pixels import grey, scaled

MM_PER_INCH = 25.4

# Skew search: 100 dpi keeps text lines several pixels tall, enough for a 0.05° fine step.
SKEW_WORK_DPI = 100.0
SKEW_COARSE_STEP = 0.5
SKEW_FINE_STEP = 0.05
SKEW_MAX_POINTS = 200_000
# Fewer ink pixels than this share of the page: nothing to measure a skew on.
SKEW_MIN_INK_SHARE = 0.001


@dataclass(frozen=True)
class Skew:
    # Counter-clockwise angle of the text lines (cv2 convention); undone by rotating -angle.
    angle_deg: float
    confidence: float  # 0 (no text / flat profile) .. 1 (sharp, unique peak)
    ink_share: float


def ink_mask(grey_small: np.ndarray, dpi_small: float) -> np.ndarray:
    # Local threshold: ink is darker than its ~4 mm neighbourhood, whatever the paper tone.
    block = max(3, int(round(4 * dpi_small / MM_PER_INCH)) | 1)
    return cv2.adaptiveThreshold(grey_small, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                 cv2.THRESH_BINARY_INV, block, 20)


def measure_skew(img: np.ndarray, dpi: float, max_deg: float = 10.0) -> Skew:
    """Skew of text lines and ruled lines by projection profiles, coarse then fine search.

    Both row and column profiles are scored, so the result is also right for pages fed sideways
    (skew is measured modulo 90°).
    """
    small, scale = scaled(grey(img), dpi, SKEW_WORK_DPI)
    ink = ink_mask(small, dpi * scale)
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
