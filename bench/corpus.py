"""Synthetic scanned register pages (Sổ hộ tịch) with ground truth.

Why: the station must be tested and benchmarked on pages that look like the real thing — yellowed
paper, printed Vietnamese form text, handwriting in blue ink, red seals, skew, dark scanner borders,
duplex blank backs — without ever touching citizens' real data. Everything here is deterministic for
a given seed so a failing test or a benchmark number can be reproduced exactly.

Layout is described in millimetres and converted with the dpi, so a page looks the same at 150 or
600 dpi; only the pixel count changes.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import random
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist
from typing import Any, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

A4_MM = (210.0, 297.0)

# --------------------------------------------------------------------------------------------
# Small utilities


def seeded_rng(*parts: Any) -> np.random.Generator:
    """numpy Generator from any mix of ints/strings; stable across runs (no Python hash())."""
    words = [zlib.crc32(str(p).encode()) if not isinstance(p, (int, np.integer)) else int(p) & 0xFFFFFFFF
             for p in parts]
    return np.random.default_rng(np.random.SeedSequence(words))


def seeded_random(*parts: Any) -> random.Random:
    # random.Random seeds strings through SHA-512: stable across processes, unlike hash().
    return random.Random(":".join(str(p) for p in parts))


def page_size_px(dpi: int) -> tuple[int, int]:
    """(width, height) of an A4 portrait sheet at `dpi`."""
    return round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)


def mm_to_px(v: float, dpi: int) -> float:
    return v * dpi / 25.4


_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
              Path("/usr/share/fonts/TTF"))


@lru_cache(maxsize=None)
def _font_path(name: str) -> str:
    for d in _FONT_DIRS:
        p = d / f"{name}.ttf"
        if p.exists():
            return str(p)
    raise FileNotFoundError(f"font {name}.ttf not found (install fonts-dejavu-core); looked in "
                            + ", ".join(map(str, _FONT_DIRS)))


@lru_cache(maxsize=512)
def _font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(name), max(4, size_px))


# Gaussian noise without per-pixel float work: uniform random bytes mapped through a lookup table
# of normal quantiles. Split into a positive and a negative part so cv2.add/subtract (saturating,
# uint8, multithreaded) can apply it.
@lru_cache(maxsize=64)
def _noise_luts(sigma_x10: int) -> tuple[np.ndarray, np.ndarray]:
    sigma = sigma_x10 / 10.0
    nd = NormalDist()
    q = np.array([nd.inv_cdf((i + 0.5) / 256.0) * sigma for i in range(256)])
    pos = np.clip(np.round(q), 0, 255).astype(np.uint8)
    neg = np.clip(np.round(-q), 0, 255).astype(np.uint8)
    return pos, neg


def add_noise(img: np.ndarray, sigma: float, rng: np.random.Generator, *, mono: bool,
               blur: float = 0.0) -> np.ndarray:
    if sigma <= 0:
        return img
    h, w = img.shape[:2]
    shape = (h, w) if mono or img.ndim == 2 else (h, w, img.shape[2])
    u = np.frombuffer(rng.bytes(int(np.prod(shape))), np.uint8).reshape(shape)
    if blur > 0:
        # Paper grain is not pixel-independent; blurring shrinks its variance, so compensate.
        u = cv2.GaussianBlur(u, (0, 0), blur)
        sigma = sigma * (1.0 + 2.0 * blur)
    pos, neg = _noise_luts(int(round(sigma * 10)))
    p, n = cv2.LUT(u, pos), cv2.LUT(u, neg)
    if mono and img.ndim == 3:
        p, n = cv2.merge([p] * img.shape[2]), cv2.merge([n] * img.shape[2])
    return cv2.subtract(cv2.add(img, p), n)


def smooth_field(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1] on an (h, w) grid: `cells` random knots across the width."""
    gw = max(2, cells)
    gh = max(2, round(cells * h / max(w, 1)))
    knots = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(knots, (w, h), interpolation=cv2.INTER_CUBIC)


# --------------------------------------------------------------------------------------------
# Entries and the details written on their pages

@dataclass(frozen=True)
class EntryInfo:
    book_type: str      # "KS"
    year: int           # 2017
    volume: int         # 1
    number: int         # registration number "so"
    reg_date: datetime.date | None
    person_name: str    # Vietnamese full name with diacritics


_SURNAMES = ["Nguyễn"] * 8 + ["Trần"] * 3 + ["Lê"] * 3 + [
    "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
    "Đinh", "Trương", "Lương", "Mai"]
_MALE_MID = ["Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Thanh", "Gia", "Công", "Xuân", "Bảo",
             "Tuấn", "Đình", "Quang"]
_FEMALE_MID = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Bảo", "Hồng", "Khánh",
               "Phương", "Kim"]
# Disjoint lists so the gender can be read back from the name.
_MALE_GIVEN = ["Hùng", "Dũng", "Khoa", "Nam", "Long", "Phúc", "Quân", "Thắng", "Tuấn", "Hiếu",
               "Khang", "Huy", "Đạt", "Trí", "Cường", "Lộc", "Sơn", "Việt", "Hoàng", "Thịnh",
               "Vinh", "Toàn", "Kiên", "Nhật", "Phong", "Tùng"]
_FEMALE_GIVEN = ["Nhung", "Lan", "Hương", "Hoa", "Trang", "Linh", "Thảo", "Vy", "Yến", "Hà",
                 "Chi", "Hằng", "Thúy", "Nga", "Quyên", "Uyên", "Trinh", "Diệp", "Phượng", "Nhi",
                 "Ánh", "Loan", "Huyền", "Giang", "Duyên", "Oanh"]
_ETHNIC = ["Kinh"] * 18 + ["Tày", "Thái", "Mường", "Khmer", "Vân Kiều", "Pa Kô"]
# (xã, huyện, tỉnh) and hamlets: plausible places, none tied to real records.
_PLACES = [("Tân Phú", "Đức Hòa", "Long An"), ("Gio Mỹ", "Gio Linh", "Quảng Trị"),
           ("Triệu Thành", "Triệu Phong", "Quảng Trị"), ("Hải Thượng", "Hải Lăng", "Quảng Trị"),
           ("Cam Thành", "Cam Lộ", "Quảng Trị"), ("Đông Hợp", "Đông Hưng", "Thái Bình"),
           ("Đồng Tâm", "Yên Thế", "Bắc Giang"), ("Nghĩa Hòa", "Tư Nghĩa", "Quảng Ngãi")]
_HAMLETS = ["Thôn An Lợi", "Thôn Phú Hậu", "Thôn Đông Xuân", "Thôn Tân Mỹ", "Thôn Hà Thanh",
            "Thôn Bích La", "Thôn Trung Chỉ", "Xóm Mới", "Thôn 3", "Thôn 5", "Ấp Bình Tả",
            "Thôn Lộc Điền"]
_NOTES = [
    "Cải chính ngày sinh theo Quyết định số {n}/QĐ-UBND ngày {d}",
    "Bổ sung thông tin dân tộc của người cha theo tờ khai ngày {d}",
    "Đã cấp bản sao trích lục khai sinh số {n} ngày {d}",
    "Đăng ký quá hạn, có văn bản xác nhận của trưởng thôn",
    "Thay đổi họ cho con theo họ của mẹ, Quyết định số {n}/QĐ-UBND",
    "Ghi vào sổ theo Trích lục ghi chú số {n}/TLGC ngày {d}",
    "Xác định cha cho con theo Quyết định số {n}/QĐ-UBND ngày {d}",
]


def is_female_name(name: str) -> bool:
    words = name.split()
    return "Thị" in words[1:-1] or (bool(words) and words[-1] in _FEMALE_GIVEN)


def random_name(rr: random.Random, female: bool | None = None) -> str:
    if female is None:
        female = rr.random() < 0.5
    parts = [rr.choice(_SURNAMES), rr.choice(_FEMALE_MID if female else _MALE_MID)]
    if rr.random() < 0.45:
        extra = rr.choice(["Hồng", "Ngọc", "Thu", "Mỹ", "Kim"] if female
                          else ["Minh", "Anh", "Quốc", "Gia", "Hoàng"])
        if extra not in parts:
            parts.append(extra)
    parts.append(rr.choice(_FEMALE_GIVEN if female else _MALE_GIVEN))
    return " ".join(parts)


