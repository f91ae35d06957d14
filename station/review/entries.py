"""An entry's state (missing, doubtful, done) and its PDF.

An entry is done when exactly one scan of it counts (the only one, or the one the operator picked),
that scan has content pages, none of its captures was unreadable, and nothing read on the pages
contradicts it. Anything else is doubtful with the reasons, so the operator sees what to fix.

Some reasons need the rest of the book (BookFacts): a page filed under another entry that reads this
entry's number, and a page count far above the book's usual or the register's (station.review.checks).

Warnings are what the operator should know but no rescan changes (a page over the size cap at the
profile's floors): shown everywhere, never holding an entry back. The book's own notes say when a
check could not work for it, e.g. the number cross-check on a book whose form OCR does not read.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from pipeline.pdf import assemble_pdf
from station.catalog.models import Book, Entry, Page, Pdf, Scan, ScanPage
from station.catalog.storage import sha256_bytes, write_atomic
from station.review import checks

EntryStatus = Literal["missing", "doubtful", "done"]
# The number cross-check works for a book while a number is read on at least this share of its
# entries' first pages; below, a misplaced separator would mostly go unseen, and the book says so.
CROSSCHECK_MIN_READ_SHARE = 0.5


@dataclass
class EntryState:
    entry: Entry
    status: EntryStatus
    scan: Scan | None = None
    pages: list[Page] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # Pages whose number or volume read by OCR contradicts where they are filed, with the crop
    # shown to the operator: {"page", "read_number", "filed_under", "evidence"}.
    evidence: list[dict] = field(default_factory=list)
    # Not holding the entry back: its pages' warnings (size over the cap at the profile's floors).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CrossCheck:
    """How often the book's first pages give a number to check separators against."""
    first_pages: int  # entries whose counting scan has pages
    attempted: int    # of their first pages, those OCR read (the profile reads numbers)
    read: int         # of those, a registration number read with confidence

    @property
    def active(self) -> bool:
        return self.attempted > 0 and self.read >= CROSSCHECK_MIN_READ_SHARE * self.attempted

    def note(self) -> str | None:
        """Why the cross-check says little or nothing for this book; None while it works."""
        if not self.first_pages or self.active:
            return None
        if not self.attempted:
            return ("đối chiếu số đăng ký đang tắt: hồ sơ không đọc số trên trang (read_entry_number), tờ phân "
                    "cách đặt sai chỗ sẽ không bị phát hiện / cross-check off: the profile does not read "
                    "numbers on pages, a misplaced separator would go unnoticed")
        return (f"đối chiếu số đăng ký không hoạt động cho sổ này (đọc được số trên {self.read}/{self.attempted} "
                "trang đầu): mẫu sổ này chưa đọc được số, tờ phân cách đặt sai chỗ sẽ không bị phát hiện, hãy "
                f"kiểm tra bằng mắt / cross-check inactive for this book (number read on {self.read} of "
                f"{self.attempted} first pages): a misplaced separator would go unnoticed, check by eye")


@dataclass
class BookFacts:
    """What an entry's state depends on beyond its own pages: the rest of its book."""
    # page id -> numbers of the entries whose counting scan holds the page (two for a shared page)
    holders: dict[int, set[int]]
    # number read on a page -> those pages (counting scans only)
    readings: dict[int, list[Page]]
    # entry number -> why its page count is suspicious (station.review.checks)
    count_alarms: dict[int, str]
    crosscheck: CrossCheck
    over_cap_pages: int  # pages over the size cap at the profile's floors (a warning, not a fault)

    def notes(self) -> list[str]:
        """What the operator must know about the whole book (status, dashboard, export)."""
        return book_notes(self.crosscheck, self.over_cap_pages)


def book_notes(crosscheck: CrossCheck, over_cap_pages: int) -> list[str]:
    """BookFacts.notes from what they depend on (also as stored, station.review.states)."""
    notes = [note] if (note := crosscheck.note()) else []
    if over_cap_pages:
        notes.append(f"{over_cap_pages} trang vượt giới hạn dung lượng của hồ sơ dù đã nén tới mức thấp "
                     f"nhất; vẫn xuất được / {over_cap_pages} pages over the profile's size cap at its "
                     "lowest quality and resolution; exported all the same")
    return notes


def page_numbers(page: Page) -> set[int]:
    """Registration numbers read on a page: the header's "Số: N", or every row of a table page."""
    numbers = set((page.measures or {}).get("read_numbers") or ())
    if page.read_number is not None:
        numbers.add(page.read_number)
    return numbers


