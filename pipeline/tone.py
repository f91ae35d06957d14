"""Paper tone: divide out the paper's colour and lighting so paper is pure white and ink keeps its
colour. White paper costs almost nothing in JPEG, so the byte budget goes to the ink."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.pixels import darkest, shrink

MM_PER_INCH = 25.4
# The background is estimated at ~1 px/mm: fine enough to follow lighting and yellowing, far too
# coarse to see strokes. Without a dpi the image is taken to be an A4 page (long side 297 mm).
WORK_PX_PER_MM = 1.0
A4_LONG_MM = 297.0
# Closing wider than any stroke, seal ring or seal star (~15 mm) replaces ink by the paper around
# it. Closing keeps smooth lighting ramps (gutter shadow, fall-off) as they are; only dark areas
# narrower than the kernel are filled. Dark areas wider than that (a picture) are taken for paper.
CLOSE_MM = 15.0
SMOOTH_MM = 2.0
# Paper grain/noise just below the paper level is pushed to white; ink never is: the white point
# never drops below 0.8 of the paper level, so faint strokes keep their contrast.
NOISE_MAD_FACTOR = 2.5
WHITE_MIN = 0.80
SAMPLE_STRIDE = 4
# A mild gamma on the normalised page darkens mid-tones: faded ink and thin strokes, which the
# division left as light greys on pure white, read better. Paper (1.0) and black (0) stay put.
GAMMA = 1.2
_GAMMA_LUT = np.round(255.0 * (np.arange(256) / 255.0) ** GAMMA).astype(np.uint8)


def estimate_background(img: np.ndarray, dpi: float | None = None) -> np.ndarray:
    """Paper colour everywhere (same shape as img), ink removed."""
    h, w = img.shape[:2]
    px_per_mm = dpi / MM_PER_INCH if dpi else max(h, w) / A4_LONG_MM
    small, f = shrink(img, WORK_PX_PER_MM / px_per_mm)
    k = max(3, int(round(CLOSE_MM * px_per_mm * f)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
    bg = cv2.GaussianBlur(bg, (0, 0), SMOOTH_MM * px_per_mm * f, borderType=cv2.BORDER_REPLICATE)
    bg = np.maximum(bg, 1)  # no division by zero on black areas
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def flatten_background(img: np.ndarray, dpi: float | None = None) -> np.ndarray:
    """Paper -> 255 in every channel, ink keeps its hue. uint8 RGB or grey, same shape."""
    bg = estimate_background(img, dpi)
    step = SAMPLE_STRIDE
    white = _white_point(img[::step, ::step], bg[::step, ::step])
    # img * 255 / (bg * white), saturated, then the gamma table: two passes over the full image.
    return cv2.LUT(cv2.divide(img, bg, scale=255.0 / white), _GAMMA_LUT)


def _white_point(img_sample: np.ndarray, bg_sample: np.ndarray) -> float:
    """Share of the paper level above which a pixel is paper: below 1 by the paper noise spread.

    Estimated on a strided (not averaged) sample so the pixel noise is seen as it is.
    """
    ratio = img_sample.astype(np.float32) / bg_sample.astype(np.float32)
    ratio = darkest(ratio)
    ratio = ratio.ravel()
    paper = ratio[ratio > 0.7]  # the paper population; ink is far below
    if paper.size == 0:
        return 1.0
    med = float(np.median(paper))
    mad = float(np.median(np.abs(paper - med))) * 1.4826
    return float(np.clip(med - NOISE_MAD_FACTOR * mad, WHITE_MIN, 1.0))
