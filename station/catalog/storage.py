"""The station home on disk: folders private to the station user, atomic writes.

Citizens' data lives here, so folders are 0700 and files 0600. Every write goes to a temp file in
the same folder, is fsynced, then renamed into place: a crash leaves the old file or the new one,
never half of one.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

from station import faults
from station.errors import DiskFullError, HomeError, ProcessingError

SUBDIRS = ("captures", "pages", "pdfs", "registers", "quarantine", "exports")
NEARLY_FULL_BYTES = 1 << 20


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
        if faults.PLAN:
            faults.crash_point(f"write:{_write_kind(path)}")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _write_kind(path: Path) -> str:
    """The crash point's name for a write: its home folder (captures/batch-00001/00001.tif,
    registers/BOOK.xlsx), else the file's suffix (an export's zip)."""
    folder = next((f.name for f in (path.parent, path.parent.parent) if f.name in SUBDIRS), None)
    return folder or path.suffix.lstrip(".").lower()


def is_disk_full(exc: BaseException, folder: Path | None = None) -> bool:
    """ENOSPC or a quota from a file write, SQLite's "database or disk is full", or an SQLite I/O
    error while `folder`'s disk has (almost) no space left: SQLite reports a WAL or shared-memory
    file it cannot extend as an I/O error."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    original = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
    code = getattr(original, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return True
    if code is not None and code & 0xFF == sqlite3.SQLITE_IOERR and folder is not None:
        try:
            return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
        except OSError:
            return False
    return False


def disk_full_error(folder: Path, batch: bool = False) -> DiskFullError:
    stopped = ("trạm dừng nhận trang, các trang đã nhận vẫn được giữ / the station stopped taking pages, "
               "those taken are kept" if batch else
               "đã dừng, các tệp đã ghi xong vẫn được giữ / stopped, files already written are kept")
    return DiskFullError(f"Ổ đĩa đầy / disk full ({folder}): {stopped}. Giải phóng dung lượng rồi chạy lại cùng "
                         "lệnh để tiếp tục / free some space, then run the same command again to continue.")


@contextmanager
def disk_full_as_error(home: Path):
    """A write or a commit that found the disk full ends as DiskFullError: one clear message and its
    exit code. Writes are atomic and commits transactional, so what was taken before stays whole."""
    try:
        yield
    except Exception as exc:
        if is_disk_full(exc, home):
            raise disk_full_error(home, batch=True) from exc
        raise


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
