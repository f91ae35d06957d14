"""The centre's catalog on a real PostgreSQL: an empty database is brought to the head revision with the
models' schema, and what two stations send can never collide."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, make_url
from sqlalchemy.exc import IntegrityError

from station.catalog.models import Verdict
from station.centre import migrate
from station.centre.catalog import Book, CentreBase, Entry, Page, Scan, Station, open_centre
from station.errors import CentreError
from tests.centre.conftest import free_port


def test_empty_database_is_brought_to_head_with_the_models_schema(centre_url):
    sessions = open_centre(centre_url)
    engine = sessions.kw["bind"]
    assert migrate.revision(engine) == migrate.head()
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), CentreBase.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {"stations", "blobs", "station_blobs", "books", "entries", "entry_states", "scans", "pages",
            "scan_pages", "pdfs", "corrections", "station_books", "book_tallies", "communes", "centre_users",
            "user_sessions", "entry_outcomes", "alembic_version"} == tables
    # Opening again changes nothing.
    assert migrate.revision(open_centre(centre_url).kw["bind"]) == migrate.head()


def test_only_postgresql_and_a_reachable_one(tmp_path, centre_url):
    with pytest.raises(CentreError, match="needs PostgreSQL"):
        open_centre(f"sqlite:///{tmp_path / 'centre.sqlite'}")
    with pytest.raises(CentreError, match="not a database URL"):
        open_centre("centre-db")
    url = make_url(centre_url)
    nobody_listens = url.set(drivername="postgresql", port=free_port())
    with pytest.raises(CentreError, match="cannot reach") as refused:
        open_centre(nobody_listens.render_as_string(hide_password=False))
    assert url.password not in refused.value.message and "***" in refused.value.message


def test_two_stations_never_collide_and_an_entry_has_one_pick(centre_url):
    sessions = open_centre(centre_url)
    with sessions() as session:
        a, b = (Station(name=n, token_id=n * 6, token_hash="x") for n in ("aa", "bb"))
        book = Book(code="KS.2017.01", book_type="KS", year=2017, volume=1)
        entry = Entry(book=book, number=5)
        session.add_all([a, b, entry])
        session.flush()
        # The same local ids on two stations are two rows; the same entry scanned on both is two scans.
        session.add_all([Page(station_id=s.id, local_id=1, verdict=Verdict.content) for s in (a, b)])
        session.add_all([Scan(station_id=s.id, local_id=1, entry_id=entry.id, picked=s is a) for s in (a, b)])
        session.commit()
        session.add(Page(station_id=a.id, local_id=1, verdict=Verdict.blank))
        with pytest.raises(IntegrityError, match="uq_pages_station_id_local_id"):
            session.commit()
        session.rollback()
        session.add(Scan(station_id=b.id, local_id=2, entry_id=entry.id, picked=True))
        with pytest.raises(IntegrityError, match="ux_scans_one_pick_per_entry"):
            session.commit()
        session.rollback()
        # One book per commune and code: another commune's KS.2017.01 is another book.
        session.add(Book(commune="Xã Hải Lăng", code="KS.2017.01", book_type="KS", year=2017, volume=1))
        session.commit()
        session.add(Book(commune="Xã Hải Lăng", code="KS.2017.01", book_type="KS", year=2017, volume=1))
        with pytest.raises(IntegrityError, match="uq_books_commune_code"):
            session.commit()


def test_a_centre_made_by_the_release_before_tallies_upgrades_in_place_and_counts_its_books(centre_url):
    """A database at revision 0002 (stations, their books and entry states, no tallies) opened by this code:
    brought to head, its rows kept, each book counted once."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from station.centre.catalog import database_url
    from station.centre.progress import book_progress

    engine = create_engine(database_url(centre_url))
    with engine.begin() as connection:
        command.upgrade(migrate.SCRIPTS.config(connection), "0002")
        connection.execute(text(
            "INSERT INTO stations (id, name, token_id, token_hash, created_at) VALUES (1, 'xa-a', 'aaaaaaaa', 'x', "
            "now());"
            "INSERT INTO books (id, commune, code, book_type, year, volume, created_at) VALUES "
            "(1, 'Hải Phú', 'KS.2017.01', 'KS', 2017, 1, now());"
            "INSERT INTO entries (id, book_id, number) SELECT n, 1, n FROM generate_series(1, 5) n;"
            "INSERT INTO entry_states (station_id, entry_id, status, local_version, received_at) VALUES "
            "(1, 1, 'doubtful', 1, now()), (1, 2, 'missing', 1, now());"
            "INSERT INTO station_books (station_id, book_id, digest, pushed_at) VALUES (1, 1, repeat('d', 64), now())"))
    engine.dispose()
    sessions = open_centre(centre_url)
    assert migrate.revision(sessions.kw["bind"]) == migrate.head()
    with sessions() as session:
        [book] = book_progress(session)
    assert (book.book, book.expected, book.done, book.doubtful, book.missing, book.stations) == \
        ("KS.2017.01", 5, 0, 1, 4, ["xa-a"])
