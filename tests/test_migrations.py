"""The catalog's schema under Alembic: a new home is made at the head revision, and a home made by the
release before migrations (kept in tests/data/homes/before-migrations.tar.gz: three entries of
tests/helpers.add_rendered_book, processed at 200 dpi by main at ecdb4fb; its captures and page images
left out) opens and upgrades in place, its books, entries and PDFs as they were, its entries' states
stored (tests/test_states.py upgrades a home of the release just before that)."""
from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import tarfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from station.catalog import migrate
from station.catalog.models import Base, open_catalog
from tests.helpers import assert_states_current, run_cli

OLD_HOME = Path(__file__).parent / "data" / "homes" / "before-migrations.tar.gz"


def _schema_differences(home: Path) -> list:
    engine = open_catalog(home).kw["bind"]
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_new_home_is_made_at_the_head_revision_with_the_models_schema(tmp_path):
    run_cli(tmp_path / "home", "book", "add", "KS.2017.01", "--entries", "1-3")
    engine = open_catalog(tmp_path / "home").kw["bind"]
    assert migrate.revision(engine) == migrate.head()
    assert _schema_differences(tmp_path / "home") == []
    assert stat.S_IMODE((tmp_path / "home" / migrate.LOCK_NAME).stat().st_mode) == 0o600


def test_home_from_before_migrations_opens_and_upgrades_in_place(tmp_path):
    with tarfile.open(OLD_HOME) as archive:
        archive.extractall(tmp_path, filter="data")
    home = tmp_path / "home"
    before = (home / "catalog.sqlite").stat().st_size
    status = json.loads(run_cli(home, "status", "--json").output)["books"][0]
    assert (status["book"], status["expected"], status["done"], status["doubtful"]) == ("KS.2017.01", 3, 3, 0)
    assert migrate.revision(open_catalog(home).kw["bind"]) == migrate.head()
    assert _schema_differences(home) == []
    with open_catalog(home)() as session:   # off while tables were copied, on again for the catalog
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (home / "catalog.sqlite").stat().st_size >= before
    entry = json.loads(run_cli(home, "entry", "show", "KS.2017.01", "2", "--json").output)
    assert entry["status"] == "done"
    with sqlite3.connect(home / "catalog.sqlite") as db:   # entries' states stored by the upgrade
        assert db.execute("select status, count(*) from entry_states group by status").fetchall() == [("done", 3)]
    assert_states_current(home)
    # Opening it again changes nothing.
    shutil.copy(home / "catalog.sqlite", tmp_path / "once.sqlite")
    run_cli(home, "status", "--json")
    assert (home / "catalog.sqlite").read_bytes() == (tmp_path / "once.sqlite").read_bytes()
