"""How fast the centre's dashboard answers at a province's size: 2,000 books, 200,000 entries, 1,000,000
pages by default (Quảng Trị's phase II was 2,088 books and 203,584 entries).

A throwaway PostgreSQL cluster (tests/centre/conftest.py) filled by SQL (generate_series), not by syncs:
STATIONS stations, one per commune, 10 books a commune, 100 entries a book; of the entries 80% done with
their PDF, 5% of those also done on a second station (to pick), 10% doubtful, the rest missing; 5 pages an
entry processed over the last 30 days. Then each view's work is timed (best of 3, after one warm-up): what
the dashboard's JSON asks of PostgreSQL and Python, then the same through the app (in process, signed in).
The books' tallies (progress.py) are counted once after the fill, as the centre does when it opens.

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.centre_picture [--books 2000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from sqlalchemy import text

from station.centre import users
from station.centre.app import create_app
from station.centre.catalog import open_centre
from station.centre.communes import NO_DISTRICT
from station.centre.progress import count_untallied
from station.centre.picture import book_entries, commune_book_ids, district_book_ids, picture, station_work
from station.centre.store import DiskStore
from station.centre.weekly import area_report
from tests.centre.conftest import start_cluster, stop_cluster

FILL = [
    """INSERT INTO stations (id, name, token_id, token_hash, created_at, last_contact, commune)
       SELECT s, 'xa-' || s, lpad(to_hex(s), 12, '0'), 'scrypt$1$1$1$x$x', now(), now() - (s % 50) * interval '1 hour',
              'Xã Số ' || s FROM generate_series(1, :stations) s""",
    """INSERT INTO books (id, commune, code, book_type, year, volume, created_at)
       SELECT b, 'Xã Số ' || (1 + (b - 1) / 10), 'KS.' || (2000 + b % 20) || '.' || lpad(((b - 1) % 10 + 1)::text, 2, '0'),
              'KS', 2000 + b % 20, (b - 1) % 10 + 1, now() - interval '40 days' FROM generate_series(1, :books) b""",
    """INSERT INTO entries (id, book_id, number)
       SELECT e, 1 + (e - 1) / 100, 1 + (e - 1) % 100 FROM generate_series(1, :books * 100) e""",
    # station of an entry: its commune's; a second one (the next station) for 5% of the done entries
    """CREATE TEMP TABLE plan AS
       SELECT e.id AS entry_id, 1 + (e.book_id - 1) / 10 AS station_id,
              CASE WHEN e.id % 10 < 8 THEN 'done' WHEN e.id % 10 = 8 THEN 'doubtful' END AS status,
              now() - ((e.id * 7919) % (30 * 24 * 60)) * interval '1 minute' AS at
       FROM entries e""",
    """INSERT INTO scans (station_id, local_id, entry_id, picked, damaged, placed, created_at)
       SELECT station_id, entry_id, entry_id, false, false, true, at FROM plan WHERE status IS NOT NULL""",
    """INSERT INTO scans (station_id, local_id, entry_id, picked, damaged, placed, created_at)
       SELECT 1 + station_id % :stations, entry_id, entry_id, false, false, true, at FROM plan
       WHERE status = 'done' AND entry_id % 20 = 0""",
    """INSERT INTO entry_states (station_id, entry_id, status, local_version, changed_at, received_at)
       SELECT station_id, entry_id, status, 1, at, at FROM plan WHERE status IS NOT NULL""",
    """INSERT INTO entry_states (station_id, entry_id, status, local_version, changed_at, received_at)
       SELECT 1 + station_id % :stations, entry_id, 'done', 1, at, at FROM plan
       WHERE status = 'done' AND entry_id % 20 = 0""",
    """INSERT INTO blobs (sha256, bytes, kind, stored_at)
       SELECT encode(sha256(convert_to(s.station_id || '/' || s.entry_id, 'UTF8')), 'hex'), 100000, 'pdf', now()
       FROM entry_states s WHERE s.status = 'done'""",
    """INSERT INTO pdfs (station_id, entry_id, scan_id, sha256, pages, bytes, created_at)
       SELECT s.station_id, s.entry_id, sc.id, encode(sha256(convert_to(s.station_id || '/' || s.entry_id, 'UTF8')), 'hex'),
              5, 100000, s.changed_at
       FROM entry_states s JOIN scans sc ON sc.station_id = s.station_id AND sc.local_id = s.entry_id
       WHERE s.status = 'done'""",
    """INSERT INTO pages (station_id, local_id, part, verdict, deleted, processed_at)
       SELECT p.station_id, p.entry_id * 5 + k, 0, 'content', false, p.at + k * interval '1 minute'
       FROM plan p CROSS JOIN generate_series(0, 4) k""",
    "SELECT setval('stations_id_seq', :stations)",
    "SELECT setval('books_id_seq', :books)",
    "SELECT setval('entries_id_seq', :books * 100)",
    "ANALYZE",
]


def timed(label: str, work, rounds: int = 3) -> None:
    work()
    best = min(_once(work) for _ in range(rounds))
    print(f"{label:<48} {best * 1000:7.0f} ms")


def _once(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=2000)
    args = parser.parse_args()
    stations = max(1, args.books // 10)
    cluster = start_cluster()
    try:
        sessions = open_centre(cluster.create_database("bench"))
        began = time.perf_counter()
        with sessions() as session:
            for statement in FILL:
                session.execute(text(statement), {"books": args.books, "stations": stations})
            session.commit()
            counts = {t: session.scalar(text(f"SELECT count(*) FROM {t}"))
                      for t in ("books", "entries", "entry_states", "pdfs", "pages")}
            print(f"filled in {time.perf_counter() - began:.0f} s: {counts}")
            began = time.perf_counter()
            count_untallied(session)          # as the centre does when it opens: rows that came without a push
            session.commit()
            print(f"books' tallies counted in {time.perf_counter() - began:.0f} s")
        with sessions() as session:
            key = "số 7"
            timed("province (every book's totals, districts)", lambda: picture(session).districts())
            timed("stations' throughput (7 days)", lambda: station_work(session))
            timed("a district holding every book (none set)",
                  lambda: picture(session, book_ids=district_book_ids(session, NO_DISTRICT)).communes(NO_DISTRICT))
            timed("a commune's books", lambda: picture(session, book_ids=commune_book_ids(session, key)).books)
            timed("a book's entries (200 of them)", lambda: book_entries(session, 70, None, 0, 200))
            timed("weekly report, province", lambda: area_report(session))
            timed("weekly report, a commune", lambda: area_report(session, commune="Xã Số 7"))
            users.add_user(session, "bench", "bench-password")
        with tempfile.TemporaryDirectory() as store, \
                TestClient(create_app(sessions, DiskStore(Path(store)), login_delay=0)) as client:
            client.post("/login", data={"name": "bench", "password": "bench-password"})
            for path in ("/ui/province", f"/ui/district?name={NO_DISTRICT}", "/ui/commune?name=Xã Số 7",
                         "/ui/books/70", "/ui/report.xlsx"):
                timed(f"GET {path[:40]}", lambda: client.get(path).raise_for_status())
        sessions.kw["bind"].dispose()
    finally:
        stop_cluster(cluster)


if __name__ == "__main__":
    main()
