"""The centre's API as the station calls it: hello, one file, one book's push (plain http.client: files are
streamed from disk, never whole in memory).

Every failure is one of three kinds, which decide what the sync does next:
- `Unreachable`: the network, a timeout, the centre down or busy (5xx), its disk full (507): worth trying
  again a little later (`retrying`), then worth saying what is left;
- `Refused`: the centre will not take it as it is (401 a wrong or revoked token, 4xx): trying again
  changes nothing;
- `MissingFiles` (409 on a push) and `FileChanged` (422 on a file): the sync itself can repair them.
"""
from __future__ import annotations

import http.client
import json
import logging
import time
from typing import Callable, TypeVar
from urllib.parse import urlsplit

from station.sync.collect import LocalFile
from station.sync.protocol import MISSING_FILES

log = logging.getLogger(__name__)
T = TypeVar("T")
BLOCK = 1 << 20


class Unreachable(Exception):
    def __init__(self, reason: str, disk_full: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.disk_full = disk_full


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class MissingFiles(Exception):
    def __init__(self, missing: list[str]):
        super().__init__(f"{len(missing)} files missing at the centre")
        self.missing = missing


class FileChanged(Exception):
    """A file's bytes no longer match the hash the catalog gave it (rewritten since it was collected)."""


class CentreClient:
    def __init__(self, url: str, token: str, timeout: float = 60.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._base = parts.path.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self._timeout, blocksize=BLOCK)
        return self._connection

    def _call(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        try:
            connection = self._connect()
            connection.request(method, self._base + path, body=body, headers=headers)
            answer = connection.getresponse()
            status, data = answer.status, answer.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()      # a connection cut midway is not reused
            raise Unreachable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {}
        if not isinstance(parsed, dict):
            parsed = {"detail": parsed}
        if status >= 500:
            self.close()
            raise Unreachable(f"HTTP {status}: {parsed.get('detail', '')}".strip(), disk_full=status == 507)
        return status, parsed

    def _json(self, method: str, path: str, payload: bytes) -> tuple[int, dict]:
        return self._call(method, path, payload, {"Content-Type": "application/json"})

    def hello(self, commune: str, software: str, hashes: list[str], district: str = "") -> dict:
        said = {"commune": commune, "software": software, "hashes": hashes}
        if district:    # only when set: a centre older than the district refuses fields it does not know
            said["district"] = district
        body = json.dumps(said).encode()
        status, answer = self._json("POST", "/api/sync/hello", body)
        _refuse_unless_ok(status, answer)
        return answer

    def put_file(self, file: LocalFile) -> dict:
        with open(file.path, "rb") as handle:
            status, answer = self._call("PUT", f"/api/blobs/{file.sha256}?kind={file.kind}", handle,
                                        {"Content-Type": "application/octet-stream",
                                         "Content-Length": str(file.bytes)})
        if status == 422:
            raise FileChanged(answer.get("detail", ""))
        _refuse_unless_ok(status, answer)
        return answer

    def push(self, body: bytes) -> dict:
        status, answer = self._json("POST", "/api/sync", body)
        if status == 409 and isinstance(answer.get(MISSING_FILES), list):
            raise MissingFiles(answer[MISSING_FILES])
        _refuse_unless_ok(status, answer)
        return answer


def _refuse_unless_ok(status: int, answer: dict) -> None:
    if not 200 <= status < 300:
        raise Refused(status, _detail(answer.get("detail", "")))


def _detail(detail) -> str:
    """The centre's reason; of a validation error only where and what (its values may be personal data)."""
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('type', '?')}"
                         for e in detail[:3] if isinstance(e, dict))
    return str(detail)


def retrying(call: Callable[[], T], retries: int, first_wait: float = 0.5, longest_wait: float = 10.0,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """`call()`, tried again after Unreachable up to `retries` times, waiting longer each time (0.5 s, 1 s,
    2 s… at most `longest_wait`): a short cut or a centre restarting is bridged within one sync."""
    wait = first_wait
    for attempt in range(retries + 1):
        try:
            return call()
        except Unreachable as exc:
            if attempt == retries:
                raise
            log.info("centre unreachable (%s), trying again in %.1f s", exc.reason, wait)
            sleep(wait)
            wait = min(wait * 2, longest_wait)
    raise AssertionError("unreachable")
