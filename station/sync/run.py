"""One sync: send the centre what it lacks, book by book, and say what is left when it cannot.

1. Read every book's snapshot from the catalog (collect.py).
2. Hello: the centre says the digest of each book's last push it committed from this station; books whose
   snapshot has that digest are already there. Hello again with the files the other books name: the
   centre says which of them it already has from this station.
3. Book by book: its missing files first (each acknowledged only once durable at the centre), then its
   rows in one request the centre applies in one transaction. A book is visible at the centre whole or
   not at all; one already acknowledged stays so whatever happens next.
4. Record when the centre was last reached and what was left (state.py).

A sync killed at any moment (either side) leaves nothing the next one cannot finish: files are keyed by
hash, rows by the station's ids, and a book's push is all or nothing. Transient failures are tried again
within the run (client.retrying); when the centre stays out of reach the sync stops and says how many
files, bytes and books are left.
"""
from __future__ import annotations

import fcntl
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from station import faults
from station.catalog.models import utcnow
from station.errors import SyncError, SyncRefusedError
from station.sync.client import (CentreClient, FileChanged, MissingFiles, Refused, Unreachable, retrying)
from station.sync.collect import LocalFile, Outgoing, collect
from station.sync.protocol import BookPush, wire
from station.sync.state import SyncState, read_state, write_state

log = logging.getLogger(__name__)
SOFTWARE = "sohotich-station 0.1"
PASSES = 3        # a file rewritten while it was sent (a correction meanwhile): read the catalog again


@dataclass
class SyncReport:
    books: int = 0               # books the station holds
    books_sent: int = 0          # pushed this run
    books_unchanged: int = 0     # already at the centre as they are
    files_sent: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    pages: int = 0               # page images the sent books name (for the pages/minute figure)
    blocked: dict[str, str] = field(default_factory=dict)


@dataclass
class Left:
    files: dict[str, LocalFile] = field(default_factory=dict)
    books: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files.values())


@contextmanager
def one_sync_at_a_time(home: Path):
    with open(home / "sync.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError("Một lượt đồng bộ khác đang chạy trên trạm này / another sync is running on this "
                            "station: wait for it to finish.") from None
        yield


