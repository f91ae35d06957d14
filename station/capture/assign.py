"""Assigning pages to entries as they come, in capture order (rules in grouping.py; a bound book's
pages after its start sheet are placed by its register, placing.py).

Each entry's PDF is rewritten as soon as a page joins it, so the catalog and the PDFs are current at
any moment of a batch, and a crash leaves nothing to reassemble but what `replay` redoes.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.separator import parse_payload
from station.capture.grouping import Group, Grouper, PageSignal
from station.capture.placing import place_book
from station.catalog.models import Book, Capture, Entry, Page, Pdf, Scan, ScanPage, Verdict
from station.review.entries import entry_state, write_entry_pdf


def signal_of(page: Page) -> PageSignal:
    if page.verdict == Verdict.separator:
        payload = parse_payload(page.separator_text)
        return PageSignal(page.id, "separator", payload.book_id, payload.entries, payload.start_page)
    return PageSignal(page.id, page.verdict.value)


class Assigner:
    def __init__(self, session: Session, home: Path, batch_id: int):
        self.session = session
        self.home = home
        self.batch_id = batch_id
        books = set(session.scalars(select(Book.id)))
        self.entries = {(e.book_id, e.number): e for e in session.scalars(select(Entry))}
        self.grouper = Grouper(lambda b: b in books, lambda b, n: (b, n) in self.entries)
        self.group: Group | None = None
        self.scans: list[Scan] = []
        self.touched: dict[str, set[int]] = {}

    def feed(self, page: Page) -> None:
        """The next page in capture order (pages of one capture in their order)."""
        signal = signal_of(page)
        group = self.grouper.feed(signal)
        if group is not self.group:
            self.group, self.scans = group, self._open(group, page if signal.kind == "separator" else None)
        if group.held and signal.kind in ("separator", "doubtful", "content"):
            page.held_reason = group.held_reason
        elif group.start_page is not None:
            if signal.kind in ("content", "blank", "quarantined"):
                # One of a bound book's pages: the register places it, with every page of the book.
                page.run_sheet_id = group.separator
                self.session.flush()
                placed = place_book(self.session, self.home, group.book_id, self.batch_id)
                self.touched.setdefault(group.book_id, set()).update(placed)
        elif signal.kind == "content":
            for scan in self.scans:
                scan.pages.append(ScanPage(page_id=page.id, position=len(scan.pages), page=page))
            self._refresh_pdfs()
        elif signal.kind == "quarantined":
            for scan in self.scans:
                scan.damaged = True
            self._refresh_pdfs()

    def _open(self, group: Group, separator: Page | None) -> list[Scan]:
        scans = []
        for number in group.entries:
            entry = self.entries[(group.book_id, number)]
            self.session.refresh(entry)  # an operator may have corrected it since this batch began
            for earlier in entry.scans:  # a rescan: the operator picks, we never overwrite
                earlier.chosen = None
            entry.accepted_reason = None  # whatever was accepted was about the earlier scan
            scan = Scan(entry=entry, batch_id=self.batch_id, separator_page_id=separator.id if separator else None)
            self.session.add(scan)
            scans.append(scan)
            self.touched.setdefault(group.book_id, set()).add(number)
        self.session.flush()
        return scans

    def _refresh_pdfs(self) -> None:
        self.session.flush()
        for scan in self.scans:
            # The entry's own state: what other entries hold may change without this one being fed
            # again, and must not leave its PDF behind.
            if entry_state(scan.entry, with_book=False).status == "done":
                write_entry_pdf(self.session, self.home, scan.entry)


def reset_batch(session: Session, batch_id: int) -> None:
    """Undo a batch's assignments, so that replaying its pages in order rebuilds them exactly."""
    scan_ids = list(session.scalars(select(Scan.id).where(Scan.batch_id == batch_id)))
    if scan_ids:
        session.execute(delete(Pdf).where(Pdf.scan_id.in_(scan_ids)))
        session.execute(delete(ScanPage).where(ScanPage.scan_id.in_(scan_ids)))
        session.execute(delete(Scan).where(Scan.id.in_(scan_ids)))
    page_ids = select(Page.id).join(Capture, Capture.id == Page.capture_id).where(Capture.batch_id == batch_id)
    for page in session.scalars(select(Page).where(Page.id.in_(page_ids))):
        page.held_reason = page.run_sheet_id = None
    session.flush()
    session.expire_all()