def make_entries(book_type: str, year: int, volume: int, count: int, seed: int) -> list[EntryInfo]:
    """Consecutive numbers 1..count, non-decreasing registration dates within the year (several
    registrations on one day happen), random Vietnamese names."""
    rr = seeded_random("entries", book_type, year, volume, count, seed)
    days = 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365
    # Spread over the year like a real book: sorted random working days.
    offsets = sorted(rr.randrange(days) for _ in range(count))
    start = datetime.date(year, 1, 1)
    out = []
    for i, off in enumerate(offsets):
        d = start + datetime.timedelta(days=off)
        while d.weekday() == 6 and d.year == year and d > start:   # commune offices close on Sunday
            d -= datetime.timedelta(days=1)
        out.append(EntryInfo(book_type, year, volume, i + 1, d, random_name(rr)))
    return out


_DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def vn_number_words(n: int) -> str:
    """0..9999 in Vietnamese words, as written on birth certificates ("hai nghìn không trăm mười bảy")."""
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        t, u = divmod(n, 10)
        head = "mười" if t == 1 else _DIGITS[t] + " mươi"
        if u == 0:
            return head
        tail = ("lăm" if u == 5 else "mốt" if (u == 1 and t > 1) else "tư" if (u == 4 and t > 1)
                else _DIGITS[u])
        return f"{head} {tail}"
    if n < 1000:
        h, r = divmod(n, 100)
        s = _DIGITS[h] + " trăm"
        return s if r == 0 else f"{s} linh {_DIGITS[r]}" if r < 10 else f"{s} {vn_number_words(r)}"
    th, r = divmod(n, 1000)
    s = _DIGITS[th] + " nghìn"
    if r == 0:
        return s
    if r < 100:
        return f"{s} không trăm " + (f"linh {_DIGITS[r]}" if r < 10 else vn_number_words(r))
    return f"{s} {vn_number_words(r)}"


def vn_date_words(d: datetime.date) -> str:
    return (f"Ngày {vn_number_words(d.day)}, tháng {vn_number_words(d.month)}, "
            f"năm {vn_number_words(d.year)}")


def book_place(entry: EntryInfo) -> tuple[str, str, str]:
    """The commune holding the book: one commune per (type, year, volume)."""
    return seeded_random("place", entry.book_type, entry.year, entry.volume).choice(_PLACES)


def entry_details(entry: EntryInfo) -> dict[str, Any]:
    """Everything written on an entry's pages, derived only from the entry, so the rendered page and
    the register xlsx agree."""
    rr = seeded_random("details", entry.book_type, entry.year, entry.volume, entry.number, entry.person_name)
    book = seeded_random("book", entry.book_type, entry.year, entry.volume)
    xa, huyen, tinh = book_place(entry)
    addr_tail = f"xã {xa}, huyện {huyen}, tỉnh {tinh}"
    female = is_female_name(entry.person_name)
    reg = entry.reg_date or datetime.date(entry.year, 1, 1) + datetime.timedelta(days=rr.randrange(360))
    birth = reg - datetime.timedelta(days=rr.randrange(3, 60))
    ethnic = rr.choice(_ETHNIC)
    surname = entry.person_name.split()[0]
    father = random_name(rr, female=False)
    if rr.random() < 0.85:   # the child usually carries the father's surname
        father = " ".join([surname] + father.split()[1:])
    mother = random_name(rr, female=True)
    has_father = rr.random() < 0.9
    home = f"{rr.choice(_HAMLETS)}, {addr_tail}"
    where = rr.choice([f"Trạm y tế xã {xa}, huyện {huyen}, tỉnh {tinh}",
                       f"Bệnh viện đa khoa huyện {huyen}, tỉnh {tinh}",
                       f"Bệnh viện đa khoa tỉnh {tinh}", home])
    signer = book.choice([random_name(book, False), random_name(book, True)])
    officer = random_name(book)
    return {
        "gender": "Nữ" if female else "Nam",
        "birth_date": birth,
        "birth_words": vn_date_words(birth),
        "ethnic": ethnic,
        "nationality": "Việt Nam",
        "birth_place": where,
        "home_town": f"{huyen}, {tinh}" if rr.random() < 0.5 else f"xã {xa}, huyện {huyen}, tỉnh {tinh}",
        "id_number": "".join(str(rr.randrange(10)) for _ in range(12)) if entry.year >= 2016 else "",
        "mother": mother,
        "mother_year": birth.year - rr.randrange(18, 40),
        "mother_ethnic": ethnic,
        "mother_home": home,
        "father": father if has_father else "",
        "father_year": (birth.year - rr.randrange(20, 45)) if has_father else None,
        "father_ethnic": ethnic if has_father else "",
        "father_home": home if has_father else "",
        "reg_place": f"Ủy ban nhân dân xã {xa}, huyện {huyen}, tỉnh {tinh}",
        "reg_date": entry.reg_date,
        "commune": xa,
        "district": huyen,
        "province": tinh,
        "signer": signer,
        "signer_title": book.choice(["Chủ tịch", "Phó Chủ tịch"]),
        "officer": officer,
        "requester": mother if rr.random() < 0.6 else (father if has_father else mother),
        "requester_relation": "Mẹ" if rr.random() < 0.6 else "Cha",
        "reg_kind": "Đăng ký mới" if rr.random() < 0.9 else "Đăng ký lại",
        "note": rr.choice(_NOTES).format(n=rr.randrange(1, 99), d=reg.strftime("%d/%m/%Y"))
        if rr.random() < 0.15 else "",
        "rr_seed": rr.randrange(1 << 30),
    }


# --------------------------------------------------------------------------------------------
# Drawing on the ink layer (everything in mm, converted with the dpi)

PRINT = "DejaVuSerifCondensed"
PRINT_B = "DejaVuSerifCondensed-Bold"
PRINT_I = "DejaVuSerifCondensed-Italic"
_HAND_FONTS = ["DejaVuSerif-Italic", "DejaVuSans-Oblique", "DejaVuSerifCondensed-Italic",
               "DejaVuSansCondensed-Oblique"]
_BLUE_INKS = [(22, 38, 140), (35, 55, 165), (55, 75, 175), (18, 30, 105), (40, 45, 150)]


@dataclass
class _Seal:
    cx: float       # px
    cy: float
    r: float
    text: str
    angle: float


