"""Operator corrections: move, reorder, delete, share a page; accept an entry; state which book page a
bound book's capture is (its pages placed by the register, station/capture/placing.py). Each is recorded
(who, when, what), rewrites the affected PDFs atomically, and is refused with a clear message when it
does not apply (unknown page or entry, a page of another book, an entry changed meanwhile).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from station.capture.placing import place_book, start_page_of
from station.catalog.models import Correction, Entry, Page, Scan, ScanPage, Verdict, entry_by_number, utcnow
from pipeline.separator import MAX_BOOK_PAGE
from station.errors import StationError
from station.review.entries import effective_scan, write_entry_pdf


class CorrectionError(StationError):
    """The correction does not apply; nothing was changed."""
    exit_code = 12
    status = 400


class NotFound(CorrectionError):
    status = 404


class Conflict(CorrectionError):
    """Someone changed the entry since the operator looked at it."""
    status = 409


def _entry(session: Session, book_id: str, number: int) -> Entry:
    entry = entry_by_number(session, book_id, number)
    if entry is None:
        raise NotFound(f"Sổ {book_id} không có số {number} / no such entry.")
    return entry


def _page(session: Session, page_id: int) -> Page:
    page = session.get(Page, page_id)
    if page is None:
        raise NotFound(f"Không có trang {page_id} / no such page.")
    if page.verdict not in (Verdict.content, Verdict.doubtful):
        raise CorrectionError(f"Trang {page_id} là {page.verdict.value}, không phải trang nội dung "
                              "/ not a content page.")
    return page


def _run_page(session: Session, page_id: int) -> tuple[Page, str]:
    """A capture of a bound book placed by page, and its book's id."""
    page = session.get(Page, page_id)
    if page is None:
        raise NotFound(f"Không có trang {page_id} / no such page.")
    sheet = session.get(Page, page.run_sheet_id) if page.run_sheet_id is not None else None
    found = start_page_of(sheet) if sheet is not None else None
    if found is None:
        raise CorrectionError(f"Trang {page_id} không thuộc sổ nào quét theo trang (sau tờ bắt đầu sổ) / not a "
                              "page of a book captured by page.")
    return page, found[0]


def by_page_book(session: Session, page_id: int) -> str:
    """The book a capture belongs to, refused for a page of no book captured by page."""
    return _run_page(session, page_id)[1]


def _check_version(entry: Entry, expected: int | None) -> None:
    if expected is not None and entry.version != expected:
        raise Conflict(f"Sổ {entry.book_id} số {entry.number} vừa được sửa bởi người khác (phiên bản "
                       f"{entry.version}, không phải {expected}): tải lại rồi làm lại / changed meanwhile.")


def _scan_for(session: Session, entry: Entry, batch_id: int) -> Scan:
    """The scan that counts for the entry, created when the entry has none (a page moved into a
    missing entry)."""
    scan, problem = effective_scan(entry)
    if problem:
        raise CorrectionError(f"Sổ {entry.book_id} số {entry.number}: {problem}. Chọn bản quét trước.")
    if scan is None:
        scan = Scan(entry=entry, batch_id=batch_id, separator_page_id=None)
        session.add(scan)
        session.flush()
    return scan


def _renumber(scan: Scan) -> None:
    for position, link in enumerate(sorted(scan.pages, key=lambda sp: sp.position)):
        link.position = position


def _pages_of(scan: Scan) -> list[int]:
    return [sp.page_id for sp in sorted(scan.pages, key=lambda sp: sp.position)]


