"""Upgrades of the centre's schema (Alembic scripts in station/centre/migrations/, apart from the
station's own in station/catalog/migrations/).

Every open brings the database to the code's schema: an empty database gets every table. Centres opening
one database at once (`serve` and a `token add` beside it) take turns on a PostgreSQL advisory lock held
for the upgrade's transaction; PostgreSQL changes its schema inside a transaction, so an upgrade cut
short leaves the schema as it was.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.util import CommandError
from sqlalchemy import Engine, text

from station.catalog.migrate import Scripts
from station.errors import CentreError

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: the advisory lock that serialises upgrades of one database ("SHCE").
UPGRADE_LOCK = 0x53484345


SCRIPTS = Scripts(MIGRATIONS)


def head() -> str:
    """The revision the code expects."""
    return SCRIPTS.head


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return SCRIPTS.revision(connection)


def upgrade(engine: Engine) -> None:
    if revision(engine) == head():
        return
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        current = SCRIPTS.revision(connection)
        if current == head():
            return
        try:
            command.upgrade(SCRIPTS.config(connection), "head")
        except CommandError as exc:    # a revision this code does not know: a newer release made it
            raise CentreError(f"Cơ sở dữ liệu trung tâm ở phiên bản {current}, chương trình này không biết "
                              f"/ the centre's database is at revision {current}, unknown to this program "
                              f"({exc}): run the newer release of the station software.") from None
