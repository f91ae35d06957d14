"""Write the export workbook: the register as imported plus one column of PDF file names.

Safety rules:
- no formula from the input ever reaches the output: every text cell is written as a plain string
  (inline string, data type "s"); text that Excel or a CSV consumer could take for a formula
  (starting with = + - @ tab CR) also gets the quote-prefix style, so editing it in Excel keeps it
  text. The written file is reloaded and refused if any cell is a formula.
- the file is written atomically (temp file in the same folder, fsync, os.replace), mode 0600: it
  holds citizens' personal data.
- the same register and file names give the same bytes: the document dates and every part's zip
  date are EXPORT_DATE, not the time of saving, so a re-export (after a crash, on another station)
  can be compared by checksum.

Note: openpyxl spools each sheet's XML through a temporary file in the system temp folder (mode
0600, removed after saving). Point TMPDIR at the station home if that matters.
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.xml.functions import tostring

from station.catalog.register import Register
from station.catalog.storage import write_atomic

DATE_FORMAT = "dd.mm.yyyy"
DATETIME_FORMAT = "dd.mm.yyyy hh:mm:ss"
RISKY_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (and so .xlsx) cannot hold; a register read from .xlsx never has them.
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_MAX_TEXT = 32767
# The date export files carry (zip entries of the export and of the workbook, workbook properties).
EXPORT_DATE = datetime(2000, 1, 1)


def text_cell(ws, text: str) -> WriteOnlyCell:
    text = _XML_ILLEGAL_RE.sub("", text)[:_EXCEL_MAX_TEXT]
    cell = WriteOnlyCell(ws)
    cell.value = text
    cell.data_type = "s"  # never "f" (formula) or "e" (error code): plain text
    if text.startswith(RISKY_START):
        cell.quotePrefix = True
    return cell


def _cell(ws, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (ArrayFormula, DataTableFormula)):
        value = getattr(value, "text", None) or "="
    if isinstance(value, str):
        return text_cell(ws, value)
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value.replace(tzinfo=None))
        has_time = (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0)
        cell.number_format = DATETIME_FORMAT if has_time else DATE_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, (time, timedelta)):
        return WriteOnlyCell(ws, value.replace(tzinfo=None) if isinstance(value, time) else value)
    return text_cell(ws, str(value))


# A formula is an <f> element (any namespace prefix) inside a worksheet part. Text and attribute
# values cannot hold a raw "<" in XML, so this pattern finds every <f> element and nothing else.
_FORMULA_TAG_RE = re.compile(rb"<(?:[A-Za-z_][A-Za-z0-9_.-]*:)?f[\s/>]")
_CHUNK = 1 << 20


def verify_no_formula(written: io.BytesIO, export_path: str) -> None:
    """Reopen the written file and refuse it if any worksheet holds a formula element.

    Scans the worksheet XML itself (independent of openpyxl's reader, and ~50x faster than
    loading every cell back).
    """
    with zipfile.ZipFile(written) as zf:
        parts = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not parts:
            raise RuntimeError(f"Tệp xuất {export_path}: không có trang tính / export "
                               f"{export_path}: no worksheet written")
        for name in parts:
            with zf.open(name) as part:
                tail = b""
                while True:
                    chunk = part.read(_CHUNK)
                    if not chunk:
                        break
                    window = tail + chunk
                    if _FORMULA_TAG_RE.search(window):
                        raise RuntimeError(
                            f"Tệp xuất {export_path}: có ô thành công thức; đã hủy ghi / export "
                            f"{export_path}: a cell became a formula; write cancelled")
                    tail = window[-64:]


def write_export_workbook(path: str | os.PathLike, register: Register, file_names: dict[int, str],
                          file_column: str = "tenTepDinhKem") -> None:
    """Write `register`'s header and entries (same columns, same order) plus `file_column`.

    `file_names` maps registration number -> PDF file name; entries without one get an empty
    cell. If the register already has a column named `file_column` (case-insensitive), that column
    is filled instead of adding a second one. Raises ValueError for numbers not in the register.
    """
    path_s = os.fspath(path)
    numbers = {e.number for e in register.entries}
    unknown = sorted(n for n in file_names if n not in numbers)
    if unknown:
        shown = ", ".join(str(n) for n in unknown[:20]) + (" …" if len(unknown) > 20 else "")
        raise ValueError(f"Tệp xuất {path_s}: số đăng ký không có trong sổ đăng ký: {shown} / export "
                         f"{path_s}: registration numbers not in the register: {shown}")

    width = len(register.header)
    file_pos = register.column_index(file_column)
    if file_pos is None:
        file_pos = width
        header = [*register.header, file_column]
        unnamed = set(register.unnamed_columns)
    else:
        header = list(register.header)
        unnamed = set(register.unnamed_columns) - {file_pos}

    wb = Workbook(write_only=True)
    try:
        ws = wb.create_sheet(title=register.sheet)
    except ValueError:
        ws = wb.create_sheet(title="DangKy")
    ws.append([None if i in unnamed else text_cell(ws, h) for i, h in enumerate(header)])
    for entry in register.entries:
        values = list(entry.values[:width]) + [None] * (width - len(entry.values))
        if file_pos == width:
            values.append(None)
        name = file_names.get(entry.number)
        values[file_pos] = name if name else None
        ws.append([_cell(ws, v) for v in values])

    buffer = io.BytesIO()
    wb.save(buffer)
    verify_no_formula(buffer, path_s)
    write_atomic(Path(path_s), _dated(buffer, wb))


def _dated(saved: io.BytesIO, wb: Workbook) -> bytes:
    """The saved workbook again, its properties and every part dated EXPORT_DATE (openpyxl stamps
    both with the time of saving)."""
    wb.properties.created = wb.properties.modified = EXPORT_DATE
    core = tostring(wb.properties.to_tree())
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=EXPORT_DATE.timetuple()[:6])
            part.compress_type, part.external_attr = info.compress_type, info.external_attr
            target.writestr(part, core if info.filename == "docProps/core.xml" else source.read(info))
    return out.getvalue()