class Sheet:
    """Pen for one page: printed text in black, handwriting in blue, all positions in mm."""

    def __init__(self, img: Image.Image, dpi: int, rr: random.Random):
        self.img, self.d, self.dpi, self.rr = img, ImageDraw.Draw(img), dpi, rr
        self.black = tuple(rr.randint(15, 45) for _ in range(3))
        self.blue = rr.choice(_BLUE_INKS)
        self.hand_font = rr.choice(_HAND_FONTS)
        self.hand_pt = rr.uniform(11.5, 13.5)
        self.seals: list[_Seal] = []
        # Every printed (not handwritten) string, in drawing order: the truth for OCR error rates.
        self.printed: list[str] = []

    def px(self, v: float) -> float:
        return v * self.dpi / 25.4

    def font(self, name: str, pt: float) -> ImageFont.FreeTypeFont:
        return _font(name, round(pt / 72.0 * self.dpi))

    def width_mm(self, s: str, name: str, pt: float) -> float:
        return self.font(name, pt).getlength(s) * 25.4 / self.dpi

    def text(self, x: float, y: float, s: str, name: str = PRINT, pt: float = 11.0,
             anchor: str = "ls", fill: tuple[int, int, int] | None = None,
             max_w: float | None = None) -> float:
        """Printed text at baseline y (shrunk to fit max_w mm); returns the x (mm) where it ends."""
        if max_w is not None and self.width_mm(s, name, pt) > max_w:
            pt = pt * max_w / self.width_mm(s, name, pt)
        f = self.font(name, pt)
        self.d.text((self.px(x), self.px(y)), s, font=f, fill=fill or self.black, anchor=anchor)
        self.printed.append(s)
        w = f.getlength(s) * 25.4 / self.dpi
        return x + (w if anchor[0] == "l" else w / 2 if anchor[0] == "m" else 0)

    def hand(self, x: float, y: float, s: str, max_w: float | None = None,
             pt: float | None = None) -> float:
        """Handwriting: glyph by glyph with a wandering baseline and uneven spacing."""
        pt = pt or self.hand_pt
        if max_w is not None and max_w > 0:
            # 1.08: glyph spacing below is stretched by up to 10 %, so leave room for it.
            w = self.width_mm(s, self.hand_font, pt) * 1.08
            if w > max_w:
                pt = max(pt * 0.55, pt * max_w / w)
        f = self.font(self.hand_font, pt)
        rr = self.rr
        size = pt / 72.0 * self.dpi
        cx, cy = self.px(x), self.px(y)
        off, drift = 0.0, rr.uniform(-0.02, 0.02) * size   # drift: lines slope a little
        for ch in s:
            if ch != " ":
                self.d.text((cx, cy + off), ch, font=f, fill=self.blue, anchor="ls")
            cx += f.getlength(ch) * rr.uniform(0.95, 1.1)
            off = max(-0.15 * size, min(0.15 * size, off + rr.gauss(0, 0.035 * size)))
            cy += drift / max(len(s), 1)
        return cx * 25.4 / self.dpi

    def line(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.25,
             fill: tuple[int, int, int] | None = None) -> None:
        self.d.line([(self.px(x0), self.px(y0)), (self.px(x1), self.px(y1))],
                    fill=fill or self.black, width=max(1, round(self.px(w))))

    def rect(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.35) -> None:
        self.d.rectangle([self.px(x0), self.px(y0), self.px(x1), self.px(y1)], outline=self.black,
                         width=max(1, round(self.px(w))))

    def dots(self, x0: float, x1: float, y: float) -> None:
        r = max(0.5, self.px(0.12))
        x = x0
        while x < x1:
            px, py = self.px(x), self.px(y)
            self.d.ellipse([px - r, py - r, px + r, py + r], fill=self.black)
            x += 1.0

    def signature(self, cx: float, cy: float, w: float, h: float) -> None:
        """A loopy scribble plus an underline flourish, in the page's blue ink."""
        rr = self.rr
        n = 400
        loops = rr.uniform(3, 7)
        ph1, ph2 = rr.uniform(0, 6.3), rr.uniform(0, 6.3)
        tilt = rr.uniform(-0.3, 0.3)
        pts = []
        for i in range(n):
            t = i / (n - 1)
            x = w * (t - 0.5) + 0.09 * w * math.sin(2 * math.pi * loops * t + ph1)
            y = (0.4 * h * math.sin(2 * math.pi * loops * t + ph2) * (1 - 0.6 * t)
                 - tilt * w * (t - 0.5) + 0.1 * h * math.sin(9 * t))
            pts.append((self.px(cx + x), self.px(cy + y)))
        wpx = max(1, round(self.px(rr.uniform(0.35, 0.6))))
        self.d.line(pts, fill=self.blue, width=wpx, joint="curve")
        x0, x1 = cx - 0.55 * w, cx + 0.5 * w
        y0 = cy + 0.45 * h
        flourish = [(self.px(x0 + (x1 - x0) * t), self.px(y0 + 0.12 * h * math.sin(3.2 * t) - 0.2 * h * t))
                    for t in np.linspace(0, 1, 40)]
        self.d.line(flourish, fill=self.blue, width=wpx, joint="curve")

    def seal(self, cx: float, cy: float, r_mm: float, text: str) -> None:
        self.seals.append(_Seal(self.px(cx), self.px(cy), self.px(r_mm), text, self.rr.uniform(0, 360)))

    def specks(self, count: int) -> None:
        """Dust and foxing dots, so 'blank' never means perfectly clean."""
        w, h = self.img.size
        for _ in range(count):
            x, y = self.rr.uniform(0, w), self.rr.uniform(0, h)
            r = self.px(self.rr.uniform(0.08, 0.35))
            g = self.rr.randint(90, 170)
            self.d.ellipse([x - r, y - r, x + r, y + r], fill=(g, g - 10, g - 25))


TITLES = {
    "KS": ["GIẤY KHAI SINH", "SỔ ĐĂNG KÝ KHAI SINH", "TỜ KHAI ĐĂNG KÝ KHAI SINH"],
    "KT": ["TRÍCH LỤC KHAI TỬ", "SỔ ĐĂNG KÝ KHAI TỬ"],
    "KH": ["GIẤY CHỨNG NHẬN KẾT HÔN", "SỔ ĐĂNG KÝ KẾT HÔN"],
    "CMC": ["SỔ ĐĂNG KÝ NHẬN CHA, MẸ, CON"],
    "HN": ["GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN"],
}


