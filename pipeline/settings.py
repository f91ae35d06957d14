"""Page-processing settings: the `page:` section of a profile.

Kept in pipeline/ so each step can be called and tested alone; the station loads them from
profiles/*.yaml and validates them with these models.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.paper import parse_paper

OutputMode = Literal["color", "grey", "bilevel"]


class PageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: OutputMode = "color"
    # Resolution written to the PDF; the size search may go down to `min_dpi`, never below.
    dpi: int = Field(200, ge=72, le=600)
    min_dpi: int = Field(200, ge=72, le=600)
    # Budget for one encoded page; the encoder picks the best quality that fits.
    page_target_kb: float = Field(110, gt=0)
    page_max_kb: float = Field(200, gt=0)
    jpeg_quality_max: int = Field(85, ge=10, le=95)
    jpeg_quality_min: int = Field(30, ge=5, le=95)
    # Blank page: share of the sheet covered by ink below which a page counts as blank.
    blank_ink_ratio: float = Field(0.0015, ge=0, le=0.2)
    max_deskew_deg: float = Field(10.0, ge=0, le=45)
    # Flatten paper tone to white so compression spends bytes on ink.
    flatten_background: bool = True
    # Turn pages fed sideways or upside down (text lines, then Tesseract OSD where they are unsure).
    fix_orientation: bool = True
    # Read the registration number and volume printed at the top of content pages ("Số: 15",
    # "Quyển số: 01/2017"), so the station can check each page against its separator sheet.
    read_entry_number: bool = False
    # With read_entry_number: also the book's page number printed on the page ("Trang 7" at the top,
    # "- 7 -" at the foot), which places a bound book's pages captured after one start sheet.
    read_page_number: bool = True
    # An invisible Tesseract text layer under each page image, so the PDFs can be searched.
    text_layer: bool = False
    # A Tesseract call running longer is stopped: the page is filed without what it would have read.
    ocr_timeout_s: float = Field(10.0, gt=0, le=300)
    # Overhead scanners and cameras: a capture shows an open book, split it at the gutter.
    split_spreads: bool = False
    # The paper captured (A4, A3, B4, Letter…, or WxHmm): the sheet's size in pixels over it gives the
    # capture's true resolution, whatever the file says. Operators override it per session.
    paper: str = "A4"
    # Pixel limit for one capture (decompression-bomb guard).
    max_pixels: int = Field(200_000_000, gt=0)

    @field_validator("paper")
    @classmethod
    def _known_paper(cls, value: str) -> str:
        parse_paper(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "PageSettings":
        if self.min_dpi > self.dpi:
            raise ValueError(f"min_dpi ({self.min_dpi}) is above dpi ({self.dpi})")
        if self.page_target_kb > self.page_max_kb:
            raise ValueError(
                f"page_target_kb ({self.page_target_kb}) is above page_max_kb ({self.page_max_kb})")
        if self.jpeg_quality_min > self.jpeg_quality_max:
            raise ValueError("jpeg_quality_min is above jpeg_quality_max")
        return self
