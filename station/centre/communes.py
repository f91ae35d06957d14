"""Communes and their districts, as the centre's picture groups them.

Books and stations name their commune as each station's config.yaml spells it, so one commune may come as
"Xã Hải Phú" from one station and "hải phú" from another. They are one commune when their keys are equal:
the name in Unicode NFC, trimmed, spaces collapsed, case aside, and the unit's prefix ("Xã", "Phường",
"Thị trấn") aside. The centre keeps a row per key with the district (huyện) it belongs to: sent by a
station whose config.yaml names it (`district:`), or set by `station centre commune NAME --district D`,
which a station never overrides.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from station.catalog.models import utcnow
from station.centre.catalog import Book, Commune, Station
from station.errors import CentreError

UNIT_PREFIXES = ("thị trấn", "phường", "xã")
NO_DISTRICT = "(chưa rõ huyện / district not given)"
SET_DISTRICT_ADVICE = ("Đặt huyện: `district:` trong config.yaml của trạm, hoặc `station centre commune TÊN-XÃ "
                       "--district HUYỆN` / set it in the station's config.yaml or with `station centre commune`.")


def tidy(name: str) -> str:
    """The name as written, in NFC with its spaces tidied: how the centre shows it."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", name or "")).strip()


def commune_key(name: str) -> str:
    """What two spellings of one commune share: "Xã Hải Phú" and " hải  phú" give "hải phú"."""
    key = tidy(name).casefold()
    for prefix in UNIT_PREFIXES:
        if key.startswith(prefix + " "):
            key = key[len(prefix) + 1:].strip()
            break
    return unicodedata.normalize("NFC", key)


def heard_from_station(session: Session, commune: str | None, district: str | None) -> None:
    """A station's hello named its commune (and maybe its district): remember the commune, and its district
    unless the centre set one itself. The caller commits."""
    if not commune or not commune_key(commune):
        return
    values = {"key": commune_key(commune), "name": tidy(commune), "updated_at": utcnow()}
    district = tidy(district or "")
    if district:
        values |= {"district": district, "district_source": "station"}
    statement = insert(Commune).values(**values)
    update = {"name": statement.excluded.name, "updated_at": statement.excluded.updated_at}
    if district:
        keep_centres = Commune.district_source == "centre"
        update |= {"district": case((keep_centres, Commune.district), else_=statement.excluded.district),
                   "district_source": case((keep_centres, Commune.district_source), else_="station")}
    session.execute(statement.on_conflict_do_update(index_elements=["key"], set_=update))


def set_district(session: Session, commune: str, district: str) -> Commune:
    """`station centre commune NAME --district D`: the centre's word on a commune's district."""
    key, district = commune_key(commune), tidy(district)
    if not key:
        raise CentreError("Cần tên xã / give the commune's name, e.g. `station centre commune \"Xã Hải Phú\" "
                          "--district \"Hải Lăng\"`.")
    if not district:
        raise CentreError("Cần tên huyện / give the district's name with --district.")
    known = known_names(session)
    if key not in known:
        raise CentreError(f"Trung tâm chưa biết xã {tidy(commune)!r} / no book or station names this commune: "
                          "check its spelling against `station centre status`.")
    row = session.get(Commune, key)
    if row is None:
        row = Commune(key=key, name=known[key])
        session.add(row)
    row.district, row.district_source, row.updated_at = district, "centre", utcnow()
    session.commit()
    return row


def known_names(session: Session) -> dict[str, str]:
    """Every commune the centre has heard of (its books, its stations, its commune rows), by key, with the
    name to show."""
    names: dict[str, str] = {}
    for name in session.scalars(select(Book.commune).distinct()):
        names.setdefault(commune_key(name), tidy(name))
    for name in session.scalars(select(Station.commune).where(Station.commune.is_not(None)).distinct()):
        names.setdefault(commune_key(name), tidy(name))
    for row in session.scalars(select(Commune)):
        names[row.key] = row.name
    return {key: name for key, name in names.items() if key}


def districts(session: Session) -> dict[str, str | None]:
    """Commune key → its district (None while not known), for the communes the centre keeps a row of."""
    return {key: district for key, district in session.execute(select(Commune.key, Commune.district))}