def fmt_date(d: datetime.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def rows_for(entry: EntryInfo, det: dict[str, Any]) -> list[list[tuple[str, str, float]]]:
    """Form rows: each row is a list of (label, value, width fraction) cells."""
    name = entry.person_name.upper()
    if entry.book_type == "KT":
        return [
            [("Họ, chữ đệm, tên người chết:", name, 1.0)],
            [("Ngày, tháng, năm sinh:", fmt_date(datetime.date(det["mother_year"], det["birth_date"].month,
                                                                 min(det["birth_date"].day, 28))), 0.55),
             ("Giới tính:", det["gender"], 0.45)],
            [("Dân tộc:", det["ethnic"], 0.5), ("Quốc tịch:", det["nationality"], 0.5)],
            [("Nơi cư trú cuối cùng:", det["mother_home"], 1.0)],
            [("Đã chết vào lúc:", f"08 giờ 30 phút, ngày {fmt_date(det['birth_date'])}", 1.0)],
            [("Nơi chết:", det["mother_home"], 1.0)],
            [("Nguyên nhân chết:", "Bệnh già", 1.0)],
            [("Họ, chữ đệm, tên người đi khai tử:", det["requester"], 1.0)],
            [("Quan hệ với người đã chết:", "Con", 1.0)],
            [("Nơi đăng ký khai tử:", det["reg_place"], 1.0)],
            [("Ngày, tháng, năm đăng ký:", fmt_date(det["reg_date"]), 1.0)],
        ]
    if entry.book_type == "KH":
        return [
            [("Họ, chữ đệm, tên chồng:", det["father"] or random_name(seeded_random(det["rr_seed"]), False), 1.0)],
            [("Năm sinh:", str(det["father_year"] or det["mother_year"]), 0.5),
             ("Dân tộc:", det["ethnic"], 0.5)],
            [("Nơi cư trú:", det["father_home"] or det["mother_home"], 1.0)],
            [("Họ, chữ đệm, tên vợ:", det["mother"], 1.0)],
            [("Năm sinh:", str(det["mother_year"]), 0.5), ("Dân tộc:", det["mother_ethnic"], 0.5)],
            [("Nơi cư trú:", det["mother_home"], 1.0)],
            [("Nơi đăng ký kết hôn:", det["reg_place"], 1.0)],
            [("Ngày, tháng, năm đăng ký:", fmt_date(det["reg_date"]), 1.0)],
        ]
    # KS and anything else: the birth form, the richest layout.
    return [
        [("Họ, chữ đệm, tên:", name, 1.0)],
        [("Ngày, tháng, năm sinh:", fmt_date(det["birth_date"]), 0.5),
         ("Giới tính:", det["gender"], 0.5)],
        [("Ghi bằng chữ:", det["birth_words"], 1.0)],
        [("Dân tộc:", det["ethnic"], 0.5), ("Quốc tịch:", det["nationality"], 0.5)],
        [("Nơi sinh:", det["birth_place"], 1.0)],
        [("Quê quán:", det["home_town"], 1.0)],
        [("Số định danh cá nhân:", det["id_number"], 1.0)],
        [("Họ, chữ đệm, tên người mẹ:", det["mother"], 1.0)],
        [("Năm sinh:", str(det["mother_year"]), 0.34), ("Dân tộc:", det["mother_ethnic"], 0.33),
         ("Quốc tịch:", "Việt Nam", 0.33)],
        [("Nơi cư trú:", det["mother_home"], 1.0)],
        [("Họ, chữ đệm, tên người cha:", det["father"], 1.0)],
        [("Năm sinh:", str(det["father_year"] or ""), 0.34), ("Dân tộc:", det["father_ethnic"], 0.33),
         ("Quốc tịch:", "Việt Nam" if det["father"] else "", 0.33)],
        [("Nơi cư trú:", det["father_home"], 1.0)],
        [("Nơi đăng ký khai sinh:", det["reg_place"], 1.0)],
        [("Ngày, tháng, năm đăng ký:", fmt_date(det["reg_date"]), 1.0)],
    ]


def draw_rows(s: Sheet, rows: list[list[tuple[str, str, float]]], x0: float, x1: float,
               y0: float, y1: float, dotted: bool) -> None:
    rh = (y1 - y0) / len(rows)
    s.rect(x0, y0, x1, y1, w=0.45)
    for i, row in enumerate(rows):
        top = y0 + i * rh
        if i:
            s.line(x0, top, x1, top, w=0.2)
        base = top + rh * 0.66
        cx = x0
        for j, (label, value, frac) in enumerate(row):
            cend = x1 if j == len(row) - 1 else cx + (x1 - x0) * frac
            if j:
                s.line(cx, top, cx, top + rh, w=0.2)
            lx = s.text(cx + 2, base, label, PRINT, 10.5)
            if dotted:
                s.dots(lx + 1.5, cend - 2, base + 0.8)
            if value:
                s.hand(lx + 2.5, base - 0.3, value, max_w=cend - lx - 4.5)
            cx = cend


def draw_header(s: Sheet, det: dict[str, Any], L: float, R: float, top: float) -> None:
    lc = L + 32
    s.text(lc, top + 4, "ỦY BAN NHÂN DÂN", PRINT_B, 10.5, anchor="ms")
    s.text(lc, top + 9, f"XÃ {det['commune'].upper()}", PRINT_B, 10.5, anchor="ms")
    s.line(lc - 10, top + 10.5, lc + 10, top + 10.5, w=0.25)
    rc = R - 48
    s.text(rc, top + 4, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", PRINT_B, 10.5, anchor="ms")
    end = s.text(rc, top + 9, "Độc lập - Tự do - Hạnh phúc", PRINT_B, 11, anchor="ms")
    half = end - rc
    s.line(rc - half, top + 10.5, rc + half, top + 10.5, w=0.25)


def draw_signing_block(s: Sheet, det: dict[str, Any], L: float, R: float, y: float,
                        left_title: str, right_title: str, reg: datetime.date | None) -> None:
    lc, rc = L + 35, R - 42
    if reg:
        s.text(rc - 40, y, f"{det['commune']}, ngày", PRINT_I, 10.5)
        x = s.hand(rc - 40 + s.width_mm(f"{det['commune']}, ngày", PRINT_I, 10.5) + 1.5, y - 0.3,
                   f"{reg.day:02d}")
        x = s.text(x + 1.5, y, "tháng", PRINT_I, 10.5)
        x = s.hand(x + 1.5, y - 0.3, f"{reg.month:02d}")
        x = s.text(x + 1.5, y, "năm", PRINT_I, 10.5)
        s.hand(x + 1.5, y - 0.3, str(reg.year))
    y += 7
    s.text(lc, y, left_title, PRINT_B, 10.5, anchor="ms")
    s.text(lc, y + 4.5, "(Ký, ghi rõ họ, chữ đệm, tên)", PRINT_I, 9, anchor="ms")
    s.text(rc, y, right_title, PRINT_B, 10.5, anchor="ms")
    s.text(rc, y + 4.5, "(Ký, ghi rõ họ, chữ đệm, tên, chức vụ", PRINT_I, 9, anchor="ms")
    s.text(rc, y + 8.5, "và đóng dấu)", PRINT_I, 9, anchor="ms")
    s.text(rc, y + 13.5, det["signer_title"].upper(), PRINT_B, 10.5, anchor="ms")
    rr = s.rr
    s.signature(lc + rr.uniform(-5, 5), y + 20 + rr.uniform(-2, 2), rr.uniform(18, 28), rr.uniform(6, 10))
    sig_x, sig_y = rc + rr.uniform(-3, 6), y + 25 + rr.uniform(-2, 2)
    s.signature(sig_x, sig_y, rr.uniform(22, 32), rr.uniform(8, 12))
    s.hand(lc - s.width_mm(det["officer"], s.hand_font, s.hand_pt) / 2, y + 33, det["officer"])
    s.hand(rc - s.width_mm(det["signer"], s.hand_font, s.hand_pt) / 2, y + 38, det["signer"])
    # The seal overlaps the left part of the signature, as stamped in practice.
    ring = (f"ỦY BAN NHÂN DÂN XÃ {det['commune'].upper()} ★ H. {det['district'].upper()}"
            f" - T. {det['province'].upper()} ★")
    s.seal(sig_x - rr.uniform(8, 14), sig_y + rr.uniform(-3, 3), rr.uniform(16, 18), ring)


def draw_first_page(s: Sheet, entry: EntryInfo, det: dict[str, Any], L: float, R: float,
                     T: float, B: float) -> None:
    rr = s.rr
    draw_header(s, det, L, R, T)
    s.text(L, T + 19, f"Số: {entry.number}", PRINT, 12)
    s.text(L, T + 25.5, f"Quyển số: {entry.volume:02d}/{entry.year}", PRINT, 12)
    titles = TITLES.get(entry.book_type, ["SỔ ĐĂNG KÝ HỘ TỊCH"])
    s.text((L + R) / 2, T + 38, rr.choice(titles), PRINT_B, 17, anchor="ms")
    s.text((L + R) / 2, T + 44, "(Bản chính)", PRINT_I, 10, anchor="ms")
    rows = rows_for(entry, det)
    sign_h = 62
    draw_rows(s, rows, L, R, T + 50, B - sign_h, dotted=rr.random() < 0.5)
    draw_signing_block(s, det, L, R, B - sign_h + 8, "NGƯỜI THỰC HIỆN",
                        "NGƯỜI KÝ " + ("GIẤY KHAI SINH" if entry.book_type == "KS" else "TRÍCH LỤC"),
                        entry.reg_date)


def wrap_text(s: Sheet, text: str, name: str, pt: float, width: float) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        cand = f"{cur} {word}".strip()
        if cur and s.width_mm(cand, name, pt) > width:
            lines.append(cur)
            cur = word
        else:
            cur = cand
    return lines + ([cur] if cur else [])


def _draw_continuation(s: Sheet, entry: EntryInfo, det: dict[str, Any], page: int, L: float,
                       R: float, T: float, B: float) -> None:
    rr = s.rr
    s.text(R, T + 4, "(Tiếp theo trang trước)", PRINT_I, 10, anchor="rs")
    s.text(L, T + 4, f"Trang {page}", PRINT_I, 10)
    if page % 2 == 0:
        # Notes table: a ruled grid, a few rows filled in by hand.
        s.text((L + R) / 2, T + 16, "GHI CHÚ NHỮNG THAY ĐỔI, CẢI CHÍNH HỘ TỊCH", PRINT_B, 14, anchor="ms")
        s.text((L + R) / 2, T + 22, "VÀ CÁC VIỆC HỘ TỊCH KHÁC", PRINT_B, 12, anchor="ms")
        cols = [("STT", 12), ("Ngày, tháng, năm", 28), ("Nội dung thay đổi, cải chính", 66),
                ("Căn cứ", 34), ("Người ký", 0)]
        xs = [L]
        for _, wmm in cols[:-1]:
            xs.append(xs[-1] + wmm)
        xs.append(R)
        y0, y1 = T + 30, B - 62
        head = 10.0
        nrows = 12
        rh = (y1 - y0 - head) / nrows
        s.rect(L, y0, R, y1, w=0.45)
        for x in xs[1:-1]:
            s.line(x, y0, x, y1, w=0.25)
        s.line(L, y0 + head, R, y0 + head, w=0.35)
        for (title, _), a, b in zip(cols, xs[:-1], xs[1:]):
            s.text((a + b) / 2, y0 + 6.5, title, PRINT_B, 9.5, anchor="ms", max_w=b - a - 2)
        for i in range(1, nrows):
            s.line(L, y0 + head + i * rh, R, y0 + head + i * rh, w=0.15)
        filled = rr.randint(1, 4)
        base_date = det["reg_date"] or datetime.date(entry.year, 6, 1)
        for i in range(filled):
            top = y0 + head + i * rh
            d = base_date + datetime.timedelta(days=rr.randrange(30, 2000))
            s.hand(xs[0] + 4, top + rh * 0.65, str(i + 1))
            s.hand(xs[1] + 1.5, top + rh * 0.65, fmt_date(d), max_w=xs[2] - xs[1] - 3)
            note = rr.choice(_NOTES).format(n=rr.randrange(1, 99), d=fmt_date(d))
            pt = s.hand_pt * 0.8
            lines = wrap_text(s, note, s.hand_font, pt, xs[3] - xs[2] - 3)[:2]
            for k, ln in enumerate(lines):
                s.hand(xs[2] + 1.5, top + rh * (0.42 + 0.4 * k), ln, max_w=xs[3] - xs[2] - 3, pt=pt)
            s.hand(xs[3] + 1.5, top + rh * 0.65, f"QĐ {rr.randrange(1, 99)}/QĐ-UBND",
                   max_w=xs[4] - xs[3] - 3, pt=pt)
            s.signature((xs[4] + xs[5]) / 2, top + rh * 0.5, min(14, xs[5] - xs[4] - 4), rh * 0.5)
        draw_signing_block(s, det, L, R, B - 54, "NGƯỜI GHI CHÚ", "XÁC NHẬN CỦA UBND", None)
    else:
        # Requester and attachments: label rows, then free lines of handwriting.
        s.text((L + R) / 2, T + 16, "THÔNG TIN NGƯỜI ĐI ĐĂNG KÝ", PRINT_B, 14, anchor="ms")
        s.text((L + R) / 2, T + 22, "VÀ GIẤY TỜ KÈM THEO", PRINT_B, 12, anchor="ms")
        rows = [
            [("Họ, chữ đệm, tên người đi đăng ký:", det["requester"], 1.0)],
            [("Quan hệ với người được đăng ký:", det["requester_relation"], 1.0)],
            [("Giấy tờ tùy thân:", f"CMND số {rr.randrange(10**8, 10**9)}", 1.0)],
            [("Nơi cư trú:", det["mother_home"], 1.0)],
            [("Giấy tờ kèm theo:", f"Giấy chứng sinh số {rr.randrange(1, 999)}/GCS", 1.0)],
        ]
        draw_rows(s, rows, L, R, T + 30, T + 30 + 5 * 11, dotted=False)
        y = T + 98
        s.text(L, y, "Ghi chú:", PRINT_B, 11)
        for k in range(9):
            yy = y + 9 + k * 9
            s.line(L, yy + 1.5, R, yy + 1.5, w=0.15)
            if k < rr.randint(2, 6):
                text = rr.choice(_NOTES).format(n=rr.randrange(1, 99), d=fmt_date(det["birth_date"]))
                s.hand(L + 3, yy, text, max_w=R - L - 6)
        draw_signing_block(s, det, L, R, B - 54, "NGƯỜI ĐI ĐĂNG KÝ", "NGƯỜI KÝ", None)


def _ink_layer(entry: EntryInfo, page_in_entry: int, dpi: int, rr: random.Random
               ) -> tuple[Image.Image, list[_Seal], tuple[str, ...]]:
    w, h = page_size_px(dpi)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    s = Sheet(img, dpi, rr)
    det = entry_details(entry)
    # Margins ~15-20 mm, shifted a little per page: a print is never perfectly placed.
    L = rr.uniform(17, 22)
    R = A4_MM[0] - rr.uniform(14, 18)
    T = rr.uniform(13, 18)
    B = A4_MM[1] - rr.uniform(13, 17)
    if page_in_entry == 1:
        draw_first_page(s, entry, det, L, R, T, B)
    else:
        _draw_continuation(s, entry, det, page_in_entry, L, R, T, B)
    s.specks(rr.randint(15, 60))
    return img, s.seals, tuple(s.printed)


def stamp_seal(img: np.ndarray, seal: _Seal, dpi: int, rng: np.random.Generator,
                color: tuple[int, int, int]) -> None:
    """Multiply a red round seal into img (in place): ring, inner ring, ring text, star, uneven ink."""
    r = seal.r
    pad = int(r * 0.08) + 2
    size = int(2 * r) + 2 * pad
    mask = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(mask)
    c = size / 2
    ring_w = max(2, round(mm_to_px(0.7, dpi)))
    d.ellipse([c - r, c - r, c + r, c + r], outline=255, width=ring_w)
    ri = r * 0.68
    d.ellipse([c - ri, c - ri, c + ri, c + ri], outline=255, width=max(1, round(mm_to_px(0.4, dpi))))
    fs = max(6, round(r * 0.17))
    font = _font("DejaVuSans-Bold", fs)
    rt = r * 0.84
    n = len(seal.text)
    for i, ch in enumerate(seal.text):
        if ch == " ":
            continue
        theta = seal.angle + 360.0 * i / n
        glyph = Image.new("L", (fs * 2, fs * 2), 0)
        ImageDraw.Draw(glyph).text((fs, fs), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-theta, resample=Image.BILINEAR)
        t = math.radians(theta)
        gx, gy = c + rt * math.sin(t) - fs, c - rt * math.cos(t) - fs
        mask.paste(255, (int(gx), int(gy)), glyph)
    # Five-point star in the centre.
    sr, pts = r * 0.3, []
    for k in range(10):
        a = math.radians(seal.angle + 36 * k)
        rad = sr if k % 2 == 0 else sr * 0.4
        pts.append((c + rad * math.sin(a), c - rad * math.cos(a)))
    d.polygon(pts, fill=255)
    alpha = np.asarray(mask, np.float32) / 255.0
    # Uneven stamp pressure: low-frequency variation plus fine mottling.
    tex = 0.8 + 0.25 * smooth_field(rng, size, size, 5)
    tex -= 0.25 * np.clip(smooth_field(rng, size, size, 30), 0, 1)
    alpha *= np.clip(tex, 0.3, 1.0) * rng.uniform(0.8, 0.95)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.5, mm_to_px(0.08, dpi)))
    x0, y0 = int(seal.cx - size / 2), int(seal.cy - size / 2)
    H, W = img.shape[:2]
    ax0, ay0 = max(0, -x0), max(0, -y0)
    bx0, by0 = max(0, x0), max(0, y0)
    bx1, by1 = min(W, x0 + size), min(H, y0 + size)
    if bx1 <= bx0 or by1 <= by0:
        return
    a = alpha[ay0:ay0 + by1 - by0, ax0:ax0 + bx1 - bx0][..., None]
    patch = img[by0:by1, bx0:bx1].astype(np.float32)
    k = 1.0 - np.asarray(color, np.float32) / 255.0
    img[by0:by1, bx0:bx1] = np.clip(patch * (1.0 - a * k), 0, 255).astype(np.uint8)


