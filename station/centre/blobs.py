"""`PUT /api/blobs/{sha256}`: a station sends one file, streamed, named by its SHA-256.

The bytes go to the store as they arrive (never whole in memory), are checked against their name, made
durable; only then is the file recorded (`blobs`, and `station_blobs` for the sender), in one transaction.
Killed at any moment, the centre holds the file and its rows, or the file alone (recorded when it comes
again), or neither, never a row without its file. The same file twice is one file, recorded once.
A full disk answers 507 and records nothing; a file over the limit 413, before anything is written.
"""
from __future__ import annotations

import errno
from typing import Annotated

import anyio
from anyio.from_thread import run as run_from_thread
from fastapi import HTTPException, Path, Query, Request
from sqlalchemy.dialects.postgresql import insert

from station import faults
from station.centre.catalog import Blob, StationBlob
from station.centre.store import HashMismatchError
from station.sync.protocol import SHA256_PATTERN, BlobKind

MAX_BLOB_BYTES = 512 << 20       # far above a PDF of a long registration or a register workbook


class _BodyTooLong(Exception):
    pass


class StreamReader:
    """The request's body as a blocking file, read from the store's worker thread: each read fetches the
    next chunk from the event loop. Refuses more bytes than the request announced."""

    def __init__(self, request: Request, announced: int):
        self._chunks = request.stream().__aiter__()
        self.left = announced
        self._buffer = b""

    async def _next(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return b""

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            chunk = run_from_thread(self._next)
            if not chunk:
                return b""
            self.left -= len(chunk)
            if self.left < 0:
                raise _BodyTooLong()
            self._buffer = chunk
        size = len(self._buffer) if size is None or size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


async def put_blob(request: Request, sha256: Annotated[str, Path(pattern=SHA256_PATTERN)],
                   kind: Annotated[BlobKind, Query()]) -> dict:
    station = request.state.station
    announced = request.headers.get("content-length")
    if announced is None or not announced.isdigit():
        raise HTTPException(411, "Cần Content-Length / the file's length is required.")
    size = int(announced)
    if size > MAX_BLOB_BYTES:
        raise HTTPException(413, f"Tệp {size} byte vượt giới hạn {MAX_BLOB_BYTES} / file over the centre's limit.")
    store, reader = request.app.state.store, StreamReader(request, size)
    try:
        await anyio.to_thread.run_sync(store.put_stream, reader, sha256)
    except HashMismatchError as exc:
        raise HTTPException(422, exc.message) from None
    except _BodyTooLong:
        raise HTTPException(413, "Nhận nhiều byte hơn Content-Length / more bytes than announced.") from None
    except OSError as exc:
        if disk_full(exc):
            raise HTTPException(507, "Ổ đĩa của trung tâm đầy / the centre's disk is full: nothing was recorded, "
                                     "send again once the centre has space.") from None
        raise
    if reader.left:       # fewer bytes than announced, yet of the right hash: the length lied
        raise HTTPException(400, "Ít byte hơn Content-Length / fewer bytes than announced.")
    faults.crash_point("centre:blob-stored")          # durable, not yet recorded
    created = await anyio.to_thread.run_sync(_record, request.app.state.sessions, station.id, sha256, size, kind)
    return {"sha256": sha256, "bytes": size, "created": created}


def _record(sessions, station_id: int, sha256: str, size: int, kind: str) -> bool:
    """The file's rows, once it is durable; True when the centre did not hold it before."""
    with sessions() as session:
        created = session.execute(insert(Blob).values(sha256=sha256, bytes=size, kind=kind)
                                  .on_conflict_do_nothing().returning(Blob.sha256)).first() is not None
        session.execute(insert(StationBlob).values(station_id=station_id, sha256=sha256).on_conflict_do_nothing())
        session.commit()
    faults.crash_point("centre:blob-recorded")
    return created
