"""The operator's corrections (move, share, delete, reorder, accept, pick), each refused if the entry
changed since the operator looked at it; the mends of a book captured by page (state a capture's book
page, drop a capture), answered with the book's strip; and their audit log."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from station.capture.daemon import Station
from pipeline.separator import MAX_BOOK_PAGE
from station.catalog.books import BookId
from station.catalog.models import Book, Correction, entry_by_number
from station.errors import StationError
from station.review.corrections import Conflict, CorrectionError, Corrections, NotFound, by_page_book
from station.web.deps import CurrentStation
from station.web.lookups import entry_answer
from station.web.routes.strip import strip_answer
from station.web.schemas import BookStripAnswer, EntryDetail

router = APIRouter(tags=["corrections"])


class EntryRef(BaseModel):
    """The entry the operator was looking at when they made the correction, as they saw it."""
    book: str = Field(..., max_length=20)
    number: int = Field(..., ge=1)
    version: int | None = Field(None, description="The entry's `version` as shown; refused (409) if it changed.")


class MoveRequest(BaseModel):
    book: str = Field(..., max_length=20, description="Target book id, e.g. KS.2017.01.")
    number: int = Field(..., ge=1, description="Target entry number.")
    position: int | None = Field(None, ge=0, description="Place in the target entry, from 0 (default: last).")
    version: int | None = Field(None, description="The target entry's `version` as shown, if known.")
    source: EntryRef | None = Field(None, description="The entry the page is taken from, as shown.")


class DeleteRequest(BaseModel):
    source: EntryRef | None = Field(None, description="The entry the page was seen in, as shown.")


class ReorderRequest(BaseModel):
    pages: list[int] = Field(..., min_length=1, max_length=500, description="Every page id of the entry, in the new order.")
    version: int | None = None


class AcceptRequest(BaseModel):
    reason: str = Field(..., min_length=1, max_length=300, description="Why the entry is right despite its warnings.")
    version: int | None = None


class PickRequest(BaseModel):
    scan: int = Field(..., description="Id of the scan that counts.")
    version: int | None = None


class BookPageRequest(BaseModel):
    book_page: int | None = Field(..., ge=1, le=MAX_BOOK_PAGE, description=(
        "The book page the capture is (the operator looked): it outranks what was read, the captures "
        "after it follow. null takes back what was stated."))
    book: str | None = Field(None, max_length=20, description="The book the capture was seen in; refused "
                             "(409) if it is not that book's.")


class DropRequest(BaseModel):
    book: str | None = Field(None, max_length=20, description="The book the capture was seen in; refused "
                             "(409) if it is not that book's.")


class DeleteAnswer(BaseModel):
    page: int
    deleted: bool


class CorrectionRecord(BaseModel):
    id: int
    at: datetime
    operator: str
    action: str
    book: str | None
    number: int | None
    details: dict[str, Any]


class CorrectionLog(BaseModel):
    corrections: list[CorrectionRecord]


def corrections(station: Station, session, request: Request) -> Corrections:
    # The page percent-encodes the name: HTTP headers carry no Vietnamese letters as they are.
    operator = unquote(request.headers.get("x-operator", "web"))[:100]
    return Corrections(session, station.cfg.home, operator)


def run_correction(station: Station, request: Request, action) -> dict:
    with station.sessions() as session:
        try:
            entry = action(corrections(station, session, request))
        except CorrectionError as exc:
            raise HTTPException(exc.status, exc.message) from None
        except StationError as exc:
            raise HTTPException(404, exc.message) from None
        return entry_answer(session, entry.book_id, entry.number)


def check_source(session, page_id: int, source: EntryRef | None) -> None:
    """The page is still where the operator saw it, in the entry as they saw it."""
    if source is None:
        return
    book_id = str(BookId.parse(source.book))
    seen = entry_by_number(session, book_id, source.number)
    if seen is None:
        raise NotFound(f"Sổ {book_id} không có số {source.number} / no such entry.")
    if source.version is not None and seen.version != source.version:
        raise Conflict(f"Sổ {book_id} số {source.number} vừa được sửa ở nơi khác (phiên bản {seen.version}, "
                       f"không phải {source.version}): tải lại rồi làm lại / changed meanwhile, reload.")
    if page_id not in {link.page_id for scan in seen.scans for link in scan.pages}:
        raise Conflict(f"Trang {page_id} không còn thuộc sổ {book_id} số {source.number}: tải lại "
                       "/ the page is no longer in that entry, reload.")


correction_answers = {400: {"description": "The correction does not apply; nothing changed."},
                      404: {"description": "Unknown book, entry, page or scan."},
                      409: {"description": "The entry changed since the operator looked at it: reload."}}


@router.post("/pages/{page_id}/move", summary="Move a page to another entry", response_model=EntryDetail,
             responses=correction_answers)
def move(page_id: int, body: MoveRequest, request: Request, station: CurrentStation) -> dict:
    def action(c: Corrections):
        check_source(c.session, page_id, body.source)
        return c.move_page(page_id, body.book, body.number, body.position, body.version)
    return run_correction(station, request, action)


@router.post("/pages/{page_id}/share", summary="The page holds this registration too (shared by two entries)",
             response_model=EntryDetail, responses=correction_answers)
def share(page_id: int, body: MoveRequest, request: Request, station: CurrentStation) -> dict:
    def action(c: Corrections):
        check_source(c.session, page_id, body.source)
        return c.share_page(page_id, body.book, body.number, body.version)
    return run_correction(station, request, action)


@router.post("/pages/{page_id}/delete", summary="Delete a page from the PDFs (kept in the catalog)",
             response_model=DeleteAnswer, responses=correction_answers)
def delete(page_id: int, request: Request, station: CurrentStation, body: DeleteRequest | None = None) -> dict:
    with station.sessions() as session:
        try:
            check_source(session, page_id, body.source if body else None)
            corrections(station, session, request).delete_page(page_id)
        except CorrectionError as exc:
            raise HTTPException(exc.status, exc.message) from None
        return {"page": page_id, "deleted": True}


strip_answers = {400: {"description": "Not a capture of a book captured by page, or already dropped; "
                                   "nothing changed."},
                 404: {"description": "Unknown page."},
                 409: {"description": "The capture is not of the book named in the request."}}


def run_strip_mend(station: Station, request: Request, page_id: int, seen_in: str | None, action) -> dict:
    """A mend of a book captured by page; answers the book's strip as it is after it."""
    with station.sessions() as session:
        try:
            book_id = by_page_book(session, page_id)
            if seen_in is not None and str(BookId.parse(seen_in)) != book_id:
                raise Conflict(f"Ảnh {page_id} thuộc sổ {book_id}, không phải sổ {seen_in}: tải lại "
                               "/ the capture is not of that book, reload.")
            action(corrections(station, session, request))
        except CorrectionError as exc:
            raise HTTPException(exc.status, exc.message) from None
        except StationError as exc:
            raise HTTPException(404, exc.message) from None
        return strip_answer(session, session.get(Book, book_id))


