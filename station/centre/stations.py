"""The stations a centre knows: registered with a token (shown once), revoked, listed, and recognised by
their token on each request."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from station.catalog.models import utcnow
from station.centre.catalog import Station
from station.centre.tokens import ProvenTokens, hash_secret, new_token, token_id_of, valid_name
from station.errors import CentreError


def register(session: Session, name: str) -> str:
    """Add station `name`; its token, which the centre will never show again."""
    if not valid_name(name):
        raise CentreError(f"Tên trạm {name!r} không hợp lệ / invalid station name: use lowercase letters, digits, "
                          "'.', '-' or '_' (up to 64), e.g. xa-hai-lang-1.")
    existing = session.scalar(select(Station).where(Station.name == name))
    if existing is not None:
        raise _duplicate(existing)
    token, token_id = new_token()
    session.add(Station(name=name, token_id=token_id, token_hash=hash_secret(token)))
    try:
        session.commit()
    except IntegrityError:          # added meanwhile by another `token add`
        session.rollback()
        raise _duplicate(session.scalar(select(Station).where(Station.name == name))) from None
    return token


def _duplicate(existing: Station | None) -> CentreError:
    name = existing.name if existing else "?"
    revoked = (f" (đã thu hồi lúc {existing.revoked_at.astimezone():%Y-%m-%d %H:%M} / revoked)"
               if existing is not None and existing.revoked_at else "")
    return CentreError(f"Trạm {name} đã được đăng ký{revoked} / station {name} is already registered: "
                       "choose another name (its scans stay under the old one).")


def revoke(session: Session, name: str) -> tuple[Station, bool]:
    """Revoke `name`'s token: the station, and whether it was revoked just now (False: already was)."""
    station = session.scalar(select(Station).where(Station.name == name))
    if station is None:
        raise CentreError(f"Không có trạm {name} / no station named {name}: see `station centre token list`.")
    if station.revoked_at is not None:
        return station, False
    station.revoked_at = utcnow()
    session.commit()
    return station, True


def all_stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.name)))


class Refused(Exception):
    """The request's token does not let it in; `message` says why, in the operator's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


WRONG_TOKEN = ("Thiếu hoặc sai mã truy cập của trạm / missing or wrong station token: send "
               "`Authorization: Bearer TOKEN`, the token `station centre token add` printed.")


def authenticate(session: Session, authorization: str, proven: ProvenTokens) -> Station:
    """The station whose token the `Authorization` header carries; Refused otherwise."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    token_id = token_id_of(token) if scheme.lower() == "bearer" else None
    if token_id is None:
        raise Refused(WRONG_TOKEN)
    station = session.scalar(select(Station).where(Station.token_id == token_id))
    if station is None or not proven.check(token, station.token_hash):
        raise Refused(WRONG_TOKEN)
    if station.revoked_at is not None:    # said only to whoever holds the token itself
        raise Refused(f"Mã truy cập của trạm {station.name} đã bị thu hồi / this station's token was revoked: "
                      "ask the centre for a new station name and token.")
    return station
