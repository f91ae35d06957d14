"""PDF file names for vendor import tools: `LOAI.NAM.QUYEN.YYYY-MM-DD.SO.pdf`.

e.g. `KS.2017.01.2017-02-03.05.pdf`. The pattern is vendor practice, not Ministry text, so it lives
in the profile (`NamingSettings`). Vendor tools reject names that split into fewer than six
dot-separated parts and file PDFs by the first four fields.
"""
from __future__ import annotations

import re
import string
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from station.catalog.books import BookId

FIELDS = frozenset({"loai", "nam", "quyen", "ngay", "so"})
MIN_PARTS = 6
# Characters allowed anywhere in a produced name (and in the template's literal text).
_SAFE_LITERAL_RE = re.compile(r"[A-Za-z0-9._-]*")
_SAFE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.pdf")
_MAX_NAME_LEN = 200

_SAMPLE_BOOK = BookId("KS", 2017, 1)
_SAMPLE_DATE = date(2017, 2, 3)
_SAMPLE_NUMBER = 5


class NameNotReady(ValueError):
    """The entry's registration date is not known yet: the station holds the file name."""

    def __init__(self, book: BookId, number: int):
        super().__init__(
            f"Sổ {book}, số {number}: chưa có ngày đăng ký (ngayDangKy) nên chưa đặt được tên tệp; "
            f"bổ sung ngày trong sổ đăng ký Excel / book {book}, entry {number}: registration date "
            f"unknown, the file cannot be named yet; add the date to the Excel register")
        self.book = book
        self.number = number


class NamingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = "{loai}.{nam}.{quyen}.{ngay}.{so}.pdf"
    # Zero padding of the registration number: 2 -> 05, 62, 120; 3 -> 005, 062, 120.
    number_width: int = Field(2, ge=1, le=6)
    # Zero padding of the volume (QUYEN).
    volume_width: int = Field(2, ge=1, le=3)

    @model_validator(mode="after")
    def _check_template(self) -> "NamingSettings":
        t = self.template
        try:
            parsed = list(string.Formatter().parse(t))
        except ValueError as exc:
            raise ValueError(f"naming.template {t!r}: dấu ngoặc {{}} sai / bad braces ({exc})") from None
        used: set[str] = set()
        for literal, field_name, spec, conversion in parsed:
            if not _SAFE_LITERAL_RE.fullmatch(literal):
                raise ValueError(
                    f"naming.template {t!r}: chỉ dùng chữ không dấu, số, '.', '-', '_' ngoài các "
                    f"trường / only letters, digits, '.', '-', '_' are allowed outside the fields")
            if field_name is None:
                continue
            if field_name not in FIELDS:
                raise ValueError(
                    f"naming.template {t!r}: trường {{{field_name}}} không có; dùng "
                    f"{', '.join('{' + f + '}' for f in sorted(FIELDS))} / unknown field "
                    f"{{{field_name}}}; known fields: {', '.join(sorted(FIELDS))}")
            if spec or conversion:
                raise ValueError(
                    f"naming.template {t!r}: không dùng định dạng trong trường {{{field_name}}}; "
                    f"độ rộng đặt bằng number_width / volume_width / no format spec or conversion "
                    f"in fields; set padding with number_width / volume_width")
            used.add(field_name)
        missing = [f for f in ("so", "ngay") if f not in used]
        if missing:
            raise ValueError(
                f"naming.template {t!r}: thiếu trường {', '.join('{' + f + '}' for f in missing)} "
                f"/ template must contain {', '.join('{' + f + '}' for f in missing)}")
        if not t.endswith(".pdf"):
            raise ValueError(f"naming.template {t!r}: phải kết thúc bằng .pdf / must end with .pdf")
        sample = _render(self, _SAMPLE_BOOK, _SAMPLE_NUMBER, _SAMPLE_DATE)
        parts = sample.split(".")
        if len(parts) < MIN_PARTS or any(not p for p in parts):
            raise ValueError(
                f"naming.template {t!r}: tên mẫu {sample!r} phải tách được thành ít nhất {MIN_PARTS} "
                f"phần khác rỗng bởi dấu chấm (công cụ nhập liệu từ chối tên ngắn hơn) / sample "
                f"name {sample!r} must split into at least {MIN_PARTS} non-empty dot-separated "
                f"parts (vendor import tools reject fewer)")
        if not _SAFE_NAME_RE.fullmatch(sample):
            raise ValueError(
                f"naming.template {t!r}: tên mẫu {sample!r} phải bắt đầu bằng chữ hoặc số / sample "
                f"name {sample!r} must start with a letter or digit")
        return self


def _render(settings: NamingSettings, book: BookId, number: int, reg_date: date) -> str:
    # Explicit fields, not isoformat(): a datetime would add the time, and years < 1000 vary.
    return settings.template.format(
        loai=book.book_type,
        nam=f"{book.year:04d}",
        quyen=f"{book.volume:0{settings.volume_width}d}",
        ngay=f"{reg_date.year:04d}-{reg_date.month:02d}-{reg_date.day:02d}",
        so=f"{number:0{settings.number_width}d}",
    )


def pdf_name(settings: NamingSettings, book: BookId, number: int, reg_date: date | None) -> str:
    """The PDF file name of one registration. Raises NameNotReady while the date is unknown."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValueError(f"Sổ {book}: số đăng ký {number!r} không hợp lệ / book {book}: invalid "
                         f"registration number {number!r}")
    if reg_date is None:
        raise NameNotReady(book, number)
    if not isinstance(reg_date, date):
        raise TypeError(f"reg_date must be a date, got {type(reg_date).__name__}")
    name = _render(settings, book, number, reg_date)
    # Inputs are validated types, so this cannot fail; checked anyway because the name becomes a
    # path component (no separators, no leading dot, nothing a shell or zip tool could misread).
    if not _SAFE_NAME_RE.fullmatch(name) or len(name) > _MAX_NAME_LEN:
        raise AssertionError(f"unsafe file name built for book {book}, entry {number}")
    return name
