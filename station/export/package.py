"""What is handed to the Ministry's tool for one book: BOOK.zip (one PDF a registration, and manifest.json)
and BOOK.xlsx (the register with each entry's file name). Written the same way by a station
(station.catalog.library.export_book) and by the centre (station.centre.export), so the same PDFs give the
same bytes wherever they are exported: members dated EXPORT_DATE, stored uncompressed, in number order.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from station.catalog.register import Register
from station.catalog.storage import write_atomic
from station.export.workbook import EXPORT_DATE, write_export_workbook


@dataclass(frozen=True)
class PackedPdf:
    number: int
    name: str             # the file name in the zip (station.export.naming.pdf_name)
    data: bytes           # already checked against its SHA-256
    sha256: str
    pages: int


def _member(name: str) -> zipfile.ZipInfo:
    return zipfile.ZipInfo(name, date_time=EXPORT_DATE.timetuple()[:6])


def write_package(out_dir: Path, book_id: str, pdfs: list[PackedPdf], register: Register,
                  file_column: str) -> tuple[Path, Path]:
    """Write BOOK.zip and BOOK.xlsx into `out_dir` (each atomically); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # Temp files of an earlier export of this book cut by a crash: never left beside what is handed over.
    for stale in out_dir.glob(f".{book_id}.*.tmp"):
        stale.unlink(missing_ok=True)
    buffer = io.BytesIO()
    manifest = []
    ordered = sorted(pdfs, key=lambda p: p.number)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for pdf in ordered:
            archive.writestr(_member(pdf.name), pdf.data)
            manifest.append({"file": pdf.name, "sha256": pdf.sha256, "pages": pdf.pages, "bytes": len(pdf.data)})
        archive.writestr(_member("manifest.json"),
                         json.dumps({"book": book_id, "files": manifest}, ensure_ascii=False, indent=1))
    zip_path = out_dir / f"{book_id}.zip"
    write_atomic(zip_path, buffer.getvalue())
    xlsx_path = out_dir / f"{book_id}.xlsx"
    write_export_workbook(xlsx_path, register, {p.number: p.name for p in ordered}, file_column)
    return zip_path, xlsx_path
