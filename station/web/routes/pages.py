"""Page images: thumbnails, the stored image, the crop of the number read; and the pages held outside
every entry."""
from __future__ import annotations

import functools
import io
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response
from PIL import Image
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from station.capture.daemon import Station
from station.catalog.models import Page
from station.web.deps import CurrentStation
from station.web.lookups import inside_home

THUMBNAIL_WIDTH = 240
JPEG_ANSWER = {200: {"content": {"image/jpeg": {}}, "description": "A JPEG image."}}

router = APIRouter(tags=["books"])


class HeldPage(BaseModel):
    id: int
    batch: int
    source: str
    verdict: str
    reason: str = Field(description="Why the page is outside every entry.")
    has_image: bool


class HeldPages(BaseModel):
    pages: list[HeldPage]


def held_pages(session) -> list[dict]:
    pages = session.scalars(select(Page).where(Page.held_reason.is_not(None), Page.deleted.is_(False))
                            .order_by(Page.id).options(selectinload(Page.capture)))
    return [{"id": p.id, "batch": p.capture.batch_id, "source": p.capture.source_name, "verdict": p.verdict.value,
             "reason": p.held_reason, "has_image": bool(p.image_file)} for p in pages]


@functools.lru_cache(maxsize=1024)
def render_thumbnail(path: str, width: int, _stamp: int) -> bytes:
    """A small JPEG of a stored page (JPEG decoded at a reduced scale, G4 TIFF turned grey).
    `_stamp` (the file's mtime) keeps the cache honest if a file is ever replaced."""
    with Image.open(path) as image:
        image.draft("RGB" if image.mode == "RGB" else "L", (width, width * 2))
        small = image.convert("RGB" if image.mode in ("RGB", "CMYK", "P", "RGBA") else "L")
    small.thumbnail((width, width * 2), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=70, optimize=True)
    return buffer.getvalue()


@functools.lru_cache(maxsize=32)
def render_png(path: str, _stamp: int) -> bytes:
    """A bilevel (G4 TIFF) page as PNG: browsers do not show TIFF."""
    with Image.open(path) as image:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def page_file(station: Station, page_id: int) -> tuple[Path, str]:
    with station.sessions() as session:
        page = session.get(Page, page_id)
        if page is None or not page.image_file:
            raise HTTPException(404, f"Không có ảnh của trang {page_id} / no image for this page.")
        return inside_home(station.cfg.home, page.image_file), page.image_format


@router.get("/pages/{page_id}/thumbnail", summary="A small JPEG of a page",
            response_class=Response, responses=JPEG_ANSWER)
def thumbnail(page_id: int, station: CurrentStation) -> Response:
    path, _ = page_file(station, page_id)
    data = render_thumbnail(str(path), THUMBNAIL_WIDTH, path.stat().st_mtime_ns)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/pages/{page_id}/image", summary="A page as stored (JPEG; bilevel pages as PNG)",
            response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The page image."}})
def page_image(page_id: int, station: CurrentStation) -> Response:
    path, image_format = page_file(station, page_id)
    headers = {"Cache-Control": "private, max-age=86400"}
    if image_format == "jpeg":
        return FileResponse(path, media_type="image/jpeg", headers=headers)
    return Response(render_png(str(path), path.stat().st_mtime_ns), media_type="image/png", headers=headers)


@router.get("/pages/{page_id}/evidence", summary="The crop of the registration number read on a page",
            response_class=FileResponse, responses=JPEG_ANSWER)
def number_evidence(page_id: int, station: CurrentStation) -> FileResponse:
    with station.sessions() as session:
        page = session.get(Page, page_id)
        if page is None or not page.number_evidence_file:
            raise HTTPException(404, f"Trang {page_id} không có ảnh số đọc được / no number crop for this page.")
        path = inside_home(station.cfg.home, page.number_evidence_file)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/held", summary="Pages outside every entry (before a separator, unreadable sheet…)",
            response_model=HeldPages)
def held(station: CurrentStation) -> dict:
    with station.sessions() as session:
        return {"pages": held_pages(session)}
