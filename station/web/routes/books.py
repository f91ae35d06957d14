"""The books and their progress, entry by entry, and the separator sheets to print for them."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from station.catalog import library
from station.catalog.books import parse_entry_range
from station.catalog.models import Book
from station.errors import BookError
from station.export import report
from station.review.entries import load_books, scan_pages
from station.web.deps import CurrentStation
from station.web.lookups import require_book
from station.web.schemas import PDF_ANSWER, BookSummary

router = APIRouter(tags=["books"])


class BooksAnswer(BaseModel):
    books: list[BookSummary]
    held_pages: int


class EntryCell(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: int
    status: str = Field(description="done, missing or doubtful.")
    reasons: list[str] = Field(description="Why the entry is doubtful (or accepted), in the operator's words.")
    warnings: list[str] = Field(default_factory=list, description="What no rescan changes (a page over the size "
                                "cap at the profile's floors): shown, never holding the entry back.")
    pages: int
    pdf_bytes: int
    page_ids: list[int] = Field(description="The pages shown for the entry (for thumbnails), in book order.")
    scans: int
    version: int
    reg_date: date | None = None
    page_no: str | None = Field(None, description="trangSo: the book page the register gives.")


class BookDetail(BookSummary):
    entries: list[EntryCell]


def book_detail(session, book: Book) -> dict:
    (loaded,) = load_books(session, [book.id])
    progress, _, states = report.progress_of(session, loaded,
                                             report.last_activity(session, book.id).get(book.id), report.today_here())
    cells = []
    for entry, state in zip(loaded.entries, states):
        # A rescanned entry counts no scan until the operator picks: show the newest one's pages.
        shown = state.pages or (scan_pages(entry.scans[-1]) if entry.scans else [])
        cells.append({"number": entry.number, "status": state.status, "reasons": state.reasons,
                      "warnings": state.warnings,
                      "pages": len(state.pages), "pdf_bytes": entry.pdf.bytes if entry.pdf else 0,
                      "page_ids": [p.id for p in shown], "scans": len(entry.scans), "version": entry.version,
                      "reg_date": entry.reg_date, "page_no": entry.page_no})
    return {**progress.as_dict(), "entries": cells}


@router.get("/books", summary="Every book with its progress", response_model=BooksAnswer)
def books(station: CurrentStation) -> dict:
    with station.sessions() as session:
        progress = report.book_progress(session)
        return {"books": [p.as_dict() for p in progress], "held_pages": library.held_page_count(session)}


@router.get("/books/{book_id}", summary="One book: its entries, done, missing or doubtful with the reasons",
            response_model=BookDetail)
def book(book_id: str, station: CurrentStation) -> dict:
    with station.sessions() as session:
        return book_detail(session, require_book(session, book_id))


@router.get("/books/{book_id}/separators", summary="Separator sheets (PDF) for some entries of a book",
            description="`entries` as on the CLI, e.g. `3,7-9`: one A4 sheet per entry, to print and put "
                        "before the entry's first page when it is scanned.",
            response_class=Response, responses=PDF_ANSWER)
def separators(book_id: str, station: CurrentStation,
               entries: str = Query(..., max_length=4000, description="e.g. 3,7-9")) -> Response:
    with station.sessions() as session:
        found = require_book(session, book_id)
        try:
            data = library.separator_pdf(session, station.cfg, found.id, parse_entry_range(entries), None)
        except BookError as exc:
            raise HTTPException(400, exc.message) from None
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="to-phan-cach-{found.id}.pdf"',
        "Cache-Control": "private, no-store"})
