"""An entry's state (missing, doubtful, done) and its PDF.

An entry is done when exactly one scan of it counts (the only one, or the one the operator picked),
that scan has content pages, and none of its captures was unreadable. Anything else is doubtful with
the reasons, so the operator sees what to fix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from pipeline.pdf import assemble_pdf
from station.catalog import Entry, Page, Pdf, Scan
from station.storage import sha256_bytes, write_atomic

EntryStatus = Literal["missing", "doubtful", "done"]


@dataclass
class EntryState:
    entry: Entry
    status: EntryStatus
    scan: Scan | None = None
    pages: list[Page] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def effective_scan(entry: Entry) -> tuple[Scan | None, str | None]:
    scans = entry.scans
    chosen = [s for s in scans if s.chosen]
    if chosen:
        return chosen[-1], None
    undecided = [s for s in scans if s.chosen is None]
    if len(undecided) == 1 and len(scans) == 1:
        return undecided[0], None
    if len(undecided) > 1:
        ids = ", ".join(str(s.id) for s in undecided)
        return None, (f"quét {len(undecided)} lần, cần chọn một bản (lượt quét {ids}) "
                      f"/ scanned {len(undecided)} times: pick one")
    return None, None


def scan_pages(scan: Scan) -> list[Page]:
    return [sp.page for sp in scan.pages if not sp.page.deleted]


def entry_state(entry: Entry) -> EntryState:
    if not entry.scans:
        return EntryState(entry, "missing")
    scan, problem = effective_scan(entry)
    if scan is None:
        return EntryState(entry, "doubtful", reasons=[problem or "chưa chọn bản quét / no scan chosen"])
    pages = scan_pages(scan)
    reasons = []
    if not pages:
        reasons.append("tờ phân cách không có trang nào sau nó / separator with no pages after it")
    if scan.damaged:
        reasons.append("có ảnh hỏng trong lượt quét, có thể thiếu trang / an unreadable capture in this scan")
    reasons.extend(sorted({page.reason for page in pages if page.reason}))
    if reasons and pages and entry.accepted_reason:
        return EntryState(entry, "done", scan, pages, [f"đã chấp nhận / accepted: {entry.accepted_reason}"])
    return EntryState(entry, "doubtful" if reasons else "done", scan, pages, reasons)


def pdf_path(home: Path, entry: Entry) -> Path:
    return home / "pdfs" / entry.book_id / f"{entry.book_id}.{entry.number:05d}.pdf"


def write_entry_pdf(session: Session, home: Path, entry: Entry) -> Pdf | None:
    """(Re)write the entry's PDF from the scan that counts; leave the old one while none counts."""
    state = entry_state(entry)
    if state.scan is None or not state.pages:
        return None
    images = [(home / page.image_file).read_bytes() for page in state.pages]
    data = assemble_pdf(images, title=f"Sổ {entry.book_id} - số {entry.number}")
    path = pdf_path(home, entry)
    write_atomic(path, data)
    pdf = entry.pdf
    if pdf is None:
        pdf = entry.pdf = Pdf(entry_id=entry.id)
    pdf.scan_id = state.scan.id
    pdf.file = str(path.relative_to(home))
    pdf.sha256 = sha256_bytes(data)
    pdf.pages = len(images)
    pdf.bytes = len(data)
    session.add(pdf)
    return pdf
