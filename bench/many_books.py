"""One station holding many books: what `station status --json` and the dashboard's /api/books cost
with 30 books and with 600 (issue 12: aggregates belong in SQL, not entry by entry in Python; goal:
600 books at most 2.5 times 30), what keeping the entries' stored states adds to filing a page, and how
long the upgrade that makes them takes on the larger home.

Before stored states both loaded every book whole and worked out each entry's state in Python: on
2026-12-07 (a08ae4b, load 3-5 on 2 cores) 30 books status --json 2.38 s, /api/books 0.91 s; 600 books
75.9 s and 80.9 s (× 31.9, × 89.2). They now read one stored row a book (station.review.states): the
same day (f0b8882, load 0.4-2), status --json 1.24 → 1.31 s (× 1.1, mostly start-up), /api/books
0.02 → 0.04 s (× 1.9; × 1.1 and × 2.6 in two earlier runs: tens of milliseconds, mostly the request);
a page filed 19-32 ms with its book of 150 entries restated, 2-3 ms without; the upgrade from 0003 of
the 600-book home, stating all of them, 20.2-20.8 s (bench/results.md §10).

Each home is filled straight through the catalog (no image processing): books of ENTRIES entries, two
thirds of each book scanned (one batch, a separator page and one content page an entry, their page
image files left out), the rest still missing. Both figures are the median of --runs calls, in one run,
so the two sizes see the same machine. A page filed: the median of 10 commits of one page into a
missing entry of the last book, through the station's sessions and through a bare one. The upgrade:
the larger home taken back to revision 0003, then opened.

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.many_books --books 30 600
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from station.catalog import migrate
from station.catalog.models import Batch, Book, Capture, Entry, Page, Scan, ScanPage, Verdict, open_catalog
from station.config import load_config
from station.capture.daemon import Station
from station.review import states
from station.web.app import create_app

ENTRIES = 150
SCANNED = 2 / 3


def fill(home: Path, books: int) -> None:
    """`books` books KS.2000.01 … with ENTRIES entries each, SCANNED of them filed."""
    sessions = open_catalog(home)
    with sessions() as session:
        batch = Batch(source="bench", profile="ministry-color")
        session.add(batch)
        session.flush()
        seq = 0
        for k in range(books):
            year, volume = 2000 + k // 90, 1 + k % 90
            book = Book(id=f"KS.{year}.{volume:02d}", book_type="KS", year=year, volume=volume)
            session.add(book)
            for number in range(1, ENTRIES + 1):
                entry = Entry(number=number, page_no=str(number))
                book.entries.append(entry)
                if number > ENTRIES * SCANNED:
                    continue
                pages = []
                for verdict in (Verdict.separator, Verdict.content):
                    seq += 1
                    capture = Capture(batch=batch, seq=seq, source_name=f"{seq:06d}.jpg",
                                      stored_file=f"captures/{seq:06d}.jpg", sha256=f"{seq:064x}")
                    page = Page(capture=capture, verdict=verdict, image_file=f"pages/{seq:06d}.jpg",
                                image_format="jpeg", image_bytes=110_000, width=1654, height=2339, dpi=200.0,
                                input_dpi=300.0, read_number=number if verdict is Verdict.content else None,
                                measures={})
                    session.add(page)
                    pages.append(page)
                session.flush()
                scan = Scan(entry=entry, batch_id=batch.id, separator_page_id=pages[0].id)
                scan.pages.append(ScanPage(page=pages[1], position=0))
                session.add(scan)
            session.flush()
        session.commit()


def time_status(home: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "station"), "--home", str(home), "status", "--json"],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def time_api_books(home: Path) -> float:
    client = TestClient(create_app(Station(load_config(home=home), open_catalog(home)), token=None),
                        base_url="http://127.0.0.1")
    start = time.perf_counter()
    response = client.get("/api/books")
    response.raise_for_status()
    return time.perf_counter() - start


def time_filing(home: Path, pages: int = 10) -> tuple[float, float]:
    """Median seconds to commit one page filed into a missing entry of the last book (a Page, a Scan and
    its ScanPage, as the daemon commits per page): through the station's sessions, which state the book's
    entries again before they commit, and through a bare session on the same catalog, which does not."""
    kept = open_catalog(home)
    bare = sessionmaker(kept.kw["bind"], expire_on_commit=False)
    with kept() as session:
        book_id = session.scalar(select(Book.id).order_by(Book.id.desc()))
        batch_id = session.scalar(select(Batch.id))
        seq = session.scalar(select(func.max(Capture.seq)))
        missing = list(session.scalars(select(Entry.id).where(Entry.book_id == book_id, ~Entry.scans.any())
                                       .order_by(Entry.number).limit(2 * pages)))
    timings: dict[bool, list[float]] = {True: [], False: []}
    for k, entry_id in enumerate(missing):
        with (kept if k % 2 == 0 else bare)() as session:
            seq += 1
            capture = Capture(batch_id=batch_id, seq=seq, source_name=f"{seq:06d}.jpg",
                              stored_file=f"captures/{seq:06d}.jpg", sha256=f"{seq:064x}")
            page = Page(capture=capture, verdict=Verdict.content, image_file=f"pages/{seq:06d}.jpg",
                        image_format="jpeg", image_bytes=110_000, width=1654, height=2339, dpi=200.0, measures={})
            scan = Scan(entry_id=entry_id, batch_id=batch_id)
            scan.pages.append(ScanPage(page=page, position=0))
            session.add(scan)
            start = time.perf_counter()
            session.commit()
            timings[k % 2 == 0].append(time.perf_counter() - start)
    kept.kw["bind"].dispose()
    with open_catalog(home)() as session:     # the bare commits left their book behind: state it again
        states.restate(session.connection(), [book_id])
        session.commit()
    return statistics.median(timings[True]), statistics.median(timings[False])


def time_upgrade(home: Path) -> float:
    """Seconds to open the home after taking it back to the release before stored states (0003): the
    upgrade, filling every book's states."""
    engine = create_engine(f"sqlite:///{home / 'catalog.sqlite'}")
    with engine.begin() as connection:
        command.downgrade(migrate.SCRIPTS.config(connection), "0003")
    engine.dispose()
    start = time.perf_counter()
    open_catalog(home).kw["bind"].dispose()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", type=int, nargs="+", default=[30, 600])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.books:
            home = Path(tmp) / f"home-{count}"
            home.mkdir(mode=0o700)
            started = time.perf_counter()
            fill(home, count)
            filled = time.perf_counter() - started
            status = statistics.median(time_status(home) for _ in range(args.runs))
            api = statistics.median(time_api_books(home) for _ in range(args.runs))
            kept, bare = time_filing(home)
            rows.append((count, status, api))
            print(f"{count} books × {ENTRIES} entries (filled in {filled:.0f} s): status --json {status:.2f} s, "
                  f"/api/books {api:.2f} s; a page filed {kept * 1000:.0f} ms with its book restated, "
                  f"{bare * 1000:.0f} ms without", flush=True)
        upgrade = time_upgrade(home)
        print(f"upgrade of the {count}-book home from 0003 (every book stated): {upgrade:.1f} s", flush=True)
    if len(rows) > 1:
        (small, s_status, s_api), (large, l_status, l_api) = rows[0], rows[-1]
        print(f"{large} books against {small}: status × {l_status / s_status:.1f}, /api/books × {l_api / s_api:.1f} "
              f"(goal ≤ 2.5)")


if __name__ == "__main__":
    main()
