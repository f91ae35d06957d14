"""The centre's files, by content: a file is named by its SHA-256, so sending it twice stores it once and
what is read back can be checked against its name.

`BlobStore` is what the centre needs of a store; `DiskStore` keeps the files in a folder on this machine
(an S3-like backend could follow behind the same methods). On disk, `ab3f…` lives at `objects/a/b3/ab3f…`
(16 × 256 folders, so no folder grows too large). Every write goes to a temp file in `tmp/`, is fsynced, then
renamed into place: a crash leaves the file whole or absent, never half of it. Citizens' data: folders
0700, files 0600.
"""
from __future__ import annotations

import hashlib
import io
import os
import time
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from station.catalog.storage import fsync_dir
from station.errors import CentreError

CHUNK = 1 << 20
# A temp file this old was left by a write killed midway (kill -9, power cut): removed at open.
STALE_PART_SECONDS = 24 * 3600
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class HashMismatchError(CentreError):
    """The bytes are not those their SHA-256 names: a transfer cut or changed, or a file damaged on disk."""


class BlobMissingError(CentreError):
    """No file of that SHA-256 in the store."""


def check_sha256(sha256: str) -> str:
    """A file's name in the store: 64 lowercase hex digits, nothing that could reach another path."""
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise CentreError(f"{sha256!r} không phải mã SHA-256 / not a SHA-256: 64 lowercase hex digits expected.")
    return sha256


class BlobStore(ABC):
    """Files by their SHA-256: put them (once, whatever the number of times), read them back."""

    @abstractmethod
    def put_stream(self, stream: BinaryIO, expected: str | None = None) -> str:
        """Store what `stream` yields; its SHA-256. With `expected`, bytes of another hash are refused
        (HashMismatchError) and nothing is kept."""

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """The file, to read (not checked: use `get` or `verify` for that)."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        ...

    def put(self, data: bytes, expected: str | None = None) -> str:
        return self.put_stream(io.BytesIO(data), expected)

    def put_file(self, path: Path, expected: str | None = None) -> str:
        with open(path, "rb") as handle:
            return self.put_stream(handle, expected)

    def get(self, sha256: str) -> bytes:
        """The file's bytes, checked against its name."""
        with self.open(sha256) as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise HashMismatchError(f"Tệp {sha256} trong kho bị hỏng / the stored file {sha256} is damaged "
                                    "(its content no longer matches its hash): have the station send it again.")
        return data

    def verify(self, sha256: str) -> bool:
        """True when the file is there and its content still matches its name."""
        digest = hashlib.sha256()
        try:
            with self.open(sha256) as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except BlobMissingError:
            return False
        return digest.hexdigest() == sha256


class DiskStore(BlobStore):
    def __init__(self, root: Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        try:
            for folder in (self.root, self.objects, self.tmp):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(folder, 0o700)
        except OSError as exc:
            raise CentreError(f"Không ghi được vào kho tệp {self.root} / the centre's file store is not writable "
                              f"({exc.strerror}): choose another --store or fix its permissions.") from None
        self._remove_stale_parts()

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.objects / sha256[0] / sha256[1:3] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path(sha256), "rb")
        except FileNotFoundError:
            raise BlobMissingError(f"Kho không có tệp {sha256} / no file {sha256} in the store.") from None

    def put_stream(self, stream: BinaryIO, expected: str | None = None) -> str:
        if expected is not None:
            check_sha256(expected)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self.tmp, suffix=".part")       # 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            sha256 = digest.hexdigest()
            if expected is not None and sha256 != expected:
                raise HashMismatchError(f"Nội dung nhận được có mã {sha256}, không phải {expected} / the bytes "
                                        f"received hash to {sha256}, not {expected}: the transfer was cut or "
                                        "changed; send the file again.")
            target = self.path(sha256)
            if target.exists():        # the same bytes are already there, whole (they came by rename)
                os.unlink(tmp)
                return sha256
            self._make_folders(target.parent)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        fsync_dir(target.parent)
        return sha256

    def _remove_stale_parts(self) -> None:
        cutoff = time.time() - STALE_PART_SECONDS
        for part in self.tmp.glob("*.part"):
            try:
                if part.stat().st_mtime < cutoff:
                    part.unlink()
            except FileNotFoundError:
                pass

    def _make_folders(self, folder: Path) -> None:
        """The fan-out folders, each made durable in its parent, so a renamed file is not lost with them."""
        for level in (folder.parent, folder):
            if not level.is_dir():
                try:
                    level.mkdir(mode=0o700)
                except FileExistsError:     # another put made it meanwhile
                    continue
                fsync_dir(level.parent)
