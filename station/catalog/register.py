"""Read a book's register: the Ministry's Excel template, one row per registration.

Columns are found by header name (machine codes such as `so`, `quyenSo`, `ngayDangKy`), never by
position. The reader collects every problem in the file and refuses it once, with row numbers, so
staff can fix the whole sheet in one go.

Privacy: messages carry row numbers, column names and (short, number-like) `so` values only; never
a citizen's name, birth date or other cell content.
"""
from __future__ import annotations

import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from station.catalog.books import BookId
from station.errors import RegisterError

HEADER_SEARCH_ROWS = 10
MAX_DATA_ROWS = 100_000
MAX_COLUMNS = 1_000
# Raw rows read (empty ones included) before giving up: Excel's own sheet limit.
MAX_SHEET_ROWS = 1_048_576
# Sum of uncompressed part sizes in the .xlsx (zip-bomb guard).
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024

COL_SO = "so"
COL_QUYEN_SO = "quyenSo"
COL_TRANG_SO = "trangSo"
COL_NGAY_DANG_KY = "ngayDangKy"
KEY_COLUMNS = (COL_SO, COL_QUYEN_SO, COL_TRANG_SO, COL_NGAY_DANG_KY)
# Columns where a formula is refused (the station derives names and checks from them).
FORMULA_REFUSED = (COL_SO, COL_QUYEN_SO, COL_NGAY_DANG_KY)

_DIGITS_RE = re.compile(r"[0-9]+")
_DATE_RE = re.compile(r"([0-9]{1,2})([./])([0-9]{1,2})\2([0-9]{4})")
_QUYEN_FULL_RE = re.compile(r"([0-9]{1,3})\s*/\s*([0-9]{4})")
_QUYEN_SHORT_RE = re.compile(r"[0-9]{1,3}")
_SHOWABLE_SO_RE = re.compile(r"[0-9A-Za-z.,/+\- ]{1,12}")


@dataclass(frozen=True)
class RegisterEntry:
    number: int
    reg_date: date | None
    page_no: str | None
    row_index: int
    values: tuple


@dataclass(frozen=True)
class Register:
    path: str
    sheet: str
    header: tuple[str, ...]
    header_row: int
    entries: tuple[RegisterEntry, ...]
    # 0-based positions of columns whose header cell was empty (named `col{N}` in `header`);
    # the export writes those header cells empty again.
    unnamed_columns: frozenset[int] = field(default=frozenset())

    def column_index(self, name: str) -> int | None:
        """Position of a column by header name (case-insensitive, stripped), or None."""
        wanted = name.strip().casefold()
        for i, h in enumerate(self.header):
            if h.strip().casefold() == wanted:
                return i
        return None


# --------------------------------------------------------------------------------------------
# cell helpers


def _plain(value: Any) -> Any:
    """openpyxl formula objects -> their formula text, so no object can reach an export as a formula."""
    if isinstance(value, ArrayFormula):
        text = value.text or "="
        return text if text.startswith("=") else "=" + text
    if isinstance(value, DataTableFormula):
        return f"=TABLE({getattr(value, 'r1', '') or ''},{getattr(value, 'r2', '') or ''})"
    return value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _show_so(value: Any) -> str:
    """The `so` value for a message, only when it cannot be personal data (short, has a digit)."""
    text = str(value).strip()
    if _SHOWABLE_SO_RE.fullmatch(text) and any(c.isdigit() for c in text):
        return f" {text!r}"
    return ""


def _parse_so(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, float):
        if value.is_integer() and value >= 1:
            return int(value)
        return None
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS_RE.fullmatch(text):
            n = int(text)
            return n if n >= 1 else None
    return None


class _Unreadable(Exception):
    def __init__(self, why_vi: str, why_en: str):
        super().__init__(why_en)
        self.why_vi, self.why_en = why_vi, why_en


