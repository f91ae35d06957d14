"""Register page layouts of the several form families printed over the decades, with ground truth.

bench.corpus draws one family (the birth form with "Số: N" on its own line). Real books also print
the number inside the header line, in a boxed header table, under the title without a colon, or keep
several registrations a page in a ruled table whose rows start with their numbers; A3 books hold two
forms a sheet. Each renderer here takes entries (bench.corpus.EntryInfo) and returns the page and its
truth: the numbers printed, the box of each, the page number printed. Paper, ink, fonts, seals and
the scanner degradation are bench.corpus's; everything is in millimetres and deterministic for a seed.

    python -m bench.layouts OUT_DIR [--dpi 200]     # one PNG per layout, to look at
"""
from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from PIL import Image

from bench import corpus
from bench.corpus import EntryInfo

A4_PORTRAIT = (210.0, 297.0)
A3_PORTRAIT = (297.0, 420.0)
A3_LANDSCAPE = (420.0, 297.0)
_MONO = "DejaVuSansMono"
_MONO_B = "DejaVuSansMono-Bold"

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class LayoutPage:
    image: np.ndarray                 # RGB uint8, the sheet before any scanner degradation
    layout: str                       # key in LAYOUTS
    dpi: int
    size_mm: tuple[float, float]      # (width, height)
    numbers: tuple[int, ...]          # registration numbers printed on the page, top to bottom / left to right
    number_boxes: tuple[Box, ...]     # x0, y0, x1, y1 in page pixels around each number (with its label)
    page_number: int | None           # book page number printed ("Trang 3", "- 3 -"), None if none
    volume: str | None                # "01" when "Quyển số: 01/2014" is printed, else None
    year: int | None


class _Pen(corpus.Sheet):
    """corpus's pen that also keeps the pixel box of every string it draws (the truth for boxes)."""

    def __init__(self, img: Image.Image, dpi: int, rr: random.Random, book_page: int | None = None):
        super().__init__(img, dpi, rr)
        self.boxes: list[tuple[str, Box]] = []
        self.book_page = book_page     # the page number a bound book prints (ledger), else drawn at random

    def text(self, x: float, y: float, s: str, name: str = corpus.PRINT, pt: float = 11.0,
             anchor: str = "ls", fill: tuple[int, int, int] | None = None,
             max_w: float | None = None) -> float:
        drawn_pt = pt
        if max_w is not None and self.width_mm(s, name, pt) > max_w:
            drawn_pt = pt * max_w / self.width_mm(s, name, pt)
        box = self.d.textbbox((self.px(x), self.px(y)), s, font=self.font(name, drawn_pt), anchor=anchor)
        self.boxes.append((s, tuple(round(v) for v in box)))
        return super().text(x, y, s, name, pt, anchor, fill, max_w)

    def hand(self, x: float, y: float, s: str, max_w: float | None = None, pt: float | None = None) -> float:
        end = super().hand(x, y, s, max_w, pt)
        size = self.px((pt or self.hand_pt) * 25.4 / 72)
        # The baseline wanders by up to 15 % of the size (corpus.Sheet.hand): room for it.
        self.boxes.append((s, (round(self.px(x)), round(self.px(y) - 1.05 * size),
                               round(self.px(end)), round(self.px(y) + 0.4 * size))))
        return end

    def typed(self, x: float, y: float, s: str, pt: float = 11.5, bold: bool = False,
              centre: bool = False) -> float:
        """Typewriter: fixed pitch, each key struck a little high or low and with its own ink."""
        f = self.font(_MONO_B if bold else _MONO, pt)
        pitch = f.getlength("M")
        x0 = self.px(x) - (pitch * len(s) / 2 if centre else 0)
        for i, ch in enumerate(s):
            if ch == " ":
                continue
            ink = self.rr.randint(25, 95)   # a worn ribbon: uneven strikes
            jitter = self.rr.gauss(0, self.px(0.12))
            self.d.text((x0 + i * pitch, self.px(y) + jitter), ch, font=f, fill=(ink, ink, ink + 10), anchor="ls")
        box = (round(x0), round(self.px(y) - 0.8 * pitch * 1.65), round(x0 + pitch * len(s)),
               round(self.px(y) + 0.35 * pitch * 1.65))
        self.boxes.append((s, box))
        self.printed.append(s)
        return (x0 + pitch * len(s)) * 25.4 / self.dpi

    def box_of(self, s: str) -> Box:
        return next(b for text, b in reversed(self.boxes) if text == s)