def page_warnings(page: Page) -> list[str]:
    return list((page.measures or {}).get("warnings") or ())


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


def load_books(session: Session, book_ids: Collection[str] | None = None) -> list[Book]:
    """Books (every one, or those of `book_ids`) with their entries, scans, pages and PDFs, in a handful
    of queries: an entry's state looks at its whole book, which would otherwise be fetched row by row
    (6,000 queries for 10 books of 150 entries). Joined, not selectin, for the one-to-one hops: with
    selectin all the way down, `station status` on 30 books of bench/many_books.py died at exit in the
    garbage collector (SIGSEGV, 3 runs of 3, also without SQLAlchemy's C extensions); this way 13 of 13
    ended cleanly."""
    query = (select(Book).order_by(Book.id)
             .options(selectinload(Book.entries).selectinload(Entry.scans).selectinload(Scan.pages)
                      .joinedload(ScanPage.page), selectinload(Book.entries).joinedload(Entry.pdf)))
    if book_ids is not None:
        query = query.where(Book.id.in_(list(book_ids)))
    return list(session.scalars(query))


def book_facts(book: Book) -> BookFacts:
    """One pass over the book, for entry_state over many of its entries."""
    holders: dict[int, set[int]] = {}
    readings: dict[int, list[Page]] = {}
    counts: dict[int, int] = {}
    attempted = read = over_cap = 0
    for entry in book.entries:
        scan, _ = effective_scan(entry)
        pages = scan_pages(scan) if scan is not None else []
        if pages:
            counts[entry.number] = len(pages)
            if "ocr" in (pages[0].measures or {}):
                attempted += 1
                read += bool(page_numbers(pages[0]))
        for page in pages:
            # A bound book's page placed by its register: what was read on it has been weighed there
            # (a row misread as another registration's number moves nothing and holds nothing back).
            if page.id not in holders and page.run_sheet_id is None:
                for number in page_numbers(page):
                    readings.setdefault(number, []).append(page)
                over_cap += bool(page.over_budget and page_warnings(page))
            holders.setdefault(page.id, set()).add(entry.number)
    in_register_order = sorted(book.entries, key=lambda e: (e.register_row is None, e.register_row or 0, e.number))
    spans = checks.register_spans([(e.number, checks.page_start(e.page_no)) for e in in_register_order])
    return BookFacts(holders, readings, checks.page_count_alarms(counts, spans),
                     CrossCheck(len(counts), attempted, read), over_cap)


def _holders_of(session: Session, pages: list[Page]) -> dict[int, set[int]]:
    """page id -> numbers of the entries with a scan holding it (this entry's and any sharing it)."""
    holders: dict[int, set[int]] = {}
    rows = session.execute(select(ScanPage.page_id, Entry.number).join(Scan, Scan.id == ScanPage.scan_id)
                           .join(Entry, Entry.id == Scan.entry_id)
                           .where(ScanPage.page_id.in_([p.id for p in pages])))
    for page_id, number in rows:
        holders.setdefault(page_id, set()).add(number)
    return holders


def _evidence(page: Page, read_number: int | None, filed_under: list[int]) -> dict:
    return {"page": page.id, "read_number": read_number, "filed_under": filed_under,
            "evidence": page.number_evidence_file}


def _read_on_own_pages(entry: Entry, pages: list[Page], holders: dict[int, set[int]]
                       ) -> tuple[list[str], list[dict]]:
    """Pages of this entry that read another entry's number, or another book's volume or year."""
    reasons, evidence = [], []
    book = entry.book
    for page in pages:
        filed = sorted(holders.get(page.id, {entry.number}))
        numbers = page_numbers(page)
        # A table page holding several registrations fits when one of them is filed here; the
        # others' entries are told by _read_elsewhere that the page is theirs too.
        if numbers and not numbers & set(filed):
            read = page.read_number if page.read_number is not None else min(numbers)
            shown = ", ".join(map(str, sorted(numbers)))
            reasons.append(f"trang {page.id} ghi «Số: {shown}» nhưng nằm trong số {entry.number}: tờ "
                           f"phân cách đặt sai chỗ? / page {page.id} reads no. {shown} but is filed "
                           f"under no. {entry.number}: misplaced separator?")
            evidence.append(_evidence(page, read, filed))
        volume_differs = page.read_volume is not None and page.read_volume.isdigit() \
            and int(page.read_volume) != book.volume
        if volume_differs or (page.read_year is not None and page.read_year != book.year):
            printed = f"{page.read_volume or '?'}/{page.read_year or '?'}"
            reasons.append(f"trang {page.id} ghi quyển số {printed}, sổ này là {book.volume:02d}/{book.year}: trang "
                           f"của sổ khác? / page {page.id} reads volume {printed}, this book is "
                           f"{book.volume:02d}/{book.year}: a page of another book?")
            evidence.append(_evidence(page, page.read_number, filed))
    return reasons, evidence


