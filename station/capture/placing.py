"""A bound book's pages placed by its register, kept in the catalog as the pages come.

The pages captured after a book's start sheets (`Page.run_sheet_id`) are read back in capture order,
placed by station/capture/bypage.py, and each registration gets one placed scan (`Scan.placed`) holding
exactly the pages the placement gives it, or none and the reason when its pages are doubtful. The
placement is worked out again from the catalog whenever the book's pages change (a page comes, the
operator states a page's number or drops a capture), so it never depends on what was placed before.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline import likeness
from pipeline.separator import PayloadError, parse_payload
from station.capture import bypage
from station.catalog.models import Book, Capture, Entry, Page, Pdf, Scan, ScanPage, Verdict
from station.catalog.storage import write_atomic
from station.review.checks import page_start
from station.review.entries import entry_state, page_numbers, pdf_path, write_entry_pdf

SIGNATURE_SUFFIX = "-likeness.json"
UNPLACED = ("sổ đăng ký không ghi trang (trangSo) của số này: không xếp được theo trang, hãy ghi trang vào sổ "
            "đăng ký rồi nhập lại / the register gives no page (trangSo) for this registration: add it and "
            "import the register again")


def start_page_of(sheet: Page) -> tuple[str, int] | None:
    """(book id, start page) of a start sheet; None for any other page."""
    if sheet.verdict != Verdict.separator or not sheet.separator_text:
        return None
    try:
        payload = parse_payload(sheet.separator_text)
    except PayloadError:
        return None
    return (payload.book_id, payload.start_page) if payload.start_page is not None else None


def _in_capture_order(query):
    return query.join(Capture, Capture.id == Page.capture_id).order_by(Capture.batch_id, Capture.seq, Page.part)


def book_runs(session: Session, book_id: str) -> tuple[list[bypage.Run], dict[int, Page]]:
    """The book's runs in capture order (each start sheet and the pages after it), and their pages by id."""
    home = Path(session.get_bind().url.database).parent    # the catalog lives in the home
    candidates = session.scalars(_in_capture_order(select(Page)).where(
        Page.verdict == Verdict.separator, Page.deleted.is_(False),
        Page.separator_text.like(f"%:{book_id}:P%")))
    sheets = [(sheet, found[1]) for sheet in candidates
              if (found := start_page_of(sheet)) is not None and found[0] == book_id]
    members: dict[int, list[Page]] = {sheet.id: [] for sheet, _ in sheets}
    for page in session.scalars(_in_capture_order(select(Page)).where(
            Page.run_sheet_id.in_(list(members)), Page.deleted.is_(False))):
        members[page.run_sheet_id].append(page)
    runs = [bypage.Run(start, tuple(_book_page(p, home) for p in members[sheet.id])) for sheet, start in sheets]
    return runs, {p.id: p for pages in members.values() for p in pages}


def _book_page(page: Page, home: Path) -> bypage.BookPage:
    picture = (_Picture(page.id, str(home / page.image_file), page.dpi or 0.0)
               if page.verdict == Verdict.content and page.image_file else None)
    return bypage.BookPage(page.id, blank=page.verdict == Verdict.blank,
                           printed_page=(page.measures or {}).get("page_number"),
                           numbers=tuple(sorted(page_numbers(page))),
                           unreadable=page.verdict == Verdict.quarantined, stated_page=page.stated_page,
                           signature=picture)


@dataclass(frozen=True)
class _Picture:
    """A content page's stored image, to tell two captures of one physical page (pipeline.likeness)."""
    page_id: int
    image: str
    dpi: float


@functools.lru_cache(maxsize=4096)
def _signature(picture: _Picture) -> likeness.Signature:
    """Made once from the stored image and kept beside it (a page's pixels never change once
    processed), so a book placed again after every page compares without decoding again. The placing
    process keeps what it made or compared (a batch places its book after every page)."""
    image = Path(picture.image)
    kept = image.with_name(image.stem + SIGNATURE_SUFFIX)
    try:
        return likeness.Signature.from_json(kept.read_bytes())
    except (OSError, ValueError):
        pass
    try:
        with Image.open(image) as opened:
            pixels = np.asarray(opened.convert("L"))
    except (OSError, ValueError):
        pixels = np.zeros((1, 1), np.uint8)     # signs as "too small to tell": never the same picture
    made = likeness.signature(pixels, picture.dpi)
    try:
        write_atomic(kept, made.to_json().encode())
    except OSError:            # a full disk: compared all the same, kept next time
        pass
    return made


