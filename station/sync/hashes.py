"""Page images' SHA-256, remembered between syncs: the catalog keeps no hash of them, and reading every
image of the home every round (the background sync runs every few minutes) would cost a full read of the
home each time. A file's hash is kept with its size and modification time and taken again when either
changed. The cache is a small SQLite file of its own in the home (`sync-hashes.sqlite`, not the catalog:
no change to the catalog's schema); deleting it only costs one full read."""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from station.catalog.storage import sha256_file

CACHE_FILE = "sync-hashes.sqlite"


class ImageHashes:
    def __init__(self, home: Path):
        self.home = home
        self._seen: dict[str, tuple[str, int] | None] = {}
        self._fresh: list[tuple[str, int, int, str]] = []
        path = home / CACHE_FILE
        try:
            with closing(sqlite3.connect(path)) as db:
                db.execute("CREATE TABLE IF NOT EXISTS hashes (file TEXT PRIMARY KEY, bytes INTEGER, "
                           "mtime_ns INTEGER, sha256 TEXT)")
                self._known = {file: (size, mtime, sha) for file, size, mtime, sha in db.execute("SELECT * FROM hashes")}
            os.chmod(path, 0o600)
        except sqlite3.Error:          # a damaged cache is only a slower sync
            self._known = {}

    def of(self, relative: str) -> tuple[str, int] | None:
        """(SHA-256, size) of the file, None when it is not there."""
        if relative in self._seen:
            return self._seen[relative]
        try:
            info = (self.home / relative).stat()
        except FileNotFoundError:
            self._seen[relative] = None
            return None
        known = self._known.get(relative)
        if known is not None and known[:2] == (info.st_size, info.st_mtime_ns):
            found = (known[2], info.st_size)
        else:
            found = (sha256_file(self.home / relative), info.st_size)
            self._fresh.append((relative, info.st_size, info.st_mtime_ns, found[0]))
        self._seen[relative] = found
        return found

    def save(self) -> None:
        if not self._fresh:
            return
        try:
            with closing(sqlite3.connect(self.home / CACHE_FILE)) as db, db:
                db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?)", self._fresh)
        except sqlite3.Error:
            pass
        self._fresh.clear()
