"""Encode a clean page for the PDF: JPEG (colour/grey) under a size budget, or CCITT G4 (bilevel).

The bytes returned are exactly what goes into the PDF: img2pdf embeds a baseline JPEG as a DCTDecode
stream and a single-strip G4 TIFF's strip as a CCITTFaxDecode stream, both without re-encoding.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from pipeline.settings import PageSettings

MM_PER_INCH = 25.4
# Size budgets are per A4 of paper: an A3 page gets twice the bytes of an A4 page at the same
# quality. Below half an A4 the budget stays that of an A5: a page's fixed costs (headers, tables)
# and a small sheet's denser writing would otherwise push small pages to the lowest quality.
A4_AREA_MM2 = 210.0 * 297.0
MIN_BUDGET_A4 = 0.5
# Quality search: at most this many JPEG encodes per resolution tried.
MAX_ENCODES_PER_DPI = 6
# When even the lowest quality is above page_max_kb, the resolution is cut by the square root of
# the size excess (bytes scale with pixel count) times this margin; at most this many times.
DPI_STEP_MARGIN = 0.92
MAX_DPI_STEPS = 2
# Chroma is quantised no coarser than this quality: seals and blue ink are thin coloured strokes
# whose colour JPEG would bleed away first; keeping it costs ~1-4 % of the page size.
CHROMA_QUALITY_FLOOR = 40
# IJG (libjpeg) standard tables, natural order; scaled per quality as libjpeg's own `quality` does.
_LUMA_TABLE = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
               14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
               18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
               49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
_CHROMA_TABLE = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99) + (99,) * 32
# Sauvola: window ~2.5 mm (wider than any pen stroke), standard k and dynamic range.
SAUVOLA_WINDOW_MM = 2.5
SAUVOLA_K = 0.2
SAUVOLA_R = 128.0


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    format: Literal["jpeg", "tiff-g4"]
    width: int
    height: int
    dpi: float
    mode: str  # "RGB", "L" or "1"
    quality: int | None  # JPEG quality used; None for G4
    over_budget: bool = False  # still above the cap at min_dpi / lowest quality
    encodes: int = 0  # encoder runs spent (cost of the size search)
    cap_kb: float = 0.0  # the page's cap: page_max_kb for its paper area (budget_a4)

    @property
    def kb(self) -> float:
        return len(self.data) / 1024


def resample(img: np.ndarray, dpi_in: float, dpi_out: float) -> np.ndarray:
    if abs(dpi_in - dpi_out) < 1e-6:
        return img
    f = dpi_out / dpi_in
    h, w = img.shape[:2]
    size = (max(1, round(w * f)), max(1, round(h * f)))
    # INTER_AREA averages when shrinking (no aliasing); when a capture is below the profile's dpi
    # it is brought up so every page of a PDF has the profile's resolution.
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    return cv2.resize(img, size, interpolation=interp)


def budget_a4(img: np.ndarray, dpi: float) -> float:
    """The page's paper in A4s, for its size budget (at least MIN_BUDGET_A4)."""
    h, w = img.shape[:2]
    area_mm2 = (w / dpi * MM_PER_INCH) * (h / dpi * MM_PER_INCH) if dpi > 0 else A4_AREA_MM2
    return max(MIN_BUDGET_A4, area_mm2 / A4_AREA_MM2)


@dataclass(frozen=True)
class _Budget:
    target: float  # bytes
    cap: float


def _budget(img: np.ndarray, dpi: float, s: PageSettings) -> _Budget:
    a4s = budget_a4(img, dpi)
    return _Budget(s.page_target_kb * 1024 * a4s, s.page_max_kb * 1024 * a4s)


def encode_page(img_rgb: np.ndarray, dpi_in: float, settings: PageSettings) -> EncodedImage:
    """The page at the profile's dpi within its budget: page_target_kb per A4 of paper aimed at,
    page_max_kb per A4 the cap, reached by quality down to jpeg_quality_min, then dpi down to
    min_dpi. A page still over the cap says so (over_budget): no rescan would make it smaller."""
    budget = _budget(img_rgb, dpi_in, settings)
    if settings.mode == "bilevel":
        return _encode_bilevel(img_rgb, dpi_in, settings, budget)
    source = img_rgb
    if settings.mode == "grey" and source.ndim == 3:
        source = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)
    dpi = settings.dpi
    result: EncodedImage | None = None
    spent = 0
    for _ in range(MAX_DPI_STEPS + 1):
        result = _jpeg_search(resample(source, dpi_in, dpi), dpi, settings, budget)
        spent += result.encodes
        if not result.over_budget or dpi <= settings.min_dpi:
            break
        dpi = _lower_dpi(dpi, len(result.data) / budget.target, settings)
    assert result is not None
    return _with_encodes(result, spent)


