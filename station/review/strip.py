"""A book captured by page, as the operator sees it: a strip of its book pages, each with the capture
filed there, what was read on it, the registrations it holds, and where the sequence broke.

Ids and numbers only (no OCR text): the same view serves `station book pages` and the dashboard.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from station.capture import bypage
from station.capture.placing import book_placement, register_pages, start_page_of
from station.catalog.models import Book, Page, StoredBookFacts, Verdict
from station.review.entries import page_numbers

UNCONFIRMED = ("không trang nào tự xác nhận vị trí (không đọc được số trang hay số đăng ký): lật sót hay chụp "
               "trùng sẽ không bị phát hiện, hãy kiểm tra dải trang bằng mắt / no page confirmed its place (no "
               "page number or registration number read): a missed or doubled page turn would go unnoticed, "
               "check the strip by eye")


@dataclass
class StripPage:
    book_page: int
    page_id: int | None             # the capture filed there; None: not captured
    source: str | None
    blank: bool = False
    unreadable: bool = False
    printed_page: int | None = None  # read on it
    stated_page: int | None = None   # the operator's word
    numbers_read: list[int] = field(default_factory=list)
    registrations: list[int] = field(default_factory=list)   # the register's, starting or running on here
    doubt: str | None = None         # why its registrations are held back


@dataclass
class StripCapture:
    """A capture of the book filed at no book page: dropped (captured again, turned back) or replaced."""
    page_id: int
    source: str
    why: str


@dataclass
class StripBreak:
    page_id: int
    source: str
    expected: int
    found: int | None
    reason: str
    # The registrations it still holds back (their doubt is its reason): none for a capture dropped from
    # the sequence, nor once the pages it missed were captured in a later run.
    withholds: list[int] = field(default_factory=list)

    def said(self) -> str:
        return f"ảnh {self.page_id} ({self.source}): {self.reason}"


@dataclass
class BookStrip:
    book: str
    runs: list[dict]                 # {"sheet": page id, "start_page", "captures"}
    pages: list[StripPage]
    breaks: list[StripBreak]
    unfiled: list[StripCapture]
    confirmed_pages: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def book_strip(session: Session, book: Book) -> BookStrip | None:
    """The strip of a book captured by page; None for a book with no start sheet."""
    found = book_placement(session, book)
    if found is None:
        return None
    placement, pages = found
    page_of = register_pages(book)
    last = max([*placement.capture_at, *page_of.values(), 0])
    spans = bypage.spans(page_of, max(placement.capture_at, default=0))
    on_page: dict[int, list[int]] = {}
    for number, covered in spans.items():
        for p in covered:
            on_page.setdefault(p, []).append(number)
    doubt_at = {p: reason for number, reason in placement.doubtful.items() for p in spans.get(number, ())}

    def source(page: Page) -> str:
        return page.capture.source_name.rsplit("/", 1)[-1]

    strip = []
    for book_page in range(1, last + 1):
        page = pages.get(placement.capture_at.get(book_page))
        item = StripPage(book_page, page.id if page else None, source(page) if page else None,
                         registrations=sorted(on_page.get(book_page, [])), doubt=doubt_at.get(book_page))
        if page is not None:
            item.blank, item.unreadable = page.verdict == Verdict.blank, page.verdict == Verdict.quarantined
            item.printed_page = (page.measures or {}).get("page_number")
            item.stated_page = page.stated_page
            item.numbers_read = sorted(page_numbers(page))
        strip.append(item)
    filed = set(placement.capture_at.values())
    dropped = set(placement.dropped)
    unfiled = [StripCapture(page.id, source(page),
                            "bỏ: chụp lại hoặc lật ngược / dropped: captured again or turned back" if page.id in dropped
                            else "đã có bản chụp sau thay thế / replaced by a later capture")
               for page in pages.values() if page.id not in filed]
    breaks = [StripBreak(b.key, source(pages[b.key]), b.expected, b.found, b.reason,
                         sorted(n for n, why in placement.doubtful.items() if why == b.reason))
              for b in placement.breaks]
    runs = _runs(session, pages)
    notes = [UNCONFIRMED] if pages and not placement.confirmed_pages else []
    return BookStrip(book.id, runs, strip, breaks, unfiled, placement.confirmed_pages, notes)


def by_page_facts(session: Session, book: Book) -> tuple[list[str], list[str]] | None:
    """(its breaks, its notes) for a book captured by page, None for any other. Looked for only when a
    scan of the book was placed by page, which its loaded entries tell: other books cost no query."""
    if not any(s.placed for e in book.entries for s in e.scans):
        return None
    return strip_facts(session, book)


def strip_facts(session: Session, book: Book) -> tuple[list[str], list[str]] | None:
    """by_page_facts of a book known to have a scan placed by page."""
    strip = book_strip(session, book)
    return None if strip is None else ([b.said() for b in strip.breaks], strip.notes)


def by_page_books(session: Session, book_id: str | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """by_page_facts of every book (or of one) with a scan placed by page, as stored with its entries'
    states: the overviews of many books load none of the others."""
    query = select(StoredBookFacts.book_id).where(StoredBookFacts.by_page)
    if book_id:
        query = query.where(StoredBookFacts.book_id == book_id)
    found = {}
    for placed in session.scalars(query):
        if (facts := strip_facts(session, session.get(Book, placed))) is not None:
            found[placed] = facts
    return found


def _runs(session: Session, pages: dict[int, Page]) -> list[dict]:
    counts: dict[int, int] = {}
    for page in pages.values():
        counts[page.run_sheet_id] = counts.get(page.run_sheet_id, 0) + 1
    return [{"sheet": sheet, "start_page": start_page_of(session.get(Page, sheet))[1], "captures": count}
            for sheet, count in sorted(counts.items())]
