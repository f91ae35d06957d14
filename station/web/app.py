"""The station's web page and API, served by `station run`: the operator's dashboard at `/` (plain
HTML and JavaScript from station/web/static, nothing fetched from elsewhere) and the JSON API it uses,
documented by OpenAPI at /docs.

Bound to 127.0.0.1 by default; any other address needs the access token from config.yaml. With a
token, every request must carry it, as `Authorization: Bearer …` or as the session cookie the page
sets once the token is given (`/?token=…` or the login form); both are compared in constant time.
Answers carry book and entry numbers and page measurements, never citizens' names.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import io
import ipaddress
import json
import socket
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from station.capture.daemon import Station
from station.catalog import library
from station.catalog.books import BookId, parse_entry_range
from station.catalog.models import Book, Correction, Entry, Page, Scan, ScanPage, entry_by_number
from station.errors import BookError, ConfigError, StationError
from station.export import report
from station.review.corrections import Conflict, CorrectionError, Corrections, NotFound
from station.review.entries import scan_pages

API_VERSION = "1"
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "station_session"
COOKIE_SECONDS = 12 * 3600          # a working day: the token is asked for again the next morning
STREAM_TICK = 1.0                   # seconds between two looks at the catalog for the live view
STREAM_HEARTBEAT = 15.0
THUMBNAIL_WIDTH = 240
PAGE_HEADERS = {
    # The page loads nothing but its own files: no CDN, no inline script, no framing by another site.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


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


def session_cookie(token: str) -> str:
    """What the browser keeps instead of the token itself."""
    return hmac.new(token.encode(), b"sohotich-station dashboard session v1", hashlib.sha256).hexdigest()


# --- requests ---------------------------------------------------------------------------------------
class ScanRequest(BaseModel):
    device: str = Field(..., min_length=1, max_length=200, description="SANE device name, e.g. `test:0`.")
    source: str | None = Field(None, pattern="^(flatbed|adf|adf-duplex)$")
    profile: str | None = Field(None, max_length=64)
    resolution: int = Field(300, ge=75, le=1200)
    paper: str | None = Field(None, max_length=32, description="Paper scanned: A4, A3, B4… or WxHmm (default: the profile's).")


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


class ClearRequest(BaseModel):
    through: int = Field(..., ge=0, description="Number of the newest event the operator saw.")


# --- answers ----------------------------------------------------------------------------------------
class Health(BaseModel):
    ok: bool
    api: str


class StationInfo(BaseModel):
    name: str = Field(description="The station's host name.")
    commune: str
    api: str
    token_required: bool
    held_pages: int = Field(description="Pages outside any entry, waiting for the operator.")


class BookSummary(BaseModel):
    book: str
    expected: int = Field(description="Entries in the book's register.")
    done: int
    missing: int
    doubtful: int
    pages: int
    bytes: int = Field(description="Bytes of the entries' PDFs.")
    last_activity: datetime | None = Field(None, description="Last page filed into the book or correction of it.")
    done_this_week: int = 0
    notes: list[str] = Field(default_factory=list, description=(
        "What the operator must know about the whole book: a check that cannot work for it (the number "
        "cross-check on a form OCR does not read), pages over the size cap."))


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


class PageInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    source: str = Field(description="The capture's file name or feeder position.")
    verdict: str
    reason: str | None
    deleted: bool
    dpi: float | None
    input_dpi: float | None
    bytes: int | None
    skew_deg: float | None = Field(description="Skew corrected, in degrees.")
    rotation: int | None
    barcode: str | None = Field(description="The separator payload read, if any.")


class ScanInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    batch: int
    chosen: bool | None = Field(description="Picked by the operator (true), set aside (false), undecided (null).")
    damaged: bool
    counts: bool = Field(description="This scan makes the entry's PDF.")
    pages: list[PageInfo]


class PdfInfo(BaseModel):
    pages: int
    bytes: int


class EntryDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    book: str
    number: int
    status: str
    reasons: list[str]
    warnings: list[str] = Field(default_factory=list, description="What no rescan changes: shown, not blocking.")
    version: int = Field(description="Send it back with a correction: a stale one is refused with 409.")
    reg_date: date | None
    pdf: PdfInfo | None
    scans: list[ScanInfo]


class DeleteAnswer(BaseModel):
    page: int
    deleted: bool


class HeldPage(BaseModel):
    id: int
    batch: int
    source: str
    verdict: str
    reason: str = Field(description="Why the page is outside every entry.")
    has_image: bool


class HeldPages(BaseModel):
    pages: list[HeldPage]


class DeviceEventInfo(BaseModel):
    seq: int = Field(description="Number of the event since the station started.")
    device: str
    kind: str = Field(description="out_of_paper, jammed, cover_open, io_error, disconnected…")
    message: str
    at: datetime
    cleared: bool


class Events(BaseModel):
    events: list[DeviceEventInfo]
    cleared_through: int


class Job(BaseModel):
    id: int
    device: str
    source: str | None
    profile: str
    state: str = Field(description="starting, scanning, paused, finished, failed or stopped.")
    message: str | None
    started_at: datetime
    batch: int | None
    captures: int | None


class Jobs(BaseModel):
    jobs: list[Job]


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


class WeekRowModel(BaseModel):
    week: str = Field(description="ISO week, e.g. 2025-W07.")
    start: date
    end: date
    done: int
    cumulative: int
    remaining: int


class BookWeeks(BookSummary):
    weeks: list[WeekRowModel]


class WeeklyReportModel(BaseModel):
    commune: str
    station: str
    generated_at: datetime
    expected: int
    weeks: list[WeekRowModel]
    books: list[BookWeeks]


PDF_ANSWER = {200: {"content": {"application/pdf": {}}, "description": "A PDF file."}}
JPEG_ANSWER = {200: {"content": {"image/jpeg": {}}, "description": "A JPEG image."}}


# --- what the dashboard reads ---------------------------------------------------------------------------
def book_detail(session, book: Book) -> dict:
    (loaded,) = report.load_books(session, book.id)
    progress, _, states = report.progress_of(loaded, report.last_activity(session, book.id).get(book.id),
                                             report.today_here())
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


class CatalogWatcher:
    """Tells the live view what changed in the catalog since its last look.

    SQLite's `data_version` moves on every commit made through any other connection, in this process
    (batches, corrections through the API) or another (a correction from the CLI), and costs nothing to
    ask; when it moved, the new pages and corrections say which books and entries to redraw."""

    def __init__(self, engine):
        self.connection = engine.connect()
        self.version = self._data_version()
        self.last_page = self._scalar(select(func.max(Page.id))) or 0
        self.last_correction = self._scalar(select(func.max(Correction.id))) or 0
        self.books = self._scalar(select(func.count(Book.id)))
        self.connection.rollback()

    def _data_version(self) -> int:
        return self.connection.exec_driver_sql("PRAGMA data_version").scalar()

    def _scalar(self, query):
        return self.connection.execute(query).scalar()

    def changes(self) -> dict | None:
        """None when nothing was committed; else the books touched and, per book, the entries (null:
        any entry of the book). `books` is null when the change could not be placed (redraw all)."""
        try:
            version = self._data_version()
            if version == self.version:
                return None
            self.version = version
            # The bounds first: what is committed after them is for the next look.
            last_page = self._scalar(select(func.max(Page.id))) or 0
            last_correction = self._scalar(select(func.max(Correction.id))) or 0
            books = self._scalar(select(func.count(Book.id)))
            touched: dict[str, set[int] | None] = {}
            pages = (select(Entry.book_id, Entry.number).join(Scan, Scan.entry_id == Entry.id)
                     .join(ScanPage, ScanPage.scan_id == Scan.id)
                     .where(ScanPage.page_id > self.last_page, ScanPage.page_id <= last_page))
            for book_id, number in self.connection.execute(pages):
                numbers = touched.setdefault(book_id, set())
                if numbers is not None:
                    numbers.add(number)
            corrections = select(Correction.book_id).where(Correction.id > self.last_correction,
                                                           Correction.id <= last_correction)
            for book_id, in self.connection.execute(corrections):
                if book_id:
                    touched[book_id] = None  # a correction may touch several entries of its book
            if books != self.books:  # a book added: the list of books changes as a whole
                touched.clear()
            new_pages = last_page - self.last_page
            self.last_page, self.last_correction, self.books = last_page, last_correction, books
            return {"books": sorted(touched) if touched else None,
                    "entries": {b: sorted(n) if n is not None else None for b, n in touched.items()},
                    "new_pages": new_pages}
        finally:
            self.connection.rollback()

    def close(self) -> None:
        self.connection.close()


def api_tag(path: str) -> str:
    """The group an endpoint is listed under in /docs."""
    if path.endswith(("/move", "/share", "/delete", "/reorder", "/accept", "/pick")) or path == "/api/corrections":
        return "corrections"
    for prefix, tag in (("/api/books", "books"), ("/api/pages", "books"), ("/api/held", "books"),
                        ("/api/events", "devices"), ("/api/jobs", "devices"), ("/api/scan", "devices"),
                        ("/api/report", "report"), ("/api/stream", "live")):
        if path.startswith(prefix):
            return tag
    return "station"


def sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def create_app(station: Station, token: str | None) -> FastAPI:
    cookie_value = session_cookie(token) if token else None

    def token_given(request: Request) -> bool:
        if token is None:
            return True
        header = request.headers.get("authorization", "")
        cookie = request.cookies.get(COOKIE, "")
        # Both compared, always: the time taken does not tell which one was close.
        header_ok = hmac.compare_digest(header.encode(), f"Bearer {token}".encode())
        cookie_ok = hmac.compare_digest(cookie.encode(), cookie_value.encode())
        return header_ok or cookie_ok

    def authorised(request: Request) -> None:
        if not token_given(request):
            raise HTTPException(401, "Thiếu hoặc sai mã truy cập / missing or wrong access token",
                                headers={"WWW-Authenticate": "Bearer"})

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        # Inside the server's own shutdown, before it re-raises SIGTERM: stop the drivers, let the
        # pages in flight finish, close the batches.
        station.shutdown()

    app = FastAPI(title="Trạm số hóa Sổ hộ tịch", version=API_VERSION, lifespan=lifespan,
                  description="API of the civil-status book scanning station: books, entries, corrections, "
                              "device events, scan jobs, weekly report. With a token configured, send "
                              "`Authorization: Bearer TOKEN` (or open `/?token=TOKEN` once in a browser).",
                  docs_url=None, redoc_url=None, openapi_url=None)
    if token is None:
        # No token means loopback only; a page elsewhere could still reach 127.0.0.1 through a DNS name
        # it controls (DNS rebinding): answer only requests addressed to a loopback name.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    # Set by `station run`: true once the server is shutting down, so live streams end and let it.
    app.state.stopping = lambda: False
    api = APIRouter(prefix="/api", dependencies=[Depends(authorised)])
    guarded = [Depends(authorised)]

    def sessions():
        return station.sessions()

    def stopping() -> bool:
        return station.stop_event.is_set() or app.state.stopping()

    # --- the page, the token, the docs ------------------------------------------------------------
    def login_page(status: int, wrong: bool = False) -> HTMLResponse:
        html = (STATIC / "login.html").read_text(encoding="utf-8")
        html = html.replace("<!--wrong-->", '<p class="error">Sai mã truy cập / wrong token.</p>' if wrong else "")
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def with_cookie(response: Response, request: Request) -> Response:
        response.set_cookie(COOKIE, cookie_value, max_age=COOKIE_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @app.get("/", include_in_schema=False)
    def index(request: Request, given: str | None = Query(None, alias="token", max_length=500)) -> Response:
        if given is not None and token is not None:
            if not hmac.compare_digest(given.encode(), token.encode()):
                return login_page(401, wrong=True)
            # The token leaves the address bar (and the history) at once.
            return with_cookie(RedirectResponse("/", status_code=303), request)
        if not token_given(request):
            return login_page(401)
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body())[:2000].decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0]
        if token is None:
            return RedirectResponse("/", status_code=303)
        if not hmac.compare_digest(given.encode(), token.encode()):
            return login_page(401, wrong=True)
        return with_cookie(RedirectResponse("/", status_code=303), request)

    @app.post("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")

    # --- station, books, entries -------------------------------------------------------------------
    @api.get("/health", summary="Is the station up", response_model=Health)
    def health() -> dict:
        return {"ok": True, "api": API_VERSION}

    @api.get("/station", summary="This station: host name, commune, held pages", response_model=StationInfo)
    def station_info() -> dict:
        with sessions() as session:
            held = library.held_page_count(session)
        return {"name": socket.gethostname(), "commune": station.cfg.settings.commune, "api": API_VERSION,
                "token_required": token is not None, "held_pages": held}

    @api.get("/books", summary="Every book with its progress", response_model=BooksAnswer)
    def books() -> dict:
        with sessions() as session:
            progress = report.book_progress(session)
            return {"books": [p.as_dict() for p in progress], "held_pages": library.held_page_count(session)}

    def require_book(session, book_id: str) -> Book:
        try:
            return library.require_book(session, book_id)
        except StationError as exc:
            raise HTTPException(404, exc.message) from None

    @api.get("/books/{book_id}", summary="One book: its entries, done, missing or doubtful with the reasons",
             response_model=BookDetail)
    def book(book_id: str) -> dict:
        with sessions() as session:
            return book_detail(session, require_book(session, book_id))

    @api.get("/books/{book_id}/separators", summary="Separator sheets (PDF) for some entries of a book",
             description="`entries` as on the CLI, e.g. `3,7-9`: one A4 sheet per entry, to print and put "
                         "before the entry's first page when it is scanned.",
             response_class=Response, responses=PDF_ANSWER)
    def separators(book_id: str, entries: str = Query(..., max_length=4000, description="e.g. 3,7-9")) -> Response:
        with sessions() as session:
            found = require_book(session, book_id)
            try:
                data = library.separator_pdf(session, station.cfg, found.id, parse_entry_range(entries), None)
            except BookError as exc:
                raise HTTPException(400, exc.message) from None
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="to-phan-cach-{found.id}.pdf"',
            "Cache-Control": "private, no-store"})

    def entry_answer(session, book_id: str, number: int) -> dict:
        # The entry's state looks at its whole book: load it at once, and hold it while the answer is
        # built (the session keeps loaded rows by weak reference only).
        books = report.load_books(session, require_book(session, book_id).id)
        try:
            return library.entry_detail(session, book_id, number)
        except StationError as exc:
            raise HTTPException(404, exc.message) from None
        finally:
            del books

    @api.get("/books/{book_id}/entries/{number}", summary="One entry: its scans and pages with the pipeline's "
             "measurements, and its version for corrections", response_model=EntryDetail)
    def entry(book_id: str, number: int) -> dict:
        with sessions() as session:
            return entry_answer(session, book_id, number)

    @api.get("/books/{book_id}/entries/{number}/pdf", summary="The entry's PDF as it will be exported",
             response_class=FileResponse, responses=PDF_ANSWER)
    def entry_pdf(book_id: str, number: int) -> FileResponse:
        with sessions() as session:
            found = require_book(session, book_id)
            item = entry_by_number(session, found.id, number)
            if item is None or item.pdf is None:
                raise HTTPException(404, f"Sổ {found.id} số {number}: chưa có tệp PDF / no PDF yet.")
            path = inside_home(item.pdf.file)
        return FileResponse(path, media_type="application/pdf", filename=f"{found.id}.{number:05d}.pdf",
                            content_disposition_type="inline", headers={"Cache-Control": "private, no-cache"})

    def inside_home(relative: str) -> Path:
        home = station.cfg.home.resolve()
        path = (home / relative).resolve()
        if not path.is_relative_to(home) or not path.is_file():
            raise HTTPException(404, f"Tệp {relative} không có trong thư mục làm việc / file missing from the home.")
        return path

    def page_file(page_id: int) -> tuple[Path, str]:
        with sessions() as session:
            page = session.get(Page, page_id)
            if page is None or not page.image_file:
                raise HTTPException(404, f"Không có ảnh của trang {page_id} / no image for this page.")
            return inside_home(page.image_file), page.image_format

    @api.get("/pages/{page_id}/thumbnail", summary="A small JPEG of a page",
             response_class=Response, responses=JPEG_ANSWER)
    def thumbnail(page_id: int) -> Response:
        path, _ = page_file(page_id)
        data = render_thumbnail(str(path), THUMBNAIL_WIDTH, path.stat().st_mtime_ns)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @api.get("/pages/{page_id}/image", summary="A page as stored (JPEG; bilevel pages as PNG)",
             response_class=Response,
             responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The page image."}})
    def page_image(page_id: int) -> Response:
        path, image_format = page_file(page_id)
        headers = {"Cache-Control": "private, max-age=86400"}
        if image_format == "jpeg":
            return FileResponse(path, media_type="image/jpeg", headers=headers)
        return Response(render_png(str(path), path.stat().st_mtime_ns), media_type="image/png", headers=headers)

    @api.get("/pages/{page_id}/evidence", summary="The crop of the registration number read on a page",
             response_class=FileResponse, responses=JPEG_ANSWER)
    def number_evidence(page_id: int) -> FileResponse:
        with sessions() as session:
            page = session.get(Page, page_id)
            if page is None or not page.number_evidence_file:
                raise HTTPException(404, f"Trang {page_id} không có ảnh số đọc được / no number crop for this page.")
            path = inside_home(page.number_evidence_file)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @api.get("/held", summary="Pages outside every entry (before a separator, unreadable sheet…)",
             response_model=HeldPages)
    def held() -> dict:
        with sessions() as session:
            return {"pages": held_pages(session)}

    # --- device events and scan jobs ----------------------------------------------------------------
    def events_answer() -> dict:
        cleared = station.events.cleared
        return {"events": [{"seq": seq, "device": e.device, "kind": e.kind, "message": e.message, "at": e.at,
                            "cleared": seq <= cleared} for seq, e in station.events.numbered()],
                "cleared_through": cleared}

    @api.get("/events", summary="Device events (jam, out of paper, folder gone…), the latest 200",
             response_model=Events)
    def events() -> dict:
        return events_answer()

    @api.post("/events/clear", summary="Clear the banner: the operator dealt with the events up to `through`",
              response_model=Events)
    def clear_events(body: ClearRequest) -> dict:
        station.events.dismiss(body.through)
        return events_answer()

    @api.get("/jobs", summary="Scan jobs since the station started", response_model=Jobs)
    def jobs() -> dict:
        return {"jobs": [job.as_dict() for job in station.jobs.values()]}

    @api.post("/scan", status_code=202, summary="Start scanning from a SANE device", response_model=Job)
    def scan(request: ScanRequest) -> dict:
        try:
            job = station.start_scan(request.device, request.source, request.profile, request.resolution,
                                     request.paper)
        except StationError as exc:
            raise HTTPException(400, exc.message) from None
        return job.as_dict()

    def _job(job_id: int):
        job = station.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"Không có lượt quét {job_id} / no such scan job")
        return job

    @api.get("/jobs/{job_id}", summary="One scan job", response_model=Job)
    def job(job_id: int) -> dict:
        return _job(job_id).as_dict()

    @api.post("/jobs/{job_id}/resume", summary="Go on after the operator fixed a jam or refilled the feeder",
              response_model=Job)
    def resume(job_id: int) -> dict:
        found = _job(job_id)
        if found.state != "paused":
            raise HTTPException(409, f"Lượt quét {job_id} không tạm dừng / job is not paused")
        found.decide(True)
        return found.as_dict()

    @api.post("/jobs/{job_id}/stop", summary="Stop a scan job", response_model=Job)
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

    # --- corrections --------------------------------------------------------------------------------
    def corrections(session, request: Request) -> Corrections:
        # The page percent-encodes the name: HTTP headers carry no Vietnamese letters as they are.
        operator = unquote(request.headers.get("x-operator", "web"))[:100]
        return Corrections(session, station.cfg.home, operator)

    def run_correction(request: Request, action) -> dict:
        with sessions() as session:
            try:
                entry = action(corrections(session, request))
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

    @api.post("/pages/{page_id}/move", summary="Move a page to another entry", response_model=EntryDetail,
              responses=correction_answers)
    def move(page_id: int, body: MoveRequest, request: Request) -> dict:
        def action(c: Corrections):
            check_source(c.session, page_id, body.source)
            return c.move_page(page_id, body.book, body.number, body.position, body.version)
        return run_correction(request, action)

    @api.post("/pages/{page_id}/share", summary="The page holds this registration too (shared by two entries)",
              response_model=EntryDetail, responses=correction_answers)
    def share(page_id: int, body: MoveRequest, request: Request) -> dict:
        def action(c: Corrections):
            check_source(c.session, page_id, body.source)
            return c.share_page(page_id, body.book, body.number, body.version)
        return run_correction(request, action)

    @api.post("/pages/{page_id}/delete", summary="Delete a page from the PDFs (kept in the catalog)",
              response_model=DeleteAnswer, responses=correction_answers)
    def delete(page_id: int, request: Request, body: DeleteRequest | None = None) -> dict:
        with sessions() as session:
            try:
                check_source(session, page_id, body.source if body else None)
                corrections(session, request).delete_page(page_id)
            except CorrectionError as exc:
                raise HTTPException(exc.status, exc.message) from None
            return {"page": page_id, "deleted": True}

    @api.post("/books/{book_id}/entries/{number}/reorder", summary="Put an entry's pages in a new order",
              response_model=EntryDetail, responses=correction_answers)
    def reorder(book_id: str, number: int, body: ReorderRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.reorder(book_id, number, body.pages, body.version))

    @api.post("/books/{book_id}/entries/{number}/accept", summary="Accept a doubtful entry, with the reason",
              response_model=EntryDetail, responses=correction_answers)
    def accept(book_id: str, number: int, body: AcceptRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.accept(book_id, number, body.reason, body.version))

    @api.post("/books/{book_id}/entries/{number}/pick", summary="After a rescan: the scan that counts",
              response_model=EntryDetail, responses=correction_answers)
    def pick(book_id: str, number: int, body: PickRequest, request: Request) -> dict:
        return run_correction(request, lambda c: c.pick(book_id, number, body.scan, body.version))

    @api.get("/corrections", summary="The audit log of corrections (who, when, what)", response_model=CorrectionLog)
    def audit(book: str | None = None) -> dict:
        with sessions() as session:
            query = select(Correction).order_by(Correction.id)
            if book:
                query = query.where(Correction.book_id == book)
            return {"corrections": [{"id": c.id, "at": c.at, "operator": c.operator, "action": c.action,
                                     "book": c.book_id, "number": c.entry_number, "details": c.details}
                                    for c in session.scalars(query)]}

    # --- weekly report ------------------------------------------------------------------------------
    def weekly(book_id: str | None) -> report.WeeklyReport:
        with sessions() as session:
            found = require_book(session, book_id).id if book_id else None
            return report.weekly_report(session, station.cfg, found)

    @api.get("/report/weekly", summary="Weekly progress: entries done per ISO week, cumulative, remaining, "
             "for the commune and per book", response_model=WeeklyReportModel)
    def weekly_json(book: str | None = Query(None, max_length=20)) -> dict:
        return weekly(book).as_dict()

    @api.get("/report/weekly.xlsx", summary="The weekly progress report as Excel", response_class=Response,
             responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
                              "description": "An .xlsx workbook."}})
    def weekly_xlsx(book: str | None = Query(None, max_length=20)) -> Response:
        found = weekly(book)
        name = f"bao-cao-tuan-{book or 'xa'}-{found.generated_at:%Y-%m-%d}.xlsx"
        return Response(report.weekly_workbook(found, name),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "private, no-store"})

    # --- live ---------------------------------------------------------------------------------------
    def device_state() -> dict:
        cleared = station.events.cleared
        return {"events": [{"seq": seq, "device": e.device, "kind": e.kind, "message": e.message,
                            "at": e.at.isoformat()} for seq, e in station.events.numbered() if seq > cleared],
                "paused": [job.as_dict() for job in station.jobs.values() if job.state == "paused"]}

    async def stream_events(request: Request):
        watcher = await run_in_threadpool(CatalogWatcher, station.sessions.kw["bind"])
        try:
            yield "retry: 2000\n\n"
            device = device_state()
            yield sse("device", device)
            quiet = 0.0
            while not stopping() and not await request.is_disconnected():
                await asyncio.sleep(STREAM_TICK)
                changes = await run_in_threadpool(watcher.changes)
                if changes:
                    yield sse("catalog", changes)
                    quiet = 0.0
                now = device_state()
                if now != device:
                    device = now
                    yield sse("device", device)
                    quiet = 0.0
                quiet += STREAM_TICK
                if quiet >= STREAM_HEARTBEAT:  # keeps proxies and the browser from dropping a quiet stream
                    yield ": ping\n\n"
                    quiet = 0.0
        finally:
            await run_in_threadpool(watcher.close)

    @api.get("/stream", summary="Live changes (server-sent events)", response_class=StreamingResponse,
             description="`event: catalog` when pages or corrections were committed, with the books and "
                         "entries touched (`books: null`: redraw everything); `event: device` with the "
                         "device events not cleared yet and the scan jobs waiting for the operator.",
             responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream."}})
    def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(stream_events(request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    for route in api.routes:
        route.tags = [api_tag(route.path)]
    app.include_router(api)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"),
              name="docs-assets")
    return app


def serve(app: FastAPI, host: str, port: int, config_path) -> None:
    """Run the web server until SIGTERM/Ctrl-C. Live streams end as soon as shutdown begins: the server
    waits for open responses, and an event stream never ends by itself."""
    import uvicorn
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    app.state.stopping = lambda: server.should_exit
    try:
        server.run()
    except SystemExit:  # uvicorn's own exit when it cannot listen (it logged why, in English)
        if server.started:
            raise
        raise ConfigError(f"{config_path}: không mở được {host}:{port} (cổng đang được dùng?) / could not "
                          "listen there: đổi 'web.port' hoặc dùng --port.")
