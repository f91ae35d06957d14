"""Upgrades of the station's catalog schema (Alembic scripts in station/catalog/migrations/).

Every open brings the catalog to the code's schema: a new home gets every table, a home made before
migrations existed (its tables are the baseline's) is stamped as the baseline first, then every later
revision runs, in place. Stations opening one home at once take turns (a lock file beside it).
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import os
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
LOCK_NAME = "catalog.migrate.lock"


class Scripts:
    """A folder of Alembic scripts: the station's here, the centre's in station/centre/migrations/."""

    def __init__(self, folder: Path):
        self.folder = folder

    def config(self, connection: Connection | None) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(self.folder))
        cfg.attributes["connection"] = connection
        return cfg

    @functools.cached_property
    def head(self) -> str:
        """The revision the code expects."""
        return ScriptDirectory.from_config(self.config(None)).get_current_head()

    @staticmethod
    def revision(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()


SCRIPTS = Scripts(MIGRATIONS)


def head() -> str:
    """The revision the code expects."""
    return SCRIPTS.head


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return SCRIPTS.revision(connection)


@contextlib.contextmanager
def locked(home: Path) -> Iterator[None]:
    """The home's upgrade lock: one process at a time brings its catalog up to date."""
    descriptor = os.open(home / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)   # the home's files are 0600
    with os.fdopen(descriptor, "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def upgrade(engine: Engine, home: Path) -> None:
    if revision(engine) == head():
        return
    with locked(home):                           # another process may be upgrading the same home
        with engine.connect() as connection:
            # SQLite alters a table by copying it and dropping the old one, which its foreign keys would
            # refuse; they are off for the upgrade (only outside a transaction can they be switched),
            # checked before it commits, and on again for the pooled connection.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            try:
                with connection.begin():
                    current = SCRIPTS.revision(connection)
                    if current == head():
                        return
                    cfg = SCRIPTS.config(connection)
                    if current is None and inspect(connection).has_table("books"):
                        command.stamp(cfg, BASELINE)
                    command.upgrade(cfg, "head")
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"catalog upgrade broke {len(broken)} references: {broken[:5]}")
            finally:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
