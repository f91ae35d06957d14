"""A bound book captured by page: the strip of its book pages (what was captured where, what was read on
it, the registrations it holds, where the sequence broke), and the book-start sheet to print for a page
to capture again. The operator's mends of the strip are corrections (routes/corrections.py)."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from station.catalog import library
from station.catalog.models import Book
from station.errors import InputError
from station.review.strip import book_strip
from station.web.deps import CurrentStation
from station.web.lookups import require_book
from station.web.schemas import PDF_ANSWER, BookStripAnswer

router = APIRouter(tags=["books"])

NOT_BY_PAGE = ("Sổ chưa có tờ bắt đầu sổ nào: không quét theo trang / no book-start sheet: not captured by page "
               "(in tờ bắt đầu sổ / print one: GET /api/books/{book}/start-sheet?page=N)")


def strip_answer(session, book: Book) -> dict:
    strip = book_strip(session, book)
    if strip is None:
        return {"book": book.id, "by_page": False, "runs": [], "pages": [], "breaks": [], "unfiled": [],
                "confirmed_pages": 0, "notes": [NOT_BY_PAGE.format(book=book.id)]}
    return {**strip.as_dict(), "by_page": True}


@router.get("/books/{book_id}/strip", summary="A book captured by page, as the strip of its pages",
            description="Each book page with the capture filed there (or none), what was read on it, the "
                        "registrations it holds and why they are withheld; the breaks in the sequence and "
                        "the captures filed nowhere. A book without a book-start sheet answers 200 with "
                        "`by_page: false`.",
            response_model=BookStripAnswer, responses={404: {"description": "Unknown book."}})
def strip(book_id: str, station: CurrentStation) -> dict:
    with station.sessions() as session:
        return strip_answer(session, require_book(session, book_id))


@router.get("/books/{book_id}/start-sheet", summary="A book-start sheet (PDF) from a book page on",
            description="One A4 sheet: put it on top, then capture the book's pages from `page` on (a missed "
                        "page, a range to capture again); the station puts them in their place.",
            response_class=Response, responses={**PDF_ANSWER, 400: {"description": "No such book page."},
                                                404: {"description": "Unknown book."}})
def start_sheet(book_id: str, station: CurrentStation,
                page: int = Query(..., description="The first book page captured after the sheet.")) -> Response:
    with station.sessions() as session:
        found = require_book(session, book_id)
        try:
            data = library.start_sheet_pdf(session, station.cfg, found.id, page)
        except InputError as exc:
            raise HTTPException(400, exc.message) from None
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="to-bat-dau-{found.id}-trang-{page}.pdf"',
        "Cache-Control": "private, no-store"})
