"""What the centre must hold of this station: one push a book (protocol.BookPush), and the files they name.

Each book's snapshot is read from the catalog as the station sees it: its entries with their state
(station.review.entries.entry_state, as `station status` shows it), every scan with its pages in order,
each page's metadata and the hash of its image, the PDFs and the corrections. Page images are hashed here
(the catalog keeps no hash of them; hashes.py remembers them between syncs); PDFs and registers carry theirs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from station.catalog.models import Book, Capture, Correction, Page
from station.review.entries import book_facts, entry_state, load_books
from station.sync.hashes import ImageHashes
from station.sync.protocol import (BlobKind, BookPush, BookRow, CorrectionRow, EntryRow, PageRow, PdfRow, ScanRow,
                                   StateRow)

log = logging.getLogger(__name__)
REASON_CHARS = 300


@dataclass(frozen=True)
class LocalFile:
    sha256: str
    path: Path
    bytes: int
    kind: BlobKind


@dataclass
class Outgoing:
    pushes: list[BookPush]
    files: dict[str, LocalFile]
    # Books that cannot be sent as they are (a file the catalog names is not in the home): book -> why.
    blocked: dict[str, str] = field(default_factory=dict)


class _MissingFile(Exception):
    pass


def utc(moment: datetime | None) -> datetime | None:
    """Catalog times are UTC; SQLite hands them back without their zone."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def collect(session: Session, home: Path, commune: str) -> Outgoing:
    outgoing = Outgoing([], {})
    hashes = ImageHashes(home)
    corrections = list(session.scalars(select(Correction).order_by(Correction.id)))
    books = load_books(session)
    known = {book.id for book in books}
    for book in books:
        files: dict[str, LocalFile] = {}
        try:
            push = book_push(session, home, book, commune, hashes, files,
                             [c for c in corrections if c.book_id == book.id])
        except _MissingFile as missing:
            outgoing.blocked[book.id] = str(missing)
            log.warning("book %s not sent: %s", book.id, missing)
            continue
        outgoing.pushes.append(push)
        outgoing.files.update(files)
    hashes.save()
    loose = [c for c in corrections if c.book_id not in known]
    if loose:
        outgoing.pushes.append(BookPush(book=None, corrections=[_correction(c) for c in loose]))
    return outgoing


def _file(home: Path, files: dict[str, LocalFile], relative: str | None, sha256: str, kind: BlobKind,
          size: int | None = None) -> None:
    path = home / relative if relative else None
    if path is None or not path.is_file():
        raise _MissingFile(f"{kind} file {relative} missing from the home")
    files[sha256] = LocalFile(sha256, path, size if size is not None else path.stat().st_size, kind)


def book_push(session: Session, home: Path, book: Book, commune: str, hashes: ImageHashes,
              files: dict[str, LocalFile], corrections: list[Correction]) -> BookPush:
    if book.register_sha256:
        _file(home, files, book.register_file, book.register_sha256, "register")
    facts = book_facts(book)
    entries, states, scans, pdfs, pages = [], [], [], [], {}
    for entry in book.entries:
        entries.append(EntryRow(number=entry.number, reg_date=entry.reg_date, page_no=entry.page_no))
        state = entry_state(entry, facts)
        states.append(StateRow(number=entry.number, status=state.status,
                               reason="; ".join(state.reasons)[:REASON_CHARS] or None,
                               accepted_reason=entry.accepted_reason, version=entry.version,
                               changed_at=utc(entry.changed_at)))
        for scan in entry.scans:
            scans.append(ScanRow(local_id=scan.id, number=entry.number, chosen=scan.chosen, damaged=scan.damaged,
                                 placed=scan.placed, doubt=scan.doubt, created_at=utc(scan.created_at),
                                 pages=[link.page_id for link in scan.pages]))
            for link in scan.pages:
                pages.setdefault(link.page_id, link.page)
        if entry.pdf is not None:
            pdf = entry.pdf
            _file(home, files, pdf.file, pdf.sha256, "pdf", pdf.bytes)
            pdfs.append(PdfRow(number=entry.number, scan=pdf.scan_id, sha256=pdf.sha256, pages=pdf.pages,
                               bytes=pdf.bytes))
    captures = _capture_hashes(session, list(pages))
    page_rows = [_page(page, captures.get(page.id), hashes, files) for _, page in sorted(pages.items())]
    return BookPush(book=BookRow(commune=commune, code=book.id, book_type=book.book_type, year=book.year,
                                 volume=book.volume, register_sha256=book.register_sha256),
                    entries=entries, states=states, pages=page_rows, scans=scans, pdfs=pdfs,
                    corrections=[_correction(c) for c in corrections])


def _capture_hashes(session: Session, page_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(page_ids), 900):       # SQLite's bound parameters
        chunk = page_ids[start:start + 900]
        found.update(session.execute(select(Page.id, Capture.sha256).join(Capture, Capture.id == Page.capture_id)
                                     .where(Page.id.in_(chunk))).all())
    return found


def _page(page: Page, capture_sha256: str | None, hashes: ImageHashes, files: dict[str, LocalFile]) -> PageRow:
    image = None
    if page.image_file and not page.deleted:      # a deleted page is in no PDF: its image stays here
        known = hashes.of(page.image_file)
        if known is not None:
            image, size = known
            files[image] = LocalFile(image, hashes.home / page.image_file, size, "page")
    measures = page.measures or None
    printed = (measures or {}).get("page_number")
    book_page = page.stated_page if page.stated_page is not None else printed if isinstance(printed, int) else None
    return PageRow(local_id=page.id, capture_sha256=capture_sha256, part=page.part, verdict=page.verdict.value,
                   reason=(page.reason or None) and page.reason[:REASON_CHARS],
                   held_reason=(page.held_reason or None) and page.held_reason[:REASON_CHARS],
                   deleted=page.deleted, image_sha256=image, image_format=page.image_format, width=page.width,
                   height=page.height, dpi=page.dpi, skew_deg=page.skew_deg, rotation=page.rotation,
                   read_number=page.read_number, book_page=book_page, measures=measures,
                   processed_at=utc(page.processed_at))


def _correction(correction: Correction) -> CorrectionRow:
    return CorrectionRow(local_id=correction.id, at=utc(correction.at), operator=correction.operator[:100],
                         action=correction.action[:40], entry_number=correction.entry_number,
                         details=correction.details or {})
