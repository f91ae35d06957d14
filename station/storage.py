"""The station home on disk: folders private to the station user, atomic writes.

Citizens' data lives here, so folders are 0700 and files 0600. Every write goes to a temp file in
the same folder, is fsynced, then renamed into place: a crash leaves the old file or the new one,
never half of one.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from station.errors import HomeError, ProcessingError

SUBDIRS = ("captures", "pages", "pdfs", "registers", "quarantine", "exports")


def ensure_home(home: Path) -> None:
    try:
        os.umask(0o077)
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        for name in SUBDIRS:
            (home / name).mkdir(mode=0o700, exist_ok=True)
        probe = home / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise HomeError(f"Không ghi được vào thư mục làm việc {home} / station home not writable "
                        f"({exc.strerror}). Chọn thư mục khác bằng --home hoặc STATION_HOME, "
                        "hoặc sửa quyền thư mục.") from None


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def exclusive_home(home: Path):
    """One capturing process per home at a time; while it is held, leftover temp files are a crash's
    debris, never a write in progress, and are removed."""
    with open(home / "station.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProcessingError(f"Một lô khác đang chạy trên thư mục làm việc {home} / another batch "
                                  "is running on this home: chờ lô đó xong, hoặc dùng `station scan` khi trạm đang chạy.") from None
        for stale in home.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
        yield
