"""Separator sheets printed before each registration, and the start sheet printed once before a bound
book's pages from page N on: large Vietnamese text an operator can check by eye, black bands that mark
the sheet even when its codes are unreadable, and the payload twice (QR code and Code 128) so that one
damaged code is not a lost entry."""
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
    reg_dates: tuple[date | None, ...] = ()  # one per entry, when the register gives it (none on a start sheet)


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


def _draw_bands(page: pymupdf.Page, heading: str, book_id: str) -> tuple[pymupdf.Rect, pymupdf.Rect, _Writer]:
    """The black bands the pipeline keys on (has_separator_bands), the heading in the top one and the
    book in the bottom one. Returns both bands and a writer for the rest of the sheet. Keep the heading
    short: white text across most of the band's width splits it, at 50 dpi, into strips too thin to
    count as a band."""
    band = BAND_MM * MM
    top = pymupdf.Rect(MARGIN, MARGIN, A4.width - MARGIN, MARGIN + band)
    bottom = pymupdf.Rect(MARGIN, A4.height - MARGIN - band, A4.width - MARGIN, A4.height - MARGIN)
    for rect in (top, bottom):
        page.draw_rect(rect, color=None, fill=(0, 0, 0))
    w = _Writer(page)
    w.centred(top.y1 - band * 0.32, heading, 20, bold=True, colour=(1, 1, 1))
    w.centred(bottom.y1 - band * 0.32, f"Sổ {book_id}", 16, bold=True, colour=(1, 1, 1))
    return top, bottom, w


def _draw_codes(page: pymupdf.Page, w: _Writer, payload: SeparatorPayload, y: float) -> float:
    """The payload twice from `y` down, QR code then Code 128, its text small under the bars; returns
    the y of that text."""
    text = payload.encode()
    side = 62 * MM
    qr_rect = pymupdf.Rect((A4.width - side) / 2, y, (A4.width + side) / 2, y + side)
    _draw_modules(page, _qr_modules(text), qr_rect)
    bar_rect = pymupdf.Rect(MARGIN + 5 * MM, qr_rect.y1 + 14, A4.width - MARGIN - 5 * MM, qr_rect.y1 + 14 + 18 * MM)
    _draw_modules(page, _code128_modules(text), bar_rect)
    w.centred(bar_rect.y1 + 14, text, 9)
    return bar_rect.y1 + 14


def _book_lines(w: _Writer, spec: SheetSpec, y: float) -> None:
    w.centred(y, f"SỔ ĐĂNG KÝ {spec.type_name.upper()}", 26, bold=True)
    w.centred(y + 32, f"Năm {spec.year}  ·  Quyển số {spec.volume:02d}/{spec.year}", 20)


def _draw_sheet(page: pymupdf.Page, spec: SheetSpec) -> None:
    if spec.payload.start_page is not None:
        _draw_start_sheet(page, spec)
    else:
        _draw_entry_sheet(page, spec)


def _draw_entry_sheet(page: pymupdf.Page, spec: SheetSpec) -> None:
    payload = spec.payload
    # The band says only "TỜ PHÂN CÁCH" (see _draw_bands); a shared page says so under it.
    top, bottom, w = _draw_bands(page, "TỜ PHÂN CÁCH", payload.book_id)

    y = top.y1 + 42
    _book_lines(w, spec, y)
    w.centred(y + 64, "Số đăng ký — TRANG DÙNG CHUNG" if payload.shared else "Số đăng ký", 16,
              bold=payload.shared)
    numbers = " + ".join(str(n) for n in payload.entries)
    w.centred(y + 150, numbers, 96 if len(payload.entries) <= 2 else 60, bold=True)
    dates = "; ".join(_date_text(d) for d in spec.reg_dates)
    w.centred(y + 186, f"Ngày đăng ký: {dates}", 15)
    _draw_codes(page, w, payload, y + 205)

    if payload.shared:
        listed = ", ".join(str(n) for n in payload.entries)
        hint = f"Các trang sau tờ này thuộc CẢ các số {listed} (trang dùng chung)."
    else:
        hint = f"Đặt tờ này ngay TRƯỚC trang đầu tiên của số {payload.entries[0]}."
    w.centred(bottom.y0 - 36, hint, 12.5, bold=True)
    w.centred(bottom.y0 - 16, "Không gấp, không ghim lên mã vạch. Tờ này không nằm trong tệp PDF.", 10.5)


def _draw_start_sheet(page: pymupdf.Page, spec: SheetSpec) -> None:
    """One sheet before a bound book's pages from page N on: no registration number anywhere, the
    page number in the largest type on the sheet, and what to do with it spelled out."""
    payload = spec.payload
    n = payload.start_page
    top, bottom, w = _draw_bands(page, "TỜ BẮT ĐẦU SỔ", payload.book_id)

    y = top.y1 + 40
    _book_lines(w, spec, y)
    w.centred(y + 62, "Bắt đầu từ trang  /  book start sheet: from page", 16, bold=True)
    w.centred(y + 160, str(n), 110, bold=True)
    text_y = _draw_codes(page, w, payload, y + 180)

    lines = [
        (f"Đặt tờ này lên TRÊN CÙNG, rồi quét các trang của sổ từ trang {n} trở đi, đúng thứ tự.", True),
        (f"Put this sheet on top, then the book's pages from page {n} on, in order.", False),
        ("Mỗi trang một lần chụp; sổ mở hai trang tính là hai trang: trái trước, phải sau.", True),
        ("One capture per page; an open spread counts as two pages, left then right.", False),
        ("Quét tiếp từ trang khác hoặc quét lại một đoạn: in tờ bắt đầu khác với trang đó.", True),
        ("To resume elsewhere or redo a range, print another start sheet with that page.", False),
    ]
    line_y = max(text_y + 30, bottom.y0 - 48 - 17 * len(lines))
    for text, vietnamese in lines:
        w.centred(line_y, text, 11.5 if vietnamese else 10.5, bold=vietnamese)
        line_y += 17
    w.centred(bottom.y0 - 26, "Không gấp, không ghim lên mã vạch. Tờ này không nằm trong tệp PDF.", 10.5)
    w.centred(bottom.y0 - 12, "Do not fold it or staple over the codes. This sheet goes into no PDF.", 9)


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
