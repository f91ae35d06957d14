"""Separator sheets printed before each registration: large Vietnamese text an operator can check by
eye, black bands that mark the sheet even when its codes are unreadable, and the payload twice (QR code
and Code 128) so that one damaged code is not a lost entry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pymupdf
import zxingcpp

from pipeline.separator import BAND_MM, SeparatorPayload
from station.errors import ConfigError

A4 = pymupdf.paper_rect("a4")
MM = 72 / 25.4
MARGIN = 10 * MM
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]


@dataclass(frozen=True)
class SheetSpec:
    payload: SeparatorPayload
    type_name: str               # book type in words, e.g. "Khai sinh"
    year: int
    volume: int
    reg_dates: tuple[date | None, ...]  # one per entry, when the register gives it


def _font_file(name: str) -> str:
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return str(path)
    raise ConfigError(f"Thiếu phông chữ {name} để in tiếng Việt / missing font: "
                      "cài gói fonts-dejavu-core (apt-get install fonts-dejavu-core).")


class _Writer:
    def __init__(self, page: pymupdf.Page):
        self.page = page
        self.regular = pymupdf.Font(fontfile=_font_file("DejaVuSans.ttf"))
        self.bold = pymupdf.Font(fontfile=_font_file("DejaVuSans-Bold.ttf"))
        page.insert_font(fontname="dv", fontbuffer=self.regular.buffer)
        page.insert_font(fontname="dvb", fontbuffer=self.bold.buffer)

    def centred(self, y: float, text: str, size: float, bold: bool = False, colour=(0, 0, 0)) -> None:
        font = self.bold if bold else self.regular
        width = font.text_length(text, fontsize=size)
        size = size if width <= A4.width - 2 * MARGIN else size * (A4.width - 2 * MARGIN) / width
        width = font.text_length(text, fontsize=size)
        self.page.insert_text(((A4.width - width) / 2, y), text, fontsize=size,
                              fontname="dvb" if bold else "dv", color=colour)


def _draw_modules(page: pymupdf.Page, modules: np.ndarray, rect: pymupdf.Rect) -> None:
    """Draw a barcode's module bitmap (0 = black) as vector rectangles filling `rect`."""
    rows, cols = modules.shape
    cell_w, cell_h = rect.width / cols, rect.height / rows
    shape = page.new_shape()
    for r in range(rows):
        dark = np.flatnonzero(modules[r] == 0)
        if dark.size == 0:
            continue
        # Merge horizontal runs so a Code 128 bar is one rectangle, not many.
        breaks = np.flatnonzero(np.diff(dark) > 1)
        starts = np.concatenate(([dark[0]], dark[breaks + 1]))
        ends = np.concatenate((dark[breaks], [dark[-1]])) + 1
        for start, end in zip(starts, ends):
            shape.draw_rect(pymupdf.Rect(rect.x0 + start * cell_w, rect.y0 + r * cell_h,
                                         rect.x0 + end * cell_w, rect.y0 + (r + 1) * cell_h))
    shape.finish(color=None, fill=(0, 0, 0), width=0)
    shape.commit()


def _qr_modules(text: str) -> np.ndarray:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    return np.asarray(barcode.to_image(scale=1))


def _code128_modules(text: str) -> np.ndarray:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    row = np.asarray(barcode.to_image(scale=1))
    return row[row.shape[0] // 2: row.shape[0] // 2 + 1]  # bars are the same on every row


def _date_text(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "(chưa có trong sổ đăng ký)"


def _draw_sheet(page: pymupdf.Page, spec: SheetSpec) -> None:
    payload = spec.payload
    text = payload.encode()
    band = BAND_MM * MM
    width = A4.width - 2 * MARGIN
    top = pymupdf.Rect(MARGIN, MARGIN, A4.width - MARGIN, MARGIN + band)
    bottom = pymupdf.Rect(MARGIN, A4.height - MARGIN - band, A4.width - MARGIN, A4.height - MARGIN)
    for rect in (top, bottom):
        page.draw_rect(rect, color=None, fill=(0, 0, 0))
    w = _Writer(page)
    heading = "TỜ PHÂN CÁCH — TRANG DÙNG CHUNG" if payload.shared else "TỜ PHÂN CÁCH"
    w.centred(top.y1 - band * 0.32, heading, 20, bold=True, colour=(1, 1, 1))
    w.centred(bottom.y1 - band * 0.32, f"Sổ {payload.book_id}", 16, bold=True, colour=(1, 1, 1))

    y = top.y1 + 42
    w.centred(y, f"SỔ ĐĂNG KÝ {spec.type_name.upper()}", 26, bold=True)
    w.centred(y + 32, f"Năm {spec.year}  ·  Quyển số {spec.volume:02d}/{spec.year}", 20)
    w.centred(y + 64, "Số đăng ký", 16)
    numbers = " + ".join(str(n) for n in payload.entries)
    w.centred(y + 150, numbers, 96 if len(payload.entries) <= 2 else 60, bold=True)
    dates = "; ".join(_date_text(d) for d in spec.reg_dates)
    w.centred(y + 186, f"Ngày đăng ký: {dates}", 15)

    qr = _qr_modules(text)
    side = 62 * MM
    qr_rect = pymupdf.Rect((A4.width - side) / 2, y + 205, (A4.width + side) / 2, y + 205 + side)
    _draw_modules(page, qr, qr_rect)
    bars = _code128_modules(text)
    bar_rect = pymupdf.Rect(MARGIN + 5 * MM, qr_rect.y1 + 14, MARGIN + width - 5 * MM, qr_rect.y1 + 14 + 18 * MM)
    _draw_modules(page, bars, bar_rect)
    w.centred(bar_rect.y1 + 14, text, 9)

    if payload.shared:
        listed = ", ".join(str(n) for n in payload.entries)
        hint = f"Các trang sau tờ này thuộc CẢ các số {listed} (trang dùng chung)."
    else:
        hint = f"Đặt tờ này ngay TRƯỚC trang đầu tiên của số {payload.entries[0]}."
    w.centred(bottom.y0 - 36, hint, 12.5, bold=True)
    w.centred(bottom.y0 - 16, "Không gấp, không ghim lên mã vạch. Tờ này không nằm trong tệp PDF.", 10.5)


def render_sheets(specs: list[SheetSpec]) -> bytes:
    """One A4 page per sheet, in the order given. Returns the PDF bytes."""
    doc = pymupdf.open()
    for spec in specs:
        page = doc.new_page(width=A4.width, height=A4.height)
        _draw_sheet(page, spec)
    doc.set_metadata({"title": "Tờ phân cách / separator sheets", "producer": "sohotich-station"})
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data
