"""`station centre export BOOK`: the book as the Ministry's tool takes it, made at the centre from what its
stations sent. The PDFs are the stations' own files from the store (checked against their SHA-256), named
and packed by the station's own code (station.export.naming, station.export.package), so the export is
byte for byte the one a station holding every entry would make, and `station verify` takes it.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from station.catalog.books import BookId
from station.catalog.register import read_register
from station.centre.catalog import Book, Entry
from station.centre.progress import entry_outcomes
from station.centre.store import BlobStore
from station.config import Profile
from station.errors import CentreError, IncompleteBookError
from station.export.naming import NameNotReady, pdf_name
from station.export.package import PackedPdf, write_package


@dataclass
class CentreExport:
    zip_path: Path
    xlsx_path: Path
    files: dict[int, str]


def find_book(session: Session, code: str, commune: str | None) -> Book:
    canonical = str(BookId.parse(code))
    query = select(Book).where(Book.code == canonical)
    if commune is not None:
        query = query.where(Book.commune == commune)
    books = list(session.scalars(query))
    if not books:
        raise CentreError(f"Trung tâm không có sổ {canonical} / no book {canonical} at the centre"
                          + (f" for commune {commune}" if commune is not None else "") + ".")
    if len(books) > 1:
        communes = ", ".join(repr(b.commune) for b in books)
        raise CentreError(f"Sổ {canonical} có ở nhiều xã ({communes}) / held for several communes: give --commune.")
    return books[0]


def export_book(session: Session, store: BlobStore, profile: Profile, code: str, out_dir: Path,
                commune: str | None = None, allow_incomplete: bool = False) -> CentreExport:
    book = find_book(session, code, commune)
    book_key = BookId.parse(book.code)
    dates = dict(session.execute(select(Entry.number, Entry.reg_date).where(Entry.book_id == book.id)).all())
    problems: dict[str, list[int]] = {}
    chosen = {}
    for outcome in entry_outcomes(session, book):
        if outcome.status != "done":
            why = "; ".join(outcome.reasons) or ("thiếu / missing" if outcome.status == "missing" else outcome.status)
            problems.setdefault(why, []).append(outcome.number)
            continue
        try:
            chosen[outcome.number] = (pdf_name(profile.naming, book_key, outcome.number, dates[outcome.number]),
                                      outcome.pdf)
        except NameNotReady:
            problems.setdefault("chưa có ngày đăng ký / no registration date", []).append(outcome.number)
    if problems and not allow_incomplete:
        count = sum(len(numbers) for numbers in problems.values())
        shown = "; ".join(f"số {', '.join(map(str, numbers[:30]))}: {why}" for why, numbers in problems.items())
        raise IncompleteBookError(f"Sổ {book.code} chưa xuất được ở trung tâm / export refused, {count} trường hợp "
                                  f"chưa xong: {shown}. Đồng bộ các trạm còn thiếu, hoặc dùng --allow-incomplete.")
    if not chosen:
        raise IncompleteBookError(f"Sổ {book.code}: chưa có tệp PDF nào để xuất / nothing to export.")
    if not book.register_sha256:
        raise IncompleteBookError(f"Sổ {book.code}: trung tâm chưa có sổ đăng ký Excel / no register received.")
    packed = [PackedPdf(number, name, store.get(pdf.sha256), pdf.sha256, pdf.pages)
              for number, (name, pdf) in sorted(chosen.items())]
    with tempfile.TemporaryDirectory(prefix="centre-register-") as folder:   # read_register reads a file
        path = Path(folder) / f"{book.code}.xlsx"
        path.write_bytes(store.get(book.register_sha256))
        register = read_register(path, book_key)
    zip_path, xlsx_path = write_package(out_dir, book.code, packed, register, profile.export.file_column)
    return CentreExport(zip_path, xlsx_path, {number: name for number, (name, _) in chosen.items()})