def _parse_date(value: Any) -> date | None:
    """Registration date; None when the cell is empty. Raises _Unreadable otherwise."""
    if _is_empty(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        m = _DATE_RE.fullmatch(value.strip())
        if m:
            try:
                return date(int(m.group(4)), int(m.group(3)), int(m.group(1)))
            except ValueError:
                raise _Unreadable("ngày không có thật", "no such date") from None
        raise _Unreadable("cần dạng dd.mm.yyyy", "expected dd.mm.yyyy")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise _Unreadable("ô là số, hãy định dạng ô là ngày hoặc nhập dd.mm.yyyy",
                          "the cell holds a number; format it as a date or type dd.mm.yyyy")
    if isinstance(value, (time, timedelta)):
        raise _Unreadable("ô chỉ có giờ, không có ngày", "the cell holds a time, not a date")
    raise _Unreadable("cần dạng dd.mm.yyyy", "expected dd.mm.yyyy")


def _quyen_matches(value: Any, book: BookId) -> bool | None:
    """True/False when quyenSo agrees/contradicts the book; None when unreadable. Empty -> True."""
    if _is_empty(value):
        return True
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value == book.volume
    if isinstance(value, float):
        return value == book.volume if value.is_integer() else None
    if isinstance(value, datetime) or isinstance(value, date):
        # Excel turns a typed "01/2017" into 1 January 2017 (month/year); accept that reading.
        return value.day == 1 and value.month == book.volume and value.year == book.year
    if isinstance(value, str):
        text = value.strip()
        m = _QUYEN_FULL_RE.fullmatch(text)
        if m:
            return int(m.group(1)) == book.volume and int(m.group(2)) == book.year
        if _QUYEN_SHORT_RE.fullmatch(text):
            return int(text) == book.volume
    return None


def _header_name(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _last_filled(row: tuple) -> int:
    """Length of the row without trailing empty cells."""
    n = len(row)
    while n and _is_empty(row[n - 1]):
        n -= 1
    return n


# --------------------------------------------------------------------------------------------
# opening the file


def _refuse(path: str, vi: str, en: str) -> RegisterError:
    return RegisterError(path, [f"{vi} / {en}"])


def _check_container(path: str, fh) -> None:
    head = fh.read(8)
    fh.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(path,
                      "tệp là dạng .xls cũ hoặc có đặt mật khẩu; mở bằng Excel, bỏ mật khẩu và lưu "
                      "lại dạng .xlsx",
                      "old .xls format or password-protected workbook; open it in Excel, remove the "
                      "password and save as .xlsx")
    if not head.startswith(b"PK"):
        raise _refuse(path,
                      "không phải tệp Excel .xlsx; dùng mẫu Excel của Bộ Tư pháp và lưu dạng .xlsx",
                      "not an .xlsx workbook; use the Ministry's Excel template saved as .xlsx")
    try:
        with zipfile.ZipFile(fh) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise _refuse(path, "tệp .xlsx bị hỏng; mở bằng Excel và lưu lại",
                      "damaged .xlsx file; open it in Excel and save it again") from None
    finally:
        fh.seek(0)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(path, "tệp .xlsx quá lớn khi giải nén; mỗi sổ cần một tệp riêng",
                      "the .xlsx is too large when unpacked; keep one book per file")


def read_register(path: str | os.PathLike, book: BookId) -> Register:
    """Read and check the register for `book`. Raises RegisterError listing every problem."""
    path_s = os.fspath(path)
    try:
        fh = open(path_s, "rb")
    except FileNotFoundError:
        raise _refuse(path_s, "không tìm thấy tệp; kiểm tra đường dẫn",
                      "file not found; check the path") from None
    except IsADirectoryError:
        raise _refuse(path_s, "đây là thư mục, không phải tệp Excel",
                      "this is a folder, not an Excel file") from None
    except PermissionError:
        raise _refuse(path_s, "không có quyền đọc tệp; kiểm tra quyền truy cập",
                      "no permission to read the file; check its permissions") from None
    except OSError as exc:
        raise _refuse(path_s, f"không mở được tệp ({exc.strerror or type(exc).__name__})",
                      f"cannot open the file ({exc.strerror or type(exc).__name__})") from None
    with fh:
        _check_container(path_s, fh)
        try:
            with warnings.catch_warnings():
                # openpyxl warns about unsupported extensions (data validation, ...): not our concern.
                warnings.simplefilter("ignore", UserWarning)
                wb = load_workbook(fh, read_only=True, data_only=False)
        except RegisterError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            raise _refuse(path_s,
                          f"không đọc được tệp Excel ({type(exc).__name__}); mở bằng Excel và lưu lại "
                          ".xlsx",
                          f"cannot read the workbook ({type(exc).__name__}); open it in Excel and "
                          "save it again as .xlsx") from None
        try:
            return _read_workbook(path_s, wb, book)
        except RegisterError:
            raise
        except Exception as exc:
            raise _refuse(path_s,
                          f"không đọc được nội dung tệp Excel ({type(exc).__name__}); mở bằng Excel "
                          "và lưu lại .xlsx",
                          f"cannot read the workbook's content ({type(exc).__name__}); open it in "
                          "Excel and save it again as .xlsx") from None
        finally:
            wb.close()


def _read_workbook(path: str, wb, book: BookId) -> Register:
    for ws in wb.worksheets:
        found = _read_sheet(path, ws, book)
        if found is not None:
            return found
    raise _refuse(path,
                  f"không tìm thấy dòng tiêu đề có cột 'so' trong {HEADER_SEARCH_ROWS} dòng đầu của "
                  "bất kỳ trang tính nào; dùng mẫu Excel của Bộ Tư pháp (dòng mã cột: so, quyenSo, "
                  "trangSo, ngayDangKy, …)",
                  f"no header row with a 'so' column in the first {HEADER_SEARCH_ROWS} rows of any "
                  "sheet; use the Ministry's template (header of column codes: so, quyenSo, "
                  "trangSo, ngayDangKy, …)")


def _read_sheet(path: str, ws, book: BookId) -> Register | None:
    # The <dimension> element is often wrong (too small or the whole sheet); ignore it.
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    rows = ws.iter_rows(min_row=1, min_col=1, values_only=True)

    header_raw: tuple | None = None
    header_row = 0
    for row_index, row in enumerate(rows, start=1):
        if row_index > HEADER_SEARCH_ROWS:
            return None
        if any(_header_name(v).casefold() == COL_SO for v in row):
            header_raw, header_row = tuple(row), row_index
            break
    if header_raw is None:
        return None

    # Collect the non-empty data rows (trimmed of trailing empty cells).
    data: list[tuple[int, tuple]] = []
    width = _last_filled(header_raw)
    for row_index, row in enumerate(rows, start=header_row + 1):
        if row_index > MAX_SHEET_ROWS:
            raise _refuse(path, f"trang tính '{ws.title}' có quá nhiều dòng",
                          f"sheet '{ws.title}' has too many rows")
        n = _last_filled(row)
        if n == 0:
            continue
        if n > MAX_COLUMNS:
            raise _refuse(path,
                          f"Dòng {row_index}: có dữ liệu ở cột {get_column_letter(n)}, quá "
                          f"{MAX_COLUMNS} cột; xóa dữ liệu thừa bên phải bảng",
                          f"row {row_index}: data in column {get_column_letter(n)}, beyond "
                          f"{MAX_COLUMNS} columns; delete stray data right of the table")
        if len(data) >= MAX_DATA_ROWS:
            raise _refuse(path,
                          f"trang tính '{ws.title}' có hơn {MAX_DATA_ROWS} dòng dữ liệu; mỗi sổ "
                          "cần một tệp Excel riêng",
                          f"sheet '{ws.title}' has more than {MAX_DATA_ROWS} data rows; keep one "
                          "book per Excel file")
        data.append((row_index, tuple(_plain(v) for v in row[:n])))
        width = max(width, n)
    if width > MAX_COLUMNS:
        raise _refuse(path, f"dòng tiêu đề có hơn {MAX_COLUMNS} cột",
                      f"the header row has more than {MAX_COLUMNS} columns")

    header: list[str] = []
    unnamed: set[int] = set()
    for i in range(width):
        name = _header_name(header_raw[i]) if i < len(header_raw) else ""
        if not name:
            name = f"col{i + 1}"
            unnamed.add(i)
        header.append(name)

    problems: list[str] = []
    key_pos: dict[str, int] = {}
    for key in KEY_COLUMNS:
        positions = [i for i, h in enumerate(header)
                     if i not in unnamed and h.casefold() == key.casefold()]
        if len(positions) > 1:
            letters = ", ".join(get_column_letter(p + 1) for p in positions)
            problems.append(f"Dòng {header_row}: cột {key} xuất hiện nhiều lần (cột {letters}); "
                            f"chỉ giữ một / row {header_row}: column {key} appears more than once "
                            f"(columns {letters}); keep one")
        if positions:
            key_pos[key] = positions[0]

    entries: list[RegisterEntry] = []
    first_row_of: dict[int, int] = {}
    for row_index, trimmed in data:
        values = trimmed + (None,) * (width - len(trimmed))
        row_problems: list[str] = []

        def cell(key: str) -> Any:
            pos = key_pos.get(key)
            return values[pos] if pos is not None else None

        def formula(key: str) -> bool:
            if _is_formula(cell(key)):
                row_problems.append(
                    f"Dòng {row_index}: cột {key} chứa công thức; hãy nhập giá trị thay cho công thức"
                    f" / row {row_index}: column {key} holds a formula; type the value instead")
                return True
            return False

        # so
        number: int | None = None
        raw_so = cell(COL_SO)
        if not formula(COL_SO):
            if _is_empty(raw_so):
                row_problems.append(f"Dòng {row_index}: thiếu số đăng ký (so)"
                                    f" / row {row_index}: missing registration number (so)")
            else:
                number = _parse_so(raw_so)
                if number is None:
                    shown = _show_so(raw_so)
                    row_problems.append(
                        f"Dòng {row_index}: số đăng ký (so){shown} không phải số nguyên dương"
                        f" / row {row_index}: registration number (so){shown} is not a positive "
                        "whole number")
        if number is not None:
            if number in first_row_of:
                row_problems.append(
                    f"Dòng {row_index}: số đăng ký {number} trùng với dòng {first_row_of[number]}"
                    f" / row {row_index}: registration number {number} duplicates row "
                    f"{first_row_of[number]}")
            else:
                first_row_of[number] = row_index

        # quyenSo
        if COL_QUYEN_SO in key_pos and not formula(COL_QUYEN_SO):
            match = _quyen_matches(cell(COL_QUYEN_SO), book)
            if match is None:
                row_problems.append(
                    f"Dòng {row_index}: quyển số (quyenSo) không đọc được, cần dạng {book.quyen_so}"
                    f" / row {row_index}: volume (quyenSo) unreadable, expected {book.quyen_so}")
            elif not match:
                row_problems.append(
                    f"Dòng {row_index}: quyển số (quyenSo) không khớp với sổ {book} (cần "
                    f"{book.quyen_so}) / row {row_index}: volume (quyenSo) does not match book "
                    f"{book} (expected {book.quyen_so})")

        # ngayDangKy
        reg_date: date | None = None
        if COL_NGAY_DANG_KY in key_pos and not formula(COL_NGAY_DANG_KY):
            try:
                reg_date = _parse_date(cell(COL_NGAY_DANG_KY))
            except _Unreadable as exc:
                row_problems.append(
                    f"Dòng {row_index}: ngày đăng ký (ngayDangKy) không đọc được, {exc.why_vi}"
                    f" / row {row_index}: registration date (ngayDangKy) unreadable, {exc.why_en}")

        # trangSo: informative only, kept as text
        page_no: str | None = None
        raw_page = cell(COL_TRANG_SO)
        if not _is_empty(raw_page):
            if isinstance(raw_page, float) and raw_page.is_integer():
                raw_page = int(raw_page)
            page_no = str(raw_page).strip()

        if row_problems:
            problems.extend(row_problems)
        elif number is not None:
            entries.append(RegisterEntry(number=number, reg_date=reg_date, page_no=page_no,
                                         row_index=row_index, values=values))

    if problems:
        raise RegisterError(path, problems)
    return Register(path=path, sheet=ws.title, header=tuple(header), header_row=header_row,
                    entries=tuple(entries), unnamed_columns=frozenset(unnamed))