def _read_elsewhere(entry: Entry, facts: BookFacts) -> tuple[list[str], list[dict]]:
    """Pages filed under other entries that read this entry's number."""
    reasons, evidence = [], []
    for page in facts.readings.get(entry.number, []):
        filed = sorted(facts.holders.get(page.id, set()))
        if entry.number not in filed:
            others = ", ".join(map(str, filed))
            reasons.append(f"số {entry.number} đọc được trên trang {page.id} nằm trong số {others}: tờ phân cách "
                           f"đặt sai chỗ? / no. {entry.number} read on page {page.id}, filed under no. {others}: "
                           "misplaced separator?")
            evidence.append(_evidence(page, entry.number, filed))
    return reasons, evidence


def entry_state(entry: Entry, facts: BookFacts | None = None, *, with_book: bool = True) -> EntryState:
    """The entry's state. `facts` (book_facts of its book) saves a pass over the book per entry;
    `with_book=False` leaves out the reasons that depend on other entries (used while assigning,
    where the entry's PDF is kept current whatever the rest of the book holds)."""
    if with_book and facts is None:
        facts = book_facts(entry.book)
    book_reasons, book_evidence = _read_elsewhere(entry, facts) if with_book else ([], [])
    if not entry.scans:
        if book_reasons:
            return EntryState(entry, "doubtful", reasons=book_reasons, evidence=book_evidence)
        return EntryState(entry, "missing")
    scan, problem = effective_scan(entry)
    if scan is None:
        return EntryState(entry, "doubtful", reasons=[problem or "chưa chọn bản quét / no scan chosen"])
    pages = scan_pages(scan)
    reasons = []
    if scan.doubt:      # a bound book's pages withheld from this registration (station/capture/placing.py)
        reasons.append(scan.doubt)
    elif not pages:
        reasons.append("tờ phân cách không có trang nào sau nó / separator with no pages after it")
    if scan.damaged:
        reasons.append("có ảnh hỏng trong lượt quét, có thể thiếu trang / an unreadable capture in this scan")
    reasons.extend(sorted({page.reason for page in pages if page.reason}))
    warnings = [warning for page in pages for warning in page_warnings(page)]
    read_pages = [page for page in pages if page_numbers(page) or page.read_volume or page.read_year]
    if read_pages:
        holders = facts.holders if facts is not None else _holders_of(object_session(entry), read_pages)
        own_reasons, evidence = _read_on_own_pages(entry, read_pages, holders)
        reasons.extend(own_reasons)
    else:
        evidence = []
    reasons.extend(book_reasons)
    evidence.extend(book_evidence)
    if with_book and entry.number in facts.count_alarms:
        reasons.append(facts.count_alarms[entry.number])
    if reasons and pages and entry.accepted_reason:
        return EntryState(entry, "done", scan, pages, [f"đã chấp nhận / accepted: {entry.accepted_reason}"],
                          evidence, warnings)
    return EntryState(entry, "doubtful" if reasons else "done", scan, pages, reasons, evidence, warnings)


def pdf_path(home: Path, entry: Entry) -> Path:
    return home / "pdfs" / entry.book_id / f"{entry.book_id}.{entry.number:05d}.pdf"


def write_entry_pdf(session: Session, home: Path, entry: Entry) -> Pdf | None:
    """(Re)write the entry's PDF from the scan that counts; leave the old one while none counts."""
    state = entry_state(entry, with_book=False)
    if state.scan is None or not state.pages:
        return None
    images = [(home / page.image_file).read_bytes() for page in state.pages]
    layers = [(home / page.text_layer_file).read_bytes() if page.text_layer_file else None for page in state.pages]
    data = assemble_pdf(images, title=f"Sổ {entry.book_id} - số {entry.number}", text_layers=layers)
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
