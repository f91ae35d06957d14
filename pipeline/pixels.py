"""Pixel helpers that are many times faster than their obvious numpy/OpenCV spelling on a full page.

- numpy's reduction over a 3-long last axis (img.min(axis=2)) walks the pixels one by one: ~190 ms
  on a 300 dpi A4 page, where an element-wise minimum of the three channel planes takes ~10 ms.
- OpenCV's INTER_AREA shrink by an exact integer factor is a block mean; by any other factor it
  takes its general path, ~5 times slower (~20 ms for a 300 dpi colour page).
"""
from __future__ import annotations

import cv2
import numpy as np

# A work resolution within this share of an integer divisor of the capture's is taken at that
# divisor: a page measured at 49.6 instead of 50 dpi is measured just as well.
INTEGER_FACTOR_TOLERANCE = 0.02


def darkest(img: np.ndarray) -> np.ndarray:
    """Grey images as they are; colour: the darkest channel (blue ink is dark in red, red in green)."""
    if img.ndim == 2:
        return img
    return np.minimum(np.minimum(img[..., 0], img[..., 1]), img[..., 2])


def brightest(img: np.ndarray) -> np.ndarray:
    """Grey images as they are; colour: the brightest channel (a red seal stays as bright as paper)."""
    if img.ndim == 2:
        return img
    return np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])


def shrink(img: np.ndarray, scale: float, whole_factor: bool = True) -> tuple[np.ndarray, float]:
    """Area-averaged copy at about `scale` (< 1), and the scale actually used.

    Near an integer factor k the image is cut to a multiple of k (the last k-1 rows and columns at
    most, well under a millimetre) and shrunk by exactly k; `whole_factor=False` always shrinks the
    whole image by `scale` itself."""
    if scale >= 1.0:
        return img, 1.0
    h, w = img.shape[:2]
    k = round(1.0 / scale)
    if (whole_factor and k >= 2 and abs(1.0 / scale - k) <= INTEGER_FACTOR_TOLERANCE * k
            and h >= k and w >= k):
        rows, cols = h // k, w // k
        return cv2.resize(img[:rows * k, :cols * k], (cols, rows), interpolation=cv2.INTER_AREA), 1.0 / k
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA), scale


def grey(img: np.ndarray) -> np.ndarray:
    """Grey images as they are; colour converted to luma."""
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def scaled(img: np.ndarray, dpi: float, work_dpi: float) -> tuple[np.ndarray, float]:
    """Copy at `work_dpi` shrunk by the exact scale, and that scale.

    No whole-factor shortcut: the orientation thresholds were calibrated on pages shrunk by the
    exact scale, and the up/down score moves by up to 0.2 with the pixel phase of the shrink."""
    return shrink(img, work_dpi / dpi, whole_factor=False)
