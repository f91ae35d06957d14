"""A province's centre at full size: 2,000 books, 200,000 entries and 1,000,000 pages (issue: the centre's
pages and `station centre status` under 1 s at that size): the books' tallies, `centre status`, and each
view of the dashboard (its queries, then its JSON through the app, signed in).

A throwaway PostgreSQL cluster (tests/centre/conftest.py) brought to the centre's schema, then filled by
PostgreSQL itself (INSERT … SELECT over generate_series: metadata only, no files): COMMUNES communes of
BOOKS_PER_COMMUNE books, two stations a commune each scanning half of every book, ENTRIES a book, PAGES
an entry, processed over the last 20 days. Of the entries, 1 in 20 is missing, 1 in 20 doubtful, 1 in 100
done on both stations (a rescan to pick); the rest done with their PDF. Each figure is the median of
--runs calls in one run, after one warm-up call (PostgreSQL's cache is what a serving centre has).

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.centre_scale
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from station.centre import users
from station.centre.app import create_app
from station.centre.catalog import Book, open_centre
from station.centre.communes import commune_key, set_district
from station.centre.picture import book_entries, commune_book_ids, district_book_ids, picture, station_work
from station.centre.progress import book_progress, count_books, count_untallied, station_contacts
from station.centre.store import DiskStore
from station.centre.weekly import area_report
from station.cli import main as station_main
from tests.centre.conftest import start_cluster, stop_cluster

COMMUNES = 50
BOOKS_PER_COMMUNE = 40
ENTRIES = 100
PAGES = 5

FILL = """
INSERT INTO stations (id, name, token_id, token_hash, created_at, last_contact, commune)
  SELECT s, 'tram-' || s, 'token' || s, 'x', now() - interval '30 days', now() - (s % 7) * interval '1 hour',
         'Xã ' || ((s + 1) / 2)
  FROM generate_series(1, :communes * 2) s;
INSERT INTO books (id, commune, code, book_type, year, volume, created_at)
  SELECT b, 'Xã ' || ((b - 1) / :books_per_commune + 1), 'KS.' || (1990 + (b - 1) % :books_per_commune) || '.01',
         'KS', 1990 + (b - 1) % :books_per_commune, 1, now() - interval '20 days'
  FROM generate_series(1, :books) b;
INSERT INTO entries (id, book_id, number, page_no)
  SELECT e, (e - 1) / :entries + 1, (e - 1) % :entries + 1, ((e - 1) % :entries) / 3 + 1
  FROM generate_series(1, :books * :entries) e;
-- The station scanning an entry: the first of its commune's two for the first half of a book.
CREATE TEMPORARY TABLE scanned AS
  SELECT e.id AS entry, 2 * ((e.book_id - 1) / :books_per_commune) + 1
         + CASE WHEN e.number > :entries / 2 THEN 1 ELSE 0 END AS station,
         CASE WHEN e.id % 20 = 1 THEN 'doubtful' ELSE 'done' END AS status, e.id AS local
  FROM entries e WHERE e.id % 20 <> 0;
-- A rescan on the commune's other station.
INSERT INTO scanned
  SELECT entry, CASE WHEN station % 2 = 1 THEN station + 1 ELSE station - 1 END, 'done', entry + 10000000
  FROM scanned WHERE entry % 100 = 7;
INSERT INTO entry_states (station_id, entry_id, status, reason, local_version, changed_at, received_at)
  SELECT station, entry, status, CASE WHEN status = 'doubtful' THEN 'mờ / faded' END, 1,
         now() - (entry % 20) * interval '1 day', now() - (entry % 20) * interval '1 day'
  FROM scanned;
INSERT INTO scans (id, station_id, local_id, entry_id, damaged, placed, picked, created_at)
  SELECT row_number() OVER (ORDER BY local, station), station, local, entry, false, false, false,
         now() - (entry % 20) * interval '1 day'
  FROM scanned;
INSERT INTO pages (id, station_id, local_id, part, verdict, deleted, width, height, dpi, processed_at)
  SELECT row_number() OVER (ORDER BY s.id, k), s.station_id, s.local_id * 10 + k, 0, 'content', false, 1654, 2339,
         200, s.created_at + k * interval '1 minute'
  FROM scans s, generate_series(1, :pages) k;
INSERT INTO scan_pages (scan_id, page_id, position)
  SELECT s.id, p.id, p.local_id % 10 FROM scans s JOIN pages p ON p.station_id = s.station_id
         AND p.local_id / 10 = s.local_id;
INSERT INTO blobs (sha256, bytes, kind, stored_at)
  SELECT encode(sha256(convert_to(s.id::text, 'UTF8')), 'hex'), 300000, 'pdf', now() FROM scans s
  JOIN entry_states es ON es.station_id = s.station_id AND es.entry_id = s.entry_id WHERE es.status = 'done';
INSERT INTO pdfs (station_id, entry_id, scan_id, sha256, pages, bytes, created_at)
  SELECT s.station_id, s.entry_id, s.id, encode(sha256(convert_to(s.id::text, 'UTF8')), 'hex'), :pages, 300000,
         s.created_at
  FROM scans s JOIN entry_states es ON es.station_id = s.station_id AND es.entry_id = s.entry_id
  WHERE es.status = 'done';
INSERT INTO station_books (station_id, book_id, digest, pushed_at)
  SELECT DISTINCT es.station_id, e.book_id, repeat('d', 64), now() FROM entry_states es
  JOIN entries e ON e.id = es.entry_id;
