"""One entry: its scans and pages with the pipeline's measurements, and its PDF."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from station.catalog.models import entry_by_number
from station.web.deps import CurrentStation
from station.web.lookups import entry_answer, inside_home, require_book
from station.web.schemas import PDF_ANSWER, EntryDetail

router = APIRouter(tags=["books"])


@router.get("/books/{book_id}/entries/{number}", summary="One entry: its scans and pages with the pipeline's "
            "measurements, and its version for corrections", response_model=EntryDetail)
def entry(book_id: str, number: int, station: CurrentStation) -> dict:
    with station.sessions() as session:
        return entry_answer(session, book_id, number)


@router.get("/books/{book_id}/entries/{number}/pdf", summary="The entry's PDF as it will be exported",
            response_class=FileResponse, responses=PDF_ANSWER)
def entry_pdf(book_id: str, number: int, station: CurrentStation) -> FileResponse:
    with station.sessions() as session:
        found = require_book(session, book_id)
        item = entry_by_number(session, found.id, number)
        if item is None or item.pdf is None:
            raise HTTPException(404, f"Sổ {found.id} số {number}: chưa có tệp PDF / no PDF yet.")
        path = inside_home(station.cfg.home, item.pdf.file)
    return FileResponse(path, media_type="application/pdf", filename=f"{found.id}.{number:05d}.pdf",
                        content_disposition_type="inline", headers={"Cache-Control": "private, no-cache"})