def _lower_dpi(dpi: int, excess: float, s: PageSettings) -> int:
    # Bytes go roughly with the pixel count, i.e. with dpi². Whole dpi: JFIF and TIFF store it
    # as an integer, and img2pdf sizes the PDF page from what is stored.
    return max(s.min_dpi, int(dpi * DPI_STEP_MARGIN / math.sqrt(excess)))


def _with_encodes(r: EncodedImage, n: int) -> EncodedImage:
    return EncodedImage(r.data, r.format, r.width, r.height, r.dpi, r.mode, r.quality,
                        r.over_budget, n, r.cap_kb)


def _scaled_table(table: tuple[int, ...], quality: int) -> list[int]:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (v * scale + 50) // 100)) for v in table]


def jpeg_bytes(im: Image.Image, quality: int, dpi: float) -> bytes:
    """Baseline JPEG, luma at `quality`, chroma at max(quality, CHROMA_QUALITY_FLOOR), 4:2:0."""
    buf = io.BytesIO()
    tables = [_scaled_table(_LUMA_TABLE, quality)]
    if im.mode == "RGB":
        tables.append(_scaled_table(_CHROMA_TABLE, max(quality, CHROMA_QUALITY_FLOOR)))
    # Baseline (not progressive) so every PDF reader takes it; optimized Huffman tables cost a
    # few ms and save ~5 %; 4:2:0 chroma halves colour data, ink edges stay in full-res luma.
    im.save(buf, format="JPEG", qtables=tables, subsampling=2, optimize=True, dpi=(dpi, dpi))
    return buf.getvalue()


def _jpeg_search(page: np.ndarray, dpi: int, s: PageSettings, budget: _Budget) -> EncodedImage:
    """Best quality in [min, max] with size ≤ target; log(size) is interpolated over quality."""
    im = Image.fromarray(page)
    target, cap = budget.target, budget.cap
    sizes: dict[int, bytes] = {}

    def enc(q: int) -> int:
        sizes[q] = jpeg_bytes(im, q, dpi)
        return len(sizes[q])

    def done(q: int) -> EncodedImage:
        data = sizes[q]
        return EncodedImage(data, "jpeg", im.width, im.height, float(dpi), im.mode, q,
                            over_budget=len(data) > cap, encodes=len(sizes), cap_kb=cap / 1024)

    lo, hi = s.jpeg_quality_min, s.jpeg_quality_max
    s_hi = enc(hi)
    if s_hi <= target or lo == hi:
        return done(hi)
    s_lo = enc(lo)
    if s_lo > target:
        return done(lo)  # between target and cap is fine; above cap the caller steps dpi down
    # Invariant: lo fits, hi does not.
    while hi - lo > 1 and len(sizes) < MAX_ENCODES_PER_DPI:
        frac = (math.log(target) - math.log(s_lo)) / (math.log(s_hi) - math.log(s_lo))
        q = min(hi - 1, max(lo + 1, round(lo + frac * (hi - lo))))
        size = enc(q)
        if size <= target:
            lo, s_lo = q, size
        else:
            hi, s_hi = q, size
    return done(lo)


def sauvola(grey: np.ndarray, dpi: float) -> np.ndarray:
    """Bool mask of ink: darker than the local Sauvola threshold m·(1 + k·(s/R − 1))."""
    win = max(3, int(round(SAUVOLA_WINDOW_MM * dpi / MM_PER_INCH)) | 1)
    g = grey.astype(np.float32)
    mean = cv2.boxFilter(g, -1, (win, win), borderType=cv2.BORDER_REPLICATE)
    sq = cv2.boxFilter(g * g, -1, (win, win), borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
    thr = mean * (1.0 + SAUVOLA_K * (std / SAUVOLA_R - 1.0))
    return g < thr


def g4_tiff(ink: np.ndarray, dpi: float) -> bytes:
    """CCITT G4 TIFF in ONE strip (img2pdf can only pass a single strip through untouched)."""
    im = Image.fromarray(~ink)  # mode "1": True = white paper
    buf = io.BytesIO()
    h, w = ink.shape
    im.save(buf, format="TIFF", compression="group4", dpi=(dpi, dpi),
            strip_size=((w + 7) // 8) * h)
    return buf.getvalue()


def _encode_bilevel(img: np.ndarray, dpi_in: float, s: PageSettings, budget: _Budget) -> EncodedImage:
    """G4 has no quality knob: only the resolution can bring an over-size page down."""
    dpi = s.dpi
    grey_full = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    cap = budget.cap
    data, shape, encodes = b"", (0, 0), 0
    for _ in range(MAX_DPI_STEPS + 1):
        grey = resample(grey_full, dpi_in, dpi)
        data = g4_tiff(sauvola(grey, dpi), dpi)
        shape, encodes = grey.shape, encodes + 1
        if len(data) <= cap or dpi <= s.min_dpi:
            break
        dpi = _lower_dpi(dpi, len(data) / budget.target, s)
    return EncodedImage(data, "tiff-g4", shape[1], shape[0], float(dpi), "1", None,
                        over_budget=len(data) > cap, encodes=encodes, cap_kb=cap / 1024)
