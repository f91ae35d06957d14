"""The centre's API, served by `station centre serve`, beside its dashboard (dashboard.py: `/`, behind a
user's login, its JSON under /ui/).

Everything under /api/ needs a station's token (`Authorization: Bearer TOKEN`): the check comes first, in
front of the routes (`StationTokens`), so without one every path answers 401, whether it exists or not
and whatever its body: a caller without a token learns nothing of the API. Each route works for the
station the token names, never another.

The sync (`station sync`, station/sync/):
- `POST /api/sync/hello`: the station says who it is and which files it means to send; the centre records
  the contact and says what it already holds from that station (the files among those, the digest of each
  book's last push), so a sync cut short (either side killed) resumes where it stopped;
- `PUT /api/blobs/{sha256}?kind=…`: one file, streamed, checked and made durable before it is recorded
  (blobs.py);
- `POST /api/sync`: one book's rows in one transaction, refused whole if a file it names is missing (push.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from station import faults
from station.catalog.models import utcnow
from station.centre import dashboard
from station.centre.blobs import put_blob
from station.centre.communes import heard_from_station
from station.centre.catalog import (Blob, Book, Correction, Entry, EntryState, Page, Pdf, Scan, Station,
                                    StationBlob, StationBook)
from station.centre.picture import SILENT_HOURS, STALLED_DAYS
from station.centre.push import MissingFiles, apply_push
from station.centre.stations import WRONG_TOKEN, Refused, authenticate
from station.centre.store import BlobStore
from station.centre.tokens import ProvenTokens
from station.centre.users import LoginThrottle
from station.errors import CentreError
from station.sync.protocol import MISSING_FILES, BookPush, PushAnswer
from station.web.page import STATIC as STATION_STATIC

API_VERSION = "0.1"
MAX_HASHES = 10_000        # per hello: a station with more asks again with the next ones
# A request's JSON (a book's push: its rows, not its files) beyond this is refused before it is read.
MAX_JSON_BYTES = 64 << 20

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Hello(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commune: str | None = Field(None, max_length=100, description="The commune in the station's config.yaml.")
    district: str | None = Field(None, max_length=100, description="Its district (huyện), when config.yaml says.")
    software: str | None = Field(None, max_length=100, description="The station's program and version.")
    hashes: list[Sha256] = Field(default_factory=list, max_length=MAX_HASHES,
                                 description="SHA-256 of files the station means to send: `have` says which "
                                             "the centre already holds from it.")


class BookHeld(BaseModel):
    commune: str
    code: str
    entry_states: int
    scans: int
    pdfs: int
    digest: str | None = Field(None, description="The digest of the station's last push of this book.")


class Holds(BaseModel):
    books: list[BookHeld]
    entry_states: int
    scans: int
    pages: int
    pdfs: int
    corrections: int
    files: int
    file_bytes: int
    # The highest station-side id received, per kind: where an append-only push (corrections) resumes.
    last_local_id: dict[str, int | None]


class HelloAnswer(BaseModel):
    station: str
    centre_time: datetime
    previous_contact: datetime | None
    holds: Holds
    have: list[str]
    max_hashes: int = MAX_HASHES


class WhoAmI(BaseModel):
    station: str
    commune: str | None
    registered_at: datetime
    last_contact: datetime | None


def create_app(sessions: sessionmaker[Session], store: BlobStore, stalled_days: float = STALLED_DAYS,
               silent_hours: float = SILENT_HOURS, login_delay: float = 1.0) -> FastAPI:
    """The stations' API under /api/ (tokens) and the dashboard (users' login: dashboard.py)."""
    app = FastAPI(title="Trung tâm tỉnh — số hóa Sổ hộ tịch / province centre", version=API_VERSION,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = sessions
    app.state.store = store
    app.state.stalled_days, app.state.silent_hours = stalled_days, silent_hours
    app.state.login_delay, app.state.login_throttle = login_delay, LoginThrottle()
    app.add_middleware(StationTokens, sessions=sessions, proven=ProvenTokens())
    api = APIRouter(prefix="/api", dependencies=[Depends(authenticated)])
    api.add_api_route("/whoami", whoami, methods=["GET"], response_model=WhoAmI)
    api.add_api_route("/sync/hello", hello, methods=["POST"], response_model=HelloAnswer)
    api.add_api_route("/blobs/{sha256}", put_blob, methods=["PUT"])
    api.add_api_route("/sync", push, methods=["POST"], response_model=PushAnswer)
    app.include_router(api)
    app.include_router(dashboard.router)
    app.include_router(dashboard.ui)
    app.mount("/static", StaticFiles(directory=STATION_STATIC), name="static")        # the station's style
    app.mount("/centre-static", StaticFiles(directory=dashboard.STATIC), name="centre-static")
    return app


class StationTokens:
    """In front of every route: a request under /api/ goes on only with a token of a station not revoked,
    which it then carries (`request.state.station`); otherwise 401, nothing of the request read."""

    def __init__(self, app, sessions: sessionmaker[Session], proven: ProvenTokens):
        self.app, self.sessions, self.proven = app, sessions, proven

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and (scope["path"] == "/api" or scope["path"].startswith("/api/")):
            authorization = Headers(scope=scope).get("authorization", "")
            try:   # a database read and maybe a scrypt: off the event loop
                station = await run_in_threadpool(self._station, authorization)
            except Refused as refused:
                response = JSONResponse({"detail": refused.message}, status_code=401,
                                        headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["station"] = station
            length = Headers(scope=scope).get("content-length", "")
            if not scope["path"].startswith("/api/blobs/") and length.isdigit() and int(length) > MAX_JSON_BYTES:
                await JSONResponse({"detail": "Yêu cầu quá lớn / request too large."}, status_code=413)(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _station(self, authorization: str) -> Station:
        with self.sessions() as session:
            return authenticate(session, authorization, self.proven)


def authenticated(request: Request) -> Station:
    """The station StationTokens let in (a route outside /api/ asking for one is refused too)."""
    station = getattr(request.state, "station", None)
    if station is None:
        raise HTTPException(401, WRONG_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    return station


CurrentStation = Annotated[Station, Depends(authenticated)]


def whoami(station: CurrentStation) -> WhoAmI:
    return WhoAmI(station=station.name, commune=station.commune, registered_at=station.created_at,
                  last_contact=station.last_contact)


def hello(station: CurrentStation, request: Request, body: Hello | None = None) -> HelloAnswer:
    body = body or Hello()
    with request.app.state.sessions() as session:
        row = session.get(Station, station.id, with_for_update=True)
        previous, now = row.last_contact, utcnow()
        row.last_contact = now
        if body.commune is not None:
            row.commune = body.commune
            heard_from_station(session, body.commune, body.district)
        holds = _holds(session, station.id)
        wanted = sorted(set(body.hashes))
        have = list(session.scalars(select(StationBlob.sha256).where(
            StationBlob.station_id == station.id, StationBlob.sha256.in_(wanted)).order_by(StationBlob.sha256))) \
            if wanted else []
        session.commit()
    return HelloAnswer(station=station.name, centre_time=now, previous_contact=previous, holds=holds, have=have)


def push(station: CurrentStation, request: Request, body: BookPush):
    with request.app.state.sessions() as session:
        try:
            answer = apply_push(session, station.id, body)
        except MissingFiles as missing:
            return JSONResponse({"detail": f"Trung tâm chưa nhận {len(missing.missing)} tệp mà sổ này cần / the "
                                           "centre lacks files this book names: send them first.",
                                 MISSING_FILES: missing.missing}, status_code=409)
        faults.crash_point("centre:push-commit")        # every row written, the transaction not committed
        session.commit()
    return answer


def _holds(session: Session, station_id: int) -> Holds:
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model).where(model.station_id == station_id))

    def last(model) -> int | None:
        return session.scalar(select(func.max(model.local_id)).where(model.station_id == station_id))

    def per_book(model) -> dict[int, int]:
        rows = session.execute(select(Entry.book_id, func.count()).select_from(model)
                               .join(Entry, model.entry_id == Entry.id)
                               .where(model.station_id == station_id).group_by(Entry.book_id))
        return dict(rows.all())

    states, scans, pdfs = per_book(EntryState), per_book(Scan), per_book(Pdf)
    digests = dict(session.execute(select(StationBook.book_id, StationBook.digest)
                                   .where(StationBook.station_id == station_id)).all())
    book_ids = set(states) | set(scans) | set(pdfs) | set(digests)
    books = session.scalars(select(Book).where(Book.id.in_(book_ids)).order_by(Book.commune, Book.code)) \
        if book_ids else []
    files, file_bytes = session.execute(
        select(func.count(), func.coalesce(func.sum(Blob.bytes), 0))
        .select_from(StationBlob).join(Blob, StationBlob.sha256 == Blob.sha256)
        .where(StationBlob.station_id == station_id)).one()
    return Holds(
        books=[BookHeld(commune=b.commune, code=b.code, entry_states=states.get(b.id, 0), scans=scans.get(b.id, 0),
                        pdfs=pdfs.get(b.id, 0), digest=digests.get(b.id)) for b in books],
        entry_states=count(EntryState), scans=count(Scan), pages=count(Page), pdfs=count(Pdf),
        corrections=count(Correction), files=files, file_bytes=file_bytes,
        last_local_id={"scans": last(Scan), "pages": last(Page), "corrections": last(Correction)})


def serve(app: FastAPI, host: str, port: int, on_started=None) -> None:
    """Run the API until SIGTERM/Ctrl-C; `on_started()` once it listens."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started and on_started is not None:
                on_started()

    # A station's connection left half-open by a cut network must not hold a shutdown for ever.
    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10))
    try:
        server.run()
    except SystemExit:  # uvicorn's own exit when it cannot listen (it logged why, in English)
        if server.started:
            raise
        raise CentreError(f"Không mở được {host}:{port} (cổng đang được dùng?) / could not listen there "
                          "(port in use?): choose another --port or --host.") from None