def aged_paper(dpi: int, rng: np.random.Generator, *, aged: bool = True) -> np.ndarray:
    """Tinted paper: base tone, uneven low-frequency tone, darker yellowed edges, a gutter shadow,
    a few stains, and grain. Built at low resolution and upsampled, so it costs little at 600 dpi."""
    W, H = page_size_px(dpi)
    lw, lh = 210, 297                      # one knot per mm
    if aged:
        base = np.array([rng.uniform(226, 242), rng.uniform(214, 232), rng.uniform(178, 208)], np.float32)
    else:
        base = np.array([rng.uniform(238, 248)] * 3, np.float32) - np.array([0, 2, 6], np.float32)
    tone = (smooth_field(rng, lh, lw, 5) * rng.uniform(3, 7)
            + smooth_field(rng, lh, lw, 14) * rng.uniform(1, 3))
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    edge_d = np.minimum(np.minimum(xx, lw - 1 - xx), np.minimum(yy, lh - 1 - yy))
    edge = np.exp(-edge_d / rng.uniform(4, 10)) * rng.uniform(8, 22)
    gutter_left = rng.random() < 0.5
    gx = xx if gutter_left else (lw - 1 - xx)
    gutter = np.exp(-gx / rng.uniform(6, 15)) * rng.uniform(5, 18)
    stain = np.zeros_like(xx)
    for _ in range(int(rng.integers(0, 4)) if aged else 0):
        cx, cy, rad = rng.uniform(0, lw), rng.uniform(0, lh), rng.uniform(8, 35)
        stain += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rad * rad)) * rng.uniform(5, 16)
    yellow = 1.0 if aged else 0.3
    low = np.stack([
        base[0] + tone - 0.6 * edge - 0.8 * gutter - 0.5 * stain,
        base[1] + tone - 0.8 * edge * yellow - 0.8 * gutter - 0.9 * stain,
        base[2] + tone - 1.4 * edge * yellow - 0.9 * gutter - 1.6 * stain,
    ], axis=-1)
    low8 = np.clip(low, 0, 255).astype(np.uint8)
    paper = cv2.resize(low8, (W, H), interpolation=cv2.INTER_LINEAR)
    return add_noise(paper, rng.uniform(2.0, 4.0), rng, mono=True, blur=max(0.0, mm_to_px(0.04, dpi)))