@router.post("/pages/{page_id}/book-page", summary="A capture of a book captured by page is this book page",
             description="The operator's word on where a capture stands in its book (a page number misread, "
                         "a page turn gone wrong); the book's pages are placed again. `book_page: null` takes "
                         "the statement back.", response_model=BookStripAnswer, responses=strip_answers)
def state_book_page(page_id: int, body: BookPageRequest, request: Request, station: CurrentStation) -> dict:
    return run_strip_mend(station, request, page_id, body.book,
                          lambda c: c.state_page(page_id, body.book_page))


@router.post("/pages/{page_id}/drop", summary="Drop a capture of a book captured by page (captured twice…)",
             description="The capture leaves its book's sequence and every PDF (kept in the catalog); the "
                         "book's pages are placed again without it.",
             response_model=BookStripAnswer, responses=strip_answers)
def drop_capture(page_id: int, request: Request, station: CurrentStation, body: DropRequest | None = None) -> dict:
    return run_strip_mend(station, request, page_id, body.book if body else None, lambda c: c.delete_page(page_id))


@router.post("/books/{book_id}/entries/{number}/reorder", summary="Put an entry's pages in a new order",
             response_model=EntryDetail, responses=correction_answers)
def reorder(book_id: str, number: int, body: ReorderRequest, request: Request, station: CurrentStation) -> dict:
    return run_correction(station, request, lambda c: c.reorder(book_id, number, body.pages, body.version))


@router.post("/books/{book_id}/entries/{number}/accept", summary="Accept a doubtful entry, with the reason",
             response_model=EntryDetail, responses=correction_answers)
def accept(book_id: str, number: int, body: AcceptRequest, request: Request, station: CurrentStation) -> dict:
    return run_correction(station, request, lambda c: c.accept(book_id, number, body.reason, body.version))


@router.post("/books/{book_id}/entries/{number}/pick", summary="After a rescan: the scan that counts",
             response_model=EntryDetail, responses=correction_answers)
def pick(book_id: str, number: int, body: PickRequest, request: Request, station: CurrentStation) -> dict:
    return run_correction(station, request, lambda c: c.pick(book_id, number, body.scan, body.version))


@router.get("/corrections", summary="The audit log of corrections (who, when, what)", response_model=CorrectionLog)
def audit(station: CurrentStation, book: str | None = None) -> dict:
    with station.sessions() as session:
        query = select(Correction).order_by(Correction.id)
        if book:
            query = query.where(Correction.book_id == book)
        return {"corrections": [{"id": c.id, "at": c.at, "operator": c.operator, "action": c.action,
                                 "book": c.book_id, "number": c.entry_number, "details": c.details}
                                for c in session.scalars(query)]}