class Corrections:
    def __init__(self, session: Session, home: Path, operator: str):
        self.session = session
        self.home = home
        self.operator = operator[:100] or "?"

    def _done(self, action: str, entries: list[Entry], details: dict, book_id: str | None = None) -> None:
        for entry in entries:
            entry.changed_at = utcnow()  # bumps the version: stale views of it are refused
        self.session.flush()
        for entry in entries:
            self.session.refresh(entry)
            write_entry_pdf(self.session, self.home, entry)
        first = entries[0] if entries else None
        self.session.add(Correction(operator=self.operator, action=action,
                                    book_id=first.book_id if first else book_id,
                                    entry_number=first.number if first else None, details=details))
        try:
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise Conflict("Mục vừa được sửa bởi người khác: tải lại rồi làm lại / changed meanwhile.") from None

    def _detach(self, page: Page) -> list[Entry]:
        """Take the page out of every scan that holds it; returns the entries it left."""
        left = []
        for link in list(self.session.query(ScanPage).filter_by(page_id=page.id)):
            scan = self.session.get(Scan, link.scan_id)
            scan.pages.remove(link)
            self.session.delete(link)
            _renumber(scan)
            left.append(scan.entry)
        return left

    def move_page(self, page_id: int, book_id: str, number: int, position: int | None = None,
                  expected_version: int | None = None) -> Entry:
        page = _page(self.session, page_id)
        target = _entry(self.session, book_id, number)
        _check_version(target, expected_version)
        scan = _scan_for(self.session, target, page.capture.batch_id)
        left = [e for e in self._detach(page) if e.id != target.id]
        self.session.flush()
        order = _pages_of(scan)
        order.insert(len(order) if position is None else max(0, min(position, len(order))), page.id)
        scan.pages.append(ScanPage(page_id=page.id, position=len(order), page=page))
        self.session.flush()
        self._apply_order(scan, order)
        page.held_reason = None
        self._done("move_page", [target, *left], {"page": page.id, "to": [book_id, number],
                                                 "from": [[e.book_id, e.number] for e in left]})
        return target

    def _apply_order(self, scan: Scan, order: list[int]) -> None:
        by_page = {sp.page_id: sp for sp in scan.pages}
        for position, page_id in enumerate(order):
            by_page[page_id].position = position

    def reorder(self, book_id: str, number: int, order: list[int], expected_version: int | None = None) -> Entry:
        entry = _entry(self.session, book_id, number)
        _check_version(entry, expected_version)
        scan, problem = effective_scan(entry)
        if scan is None:
            raise CorrectionError(f"Sổ {book_id} số {number}: {problem or 'chưa có trang / no pages'}.")
        if sorted(order) != sorted(_pages_of(scan)):
            raise CorrectionError(f"Sổ {book_id} số {number}: thứ tự mới phải gồm đúng các trang "
                                  f"{_pages_of(scan)} / the new order must list exactly the entry's pages.")
        self._apply_order(scan, order)
        self._done("reorder", [entry], {"order": order})
        return entry

    def delete_page(self, page_id: int) -> Page:
        """Out of every PDF (kept in the catalog and on disk). A bound book's capture (a page captured
        twice, turned back) leaves its book's sequence, which is placed again without it."""
        page = self.session.get(Page, page_id)
        book_id = _run_page(self.session, page_id)[1] if page is not None and page.run_sheet_id else None
        if book_id is None:
            page = _page(self.session, page_id)
        if page.deleted:
            raise CorrectionError(f"Trang {page_id} đã bị xóa / already deleted.")
        page.deleted = True
        entries = [link.scan.entry for link in self.session.query(ScanPage).filter_by(page_id=page.id)]
        if book_id is not None:
            entries = self._placed_again(book_id, page, entries)
        self._done("delete_page", entries, {"page": page.id}, book_id)
        return page

    def state_page(self, page_id: int, book_page: int | None) -> Page:
        """A bound book's capture is book page `book_page` (the operator looked): the word outranks what
        was read on it, and the pages after it follow. None takes the statement back."""
        page, book_id = _run_page(self.session, page_id)
        if book_page is not None and not 1 <= book_page <= MAX_BOOK_PAGE:
            raise CorrectionError(f"Trang sổ {book_page} không hợp lệ (1–{MAX_BOOK_PAGE}) / bad book page.")
        page.stated_page = book_page
        entries = self._placed_again(book_id, page, [])
        self._done("state_page", entries, {"page": page.id, "book_page": book_page}, book_id)
        return page

    def _placed_again(self, book_id: str, page: Page, entries: list[Entry]) -> list[Entry]:
        """The book's pages placed again; returns `entries` with those whose pages or doubt changed."""
        self.session.flush()
        changed = place_book(self.session, self.home, book_id, page.capture.batch_id)
        known = {e.id for e in entries}
        return entries + [e for n in sorted(changed) if (e := _entry(self.session, book_id, n)).id not in known]

    def share_page(self, page_id: int, book_id: str, number: int, expected_version: int | None = None) -> Entry:
        """The page holds this registration too (a page shared by two entries): add it, keep it where it is."""
        page = _page(self.session, page_id)
        target = _entry(self.session, book_id, number)
        _check_version(target, expected_version)
        scan = _scan_for(self.session, target, page.capture.batch_id)
        if page.id in _pages_of(scan):
            raise CorrectionError(f"Trang {page_id} đã thuộc số {number} / already in that entry.")
        scan.pages.append(ScanPage(page_id=page.id, position=len(scan.pages), page=page))
        page.held_reason = None
        self._done("share_page", [target], {"page": page.id, "with": [book_id, number]})
        return target

    def accept(self, book_id: str, number: int, reason: str, expected_version: int | None = None) -> Entry:
        entry = _entry(self.session, book_id, number)
        _check_version(entry, expected_version)
        if not reason.strip():
            raise CorrectionError("Cần ghi lý do chấp nhận / a reason is required.")
        entry.accepted_reason = reason.strip()[:300]
        self._done("accept", [entry], {"reason_length": len(reason)})
        return entry

    def pick(self, book_id: str, number: int, scan_id: int, expected_version: int | None = None) -> Entry:
        """After a rescan: the scan that counts."""
        entry = _entry(self.session, book_id, number)
        _check_version(entry, expected_version)
        if scan_id not in {s.id for s in entry.scans}:
            ids = ", ".join(str(s.id) for s in entry.scans) or "(không có)"
            raise NotFound(f"Sổ {book_id} số {number}: không có lượt quét {scan_id} / no such scan. "
                           f"Các lượt quét / scans: {ids}.")
        for scan in entry.scans:
            scan.chosen = scan.id == scan_id
        self._done("pick", [entry], {"scan": scan_id})
        return entry