"""
SEQUENCES = ("stations", "books", "entries", "scans", "pages")


def fill(sessions, communes: int, books_per_commune: int, entries: int, pages: int) -> dict[str, int]:
    numbers = {"communes": communes, "books_per_commune": books_per_commune, "books": communes * books_per_commune,
               "entries": entries, "pages": pages}
    engine = sessions.kw["bind"]
    with engine.begin() as connection:
        # The sizes go in as integer literals: psycopg would bind them as smallint, and 2,000 × 100 overflows it.
        filled = re.sub(r"(?<![:\w]):([a-z_]+)", lambda m: str(int(numbers[m[1]])), FILL)
        for statement in filter(str.strip, filled.split(";\n")):
            connection.execute(text(statement))
        for table in SEQUENCES:   # the rows above chose their ids: later inserts must not collide with them
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("books", "entries", "entry_states", "scans", "pages", "pdfs")}


def timed(call, runs: int) -> tuple[float, object]:
    result = call()                 # warm-up
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


DISTRICTS = 5       # the communes are spread over this many districts


def dashboard(sessions, runs: int) -> None:
    """Each view of the centre's dashboard: its queries, then the page's JSON through the app, signed in."""
    with sessions() as session:
        names = sorted(set(session.scalars(select(Book.commune))))
        for index, name in enumerate(names):
            set_district(session, name, f"Huyện {index % DISTRICTS + 1}")
        users.add_user(session, "bench", "bench-password")
        session.commit()
        commune, district = names[len(names) // 2], "Huyện 1"
        book_id = session.scalar(select(Book.id).where(Book.commune == commune).order_by(Book.code))
        views = {
            "province (every book's totals, by district)": lambda: picture(session).districts(),
            "stations' throughput (7 days)": lambda: station_work(session),
            "a district's communes": lambda: picture(session, book_ids=district_book_ids(session, district))
            .communes(district),
            "a commune's books": lambda: picture(session, book_ids=commune_book_ids(session, commune_key(commune)))
            .books,
            "a book's entries (200 of them)": lambda: book_entries(session, book_id, None, 0, 200),
            "weekly report, province": lambda: area_report(session),
            "weekly report, a district": lambda: area_report(session, district=district),
            "weekly report, a commune": lambda: area_report(session, commune=commune),
        }
        for label, work in views.items():
            seconds, _ = timed(work, runs)
            print(f"  {label:<46} {seconds * 1000:7.0f} ms")
    with tempfile.TemporaryDirectory() as store, \
            TestClient(create_app(sessions, DiskStore(Path(store)), login_delay=0)) as client:
        client.post("/login", data={"name": "bench", "password": "bench-password"}).raise_for_status()
        for path in ("/ui/province", f"/ui/district?name={district}", f"/ui/commune?name={commune}",
                     f"/ui/books/{book_id}", "/ui/report.xlsx"):
            seconds, _ = timed(lambda: client.get(path).raise_for_status(), runs)
            print(f"  GET {path:<42} {seconds * 1000:7.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=COMMUNES)
    parser.add_argument("--books-per-commune", type=int, default=BOOKS_PER_COMMUNE)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        url = cluster.create_database("province")
        sessions = open_centre(url)
        began = time.monotonic()
        counts = fill(sessions, args.communes, args.books_per_commune, args.entries, args.pages)
        print(f"filled in {time.monotonic() - began:.0f} s: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))

        with sessions() as session:     # the filled rows have no tallies: what an upgraded centre does once
            began = time.perf_counter()
            counted = count_untallied(session)
            session.commit()
            print(f"tallies of {counted:,} books counted at once (an upgrade): {time.perf_counter() - began:.1f} s")

        def one_book():                 # what each push of a book adds
            with sessions() as session:
                count_books(session, [counts["books"] // 2])
                session.commit()

        seconds, _ = timed(one_book, args.runs)
        print(f"one book's tally counted again (each push): {seconds * 1000:.1f} ms")

        def progress():
            with sessions() as session:
                return book_progress(session), station_contacts(session)

        seconds, (books, contacts) = timed(progress, args.runs)
        done = sum(b.done for b in books)
        print(f"book_progress + station_contacts: {seconds * 1000:.0f} ms ({len(books)} books, {done:,} entries "
              f"done, {sum(b.to_pick for b in books):,} to pick; {len(contacts)} stations)")
        assert done == sum(1 for e in range(1, counts["entries"] + 1) if e % 20 > 1 and e % 100 != 7)

        def status_command():         # the command's own work, in this process (the program already loaded)
            result = CliRunner().invoke(station_main, ["centre", "status", "--json", "--database", url])
            assert result.exit_code == 0, result.output
            return len(json.loads(result.output)["books"])

        seconds, shown = timed(status_command, args.runs)
        print(f"`station centre status --json`, the command itself: {seconds * 1000:.0f} ms for {shown} books")

        dashboard(sessions, args.runs)

        station = Path(sys.executable).with_name("station")

        def status_process():
            out = subprocess.run([str(station), "centre", "status", "--json", "--database", url],
                                 capture_output=True, text=True, check=True)
            return len(json.loads(out.stdout)["books"])

        seconds, shown = timed(status_process, args.runs)
        began = time.perf_counter()
        subprocess.run([str(station), "--help"], capture_output=True, check=True)
        start_up = time.perf_counter() - began
        print(f"`station centre status --json` as a process: {seconds:.2f} s for {shown} books "
              f"(of which the program's start: {start_up:.2f} s, `station --help`)")
    finally:
        stop_cluster(cluster)


if __name__ == "__main__":
    main()