# --------------------------------------------------------------------------------------------
# Public page renderers

def render_register_page(entry: EntryInfo, page_in_entry: int, dpi: int, seed: int) -> np.ndarray:
    """RGB uint8 A4 portrait register page at `dpi`: yellowed paper, printed form, blue handwriting,
    red seal and signatures. page_in_entry 1 carries "Số: N" and "Quyển số: VV/YYYY"; later pages
    are continuation layouts."""
    return render_register_page_ex(entry, page_in_entry, dpi, seed)[0]


def render_register_page_ex(entry: EntryInfo, page_in_entry: int, dpi: int, seed: int
                            ) -> tuple[np.ndarray, tuple[str, ...]]:
    """render_register_page() and the page's printed strings (form labels, headings; not the
    handwriting or the seal), the ground truth for OCR error rates."""
    if page_in_entry < 1:
        raise ValueError("page_in_entry is 1-based")
    rr = seeded_random("page", seed, entry.book_type, entry.year, entry.volume, entry.number, page_in_entry)
    rng = seeded_rng(seed, entry.number, page_in_entry, "page")
    paper = aged_paper(dpi, rng)
    ink, seals, printed = _ink_layer(entry, page_in_entry, dpi, rr)
    ink_arr = np.asarray(ink)
    # Ink spreads a little into old paper fibres.
    ink_arr = cv2.GaussianBlur(ink_arr, (0, 0), max(0.3, mm_to_px(0.03, dpi)))
    out = cv2.multiply(paper, ink_arr, scale=1 / 255.0)
    red = (int(rng.integers(195, 225)), int(rng.integers(20, 50)), int(rng.integers(35, 65)))
    for seal in seals:
        stamp_seal(out, seal, dpi, rng, red)
    return out, printed


def render_blank_page(dpi: int, seed: int, bleed_through: bool = False) -> np.ndarray:
    """Back side of a duplex sheet: tinted paper with grain; with bleed_through, a faint mirrored
    ghost of a register page (very low contrast, as on thin old paper)."""
    rng = seeded_rng(seed, "blank")
    rr = seeded_random("blank", seed)
    paper = aged_paper(dpi, rng)
    if bleed_through:
        # Render the front at low resolution (a ghost has no fine detail anyway), mirror it.
        gdpi = min(dpi, 75)
        entry = make_entries("KS", 2000 + rr.randrange(20), 1, 1, rr.randrange(1 << 30))[0]
        front, _, _ = _ink_layer(entry, 1, gdpi, rr)
        g = cv2.cvtColor(np.asarray(front), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        g = cv2.GaussianBlur(np.ascontiguousarray(g[:, ::-1]), (0, 0), 1.5)
        k = rng.uniform(0.03, 0.07)         # at most ~7 % darker: faint, as through thin paper
        mult = np.clip((1.0 - k * (1.0 - g)) * 255.0, 0, 255).astype(np.uint8)
        W, H = page_size_px(dpi)
        mult = cv2.resize(mult, (W, H), interpolation=cv2.INTER_LINEAR)
        paper = cv2.multiply(paper, cv2.merge([mult] * 3), scale=1 / 255.0)
    # Dust specks on the back too.
    img = Image.fromarray(paper)
    dd = ImageDraw.Draw(img)
    for _ in range(rr.randint(5, 30)):
        x, y = rr.uniform(0, img.width), rr.uniform(0, img.height)
        r = mm_to_px(rr.uniform(0.08, 0.3), dpi)
        gv = rr.randint(120, 180)
        dd.ellipse([x - r, y - r, x + r, y + r], fill=(gv, gv - 10, gv - 25))
    return np.asarray(img).copy()


def raster(page: Any, dpi: int) -> np.ndarray:
    import pymupdf
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB, alpha=False)
    a = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)
    return a[:, :pix.width * 3].reshape(pix.height, pix.width, 3).copy()


def render_pdf_page(pdf_path: str | Path, page_index: int, dpi: int) -> np.ndarray:
    """Rasterize one page of a PDF (e.g. the station's separator sheets), RGB uint8."""
    import pymupdf
    with pymupdf.open(str(pdf_path)) as doc:
        return raster(doc[page_index], dpi)


# --------------------------------------------------------------------------------------------
# Scanner degradation

@dataclass(frozen=True)
class Degradation:
    skew_deg: float = 0.0          # small rotation, positive = counter-clockwise
    rotation: int = 0              # 0/90/180/270 feed orientation (counter-clockwise), before skew
    blur_sigma: float = 0.0        # gaussian blur in pixels at the page dpi
    noise_sigma: float = 0.0       # gaussian sensor noise, 0-255 scale
    jpeg_quality: int | None = None  # JPEG round trip artefacts
    border_mm: float = 0.0         # dark scanner lid/cradle visible around the sheet, each side
    streaks: int = 0               # vertical light/dark sensor streaks
    brightness: float = 1.0        # global exposure factor


def _background(h: int, w: int, dpi: int, dark: bool, rng: np.random.Generator) -> np.ndarray:
    """Outside the sheet: uneven dark grey (lid open / cradle) or the near-white of a closed lid."""
    lh, lw = max(2, round(h * 25.4 / dpi / 4)), max(2, round(w * 25.4 / dpi / 4))   # 4 mm knots
    if dark:
        g0 = rng.uniform(28, 75)
        yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
        ang = rng.uniform(0, 2 * np.pi)
        grad = ((xx / lw - 0.5) * np.cos(ang) + (yy / lh - 0.5) * np.sin(ang)) * rng.uniform(10, 35)
        f = g0 + grad + smooth_field(rng, lh, lw, 4) * rng.uniform(3, 10)
        cast = np.array([rng.uniform(-4, 2), 0, rng.uniform(-2, 6)], np.float32)  # cool or neutral
        low = np.clip(f[..., None] + cast, 0, 255).astype(np.uint8)
        return cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    v = int(rng.integers(244, 253))
    return np.full((h, w, 3), v, np.uint8)