@functools.lru_cache(maxsize=16384)
def same_picture(a: _Picture, b: _Picture) -> bool:
    """Whether two content pages are one physical page captured twice."""
    return likeness.same_picture(_signature(a), _signature(b)).same


def register_pages(book: Book) -> dict[int, int]:
    """Registration number → the book page its register row gives (trangSo)."""
    return {e.number: p for e in book.entries if (p := page_start(e.page_no)) is not None}


def book_placement(session: Session, book: Book) -> tuple[bypage.Placement, dict[int, Page]] | None:
    """The placement of a book captured by page, or None for a book without start sheets."""
    runs, pages = book_runs(session, book.id)
    if not runs:
        return None
    return bypage.place(runs, register_pages(book), [e.number for e in book.entries], same_picture), pages


def place_book(session: Session, home: Path, book_id: str, batch_id: int) -> set[int]:
    """Bring the book's placed scans and PDFs to what its pages say now. Returns the registration
    numbers whose pages or doubt changed."""
    book = session.get(Book, book_id)
    found = book_placement(session, book)
    placement = found[0] if found else bypage.Placement()
    placed = {s.entry_id: s for s in session.scalars(
        select(Scan).join(Entry, Entry.id == Scan.entry_id).where(Entry.book_id == book_id, Scan.placed))}
    changed: list[tuple[Entry, Scan | None]] = []
    for entry in book.entries:
        scan = placed.get(entry.id)
        keys = placement.pages_of.get(entry.number)
        doubt = placement.doubtful.get(entry.number)
        if entry.number in placement.unplaced and not any(not s.placed for s in entry.scans):
            doubt = UNPLACED     # none of the book's pages is its, and no separator of its own came
        if keys is None and doubt is None:
            if scan is not None:          # its pages are no longer all there (a capture dropped...)
                _remove(session, home, entry, scan)
                changed.append((entry, None))
            continue
        if scan is None:
            scan = Scan(entry=entry, batch_id=batch_id, placed=True)
            session.add(scan)
        keys = [] if doubt else keys
        if [sp.page_id for sp in scan.pages] != keys or scan.doubt != doubt:
            _set_pages(scan, keys)
            scan.doubt, scan.batch_id = doubt, batch_id
            changed.append((entry, scan))
    session.flush()
    for entry, scan in changed:
        session.refresh(entry)
        if scan is None:
            continue
        if entry_state(entry, with_book=False).status == "done":
            write_entry_pdf(session, home, entry)
        elif scan.doubt:
            _drop_pdf(session, home, entry, scan)   # pages withheld: no PDF of them may stay about
    return {entry.number for entry, _ in changed}


def _set_pages(scan: Scan, keys: list[int]) -> None:
    """The scan's pages become `keys` in that order; links kept where they are already (their key is
    the page and the scan, so removing and adding one back would collide)."""
    links = {sp.page_id: sp for sp in scan.pages}
    for page_id, link in links.items():
        if page_id not in keys:
            scan.pages.remove(link)
    for position, page_id in enumerate(keys):
        link = links.get(page_id)
        if link is None:
            scan.pages.append(ScanPage(page_id=page_id, position=position))
        else:
            link.position = position


def _drop_pdf(session: Session, home: Path, entry: Entry, scan: Scan) -> None:
    pdf = session.get(Pdf, entry.id)
    if pdf is not None and pdf.scan_id == scan.id:
        session.delete(pdf)
        session.flush()
        pdf_path(home, entry).unlink(missing_ok=True)


def _remove(session: Session, home: Path, entry: Entry, scan: Scan) -> None:
    _drop_pdf(session, home, entry, scan)
    session.delete(scan)
