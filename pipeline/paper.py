"""The paper a capture session shows, and the true resolution measured from it.

A file's dpi is not to be trusted alone: phones write 72 dpi in EXIF, some scanners write nothing,
some tools a wrong value. The operator states the paper (A4, A3, `297x420mm`…); the sheet's size
in pixels over the paper's size in millimetres is the capture's true resolution.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

MM_PER_INCH = 25.4
# ISO 216 A and B series, and the two North American sizes, (short, long) in millimetres.
PAPER_SIZES_MM: dict[str, tuple[float, float]] = {
    "A3": (297.0, 420.0), "A4": (210.0, 297.0), "A5": (148.0, 210.0),
    "B4": (250.0, 353.0), "B5": (176.0, 250.0),
    "LETTER": (215.9, 279.4), "LEGAL": (215.9, 355.6),
}
_CUSTOM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*mm\s*$", re.IGNORECASE)
# A sheet smaller or larger than this is not a page of a book.
MIN_SIDE_MM, MAX_SIDE_MM = 50.0, 1200.0
# The file's dpi stands unless the measured one differs by more than this share.
DPI_TRUST_SHARE = 0.10
# The sheet's two sides give the same dpi to within this share when it is the stated paper; past
# it, the sheet found is not that paper (cropped capture, other size) and measures nothing.
SIDES_AGREE_SHARE = 0.08


@dataclass(frozen=True)
class Paper:
    name: str
    short_mm: float
    long_mm: float

    def side_by_side(self) -> "Paper":
        """Two of these pages next to each other: an open book's spread."""
        return Paper(f"2×{self.name}", self.long_mm, 2 * self.short_mm)


def parse_paper(text: str) -> Paper:
    """'A4', 'a3', 'Letter', '297x420mm' → Paper. ValueError naming what is accepted."""
    key = text.strip().upper()
    if key in PAPER_SIZES_MM:
        return Paper(key, *PAPER_SIZES_MM[key])
    match = _CUSTOM.match(text)
    if not match:
        raise ValueError(f"khổ giấy '{text}' không hợp lệ / unknown paper: "
                         f"{', '.join(PAPER_SIZES_MM)} hoặc / or WxHmm, e.g. 297x420mm")
    a, b = sorted(float(v) for v in match.groups())
    if a < MIN_SIDE_MM or b > MAX_SIDE_MM:
        raise ValueError(f"khổ giấy {text} ngoài {MIN_SIDE_MM:.0f}-{MAX_SIDE_MM:.0f} mm / paper size out of range")
    return Paper(f"{a:g}x{b:g}mm", a, b)


@dataclass(frozen=True)
class Resolution:
    dpi: float                  # the resolution the page is processed and sized at
    file_dpi: float | None      # what the file said, None when it said nothing
    measured_dpi: float | None  # from the sheet and the stated paper, None when it did not fit
    source: str                 # "file" or "measured"


def measured_dpi(sheet_px: tuple[float, float], paper: Paper, slack: float = 0.0) -> float | None:
    """Dpi of a sheet of `sheet_px` (width, height) pixels showing `paper`, portrait or landscape;
    None when its two sides disagree by more than SIDES_AGREE_SHARE + `slack` (it is not that
    paper). A photographed sheet's slack is its keystone: the tilt that makes it also shortens the
    sheet's depth."""
    short_px, long_px = sorted(sheet_px)
    across = short_px / paper.short_mm * MM_PER_INCH
    along = long_px / paper.long_mm * MM_PER_INCH
    if abs(across - along) > (SIDES_AGREE_SHARE + slack) * max(across, along):
        return None
    return math.sqrt(across * along)


def resolve_dpi(file_dpi: float | None, sheet_px: tuple[float, float], paper: Paper,
                slack: float = 0.0) -> Resolution:
    """The file's dpi unless the sheet measures more than DPI_TRUST_SHARE away from it."""
    measured = measured_dpi(sheet_px, paper, slack)
    if measured is None:
        if file_dpi is not None:
            return Resolution(file_dpi, file_dpi, None, "file")
        # No dpi and a sheet that is not the stated paper: its long side is the best guess left.
        measured = max(sheet_px) / paper.long_mm * MM_PER_INCH
        return Resolution(measured, None, None, "measured")
    if file_dpi is not None and abs(measured - file_dpi) <= DPI_TRUST_SHARE * measured:
        return Resolution(file_dpi, file_dpi, measured, "file")
    return Resolution(measured, file_dpi, measured, "measured")
