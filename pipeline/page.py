"""One captured page in, one verdict and one clean, compressed page out.

Steps, each a function of its own module: separator read (separator.py) → straighten (geometry.py):
crop to the sheet (sheet.py), deskew (deskew.py), orientation (orientation.py) → blank check (blank.py) → paper flattening (tone.py) →
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
from pipeline.paper import MM_PER_INCH, Paper, Resolution, parse_paper, resolve_dpi
from pipeline.perspective import sheet_quad
from pipeline.separator import SeparatorPayload, has_separator_bands, read_separator
from pipeline.settings import PageSettings
from pipeline.sheet import SHEET_WORK_DPI, SheetBox, find_sheet
from pipeline.spread import split_spread

PageVerdict = Literal["separator", "blank", "content", "doubtful"]
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
    # Every registration number read with confidence on the page: the header's, both forms' of an A3
    # sheet, each row's of a ledger (then `number` is None: no single header number).
    numbers: tuple[int, ...] = ()
    page_number: int | None = None  # the book's page number printed on the page, when asked and read


@dataclass(frozen=True)
class PageResult:
    verdict: PageVerdict
    # Content and doubtful pages: the page as it goes into the PDF. Separators and blanks: a small
    # preview for the operator, never put into a PDF.
    image: EncodedImage
    # What makes the page's entry doubtful until the operator looks (a rescan may fix it).
    reason: str | None = None
    # What the operator should know but no rescan would change (a page over the size cap at the
    # profile's floors): shown in status, verify and the dashboard, never holding the entry back.
    warnings: tuple[str, ...] = ()
    separator: SeparatorPayload | None = None
    separator_text: str | None = None
    # The resolution the page was processed at: the file's, or the one measured from the sheet and
    # the stated paper when the file said none or one more than 10 % off (dpi_estimated).
    input_dpi: float = 0.0
    dpi_estimated: bool = False
    file_dpi: float | None = None
    measured_dpi: float | None = None
    skew_deg: float = 0.0
    rotation: int = 0
    border_removed: bool = False
    keystone: float = 0.0  # a photographed sheet's perspective (rectified when over 1 %)
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


def process_page(capture: np.ndarray, dpi: float, settings: PageSettings,
                 resolution: Resolution | None = None, sheet: SheetBox | None = None, *,
                 bound_page: bool = False) -> PageResult:
    """One capture (RGB, or grey as a 2-D array) at `dpi`: its verdict and its encoded page.
    `resolution` says where `dpi` came from, `sheet` is the sheet found while measuring it
    (capture_resolution); `bound_page`: a page cut from an open book, its curl already undone
    (bound_pages), whose outline is no perspective to rectify."""
    clock = _Clock()
    common = dict(input_dpi=dpi)
    if resolution is not None:
        common.update(dpi_estimated=resolution.source == "measured", file_dpi=resolution.file_dpi,
                      measured_dpi=resolution.measured_dpi)
    found = read_separator(capture, dpi)
    clock.lap("separator")
    if found.payload is not None:
        preview = encode.encode_page(capture, dpi, preview_settings(settings))
        clock.lap("encode")
        return PageResult("separator", preview, separator=found.payload,
                          separator_text=found.decoded[0], seconds=clock.seconds, **common)

    straight = geometry.straighten(capture, dpi, settings, sheet, rectify_perspective=not bound_page)
    clock.lap("straighten")
    measured = dict(skew_deg=straight.skew_deg, rotation=straight.rotation,
                    border_removed=straight.border_removed, keystone=round(straight.keystone, 4),
                    orientation_confident=straight.orientation_confident,
                    orientation_method=straight.orientation_method, **common)
    page = straight.image
    bands = found.problem is None and has_separator_bands(page, dpi)
    if bands:
        # Our sheet's bands, but the fast read found no code: every reader on the straightened sheet.
        found = read_separator(page, dpi, thorough=True)
        if found.payload is not None:
            preview = encode.encode_page(capture, dpi, preview_settings(settings))
            clock.lap("separator")
            return PageResult("separator", preview, separator=found.payload,
                              separator_text=found.decoded[0], seconds=clock.seconds, **common)
    if found.problem is not None or bands:
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
    return PageResult("content", image, reason=_content_problem(dpi, settings, unsure),
                      warnings=size_warnings(image), ink_ratio=empty.ink_ratio, reading=reading,
                      text_layer=layer.pdf if layer else None, text_layer_error=layer.error if layer else None,
                      seconds=clock.seconds, **measured)


def _read_number(upright: np.ndarray, dpi: float, image: EncodedImage, settings: PageSettings) -> PageReading:
    found = ocr.read_entry_number(upright, dpi, page_number=settings.read_page_number,
                                  timeout_s=settings.ocr_timeout_s)
    box = evidence = None
    if found.box is not None:
        evidence = ocr.evidence_jpeg(upright, dpi, found.box)
        # The encoder may have resampled the page to the profile's dpi.
        sx, sy = image.width / upright.shape[1], image.height / upright.shape[0]
        x0, y0, x1, y1 = found.box
        box = (int(x0 * sx), int(y0 * sy), min(image.width, int(np.ceil(x1 * sx))),
               min(image.height, int(np.ceil(y1 * sy))))
    return PageReading(found.number, found.volume, found.year, found.confidence, box, evidence, found.error,
                       found.numbers, found.page_number)


def _content_problem(dpi: float, settings: PageSettings, orientation_unsure: bool = False) -> str | None:
    problems = []
    if orientation_unsure:
        problems.append(ORIENTATION_UNSURE)
    # Upsampling fills the profile's dpi with pixels but adds no detail: the page must be rescanned.
    if dpi < settings.min_dpi * 0.97:
        problems.append(f"quét ở {dpi:.0f} dpi, dưới mức tối thiểu {settings.min_dpi} dpi của hồ sơ: quét lại "
                        "/ captured below the profile's minimum resolution")
    return "; ".join(problems) or None


def size_warnings(image: EncodedImage) -> tuple[str, ...]:
    if not image.over_budget:
        return ()
    return (f"trang {image.kb:.0f} KB, vượt giới hạn {image.cap_kb:.0f} KB của hồ sơ cho khổ giấy này dù đã nén "
            f"tới mức thấp nhất; vẫn xuất được / page {image.kb:.0f} KB, over the profile's {image.cap_kb:.0f} KB "
            "cap for its paper even at the lowest quality and resolution allowed; exported all the same",)


def process_capture(path: Path, frame: int, settings: PageSettings) -> tuple[PageResult, ...]:
    """Worker entry point: decode one stored capture and process it: one page, or the two pages of an
    open book when the profile splits spreads. Raises ImageLoadError."""
    loaded = load_frame(path, frame, settings.max_pixels)
    paper = parse_paper(settings.paper)
    if not settings.split_spreads:
        found, sheet = capture_resolution(loaded.pixels, loaded.file_dpi, paper)
        return (process_page(loaded.pixels, found.dpi, settings, found, sheet),)
    # An open book: two pages of the stated paper side by side.
    found, sheet = capture_resolution(loaded.pixels, loaded.file_dpi, paper.side_by_side())
    split = split_spread(loaded.pixels, found.dpi)
    if split.gutter is None:
        return (process_page(loaded.pixels, found.dpi, settings, found, sheet),)
    # The pages of a bound book curl into the spine: straightened, their fold's light evened out
    # and their lines straightened before they go through like any page.
    return tuple(process_page(bound, found.dpi, settings, found, bound_page=True)
                 for bound in bound_pages(split.pages, found.dpi, settings))


def capture_resolution(capture: np.ndarray, file_dpi: float | None, paper: Paper
                       ) -> tuple[Resolution, SheetBox]:
    """The capture's true resolution, from the sheet found in it measured against the stated
    paper, and that sheet."""
    # Sheet finding works in millimetres: first guess, the sheet fills the capture (the sheet is
    # smaller, so this is a little high: sheet edges are found at ~0.5 mm all the same). Taken at a
    # whole multiple of the sheet's work resolution: the shrink is then a block mean, 5 times faster.
    frame_dpi = max(capture.shape[:2]) / paper.long_mm * MM_PER_INCH
    box = find_sheet(capture, SHEET_WORK_DPI * max(1, round(frame_dpi / SHEET_WORK_DPI)))
    quad = sheet_quad(box)
    if quad is None:
        return resolve_dpi(file_dpi, box.size, paper), box
    # A photographed sheet is a quadrilateral: the means of its opposite sides measure it.
    return resolve_dpi(file_dpi, quad.size, paper, slack=quad.keystone), box


def bound_pages(pages: tuple[np.ndarray, np.ndarray], dpi: float, settings: PageSettings
                ) -> tuple[np.ndarray, np.ndarray]:
    """The (left, right) pages cut from an open book, cropped and squared, with their curl undone
    (dewarp.py); a page with too few lines to measure its curl on takes the facing page's."""
    square = settings.model_copy(update=dict(fix_orientation=False))
    straight = [geometry.straighten(p, dpi, square, rectify_perspective=False) for p in pages]
    done = [dewarp.flatten_bound_page(s.image, dpi, side == 0, s.sheet_box.paper_rgb)
            for side, s in enumerate(straight)]
    for side, other in ((0, 1), (1, 0)):
        if done[side].measured is None and done[other].measured is not None:
            s = straight[side]
            done[side] = dewarp.flatten_bound_page(s.image, dpi, side == 0, s.sheet_box.paper_rgb,
                                                   facing=done[other].measured)
    return done[0].image, done[1].image
