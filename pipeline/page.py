"""One captured page in, one verdict and one clean, compressed page out.

Steps, each a function of its own module: separator read (separator.py) → straighten: crop to the
sheet, deskew, orientation (geometry.py) → blank check (blank.py) → paper flattening (tone.py) →
encoding within the profile's budget (encode.py) → on content pages, when the profile asks, reading
the registration number and the text layer (ocr.py), after the image work so that a failed or
timed-out OCR only leaves the reading missing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline import blank, dewarp, encode, geometry, ocr, tone
from pipeline.encode import EncodedImage
from pipeline.load import load_frame
from pipeline.separator import SeparatorPayload, has_separator_bands, read_separator
from pipeline.settings import PageSettings
from pipeline.spread import split_spread

PageVerdict = Literal["separator", "blank", "content", "doubtful"]
SPREAD_LONG_IN = 420 / 25.4  # two A4 pages side by side
UNREAD_SEPARATOR = "tờ phân cách không đọc được mã / separator sheet whose barcode cannot be read"
ORIENTATION_UNSURE = "chiều trang không chắc chắn (ngược, xoay ngang?) / page orientation uncertain: check it"


@dataclass(frozen=True)
class PageReading:
    """What was read on a content page (pipeline.ocr): never the OCR text itself, which may hold a
    citizen's name."""
    number: int | None          # registration number, only when read with confidence
    volume: str | None          # "01" of "Quyển số: 01/2017"
    year: int | None            # 2017 of "Quyển số: 01/2017"
    confidence: float
    box: tuple[int, int, int, int] | None  # around "Số: N", in the encoded page's pixels
    evidence: bytes | None      # grey JPEG of that box, for the operator
    error: str | None = None    # OCR failed or timed out: nothing read, the page is filed all the same


@dataclass(frozen=True)
class PageResult:
    verdict: PageVerdict
    # Content and doubtful pages: the page as it goes into the PDF. Separators and blanks: a small
    # preview for the operator, never put into a PDF.
    image: EncodedImage
    reason: str | None = None
    separator: SeparatorPayload | None = None
    separator_text: str | None = None
    input_dpi: float = 0.0
    dpi_estimated: bool = False
    skew_deg: float = 0.0
    rotation: int = 0
    border_removed: bool = False
    orientation_confident: bool = True
    orientation_method: str | None = None
    ink_ratio: float | None = None
    # Content pages, when the profile asks: the number read, and a one-page text-only PDF to lay
    # under the image (None when not asked, or when Tesseract failed: see text_layer_error).
    reading: PageReading | None = None
    text_layer: bytes | None = None
    text_layer_error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def preview_settings(settings: PageSettings) -> PageSettings:
    return settings.model_copy(update=dict(mode="grey", dpi=75, min_dpi=72, page_target_kb=25,
                                           page_max_kb=60, jpeg_quality_min=30, jpeg_quality_max=70))


class _Clock:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self._last, 4)
        self._last = now


def process_page(capture: np.ndarray, dpi: float, settings: PageSettings, dpi_estimated: bool = False) -> PageResult:
    """One capture (RGB, or grey as a 2-D array) at `dpi`: its verdict and its encoded page."""
    clock = _Clock()
    common = dict(input_dpi=dpi, dpi_estimated=dpi_estimated)
    found = read_separator(capture, dpi)
    clock.lap("separator")
    if found.payload is not None:
        preview = encode.encode_page(capture, dpi, preview_settings(settings))
        clock.lap("encode")
        return PageResult("separator", preview, separator=found.payload,
                          separator_text=found.decoded[0], seconds=clock.seconds, **common)

    straight = geometry.straighten(capture, dpi, settings)
    clock.lap("straighten")
    measured = dict(skew_deg=straight.skew_deg, rotation=straight.rotation,
                    border_removed=straight.border_removed,
                    orientation_confident=straight.orientation_confident,
                    orientation_method=straight.orientation_method, **common)
    page = straight.image
    if found.problem is not None or has_separator_bands(page, dpi):
        reason = (f"tờ phân cách có mã không hợp lệ / invalid separator: {found.problem}"
                  if found.problem else UNREAD_SEPARATOR)
        image = encode.encode_page(page, dpi, settings)
        clock.lap("encode")
        return PageResult("doubtful", image, reason=reason, separator_text=(found.decoded or (None,))[0],
                          seconds=clock.seconds, **measured)

    empty = blank.is_blank(page, dpi, settings)
    clock.lap("blank")
    if empty.blank:
        preview = encode.encode_page(page, dpi, preview_settings(settings))
        clock.lap("encode")
        return PageResult("blank", preview, ink_ratio=empty.ink_ratio, seconds=clock.seconds, **measured)

    upright = page
    out, out_dpi = page, dpi
    if settings.dpi < dpi:
        # The encoder brings the page down to the profile's dpi anyway; flattening after that
        # works on half the pixels of a 300 dpi capture.
        out, out_dpi = encode.resample(page, dpi, settings.dpi), float(settings.dpi)
        clock.lap("resample")
    if settings.flatten_background:
        out = tone.flatten_background(out, out_dpi)
        clock.lap("flatten")
    image = encode.encode_page(out, out_dpi, settings)
    clock.lap("encode")
    reading = None
    if settings.read_entry_number:
        reading = _read_number(upright, dpi, image, settings)
        clock.lap("read_number")
    layer = None
    if settings.text_layer:
        # Tesseract reads the full-resolution page, not the one resampled for the PDF.
        text_page = tone.flatten_background(upright, dpi) if settings.flatten_background else upright
        layer = ocr.text_layer_pdf(text_page, dpi, timeout_s=settings.ocr_timeout_s)
        clock.lap("text_layer")
    unsure = settings.fix_orientation and not straight.orientation_confident
    return PageResult("content", image, reason=_content_warning(dpi, image, settings, unsure),
                      ink_ratio=empty.ink_ratio, reading=reading,
                      text_layer=layer.pdf if layer else None, text_layer_error=layer.error if layer else None,
                      seconds=clock.seconds, **measured)