def _paper(size_mm: tuple[float, float], dpi: int, rng: np.random.Generator) -> np.ndarray:
    """corpus's A4 paper, drawn at the dpi that gives the sheet's pixel size (A3 = A4 x 1.41)."""
    short, long = min(size_mm), max(size_mm)
    paper = corpus.aged_paper(round(dpi * short / A4_PORTRAIT[0]), rng)
    paper = cv2.resize(paper, (round(short / 25.4 * dpi), round(long / 25.4 * dpi)), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(np.rot90(paper)) if size_mm[0] > size_mm[1] else paper


def _finish(pen: _Pen, size_mm: tuple[float, float], dpi: int, rng: np.random.Generator) -> np.ndarray:
    """Ink into the paper, then the seals, as corpus.render_register_page_ex does."""
    pen.specks(pen.rr.randint(15, 60))
    ink = cv2.GaussianBlur(np.asarray(pen.img), (0, 0), max(0.3, corpus.mm_to_px(0.03, dpi)))
    out = cv2.multiply(_paper(size_mm, dpi, rng), ink, scale=1 / 255.0)
    red = (int(rng.integers(195, 225)), int(rng.integers(20, 50)), int(rng.integers(35, 65)))
    for seal in pen.seals:
        corpus.stamp_seal(out, seal, dpi, rng, red)
    return out


@dataclass
class _Drawn:
    numbers: list[tuple[int, Box]]
    page_number: int | None = None
    volume: str | None = None
    year: int | None = None


def _render(key: str, size_mm: tuple[float, float], entries: Sequence[EntryInfo], dpi: int, seed: int,
            draw: Callable[[_Pen, Sequence[EntryInfo], tuple[float, float]], _Drawn],
            book_page: int | None = None) -> LayoutPage:
    first = entries[0]
    rr = corpus.seeded_random("layout", key, seed, first.book_type, first.year, first.volume, first.number)
    rng = corpus.seeded_rng(seed, key, first.number, "layout")
    img = Image.new("RGB", (round(size_mm[0] / 25.4 * dpi), round(size_mm[1] / 25.4 * dpi)), (255, 255, 255))
    pen = _Pen(img, dpi, rr, book_page)
    drawn = draw(pen, entries, size_mm)
    image = _finish(pen, size_mm, dpi, rng)
    return LayoutPage(image, key, dpi, size_mm, tuple(n for n, _ in drawn.numbers),
                      tuple(b for _, b in drawn.numbers), drawn.page_number, drawn.volume, drawn.year)


def _margins(pen: _Pen, size_mm: tuple[float, float]) -> tuple[float, float, float, float]:
    """Left, right, top, bottom in mm: ~15-20 mm, shifted a little per page like corpus's."""
    rr = pen.rr
    return (rr.uniform(17, 22), size_mm[0] - rr.uniform(14, 18), rr.uniform(13, 18), size_mm[1] - rr.uniform(13, 17))


def _volume(entry: EntryInfo) -> str:
    return f"{entry.volume:02d}/{entry.year}"


def _signing(pen: _Pen, entry: EntryInfo, L: float, R: float, B: float) -> None:
    corpus.draw_signing_block(pen, corpus.entry_details(entry), L, R, B - 54, "NGƯỜI THỰC HIỆN",
                               "NGƯỜI KÝ GIẤY KHAI SINH", entry.reg_date)


# --- (a) today's corpus form: "Số: N" on its own line, "Quyển số: 01/2017" under it -----------------

def _draw_corpus_form(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    e = entries[0]
    L, R, T, B = _margins(pen, size_mm)
    corpus.draw_first_page(pen, e, corpus.entry_details(e), L, R, T, B)
    return _Drawn([(e.number, pen.box_of(f"Số: {e.number}"))], None, f"{e.volume:02d}", e.year)


# --- (b) the number inside the header line: "Quyển số: 01/2014   Số: 4   Trang 1/2" ----------------

def _dotted_form(pen: _Pen, e: EntryInfo, L: float, R: float, y: float, step: float) -> None:
    """Label, dot leader, handwritten value, one field a line: the forms printed without a grid."""
    for row in corpus.rows_for(e, corpus.entry_details(e)):
        x = L
        for j, (label, value, frac) in enumerate(row):
            end = R if j == len(row) - 1 else x + (R - L) * frac
            lx = pen.text(x, y, label, corpus.PRINT, 10.5)
            pen.dots(lx + 1.5, end - 2, y + 0.8)
            if value:
                pen.hand(lx + 2.5, y - 0.3, value, max_w=end - lx - 4.5)
            x = end
        y += step


def _draw_inline_header(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    e = entries[0]
    rr = pen.rr
    L, R, T, B = _margins(pen, size_mm)
    corpus.draw_header(pen, corpus.entry_details(e), L, R, T)
    y = T + rr.uniform(19, 23)
    pen.text(L, y, f"Quyển số: {_volume(e)}", corpus.PRINT, 12)
    label = f"Số: {e.number}"
    pen.text(L + rr.uniform(60, 80), y, label, corpus.PRINT, 12)
    sheets = rr.choice([1, 2, 2, 3])
    page = rr.randint(1, sheets)
    pen.text(R, y, f"Trang {page}/{sheets}", corpus.PRINT, 12, anchor="rs")
    titles = corpus.TITLES.get(e.book_type, ["SỔ ĐĂNG KÝ HỘ TỊCH"])
    pen.text((L + R) / 2, y + 14, rr.choice(titles), corpus.PRINT_B, 16, anchor="ms")
    _dotted_form(pen, e, L, R, y + 27, 9.0)
    _signing(pen, e, L, R, B)
    return _Drawn([(e.number, pen.box_of(label))], page, f"{e.volume:02d}", e.year)


# --- (c) "Số đăng ký: N" in a boxed header table ------------------------------------------------------

def _draw_boxed_header(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    e = entries[0]
    rr = pen.rr
    det = corpus.entry_details(e)
    L, R, T, B = _margins(pen, size_mm)
    corpus.draw_header(pen, det, L, R, T)
    label = f"Số đăng ký: {e.number}"
    cells = [label, f"Quyển số: {_volume(e)}"]
    if rr.random() < 0.5:      # books differ in which cell comes first
        cells.reverse()
    cells += [f"Ngày đăng ký: {corpus.fmt_date(e.reg_date)}", f"Loại việc: {det['reg_kind']}"]
    top, row_h = T + rr.uniform(16, 19), rr.uniform(8.5, 10.0)
    mid = L + (R - L) * rr.uniform(0.45, 0.55)
    rule = rr.uniform(0.3, 0.5)
    pen.rect(L, top, R, top + 2 * row_h, w=rule)
    pen.line(L, top + row_h, R, top + row_h, w=rule)
    pen.line(mid, top, mid, top + 2 * row_h, w=rule)
    for i, cell in enumerate(cells):
        x = (L, mid)[i % 2] + 2.5
        pen.text(x, top + (i // 2) * row_h + row_h * 0.68, cell, corpus.PRINT, 11.5, max_w=(mid - L) - 5)
    y = top + 2 * row_h + 11
    titles = corpus.TITLES.get(e.book_type, ["SỔ ĐĂNG KÝ HỘ TỊCH"])
    pen.text((L + R) / 2, y, rr.choice(titles), corpus.PRINT_B, 16, anchor="ms")
    corpus.draw_rows(pen, corpus.rows_for(e, det), L, R, y + 6, B - 62, dotted=rr.random() < 0.5)
    _signing(pen, e, L, R, B)
    return _Drawn([(e.number, pen.box_of(label))], None, f"{e.volume:02d}", e.year)


# --- (d) a ruled ledger: several registrations a page, each row starting with its number -----------

LEDGER_MAX_ROWS = 5


@dataclass(frozen=True)
class LedgerStyle:
    """What stays the same through one ledger book."""
    hand_numbers: bool                # row numbers written in blue ink, else printed
    page_number_at: str | None        # "top", "bottom" or None
    heading: tuple[str, ...]          # the number column's heading, one line or two
    with_volume: bool                 # "Quyển số: 01/2014" under the title


def ledger_style(entry: EntryInfo) -> LedgerStyle:
    book = corpus.seeded_random("ledger", entry.book_type, entry.year, entry.volume)
    return LedgerStyle(book.random() < 0.5, book.choice(["top", "bottom", None]),
                       book.choice([("Số",), ("Số", "đăng ký")]), book.random() < 0.6)


def _draw_ledger(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    e = entries[0]
    rr = pen.rr
    style = ledger_style(e)
    hand_numbers, page_number_at, heading, with_volume = (
        style.hand_numbers, style.page_number_at, style.heading, style.with_volume)
    L, R, T, B = _margins(pen, size_mm)
    scale = size_mm[0] / A4_PORTRAIT[0]
    guess = 1 + (e.number - 1) // LEDGER_MAX_ROWS + rr.randint(0, 3)
    page = pen.book_page if pen.book_page is not None else guess
    if page_number_at == "top":
        pen.text(R, T + 2, f"Trang {page}", corpus.PRINT_I, 10, anchor="rs")
    elif page_number_at == "bottom":
        pen.text((L + R) / 2, B + 6, f"- {page} -", corpus.PRINT, 10, anchor="ms")
    titles = [t for t in corpus.TITLES.get(e.book_type, []) if t.startswith("SỔ")] or ["SỔ ĐĂNG KÝ HỘ TỊCH"]
    pen.text((L + R) / 2, T + 10, titles[0], corpus.PRINT_B, 15, anchor="ms")
    if with_volume:
        pen.text((L + R) / 2, T + 17, f"Quyển số: {_volume(e)}", corpus.PRINT, 11, anchor="ms")
    number_w = (18 if len(heading) > 1 else 14) * scale ** 0.5
    cols = [("", number_w), ("Họ, chữ đệm, tên người được đăng ký", 38 * scale),
            ("Ngày, tháng, năm sinh", 24 * scale), ("Nơi sinh", 36 * scale),
            ("Họ, chữ đệm, tên cha, mẹ", 38 * scale), ("Người đăng ký ký", 0)]
    xs = [L]
    for _, width in cols[:-1]:
        xs.append(xs[-1] + width)
    xs.append(R)
    y0, y1, head = T + 23, B - 4, 12.0
    slots = max(len(entries), rr.randint(len(entries), LEDGER_MAX_ROWS))
    row_h = (y1 - y0 - head) / slots
    pen.rect(L, y0, R, y1, w=0.45)
    for x in xs[1:-1]:
        pen.line(x, y0, x, y1, w=0.3)
    pen.line(L, y0 + head, R, y0 + head, w=0.4)
    for i in range(1, slots):
        pen.line(L, y0 + head + i * row_h, R, y0 + head + i * row_h, w=0.25)
    for k, word in enumerate(heading):
        pen.text((xs[0] + xs[1]) / 2, y0 + head / 2 + 1.5 + (k - (len(heading) - 1) / 2) * 4.2, word,
                 corpus.PRINT_B, 9.5, anchor="ms", max_w=xs[1] - xs[0] - 2)
    for (title, _), a, b in zip(cols[1:], xs[1:-1], xs[2:]):
        for k, line in enumerate(corpus.wrap_text(pen, title, corpus.PRINT_B, 9, b - a - 3)[:2]):
            pen.text((a + b) / 2, y0 + 5 + 4 * k, line, corpus.PRINT_B, 9, anchor="ms", max_w=b - a - 2)
    numbers = []
    for i, entry in enumerate(entries):
        det = corpus.entry_details(entry)
        top = y0 + head + i * row_h
        base = top + 7
        label = str(entry.number)
        if hand_numbers:
            pen.hand(xs[0] + 2.5, base, label, max_w=xs[1] - xs[0] - 4)
        else:
            pen.text((xs[0] + xs[1]) / 2, base, label, corpus.PRINT, 12, anchor="ms")
        numbers.append((entry.number, pen.box_of(label)))
        pen.hand(xs[1] + 1.5, base, entry.person_name, max_w=xs[2] - xs[1] - 3)
        pen.hand(xs[2] + 1.5, base, corpus.fmt_date(det["birth_date"]), max_w=xs[3] - xs[2] - 3)
        small = pen.hand_pt * 0.8
        for k, line in enumerate(corpus.wrap_text(pen, det["birth_place"], pen.hand_font, small, xs[4] - xs[3] - 3)[:3]):
            pen.hand(xs[3] + 1.5, base + 5.5 * k, line, max_w=xs[4] - xs[3] - 3, pt=small)
        for k, parent in enumerate(p for p in (det["father"], det["mother"]) if p):
            pen.hand(xs[4] + 1.5, base + 6 * k, parent, max_w=xs[5] - xs[4] - 3, pt=small)
        pen.signature((xs[5] + xs[6]) / 2, top + row_h * 0.5, min(16, xs[6] - xs[5] - 4), min(8, row_h * 0.4))
    return _Drawn(numbers, page if page_number_at else None,
                  f"{e.volume:02d}" if with_volume else None, e.year if with_volume else None)


# --- (e) an old typewritten form: "Số 15" centred under the title, no colon ------------------------

def _draw_typewritten(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    e = entries[0]
    rr = pen.rr
    det = corpus.entry_details(e)
    L, R, T, B = _margins(pen, size_mm)
    centre = (L + R) / 2
    pen.typed(L, T + 5, "ỦY BAN HÀNH CHÍNH")
    pen.typed(L, T + 10, f"XÃ {det['commune'].upper()}")
    pen.typed(R - 48, T + 5, "VIỆT NAM DÂN CHỦ CỘNG HÒA", centre=True)
    pen.typed(R - 48, T + 10, "Độc lập - Tự do - Hạnh phúc", centre=True)
    pen.typed(R - 48, T + 12, "-" * 14, centre=True)
    title_y = T + rr.uniform(28, 33)
    pen.typed(centre, title_y, "BẢN SAO GIẤY KHAI SINH" if rr.random() < 0.3 else "GIẤY KHAI SINH",
              pt=15, bold=True, centre=True)
    label = f"Số {e.number}"
    pen.typed(centre, title_y + 9, label, pt=12, centre=True)
    y = title_y + 24
    for row in corpus.rows_for(e, det):
        for j, (field, value, _) in enumerate(row[:2]):
            x = L if j == 0 else centre + 5
            end = pen.typed(x, y, field)
            limit = (centre if j == 0 and len(row) > 1 else R) - 2
            pen.typed(end + 1, y, "." * max(0, int((limit - end - 1) / 2.3)), pt=9)
            if value:
                pen.hand(end + 2.5, y - 1.0, value, max_w=limit - end - 4)
        y += 9.5
    pen.typed(centre + 10, B - 45, f"Ngày {e.reg_date.day} tháng {e.reg_date.month} năm {e.reg_date.year}")
    pen.typed(centre + 10, B - 38, "T/M ỦY BAN HÀNH CHÍNH")
    pen.signature(centre + 40, B - 24, rr.uniform(20, 30), rr.uniform(7, 10))
    pen.seal(centre + 30, B - 24, rr.uniform(15, 17), f"ỦY BAN HÀNH CHÍNH XÃ {det['commune'].upper()} ★")
    return _Drawn([(e.number, pen.box_of(label))])


# --- (f) A3 landscape: two forms side by side, each with its own "Số: N" ---------------------------

def _draw_double(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    rr = pen.rr
    half = size_mm[0] / 2
    T, B = rr.uniform(13, 18), size_mm[1] - rr.uniform(13, 17)
    numbers = []
    for k, e in enumerate(entries[:2]):
        L = k * half + rr.uniform(17, 22) - (5 if k else 0)
        R = (k + 1) * half - rr.uniform(14, 18) + (0 if k else 5)
        corpus.draw_first_page(pen, e, corpus.entry_details(e), L, R, T, B)
        numbers.append((e.number, pen.box_of(f"Số: {e.number}")))
    pen.line(half, 4, half, size_mm[1] - 4, w=0.15, fill=(150, 150, 150))   # the sheet's fold
    e = entries[0]
    return _Drawn(numbers, None, f"{e.volume:02d}", e.year)


# --- a page that must give no number: an address starting with "Số 12" near the top ---------------

def _draw_address_letter(pen: _Pen, entries: Sequence[EntryInfo], size_mm: tuple[float, float]) -> _Drawn:
    e = entries[0]
    rr = pen.rr
    det = corpus.entry_details(e)
    L, R, T, B = _margins(pen, size_mm)
    corpus.draw_header(pen, det, L, R, T)
    pen.text(R, T + 20, f"Trang {rr.randint(1, 2)}/2", corpus.PRINT_I, 11, anchor="rs")
    pen.text((L + R) / 2, T + 30, "TỜ KHAI ĐĂNG KÝ KHAI SINH", corpus.PRINT_B, 15, anchor="ms")
    pen.text(L, T + 40, "Kính gửi: Ủy ban nhân dân xã " + det["commune"], corpus.PRINT, 11.5)
    pen.text(L, T + 48, "Nơi cư trú của người yêu cầu:", corpus.PRINT, 11.5)
    address = f"Số {rr.randint(2, 99)} đường Trần Phú, xã {det['commune']}, huyện {det['district']}"
    pen.text(L, T + 56, address, corpus.PRINT, 11.5)
    _dotted_form(pen, e, L, R, T + 70, 9.0)
    return _Drawn([])


@dataclass(frozen=True)
class Layout:
    key: str
    name: str
    sizes: tuple[tuple[float, float], ...]   # chosen per book
    entries_per_page: tuple[int, int]
    draw: Callable[[_Pen, Sequence[EntryInfo], tuple[float, float]], _Drawn]


LAYOUTS = {lay.key: lay for lay in (
    Layout("a", "corpus form: 'Số: N' on its own line", (A4_PORTRAIT,), (1, 1), _draw_corpus_form),
    Layout("b", "number inside the header line after the volume", (A4_PORTRAIT,), (1, 1), _draw_inline_header),
    Layout("c", "'Số đăng ký: N' in a boxed header table", (A4_PORTRAIT,), (1, 1), _draw_boxed_header),
    Layout("d", "ruled ledger, 2-5 registrations a page", (A4_PORTRAIT, A3_PORTRAIT), (2, LEDGER_MAX_ROWS),
           _draw_ledger),
    Layout("e", "typewritten, 'Số N' centred under the title", (A4_PORTRAIT,), (1, 1), _draw_typewritten),
    Layout("f", "A3 landscape, two forms side by side", (A3_LANDSCAPE,), (2, 2), _draw_double),
)}
# Not a layout of its own: the page every layout must read no number from.
ADDRESS_LETTER = Layout("address", "letter with 'Số 12 đường ...' near the top", (A4_PORTRAIT,), (1, 1),
                        _draw_address_letter)


def render_layout_page(key: str, entries: Sequence[EntryInfo], dpi: int, seed: int,
                       book_page: int | None = None) -> LayoutPage:
    """The page of layout `key` holding `entries` (as many as the layout's page takes, from the first).
    The sheet size is the book's: the same for every page of one (type, year, volume). `book_page`:
    the page number a ledger prints, when its book prints them (bench/bound_book.py)."""
    layout = ADDRESS_LETTER if key == ADDRESS_LETTER.key else LAYOUTS[key]
    lo, hi = layout.entries_per_page
    if len(entries) < lo:
        raise ValueError(f"layout {key} holds {lo}-{hi} entries a page, {len(entries)} given")
    first = entries[0]
    size = corpus.seeded_random("size", key, first.book_type, first.year, first.volume).choice(layout.sizes)
    return _render(key, size, entries[:hi], dpi, seed, layout.draw, book_page)


def page_entries(key: str, entries: Sequence[EntryInfo], start: int, seed: int) -> list[EntryInfo]:
    """Consecutive entries from `start` for one page of layout `key` (2-5 on a ledger page)."""
    lo, hi = (ADDRESS_LETTER if key == ADDRESS_LETTER.key else LAYOUTS[key]).entries_per_page
    count = corpus.seeded_random("count", key, start, seed).randint(lo, hi)
    return list(entries[start:start + count])


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write one page of every layout (PNG) with its truth")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    entries = corpus.make_entries("KS", 2014, 1, 40, a.seed)
    for key in [*LAYOUTS, ADDRESS_LETTER.key]:
        page = render_layout_page(key, page_entries(key, entries, 3, a.seed), a.dpi, a.seed)
        corpus.save_image(a.out_dir / f"layout-{key}.png", page.image, a.dpi)
        print(key, page.size_mm, page.numbers, page.number_boxes, page.page_number, page.volume, page.year)


if __name__ == "__main__":
    main()