class Sync:
    def __init__(self, sessions, home: Path, commune: str, client: CentreClient, retries: int = 5,
                 first_wait: float = 0.5, stop: threading.Event | None = None, district: str = ""):
        self.sessions, self.home, self.commune, self.client = sessions, home, commune, client
        self.district = district
        self.retries, self.first_wait = retries, first_wait
        # Set when `station run` stops: the sync ends between two requests, saying what is left.
        self.stop = stop or threading.Event()
        self.report = SyncReport()
        self.state = read_state(home) or SyncState()
        self.state.centre = client.url

    def _retrying(self, call):
        if self.stop.is_set():
            raise Unreachable("the station is stopping")
        answer = retrying(call, self.retries, self.first_wait, sleep=self.stop.wait)
        self.state.last_reached = utcnow()
        return answer

    def run(self) -> SyncReport:
        began = time.monotonic()
        with one_sync_at_a_time(self.home):
            try:
                for _ in range(PASSES):
                    if not self._pass():
                        break
                else:
                    raise SyncError("Tệp trên trạm thay đổi liên tục trong lúc gửi / files kept changing while "
                                    "they were sent: run `station sync` again once corrections are done.")
            finally:
                self.report.seconds = time.monotonic() - began
                self.client.close()
        if self.report.blocked:
            shown = "; ".join(f"{book}: {why}" for book, why in sorted(self.report.blocked.items()))
            raise SyncError(f"{len(self.report.blocked)} sổ chưa gửi được vì thiếu tệp trên trạm / books not sent, "
                            f"files missing in the home: {shown}. Run `station status` on them.")
        return self.report

    def _pass(self) -> bool:
        """One pass over every book; True when a file changed under it and another pass is needed."""
        with self.sessions() as session:
            outgoing = collect(session, self.home, self.commune)
        self.report.books = sum(1 for p in outgoing.pushes if p.book is not None)
        self.report.blocked = outgoing.blocked
        left = Left()
        try:
            pending = self._pending(outgoing, left)
            changed = False
            for push, body in pending:
                try:
                    self._send_book(push, body, outgoing, left)
                except FileChanged:
                    changed = True
            if not changed and not outgoing.blocked:
                self.state.last_complete = self.state.last_reached
            return changed
        except Unreachable as exc:
            raise self._left_error(exc, left) from None
        except Refused as exc:
            raise self._refused_error(exc) from None
        finally:
            self.state.left_files, self.state.left_bytes, self.state.left_books = \
                len(left.files), left.bytes, len(left.books)
            write_state(self.home, self.state)

    def _pending(self, outgoing: Outgoing, left: Left) -> list[tuple[BookPush, bytes]]:
        """The pushes the centre lacks, and (into `left`) every file and book still to send."""
        bodies = [(push, *wire(push)) for push in outgoing.pushes]
        left.books = [p.book.code if p.book else "-" for p, _, _ in bodies]   # until the centre says otherwise
        left.files = dict(outgoing.files)
        first = self._retrying(lambda: self.client.hello(self.commune, SOFTWARE, [], self.district))
        held = {(b["commune"], b["code"]): b.get("digest") for b in first["holds"]["books"]}
        pending = [(push, body) for push, body, digest in bodies
                   if push.book is None or held.get((push.book.commune, push.book.code)) != digest]
        self.report.books_unchanged = len(bodies) - len(pending)
        needed = {sha: outgoing.files[sha] for push, _ in pending for sha in push.files()}
        left.books = [p.book.code if p.book else "-" for p, _ in pending]
        left.files = needed
        hashes, step = sorted(needed), first.get("max_hashes", 10_000)
        for start in range(0, len(hashes), step):
            chunk = hashes[start:start + step]
            answer = self._retrying(lambda: self.client.hello(self.commune, SOFTWARE, chunk, self.district))
            for sha in answer["have"]:
                left.files.pop(sha, None)
        return pending

    def _send_book(self, push: BookPush, body: bytes, outgoing: Outgoing, left: Left) -> None:
        code = push.book.code if push.book else "-"
        for sha in sorted(push.files()):
            if sha in left.files:
                self._send_file(left.files[sha], left)
        try:
            answer = self._retrying(lambda: self.client.push(body))
        except MissingFiles as missing:     # the centre lost track of a file it had: send it again, once
            for sha in missing.missing:
                if sha in outgoing.files:
                    self._send_file(outgoing.files[sha], left)
            answer = self._retrying(lambda: self.client.push(body))
        left.books.remove(code)
        self.report.books_sent += push.book is not None and not answer.get("unchanged")
        self.report.pages += len({p.image_sha256 for p in push.pages if p.image_sha256})
        log.info("book %s acknowledged by the centre (%d rows)", code, answer.get("rows", 0))
        faults.crash_point("sync:pushed")

    def _send_file(self, file: LocalFile, left: Left) -> None:
        self._retrying(lambda: self.client.put_file(file))
        left.files.pop(file.sha256, None)
        self.report.files_sent += 1
        self.report.bytes_sent += file.bytes
        faults.crash_point("sync:uploaded")

    def _left_error(self, exc: Unreachable, left: Left) -> SyncError:
        why = ("ổ đĩa của trung tâm đầy / the centre's disk is full" if exc.disk_full else
               f"không liên lạc được trung tâm / the centre could not be reached ({exc.reason})")
        return SyncError(
            f"Chưa đồng bộ xong: {why}. Còn {len(left.files)} tệp ({left.bytes / 1e6:.1f} MB) và "
            f"{len(left.books)} sổ chưa gửi / sync incomplete: {len(left.files)} files ({left.bytes / 1e6:.1f} MB) "
            f"and {len(left.books)} books left. Trạm vẫn quét bình thường; chạy lại `station sync` khi có mạng "
            "/ the station keeps scanning; run `station sync` again when the centre is reachable.")

    def _refused_error(self, exc: Refused) -> SyncRefusedError:
        if exc.status == 401:
            return SyncRefusedError(f"Trung tâm từ chối mã truy cập của trạm / the centre refused this station's "
                                    f"token ({exc.detail}): check --token or centre.token in config.yaml.")
        return SyncRefusedError(f"Trung tâm từ chối / the centre refused the sync (HTTP {exc.status}: "
                                f"{exc.detail[:300]}).")