def _read_number(upright: np.ndarray, dpi: float, image: EncodedImage, settings: PageSettings) -> PageReading:
    found = ocr.read_entry_number(upright, dpi, timeout_s=settings.ocr_timeout_s)
    box = evidence = None
    if found.box is not None:
        evidence = ocr.evidence_jpeg(upright, dpi, found.box)
        # The encoder may have resampled the page to the profile's dpi.
        sx, sy = image.width / upright.shape[1], image.height / upright.shape[0]
        x0, y0, x1, y1 = found.box
        box = (int(x0 * sx), int(y0 * sy), min(image.width, int(np.ceil(x1 * sx))),
               min(image.height, int(np.ceil(y1 * sy))))
    return PageReading(found.number, found.volume, found.year, found.confidence, box, evidence, found.error)


def _content_warning(dpi: float, image: EncodedImage, settings: PageSettings,
                     orientation_unsure: bool = False) -> str | None:
    warnings = []
    if orientation_unsure:
        warnings.append(ORIENTATION_UNSURE)
    # Upsampling fills the profile's dpi with pixels but adds no detail: the page must be rescanned.
    if dpi < settings.min_dpi * 0.97:
        warnings.append(f"quét ở {dpi:.0f} dpi, dưới mức tối thiểu {settings.min_dpi} dpi của hồ sơ: quét lại "
                        "/ captured below the profile's minimum resolution")
    if image.over_budget:
        warnings.append(f"trang {image.kb:.0f} KB, vượt giới hạn {settings.page_max_kb:.0f} KB của hồ sơ "
                        "/ page over the profile's size cap")
    return "; ".join(warnings) or None


def process_capture(path: Path, frame: int, settings: PageSettings) -> tuple[PageResult, ...]:
    """Worker entry point: decode one stored capture and process it: one page, or the two pages of an
    open book when the profile splits spreads. Raises ImageLoadError."""
    loaded = load_frame(path, frame, settings.max_pixels)
    if not settings.split_spreads:
        return (process_page(loaded.pixels, loaded.dpi, settings, loaded.dpi_estimated),)
    dpi = loaded.dpi
    if loaded.dpi_estimated:  # the capture shows two A4 pages side by side, not one
        dpi = max(loaded.pixels.shape[:2]) / SPREAD_LONG_IN
    split = split_spread(loaded.pixels, dpi)
    if split.gutter is None:
        return (process_page(loaded.pixels, dpi, settings, loaded.dpi_estimated),)
    # The pages of a bound book curl into the spine: straightened, their fold's light evened out
    # and their lines straightened before they go through like any page.
    return tuple(process_page(bound, dpi, settings, loaded.dpi_estimated)
                 for bound in bound_pages(split.pages, dpi, settings))


def bound_pages(pages: tuple[np.ndarray, np.ndarray], dpi: float, settings: PageSettings
                ) -> tuple[np.ndarray, np.ndarray]:
    """The (left, right) pages cut from an open book, cropped and squared, with their curl undone
    (dewarp.py); a page with too few lines to measure its curl on takes the facing page's."""
    square = settings.model_copy(update=dict(fix_orientation=False))
    straight = [geometry.straighten(p, dpi, square) for p in pages]
    done = [dewarp.flatten_bound_page(s.image, dpi, side == 0, s.sheet_box.paper_rgb)
            for side, s in enumerate(straight)]
    for side, other in ((0, 1), (1, 0)):
        if done[side].measured is None and done[other].measured is not None:
            s = straight[side]
            done[side] = dewarp.flatten_bound_page(s.image, dpi, side == 0, s.sheet_box.paper_rgb,
                                                   facing=done[other].measured)
    return done[0].image, done[1].image
