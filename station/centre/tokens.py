"""Station tokens: each station sends its own as `Authorization: Bearer TOKEN`. The same salted scrypt
keeps the dashboard's passwords (users.py).

A token is `ID.SECRET`: ID (12 hex digits) is not secret and finds the station in one indexed lookup;
SECRET is secrets.token_urlsafe(32). The centre keeps only a salted scrypt hash of the whole token, so its
database never holds a token that works; checks compare in constant time. The hash is slow on purpose,
so a process remembers the tokens it has already proven (`ProvenTokens`) and each request pays one
lookup, not one scrypt; a revoked station is refused at once all the same, its row being read every time.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading

# scrypt's cost: 16 MiB and some 30–60 ms a hash on a small server.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SALT_BYTES = 16
_TOKEN = re.compile(r"^([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def valid_name(name: str) -> bool:
    """Station names: lowercase letters, digits, dot, dash and underscore, up to 64 (e.g. xa-hai-lang-1)."""
    return bool(_NAME.match(name))


def new_token() -> tuple[str, str]:
    """A fresh token and its public id."""
    token_id = secrets.token_hex(6)
    return f"{token_id}.{secrets.token_urlsafe(32)}", token_id


def token_id_of(token: str) -> str | None:
    """The public id of a well-formed token; None for anything else."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(token: str) -> str:
    """What the database keeps of a token or a password: `scrypt$N$r$p$SALT$HASH` (the parameters kept, so they can change later)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(token, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(token: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(token, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, _unb64(digest))


class ProvenTokens:
    """Tokens this process has already checked against their stored hash, remembered as a keyed
    fingerprint (never the token): the next request with the same token skips the scrypt."""

    def __init__(self, limit: int = 10_000):
        self._key = secrets.token_bytes(32)
        self._proven: dict[str, bytes] = {}      # stored hash → fingerprint of the token that matched it
        self._limit = limit
        self._lock = threading.Lock()

    def check(self, token: str, stored: str) -> bool:
        fingerprint = hmac.new(self._key, token.encode(), hashlib.sha256).digest()
        with self._lock:
            known = self._proven.get(stored)
        if known is not None:
            return hmac.compare_digest(known, fingerprint)
        if not verify_secret(token, stored):
            return False
        with self._lock:
            if len(self._proven) >= self._limit:
                self._proven.clear()
            self._proven[stored] = fingerprint
        return True
