"""The sync's faults as they happen in production: `station centre serve` and `station sync` as processes of
their own, killed with SIGKILL (at a named point through STATION_CRASH_AT, or when the centre's store holds
some number of files), a network that cuts connections midway (a proxy between them), and the checks a
centre must pass after any of it."""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select as sql_select

from station.centre.catalog import (Blob, Book, Correction, Entry, EntryState, Page, Pdf, Scan, ScanPage,
                                    StationBlob, StationBook)
from tests.centre.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
MAIN = "from station.cli import main; main()"


def _env(crash: str | None = None, **extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_THREAD_LIMIT="1", **extra)
    env.pop("STATION_CRASH_AT", None)
    if crash:
        env["STATION_CRASH_AT"] = crash
    return env


class CentreProcess:
    """`station centre serve` on a fixed port, started (maybe with a crash point), killed, restarted."""

    def __init__(self, database: str, store: Path, port: int | None = None):
        self.database, self.store, self.port = database, store, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, crash: str | None = None) -> CentreProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-c", MAIN, "centre", "serve", "--store", str(self.store), "--port", str(self.port)],
            cwd=REPO, env=_env(crash, CENTRE_DATABASE=self.database), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else ""
        assert "province centre listening" in line, (line, self.process.poll())
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.wait()

    def wait(self, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        code = self.process.wait(timeout=timeout)
        self.process.stdout.close()
        self.process.stderr.close()
        return code

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.wait()


def station_sync(config: Path, home: Path, url: str, token: str, retries: int = 0,
                 crash: str | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", MAIN, "--config", str(config), "--home", str(home), "sync",
                             "--centre", url, "--token", token, "--retries", str(retries)],
                            cwd=REPO, env=_env(crash), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def stored_files(store: Path) -> int:
    objects = store / "objects"
    return sum(1 for path in objects.rglob("*") if path.is_file()) if objects.exists() else 0


def when_store_holds(store: Path, count: int, process: subprocess.Popen, timeout: float = 60) -> bool:
    """Wait until the centre's store holds `count` files; False if the sync ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stored_files(store) >= count:
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError(f"the store never held {count} files")


@dataclass
class Expected:
    books: int
    entries: int
    states: int
    scans: int
    pages: int
    pdfs: int
    corrections: int = 0


def centre_problems(sessions, store, expected: Expected | None = None) -> list[str]:
    """What a sound centre never shows, whatever was killed: a file recorded but not whole in the store, a
    row twice, a book without all its rows (half-visible), and, with `expected`, counts that differ."""
    problems = []
    with sessions() as session:
        for blob in session.scalars(sql_select(Blob)):
            if not store.verify(blob.sha256):
                problems.append(f"blob {blob.sha256[:12]} recorded without its whole file")

        def count(model) -> int:
            return session.scalar(sql_select(func.count()).select_from(model))

        held = Expected(count(Book), count(Entry), count(EntryState), count(Scan), count(Page), count(Pdf),
                        count(Correction))
        # A station's book is visible only with its states and a digest: all its rows came in one transaction.
        for station_id, book_id in session.execute(sql_select(StationBook.station_id, StationBook.book_id)):
            states = session.scalar(sql_select(func.count()).select_from(EntryState).join(Entry)
                                    .where(EntryState.station_id == station_id, Entry.book_id == book_id))
            entries = session.scalar(sql_select(func.count()).select_from(Entry).where(Entry.book_id == book_id))
            if states != entries:
                problems.append(f"book {book_id} from station {station_id}: {states} states for {entries} entries")
        orphan_states = session.scalar(sql_select(func.count()).select_from(EntryState).join(Entry).where(
            ~sql_select(StationBook).where(StationBook.station_id == EntryState.station_id,
                                           StationBook.book_id == Entry.book_id).exists()))
        if orphan_states:
            problems.append(f"{orphan_states} entry states of a push never acknowledged")
        unlinked = session.scalar(sql_select(func.count()).select_from(StationBlob).where(
            ~sql_select(Blob).where(Blob.sha256 == StationBlob.sha256).exists()))
        if unlinked:
            problems.append(f"{unlinked} station_blobs without their blob")
        links = count(ScanPage)
    if expected is not None and held != expected:
        problems.append(f"centre holds {held}, expected {expected}")
    if expected is not None and links != expected.pages:
        problems.append(f"{links} scan pages for {expected.pages} pages")
    return problems


class CuttingProxy:
    """Between the station and the centre: forwards TCP until `cut_after` bytes went up from the station, or
    until `cut_inside` (e.g. a request line) went up with 1,500 bytes after it, then drops every connection
    and refuses new ones (a network cut) until `restore()`."""

    def __init__(self, target_port: int, cut_after: int | None = None, cut_inside: bytes | None = None):
        self.target_port, self.cut_after, self.cut_inside = target_port, cut_after, cut_inside
        self.sent = 0
        self.cut = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upward: bool) -> None:
        try:
            while data := source.recv(65536):
                if upward:
                    with self._lock:
                        found = data.find(self.cut_inside) if self.cut_inside else -1
                        if found >= 0 and not self.cut:
                            sink.sendall(data[:found + 1500])     # the request begun, never ended
                            self._cut_now()
                            return
                        self.sent += len(data)
                        if self.cut_after is not None and self.sent >= self.cut_after and not self.cut:
                            self._cut_now()
                    if self.cut:
                        return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _cut_now(self) -> None:
        self.cut = True
        for sock in self._sockets:
            try:
                # Linger 0: a reset, as a cut cable gives the side still talking; shutdown first wakes the
                # pump blocked reading it (a close alone would wait for that read to return).
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._sockets.clear()

    def restore(self) -> None:
        with self._lock:
            self.cut, self.cut_after, self.cut_inside = False, None, None

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            self._cut_now()
