"""The station's web API (JSON, documented by OpenAPI at /docs), served by `station run`.

Bound to 127.0.0.1 by default; any other address needs the access token from config.yaml, checked in
constant time on every request. Answers carry book and entry numbers, never citizens' names.
"""
from __future__ import annotations

import hmac
import ipaddress
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from station import library
from station.catalog import Book, Correction
from station.corrections import CorrectionError, Corrections
from station.daemon import Station
from station.errors import ConfigError, StationError

API_VERSION = "1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None, config_path) -> None:
    if not is_loopback(host) and not token:
        raise ConfigError(f"{config_path}: khóa 'web.token': cần mã truy cập khi mở trang ra địa chỉ {host} "
                          "/ an access token is required to listen beyond 127.0.0.1.")


class ScanRequest(BaseModel):
    device: str = Field(..., min_length=1, max_length=200)
    source: str | None = Field(None, pattern="^(flatbed|adf|adf-duplex)$")
    profile: str | None = Field(None, max_length=64)
    resolution: int = Field(300, ge=75, le=1200)


class MoveRequest(BaseModel):
    book: str = Field(..., max_length=20)
    number: int = Field(..., ge=1)
    position: int | None = Field(None, ge=0)
    version: int | None = None


class ReorderRequest(BaseModel):
    pages: list[int] = Field(..., min_length=1, max_length=500)
    version: int | None = None


class AcceptRequest(BaseModel):
    reason: str = Field(..., min_length=1, max_length=300)
    version: int | None = None


class PickRequest(BaseModel):
    scan: int
    version: int | None = None


def create_app(station: Station, token: str | None) -> FastAPI:
    def authorised(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(401, "Thiếu hoặc sai mã truy cập / missing or wrong access token")

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        # Inside the server's own shutdown, before it re-raises SIGTERM: stop the drivers, let the
        # pages in flight finish, close the batches.
        station.shutdown()

    app = FastAPI(title="Trạm số hóa Sổ hộ tịch", version=API_VERSION, dependencies=[Depends(authorised)],
                  lifespan=lifespan)

    def sessions():
        return station.sessions()

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True, "api": API_VERSION}

    @app.get("/api/books")
    def books() -> dict:
        with sessions() as session:
            reports = [library.book_report(session, b).as_dict(with_entries=False)
                       for b in session.scalars(select(Book).order_by(Book.id))]
            return {"books": reports, "held_pages": library.held_page_count(session)}

    @app.get("/api/books/{book_id}")
    def book(book_id: str) -> dict:
        with sessions() as session:
            try:
                found = library.require_book(session, book_id)
            except StationError as exc:
                raise HTTPException(404, exc.message) from None
            return library.book_report(session, found).as_dict()

    @app.get("/api/events")
    def events() -> dict:
        return {"events": [{"device": e.device, "kind": e.kind, "message": e.message, "at": e.at.isoformat()}
                           for e in station.events]}

    @app.get("/api/jobs")
    def jobs() -> dict:
        return {"jobs": [job.as_dict() for job in station.jobs.values()]}

    @app.post("/api/scan", status_code=202)
    def scan(request: ScanRequest) -> dict:
        try:
            job = station.start_scan(request.device, request.source, request.profile, request.resolution)
        except StationError as exc:
            raise HTTPException(400, exc.message) from None
        return job.as_dict()

    def _job(job_id: int):
        job = station.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"Không có lượt quét {job_id} / no such scan job")
        return job

    @app.get("/api/jobs/{job_id}")
    def job(job_id: int) -> dict:
        return _job(job_id).as_dict()

    @app.post("/api/jobs/{job_id}/resume")
    def resume(job_id: int) -> dict:
        found = _job(job_id)
        if found.state != "paused":
            raise HTTPException(409, f"Lượt quét {job_id} không tạm dừng / job is not paused")
        found.decide(True)
        return found.as_dict()

    @app.post("/api/jobs/{job_id}/stop")
    def stop(job_id: int) -> dict:
        found = _job(job_id)
        if found.state in ("finished", "failed", "stopped"):
            raise HTTPException(409, f"Lượt quét {job_id} đã kết thúc / job already ended")
        if found.state == "paused":
            found.decide(False)
        elif found.driver is not None:
            found.driver.stop()
            found.state = "stopped"
        return found.as_dict()

    # --- review and corrections ---------------------------------------------------------------
    def corrections(session, request: Request) -> Corrections:
        operator = request.headers.get("x-operator", "web")[:100]
        return Corrections(session, station.cfg.home, operator)

    def run_correction(request: Request, action) -> dict:
        with sessions() as session:
            try:
                entry = action(corrections(session, request))
            except CorrectionError as exc:
                raise HTTPException(exc.status, exc.message) from None
            except StationError as exc:
                raise HTTPException(404, exc.message) from None
            return library.entry_detail(session, entry.book_id, entry.number)

    @app.get("/api/books/{book_id}/entries/{number}")
    def entry(book_id: str, number: int) -> dict:
        with sessions() as session:
            try:
                return library.entry_detail(session, book_id, number)
            except StationError as exc:
                raise HTTPException(404, exc.message) from None

    @app.post("/api/pages/{page_id}/move")
    def move(page_id: int, body: MoveRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.move_page(page_id, body.book, body.number, body.position,
                                                             body.version))

    @app.post("/api/pages/{page_id}/share")
    def share(page_id: int, body: MoveRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.share_page(page_id, body.book, body.number, body.version))

    @app.post("/api/pages/{page_id}/delete")
    def delete(page_id: int, request: Request) -> dict:
        with sessions() as session:
            try:
                corrections(session, request).delete_page(page_id)
            except CorrectionError as exc:
                raise HTTPException(exc.status, exc.message) from None
            return {"page": page_id, "deleted": True}

    @app.post("/api/books/{book_id}/entries/{number}/reorder")
    def reorder(book_id: str, number: int, body: ReorderRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.reorder(book_id, number, body.pages, body.version))

    @app.post("/api/books/{book_id}/entries/{number}/accept")
    def accept(book_id: str, number: int, body: AcceptRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.accept(book_id, number, body.reason, body.version))

    @app.post("/api/books/{book_id}/entries/{number}/pick")
    def pick(book_id: str, number: int, body: PickRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.pick(book_id, number, body.scan, body.version))

    @app.get("/api/corrections")
    def audit(book: str | None = None) -> dict:
        with sessions() as session:
            query = select(Correction).order_by(Correction.id)
            if book:
                query = query.where(Correction.book_id == book)
            return {"corrections": [{"id": c.id, "at": c.at.isoformat(), "operator": c.operator,
                                     "action": c.action, "book": c.book_id, "number": c.entry_number,
                                     "details": c.details} for c in session.scalars(query)]}

    return app