def degrade_ex(img: np.ndarray, dpi: int, d: Degradation, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """degrade() that also returns the sheet's four corners in the output (float (4, 2) x,y, in the
    order top-left, top-right, bottom-right, bottom-left of the *fed* image, i.e. after `rotation`)."""
    rng = seeded_rng(seed, "degrade")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if d.rotation % 360:
        if d.rotation % 90:
            raise ValueError("rotation must be a multiple of 90")
        img = np.ascontiguousarray(np.rot90(img, (d.rotation // 90) % 4))   # counter-clockwise
    h, w = img.shape[:2]
    a = math.radians(d.skew_deg)
    bw = abs(w * math.cos(a)) + abs(h * math.sin(a))
    bh = abs(w * math.sin(a)) + abs(h * math.cos(a))
    border = mm_to_px(max(0.0, d.border_mm), dpi)
    cw, ch = int(math.ceil(bw + 2 * border)), int(math.ceil(bh + 2 * border))
    # Sheet not perfectly centred on the glass.
    dx, dy = (rng.uniform(-0.4, 0.4, 2) * border) if border > 0 else (0.0, 0.0)
    M = cv2.getRotationMatrix2D((w / 2, h / 2), d.skew_deg, 1.0)
    M[0, 2] += cw / 2 + dx - w / 2
    M[1, 2] += ch / 2 + dy - h / 2
    out = _background(ch, cw, dpi, border > 0, rng)
    if border > 0:
        # Soft shadow cast by the sheet edge onto the cradle, offset to one side.
        s = 8
        Ms = M.copy()
        Ms[:, 2] /= s                      # same rotation, translation in the small canvas
        small = cv2.warpAffine(np.full((max(1, h // s), max(1, w // s)), 255, np.uint8), Ms,
                               (max(1, cw // s), max(1, ch // s)))
        off = rng.uniform(-1, 1, 2) * mm_to_px(1.5, dpi) / s
        shift = np.float32([[1, 0, off[0]], [0, 1, off[1]]])
        small = cv2.warpAffine(small, shift, (small.shape[1], small.shape[0]))
        small = cv2.GaussianBlur(small, (0, 0), max(1.0, mm_to_px(2.0, dpi) / s))
        shade = 255 - (small.astype(np.float32) * rng.uniform(0.3, 0.6)).astype(np.uint8)
        shade = cv2.resize(shade, (cw, ch), interpolation=cv2.INTER_LINEAR)
        out = cv2.multiply(out, cv2.merge([shade] * 3), scale=1 / 255.0)
    cv2.warpAffine(img, M, (cw, ch), dst=out, flags=cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_TRANSPARENT)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    corners = corners @ M[:, :2].T + M[:, 2]
    if d.brightness != 1.0:
        out = cv2.convertScaleAbs(out, alpha=float(d.brightness))
    for _ in range(max(0, d.streaks)):
        x0 = int(rng.integers(0, cw))
        sw = max(1, int(round(mm_to_px(rng.uniform(0.1, 0.6), dpi))))
        delta = float(rng.choice([-1, 1]) * rng.uniform(8, 30))
        col = out[:, x0:x0 + sw].astype(np.int16) + np.int16(delta)
        out[:, x0:x0 + sw] = np.clip(col, 0, 255).astype(np.uint8)
    if d.blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), d.blur_sigma)
    if d.noise_sigma > 0:
        out = add_noise(out, d.noise_sigma, rng, mono=False)
    if d.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, int(d.jpeg_quality)])
        out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out, corners


def degrade(img: np.ndarray, dpi: int, d: Degradation, seed: int) -> np.ndarray:
    """Apply the degradation like a scanner would; the canvas grows to hold the rotated sheet plus
    borders (dark border colour if border_mm > 0, else scanner-white)."""
    return degrade_ex(img, dpi, d, seed)[0]


def random_degradation(rng: np.random.Generator, max_skew: float = 6.0, harsh: bool = False) -> Degradation:
    """A plausible scan: mostly mild; `harsh` adds strong blur/noise/low JPEG quality, wide borders,
    many streaks and occasional sideways/upside-down feeds."""
    skew = float(rng.uniform(-max_skew, max_skew)) if max_skew > 0 else 0.0
    if harsh:
        rotation = int(rng.choice([0, 0, 0, 0, 0, 0, 90, 180, 270]))
        return Degradation(
            skew_deg=round(skew, 3), rotation=rotation,
            blur_sigma=round(float(rng.uniform(0.5, 2.5)), 2),
            noise_sigma=round(float(rng.uniform(4, 14)), 2),
            jpeg_quality=int(rng.integers(25, 60)),
            border_mm=round(float(rng.uniform(5, 25)), 2) if rng.random() < 0.8 else 0.0,
            streaks=int(rng.integers(0, 7)),
            brightness=round(float(rng.uniform(0.75, 1.15)), 3))
    return Degradation(
        skew_deg=round(skew, 3), rotation=0,
        blur_sigma=round(float(rng.uniform(0.0, 1.0)), 2),
        noise_sigma=round(float(rng.uniform(0.0, 5.0)), 2),
        jpeg_quality=int(rng.integers(60, 95)) if rng.random() < 0.4 else None,
        border_mm=round(float(rng.uniform(3, 15)), 2) if rng.random() < 0.6 else 0.0,
        streaks=int(rng.integers(0, 3)) if rng.random() < 0.3 else 0,
        brightness=round(float(rng.uniform(0.92, 1.06)), 3))


# --------------------------------------------------------------------------------------------
# Batches with ground truth

@dataclass(frozen=True)
class CaptureTruth:
    file: str                 # file name written; name order = scan order ("0001.jpg", ...)
    kind: str                 # "separator" | "content" | "blank"
    entries: tuple[int, ...]  # entry numbers the page belongs to (separator: the entries it announces)
    page_in_entry: int        # 1-based for content pages, 0 otherwise
    dpi: int
    degradation: Degradation
    # Sheet corners in the written image (x, y), TL/TR/BR/BL of the fed sheet: truth for crop tests.
    sheet_quad: tuple[tuple[float, float], ...] = ()
    # Content pages: the printed strings on the page (see render_register_page_ex).
    printed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CaptureTruth":
        return cls(file=d["file"], kind=d["kind"], entries=tuple(d["entries"]),
                   page_in_entry=int(d["page_in_entry"]), dpi=int(d["dpi"]),
                   degradation=Degradation(**d["degradation"]),
                   sheet_quad=tuple(tuple(p) for p in d.get("sheet_quad", ())),
                   printed=tuple(d.get("printed", ())))


def load_truth(out_dir: str | Path) -> list[CaptureTruth]:
    with open(Path(out_dir) / "truth.json", encoding="utf-8") as f:
        return [CaptureTruth.from_dict(d) for d in json.load(f)]


def save_image(path: str | Path, img: np.ndarray, dpi: int) -> None:
    """Write RGB (or grey, 2-D) with the DPI in the file's metadata (JFIF density / pHYs / TIFF resolution)."""
    path = Path(path)
    im = Image.fromarray(img)
    ext = path.suffix.lower()
    if ext in (".jpg", ".jpeg"):
        im.save(path, quality=90, dpi=(dpi, dpi))
    elif ext == ".png":
        im.save(path, dpi=(dpi, dpi), compress_level=1)    # fast: these are test fixtures
    elif ext in (".tif", ".tiff"):
        im.save(path, dpi=(dpi, dpi), compression="tiff_lzw")
    else:
        raise ValueError(f"unsupported image format {ext}")


def write_captures(out_dir: str | Path, entries: list[EntryInfo], separator_pdf: str | Path, seed: int, *,
                   dpi_choices: Sequence[int] = (200, 300), pages_per_entry: tuple[int, int] = (1, 3),
                   duplex_blank_rate: float = 0.2, max_skew: float = 6.0,
                   upside_down_separators: int = 1, harsh: bool = False,
                   image_format: str = "jpg", grey_copy_dir: str | Path | None = None) -> list[CaptureTruth]:
    """Simulate a scanned batch: per entry the separator sheet (page i of separator_pdf announces
    entries[i]), then its register pages; duplex blank backs after some sheets. The dpi is drawn per
    sheet (front and back share it). Writes out_dir/NNNN.<fmt> and out_dir/truth.json; with
    grey_copy_dir, the same captures scanned in greyscale there too (same names and truth)."""
    import pymupdf
    fmt = image_format.lower().lstrip(".")
    if fmt not in ("jpg", "jpeg", "png", "tif", "tiff"):
        raise ValueError(f"image_format {image_format!r}: use jpg, png or tif")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grey_out = Path(grey_copy_dir) if grey_copy_dir is not None else None
    if grey_out is not None:
        grey_out.mkdir(parents=True, exist_ok=True)
    rng = seeded_rng(seed, "captures")
    n = len(entries)
    upside = set(int(i) for i in rng.choice(n, size=min(max(0, upside_down_separators), n),
                                            replace=False)) if n else set()
    truths: list[CaptureTruth] = []

    def emit(img: np.ndarray, kind: str, ents: tuple[int, ...], pie: int, dpi: int,
             deg: Degradation, printed: tuple[str, ...] = ()) -> None:
        scanned, quad = degrade_ex(img, dpi, deg, int(rng.integers(1 << 31)))
        name = f"{len(truths) + 1:04d}.{fmt}"
        save_image(out / name, scanned, dpi)
        if grey_out is not None:
            save_image(grey_out / name, cv2.cvtColor(scanned, cv2.COLOR_RGB2GRAY), dpi)
        truths.append(CaptureTruth(name, kind, ents, pie, dpi, deg,
                                   tuple((round(float(x), 2), round(float(y), 2)) for x, y in quad),
                                   printed))

    def maybe_blank(ents: tuple[int, ...], dpi: int) -> None:
        if rng.random() < duplex_blank_rate:
            page = render_blank_page(dpi, int(rng.integers(1 << 31)), bleed_through=bool(rng.random() < 0.5))
            emit(page, "blank", ents, 0, dpi, random_degradation(rng, max_skew, harsh))

    lo, hi = pages_per_entry
    with pymupdf.open(str(separator_pdf)) as doc:
        if doc.page_count < n:
            raise ValueError(f"{separator_pdf}: {doc.page_count} separator pages for {n} entries")
        for i, e in enumerate(entries):
            dpi = int(rng.choice(list(dpi_choices)))
            deg = random_degradation(rng, max_skew, harsh)
            # Exactly `upside_down_separators` separators are fed upside down; the others upright.
            deg = dataclasses.replace(deg, rotation=180 if i in upside else 0)
            emit(raster(doc[i], dpi), "separator", (e.number,), 0, dpi, deg)
            maybe_blank((e.number,), dpi)
            for p in range(1, int(rng.integers(lo, hi + 1)) + 1):
                dpi = int(rng.choice(list(dpi_choices)))
                page, printed = render_register_page_ex(e, p, dpi, int(rng.integers(1 << 31)))
                emit(page, "content", (e.number,), p, dpi, random_degradation(rng, max_skew, harsh), printed)
                maybe_blank((e.number,), dpi)
    for folder in (out, grey_out) if grey_out is not None else (out,):
        with open(folder / "truth.json", "w", encoding="utf-8") as f:
            json.dump([t.to_dict() for t in truths], f, ensure_ascii=False, indent=1)
    return truths


# --------------------------------------------------------------------------------------------
# The Ministry's Excel register

# Registration columns and the child/mother/father columns named in the domain notes; the extra
# child/mother/father/requester codes after them follow the template's naming pattern (unconfirmed).
KS_COLUMNS = ["so", "quyenSo", "trangSo", "ngayDangKy", "loaiDangKy", "noiDangKy", "nguoiKy",
              "chucVuNguoiKy", "nguoiThucHien", "ghiChu",
              "nksHoTen", "nksGioiTinh", "nksNgaySinh", "nksNoiSinh", "nksDanToc", "nksQuocTich",
              "nksQueQuan",
              "meHoTen", "meNamSinh", "meDanToc", "meQuocTich", "meNoiCuTru",
              "chaHoTen", "chaNamSinh", "chaDanToc", "chaQuocTich", "chaNoiCuTru",
              "nycHoTen", "nycQuanHe"]


def write_register_xlsx(path: str | Path, entries: list[EntryInfo], *, with_stt: bool = False,
                        date_style: str = "dotted", pages: dict[int, int] | None = None) -> None:
    """The book's Excel register: one header row of machine codes (optional leading STT), one row
    per entry. date_style: "dotted" dd.mm.yyyy text, "slashed" dd/mm/yyyy text, "excel" real date.
    `pages`: each registration's book page (trangSo), none for one missing from it; by default its row's."""
    import openpyxl
    if date_style not in ("dotted", "slashed", "excel"):
        raise ValueError(f"date_style {date_style!r}")

    def date_cell(d: datetime.date | None) -> Any:
        if d is None:
            return None
        if date_style == "excel":
            return d
        return d.strftime("%d.%m.%Y" if date_style == "dotted" else "%d/%m/%Y")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    header = (["STT"] if with_stt else []) + KS_COLUMNS
    ws.append(header)
    for i, e in enumerate(entries):
        det = entry_details(e)
        row = {
            "so": e.number, "quyenSo": f"{e.volume:02d}/{e.year}",
            "trangSo": pages.get(e.number) if pages else i + 1,
            "ngayDangKy": date_cell(e.reg_date), "loaiDangKy": det["reg_kind"],
            "noiDangKy": det["reg_place"], "nguoiKy": det["signer"],
            "chucVuNguoiKy": det["signer_title"], "nguoiThucHien": det["officer"],
            "ghiChu": det["note"] or None,
            "nksHoTen": e.person_name, "nksGioiTinh": det["gender"],
            "nksNgaySinh": date_cell(det["birth_date"]), "nksNoiSinh": det["birth_place"],
            "nksDanToc": det["ethnic"], "nksQuocTich": det["nationality"],
            "nksQueQuan": det["home_town"],
            "meHoTen": det["mother"], "meNamSinh": det["mother_year"], "meDanToc": det["mother_ethnic"],
            "meQuocTich": "Việt Nam", "meNoiCuTru": det["mother_home"],
            "chaHoTen": det["father"] or None, "chaNamSinh": det["father_year"],
            "chaDanToc": det["father_ethnic"] or None,
            "chaQuocTich": "Việt Nam" if det["father"] else None,
            "chaNoiCuTru": det["father_home"] or None,
            "nycHoTen": det["requester"], "nycQuanHe": det["requester_relation"],
        }
        ws.append(([i + 1] if with_stt else []) + [row[c] for c in KS_COLUMNS])
        if date_style == "excel":
            for c in ("ngayDangKy", "nksNgaySinh"):
                ws.cell(row=ws.max_row, column=header.index(c) + 1).number_format = "dd/mm/yyyy"
    wb.save(str(path))


# --------------------------------------------------------------------------------------------
# Command line: a sample batch for benchmarks

def write_plain_separator_pdf(path: str | Path, entries: list[EntryInfo]) -> None:
    """Stand-in separator sheets (big text, no barcode) for when the station's own are not at hand."""
    import pymupdf
    doc = pymupdf.open()
    for e in entries:
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 200), f"SEPARATOR {e.book_type}.{e.year}.{e.volume:02d} #{e.number}",
                         fontsize=28)
        page.draw_rect(pymupdf.Rect(60, 60, 535, 782), width=4)
    doc.save(str(path))
    doc.close()


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write a synthetic scanned batch with truth.json")
    ap.add_argument("out_dir")
    ap.add_argument("--entries", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--separator-pdf", help="separator sheets; plain stand-ins if omitted")
    ap.add_argument("--harsh", action="store_true")
    ap.add_argument("--format", default="jpg")
    a = ap.parse_args(argv)
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = make_entries("KS", 2017, 1, a.entries, a.seed)
    sep = Path(a.separator_pdf) if a.separator_pdf else out / "separators.pdf"
    if not a.separator_pdf:
        write_plain_separator_pdf(sep, entries)
    write_register_xlsx(out / "register.xlsx", entries)
    truths = write_captures(out / "captures", entries, sep, a.seed, harsh=a.harsh, image_format=a.format)
    print(f"{len(truths)} captures in {out / 'captures'}")


if __name__ == "__main__":
    main()
