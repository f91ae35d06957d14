"""The live view: server-sent events when the catalog changes or a device needs the operator."""
from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from station.capture.daemon import Station
from station.catalog.models import Book, Correction, Entry, Page, Scan, ScanPage
from station.web.deps import CurrentStation

STREAM_TICK = 1.0                   # seconds between two looks at the catalog for the live view
STREAM_HEARTBEAT = 15.0

router = APIRouter(tags=["live"])


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


def sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def device_state(station: Station) -> dict:
    cleared = station.events.cleared
    return {"events": [{"seq": seq, "device": e.device, "kind": e.kind, "message": e.message,
                        "at": e.at.isoformat()} for seq, e in station.events.numbered() if seq > cleared],
            "paused": [job.as_dict() for job in station.jobs.values() if job.state == "paused"]}


def stopping(station: Station, request: Request) -> bool:
    return station.stop_event.is_set() or request.app.state.stopping()


async def stream_events(station: Station, request: Request):
    watcher = await run_in_threadpool(CatalogWatcher, station.sessions.kw["bind"])
    try:
        yield "retry: 2000\n\n"
        device = device_state(station)
        yield sse("device", device)
        quiet = 0.0
        while not stopping(station, request) and not await request.is_disconnected():
            await asyncio.sleep(STREAM_TICK)
            changes = await run_in_threadpool(watcher.changes)
            if changes:
                yield sse("catalog", changes)
                quiet = 0.0
            now = device_state(station)
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


@router.get("/stream", summary="Live changes (server-sent events)", response_class=StreamingResponse,
            description="`event: catalog` when pages or corrections were committed, with the books and "
                        "entries touched (`books: null`: redraw everything); `event: device` with the "
                        "device events not cleared yet and the scan jobs waiting for the operator.",
            responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream."}})
def stream(request: Request, station: CurrentStation) -> StreamingResponse:
    return StreamingResponse(stream_events(station, request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
