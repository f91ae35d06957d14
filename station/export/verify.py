"""Re-check an export (`BOOK.zip` + `BOOK.xlsx`) so the commune can verify what it received.

Reads the zip without extracting it: every member is checked against the manifest (SHA-256, page
count, size budget, page resolution), every name against the vendor naming rule, and the register's
file-name column against the PDFs. Problems name the file only, never any cell or page content.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

import pymupdf

from pipeline.encode import A4_AREA_MM2, MIN_BUDGET_A4
from station.catalog.books import BookId
from station.config import Profile
from station.errors import InputError, StationError
from station.export.naming import MIN_PARTS

MANIFEST = "manifest.json"
# Guards for reading a received zip: members are read into memory one at a time.
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 200_000
A4_AREA_PT2 = (A4_AREA_MM2 / 25.4 ** 2) * 72.0 ** 2
# The encoder writes exactly the profile's dpi; allow rounding of the pixel size.
DPI_TOLERANCE = 0.99
_NUMBER_RE = re.compile(r"[0-9]{1,6}")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class VerifyError(StationError):
    """The export has problems (listed one per line before this message)."""
    exit_code = 11


@dataclass
class Problem:
    file: str
    problem: str

    def line(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass
class VerifyReport:
    source: str
    book: str | None = None
    files: int = 0
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Not faults: what the commune should know (a PDF over the size budget that the encoder could not
    # bring down at the profile's floors; no rescan would change it).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, file: str, vi: str, en: str) -> None:
        self.problems.append(Problem(file, f"{vi} / {en}"))

    def warn(self, file: str, vi: str, en: str) -> None:
        self.warnings.append(Problem(file, f"{vi} / {en}"))

    def as_dict(self) -> dict:
        return {"source": self.source, "book": self.book, "ok": self.ok, "files": self.files,
                "pages": self.pages, "problems": [{"file": p.file, "problem": p.problem} for p in self.problems],
                "warnings": [{"file": w.file, "warning": w.problem} for w in self.warnings]}

    def summary(self) -> str:
        if self.ok:
            noted = f", {len(self.warnings)} lưu ý / notes" if self.warnings else ""
            return (f"Sổ {self.book}: {self.files} tệp PDF, {self.pages} trang, không có lỗi{noted} "
                    f"/ export verified, no problems.")
        return (f"Sổ {self.book or '?'}: {len(self.problems)} lỗi trong {self.files} tệp PDF "
                f"/ {len(self.problems)} problems found.")


# --------------------------------------------------------------------------------------------
# sources: a zip, the folder holding it, or a folder of extracted PDFs + manifest.json


class _ZipSource:
    def __init__(self, path: Path, archive: zipfile.ZipFile):
        self.path, self.archive = path, archive
        self.infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}

    def names(self) -> list[str]:
        return list(self.infos)

    def size(self, name: str) -> int:
        return self.infos[name].file_size

    def read(self, name: str) -> bytes:
        return self.archive.read(self.infos[name])


class _FolderSource:
    def __init__(self, path: Path):
        self.path = path
        self.files = {p.name: p for p in path.iterdir()
                      if p.is_file() and (p.suffix.lower() == ".pdf" or p.name == MANIFEST)}

    def names(self) -> list[str]:
        return sorted(self.files)

    def size(self, name: str) -> int:
        return self.files[name].stat().st_size

    def read(self, name: str) -> bytes:
        return self.files[name].read_bytes()


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("..", ".") for part in PurePosixPath(name).parts) or "/" in name


def _check_name(report: VerifyReport, name: str, book: str | None) -> None:
    parts = name.split(".")
    bad = None
    if len(parts) < MIN_PARTS or any(not p for p in parts) or parts[-1] != "pdf":
        bad = (f"tên tệp phải có ít nhất {MIN_PARTS} phần LOAI.NAM.QUYEN.YYYY-MM-DD.SO.pdf",
               f"name must have at least {MIN_PARTS} dot parts LOAI.NAM.QUYEN.YYYY-MM-DD.SO.pdf")
    else:
        try:
            named_book = str(BookId.parse(".".join(parts[:3])))
        except Exception:  # noqa: BLE001 — any parse failure is a bad name
            named_book = None
        m = _DATE_RE.fullmatch(parts[3])
        valid_date = False
        if m:
            try:
                date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                valid_date = True
            except ValueError:
                pass
        if named_book is None:
            bad = ("tên tệp không bắt đầu bằng mã sổ LOAI.NAM.QUYEN",
                   "name does not start with a book id LOAI.NAM.QUYEN")
        elif book is not None and named_book != book:
            bad = (f"tên tệp thuộc sổ {named_book}, không phải sổ {book}",
                   f"name belongs to book {named_book}, not {book}")
        elif not valid_date:
            bad = ("ngày đăng ký trong tên tệp không hợp lệ (cần YYYY-MM-DD)",
                   "registration date in the name is invalid (expected YYYY-MM-DD)")
        elif not _NUMBER_RE.fullmatch(parts[4]) or int(parts[4]) < 1:
            bad = ("số đăng ký trong tên tệp không hợp lệ", "registration number in the name is invalid")
    if bad:
        report.add(name, *bad)


def _check_pdf(report: VerifyReport, name: str, data: bytes, listed: dict | None, profile: Profile) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if listed is not None:
        if listed.get("sha256") != digest:
            report.add(name, "mã SHA-256 không khớp bản kê (tệp bị thay đổi hoặc hỏng)",
                       "SHA-256 does not match the manifest (file changed or damaged)")
        if listed.get("bytes") is not None and listed.get("bytes") != len(data):
            report.add(name, f"kích thước {len(data)} byte khác bản kê ({listed.get('bytes')})",
                       f"size {len(data)} bytes differs from the manifest ({listed.get('bytes')})")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception:  # noqa: BLE001 — pymupdf raises several kinds on damaged files
        report.add(name, "không mở được tệp PDF", "cannot open the PDF")
        return
    with doc:
        pages = doc.page_count
        report.pages += pages
        if listed is not None and listed.get("pages") != pages:
            report.add(name, f"có {pages} trang, bản kê ghi {listed.get('pages')}",
                       f"has {pages} pages, the manifest says {listed.get('pages')}")
        if pages == 0:
            report.add(name, "tệp PDF không có trang nào", "the PDF has no pages")
            return
        a4s = 0.0
        for index in range(pages):
            try:
                page = doc[index]
                width_in = page.rect.width / 72.0
                a4s += max(MIN_BUDGET_A4, page.rect.width * page.rect.height / A4_AREA_PT2)
                widths = [img[2] for img in page.get_images(full=True)]
            except Exception:  # noqa: BLE001
                report.add(name, f"trang {index + 1} hỏng", f"page {index + 1} is damaged")
                continue
            if not widths or width_in <= 0:
                report.add(name, f"trang {index + 1} không có ảnh quét", f"page {index + 1} has no scanned image")
                continue
            dpi = max(widths) / width_in
            if dpi < profile.page.min_dpi * DPI_TOLERANCE:
                report.add(name, f"trang {index + 1} chỉ {dpi:.0f} dpi, dưới mức {profile.page.min_dpi} dpi",
                           f"page {index + 1} is {dpi:.0f} dpi, below the {profile.page.min_dpi} dpi floor")
        # The budget is per A4 of paper (pipeline.encode): an A3 page has twice an A4's.
        budget_kb = profile.page.page_max_kb * a4s
        if len(data) > budget_kb * 1024:
            report.warn(name, f"{len(data) / 1024:.0f} KB vượt mức {budget_kb:.0f} KB ({profile.page.page_max_kb:.0f} KB "
                        f"mỗi A4 × {a4s:.1f} A4 giấy): trang dày đặc, không nén thêm được",
                        f"{len(data) / 1024:.0f} KB is over {budget_kb:.0f} KB ({profile.page.page_max_kb:.0f} KB per A4 "
                        f"× {a4s:.1f} A4 of paper): dense pages the encoder could not bring down")


def _read_manifest(report: VerifyReport, source) -> dict[str, dict] | None:
    if MANIFEST not in source.names():
        report.add(MANIFEST, "thiếu bản kê manifest.json", "manifest.json is missing")
        return None
    try:
        data = json.loads(source.read(MANIFEST))
        book = data["book"]
        files = data["files"]
        if not isinstance(book, str) or not isinstance(files, list):
            raise TypeError
        listed: dict[str, dict] = {}
        for item in files:
            if not isinstance(item, dict) or not isinstance(item.get("file"), str):
                raise TypeError
            if item["file"] in listed:
                report.add(item["file"], "ghi hai lần trong bản kê", "listed twice in the manifest")
            listed[item["file"]] = item
    except (ValueError, KeyError, TypeError):
        report.add(MANIFEST, "bản kê manifest.json hỏng", "manifest.json is malformed")
        return None
    try:
        report.book = str(BookId.parse(book))
    except Exception:  # noqa: BLE001
        report.add(MANIFEST, "mã sổ trong bản kê không hợp lệ", "malformed book id in the manifest")
    return listed


def _check_source(report: VerifyReport, source, profile: Profile) -> set[str]:
    listed = _read_manifest(report, source)
    names = source.names()
    if len(names) > MAX_MEMBERS:
        report.add(source.path.name, "quá nhiều tệp", "too many members")
        return set()
    seen: set[str] = set()
    pdfs: set[str] = set()
    for name in names:
        if name == MANIFEST:
            continue
        if _unsafe_name(name):
            report.add(name, "đường dẫn không an toàn trong tệp zip (thư mục cha, đường dẫn tuyệt đối)",
                       "unsafe path in the zip (parent folder or absolute path)")
            continue
        if name in seen:
            report.add(name, "xuất hiện hai lần trong tệp zip", "appears twice in the zip")
            continue
        seen.add(name)
        if not name.endswith(".pdf"):
            report.add(name, "tệp lạ, không phải PDF", "unexpected file, not a PDF")
            continue
        pdfs.add(name)
        report.files += 1
        _check_name(report, name, report.book)
        item = listed.get(name) if listed is not None else None
        if listed is not None and item is None:
            report.add(name, "không có trong bản kê manifest.json", "not listed in manifest.json")
        if source.size(name) > MAX_MEMBER_BYTES:
            report.add(name, "tệp quá lớn", "file too large")
            continue
        _check_pdf(report, name, source.read(name), item, profile)
    for name in sorted(listed or {}):
        if name not in pdfs and not _unsafe_name(name):
            report.add(name, "có trong bản kê nhưng thiếu tệp", "listed in the manifest but missing")
        elif name not in pdfs:
            report.add(name, "bản kê ghi đường dẫn không an toàn", "unsafe path in the manifest")
    return pdfs


def _register_names(path: Path, column: str) -> list[str] | None:
    """Values of the file-name column, or None when the column is not found."""
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb.worksheets[0]
        col = None
        values: list[str] = []
        for i, row in enumerate(ws.iter_rows(values_only=True)):
            if col is None:
                if i >= 10:
                    return None
                for j, v in enumerate(row):
                    if isinstance(v, str) and v.strip().casefold() == column.casefold():
                        col = j
                        break
                continue
            v = row[col] if col < len(row) else None
            if v is not None and str(v).strip():
                values.append(str(v).strip())
        return values if col is not None else None
    finally:
        wb.close()


def _check_register(report: VerifyReport, xlsx: Path, pdfs: set[str], column: str) -> None:
    try:
        names = _register_names(xlsx, column)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds on damaged files
        report.add(xlsx.name, "không đọc được tệp Excel", "cannot read the workbook")
        return
    if names is None:
        report.add(xlsx.name, f"không có cột {column}", f"no {column} column")
        return
    for name in sorted(set(names) - pdfs):
        report.add(xlsx.name, f"ghi tệp {name} không có trong tệp zip", f"lists {name}, not in the zip")
    for name in sorted(pdfs - set(names)):
        report.add(xlsx.name, f"thiếu tệp {name}", f"does not list {name}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    for name in dupes:
        report.add(xlsx.name, f"ghi tệp {name} hai lần", f"lists {name} twice")


def verify_export(target: Path, profile: Profile) -> VerifyReport:
    """Check an export given as BOOK.zip, the folder holding it, or a folder of extracted PDFs."""
    target = Path(target)
    if not target.exists():
        raise InputError(f"Không tìm thấy {target} / not found.")
    if target.is_dir():
        zips = sorted(target.glob("*.zip"))
        if len(zips) > 1:
            raise InputError(f"Thư mục {target} có {len(zips)} tệp zip; chỉ rõ một tệp "
                             f"/ several zips in the folder, name one.")
        if zips:
            target = zips[0]
    report = VerifyReport(str(target))
    if target.is_dir():
        if not (target / MANIFEST).is_file() and not any(target.glob("*.pdf")):
            raise InputError(f"Thư mục {target} không có tệp zip, PDF hay manifest.json "
                             f"/ no export in the folder.")
        pdfs = _check_source(report, _FolderSource(target), profile)
        folder = target
    else:
        try:
            archive = zipfile.ZipFile(target)
        except (zipfile.BadZipFile, OSError):
            report.add(target.name, "không phải tệp zip hoặc tệp bị hỏng", "not a zip file or damaged")
            return report
        with archive:
            pdfs = _check_source(report, _ZipSource(target, archive), profile)
        folder = target.parent
    candidates = [folder / f"{report.book}.xlsx"] if report.book else []
    if target.suffix == ".zip":
        candidates.insert(0, target.with_suffix(".xlsx"))
    if target.is_dir():
        candidates.append(folder.parent / f"{report.book}.xlsx")
    for xlsx in candidates:
        if xlsx.is_file():
            _check_register(report, xlsx, pdfs, profile.export.file_column)
            break
    return report
