"""Book ids (`LOAI.NAM.QUYEN`, e.g. `KS.2017.01`) and entry ranges (`1-120,125,130-131`).

A book id names one physical register: book type code (KS, KT, KH, CMC, HN, ...; the list of
known codes lives in configuration, not here), year, and volume within that year.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from station.errors import BookError

YEAR_MIN = 1900
YEAR_MAX = 2100
VOLUME_MAX = 999
MAX_RANGE_ENTRIES = 100_000

# ASCII only on purpose: `\d` would also match Arabic-Indic and other Unicode digits.
_BOOK_TYPE_RE = re.compile(r"[A-Z]{2,4}")
_BOOK_ID_RE = re.compile(r"([A-Z]{2,4})\.([0-9]{4})\.([0-9]{1,3})")
_NUMBER_RE = re.compile(r"[0-9]{1,9}")

_FORMAT_HINT = "dạng LOAI.NAM.QUYEN, ví dụ KS.2017.01 / expected LOAI.NAM.QUYEN, e.g. KS.2017.01"


@dataclass(frozen=True)
class BookId:
    book_type: str
    year: int
    volume: int

    def __post_init__(self) -> None:
        # Validate direct construction too: file names are built from these fields.
        if not isinstance(self.book_type, str) or not _BOOK_TYPE_RE.fullmatch(self.book_type):
            raise BookError(
                f"Loại sổ {self.book_type!r} không hợp lệ: cần 2–4 chữ in hoa (KS, KT, KH, CMC, HN…)"
                f" / invalid book type {self.book_type!r}: 2–4 uppercase letters expected")
        if (not isinstance(self.year, int) or isinstance(self.year, bool)
                or not YEAR_MIN <= self.year <= YEAR_MAX):
            raise BookError(
                f"Năm của sổ {self.year!r} không hợp lệ: cần {YEAR_MIN}–{YEAR_MAX}"
                f" / invalid book year {self.year!r}: expected {YEAR_MIN}–{YEAR_MAX}")
        if (not isinstance(self.volume, int) or isinstance(self.volume, bool)
                or not 1 <= self.volume <= VOLUME_MAX):
            raise BookError(
                f"Quyển số {self.volume!r} không hợp lệ: cần 1–{VOLUME_MAX}"
                f" / invalid volume {self.volume!r}: expected 1–{VOLUME_MAX}")

    @classmethod
    def parse(cls, text: str) -> "BookId":
        """`KS.2017.01` -> BookId("KS", 2017, 1). Surrounding spaces are ignored; case is not."""
        if not isinstance(text, str):
            raise BookError(f"Mã sổ phải là chuỗi / book id must be text: {_FORMAT_HINT}")
        stripped = text.strip()
        shown = stripped[:40]
        m = _BOOK_ID_RE.fullmatch(stripped)
        if m is None:
            hint = ""
            if _BOOK_ID_RE.fullmatch(stripped.upper()):
                hint = f" (viết hoa / use uppercase: {stripped.upper()})"
            raise BookError(f"Mã sổ {shown!r} không hợp lệ / invalid book id{hint}: {_FORMAT_HINT}")
        book_type, year, volume = m.group(1), int(m.group(2)), int(m.group(3))
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise BookError(f"Mã sổ {shown!r}: năm {year} ngoài khoảng {YEAR_MIN}–{YEAR_MAX}"
                            f" / book id {shown!r}: year {year} outside {YEAR_MIN}–{YEAR_MAX}")
        if volume < 1:
            raise BookError(f"Mã sổ {shown!r}: quyển số phải từ 1 trở lên"
                            f" / book id {shown!r}: volume must be 1 or more")
        return cls(book_type, year, volume)

    def __str__(self) -> str:
        return f"{self.book_type}.{self.year}.{self.volume:02d}"

    @property
    def quyen_so(self) -> str:
        """The register's `quyenSo` form: `01/2017`."""
        return f"{self.volume:02d}/{self.year}"


def parse_entry_range(text: str) -> list[int]:
    """`"1-120,125,130-131"` -> sorted unique entry numbers (each >= 1).

    Spaces around numbers, dashes and commas are ignored. Raises BookError naming the faulty part.
    At most MAX_RANGE_ENTRIES numbers in total (checked before expanding the ranges).
    """
    if not isinstance(text, str) or not text.strip():
        raise BookError("Danh sách số đăng ký trống; ví dụ 1-120,125 / empty entry list; e.g. 1-120,125")
    numbers: set[int] = set()
    total = 0
    for raw in text.split(","):
        part = raw.strip()
        shown = part[:30]
        if not part:
            raise BookError(f"Danh sách số {text.strip()[:60]!r} có phần trống (dấu phẩy thừa)"
                            f" / entry list has an empty part (extra comma)")
        if "-" in part:
            lo_text, _, hi_text = part.partition("-")
            lo_text, hi_text = lo_text.strip(), hi_text.strip()
            if not _NUMBER_RE.fullmatch(lo_text) or not _NUMBER_RE.fullmatch(hi_text):
                raise BookError(f"Khoảng số {shown!r} không hợp lệ, cần dạng 1-120"
                                f" / invalid range {shown!r}, expected e.g. 1-120")
            lo, hi = int(lo_text), int(hi_text)
            if lo > hi:
                raise BookError(f"Khoảng số {shown!r}: số đầu lớn hơn số cuối"
                                f" / range {shown!r}: start is above end")
        else:
            if not _NUMBER_RE.fullmatch(part):
                raise BookError(f"Số đăng ký {shown!r} không hợp lệ, cần số nguyên dương"
                                f" / invalid entry number {shown!r}, expected a positive whole number")
            lo = hi = int(part)
        if lo < 1:
            raise BookError(f"Số đăng ký phải từ 1 trở lên ({shown!r}) / entry numbers start at 1 ({shown!r})")
        total += hi - lo + 1
        if total > MAX_RANGE_ENTRIES:
            raise BookError(f"Danh sách số quá dài (hơn {MAX_RANGE_ENTRIES} số)"
                            f" / entry list too long (more than {MAX_RANGE_ENTRIES} numbers)")
        numbers.update(range(lo, hi + 1))
    return sorted(numbers)
