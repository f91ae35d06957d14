"""The people allowed to see the centre's dashboard, and their signed-in browsers.

A user has a name and a password, kept as a salted scrypt hash (tokens.py). Signing in gives the browser
a random session id in a cookie (HttpOnly, SameSite=Strict, for SESSION_HOURS); the database keeps only
its SHA-256, so a copy of the database opens no session. Revoking a user ends their sessions at once.
A wrong name and a wrong password are refused in the same words and the same time (a name not known is
checked against a dummy hash), and each address may fail only so often (`LoginThrottle`).
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from station.catalog.models import utcnow
from station.centre.catalog import CentreUser, UserSession
from station.centre.tokens import hash_secret, valid_name, verify_secret
from station.errors import CentreError

SESSION_HOURS = 12                  # a working day: the password is asked again the next morning
MIN_PASSWORD = 10
WRONG_LOGIN = "Sai tên hoặc mật khẩu / wrong name or password."
# Checked when the name is not known, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def new_password() -> str:
    return secrets.token_urlsafe(12)


def add_user(session: Session, name: str, password: str | None = None) -> str:
    """Add user `name`; the password (generated when none is given), which the centre never shows again."""
    if not valid_name(name):
        raise CentreError(f"Tên người dùng {name!r} không hợp lệ / invalid user name: use lowercase letters, "
                          "digits, '.', '-' or '_' (up to 64), e.g. nguyen.van.a.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise CentreError(f"Mật khẩu quá ngắn / password too short: at least {MIN_PASSWORD} characters, or give "
                          "none and the centre makes one.")
    password = password or new_password()
    if session.scalar(select(CentreUser.id).where(CentreUser.name == name)) is not None:
        raise _exists(name)
    session.add(CentreUser(name=name, password_hash=hash_secret(password)))
    try:
        session.commit()
    except IntegrityError:          # added meanwhile by another `user add`
        session.rollback()
        raise _exists(name) from None
    return password


def _exists(name: str) -> CentreError:
    return CentreError(f"Người dùng {name} đã có / user {name} already exists: choose another name (a revoked "
                       "name is not given again).")


def revoke_user(session: Session, name: str) -> tuple[CentreUser, bool]:
    """Revoke `name` and end their sessions: the user, and whether it was revoked just now."""
    user = session.scalar(select(CentreUser).where(CentreUser.name == name))
    if user is None:
        raise CentreError(f"Không có người dùng {name} / no user named {name}: see `station centre user list`.")
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    revoked_now = user.revoked_at is None
    if revoked_now:
        user.revoked_at = utcnow()
    session.commit()
    return user, revoked_now


def all_users(session: Session) -> list[CentreUser]:
    return list(session.scalars(select(CentreUser).order_by(CentreUser.name)))


def _sha256(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def sign_in(session: Session, name: str, password: str) -> str | None:
    """A new session id for `name` if the password is theirs and they are not revoked; None otherwise."""
    user = session.scalar(select(CentreUser).where(CentreUser.name == name)) if valid_name(name) else None
    matches = verify_secret(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not matches or user.revoked_at is not None:
        return None
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at < now))     # tidy the expired ones
    session_id = secrets.token_urlsafe(32)
    session.add(UserSession(id_sha256=_sha256(session_id), user_id=user.id, created_at=now,
                            expires_at=now + timedelta(hours=SESSION_HOURS)))
    session.commit()
    return session_id


def signed_in(session: Session, session_id: str) -> CentreUser | None:
    """The user a session cookie belongs to, while it has not expired and the user is not revoked."""
    if not session_id or len(session_id) > 100:
        return None
    row = session.get(UserSession, _sha256(session_id))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(CentreUser, row.user_id)
    return user if user is not None and user.revoked_at is None else None


def sign_out(session: Session, session_id: str) -> None:
    session.execute(delete(UserSession).where(UserSession.id_sha256 == _sha256(session_id)))
    session.commit()


class LoginThrottle:
    """At most `limit` failed sign-ins from one address in `window` seconds; then refused until the
    oldest failure leaves the window (memory of this process: restarting the centre forgets)."""

    def __init__(self, limit: int = 10, window: float = 900):
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(address, []) if now - t < self.window]
        if kept:
            self._failures[address] = kept
        else:
            self._failures.pop(address, None)
        return kept

    def wait_seconds(self, address: str) -> float:
        """0 when `address` may try; otherwise how long until it may."""
        now = time.monotonic()
        with self._lock:
            recent = self._recent(address, now)
            return 0.0 if len(recent) < self.limit else self.window - (now - recent[0])

    def failed(self, address: str) -> None:
        with self._lock:
            self._failures.setdefault(address, []).append(time.monotonic())
            if len(self._failures) > 10_000:      # a flood of addresses: forget the old ones
                now = time.monotonic()
                for known in list(self._failures):
                    self._recent(known, now)
