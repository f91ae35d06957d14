"""One station holding many books: what `station status --json` and the dashboard's /api/books cost
with 30 books and with 600 (issue: aggregates belong in SQL, not entry by entry in Python). Both
load every book whole (station.export.report.load_books) and work out each entry's state in Python,
so they grow with the books; a first run (3 and 30 books, a shared machine): status --json 2.2 and
2.8 s (mostly start-up), /api/books 0.13 and 0.98 s.

Each home is filled straight through the catalog (no image processing): books of ENTRIES entries, two
thirds of each book scanned (one batch, a separator page and one content page an entry, their page
image files left out), the rest still missing. Both figures are the median of --runs calls, in one run,
so the two sizes see the same machine.

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

from fastapi.testclient import TestClient

from station.catalog.models import Batch, Book, Capture, Entry, Page, Scan, ScanPage, Verdict, open_catalog
from station.config import load_config
from station.capture.daemon import Station
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
            rows.append((count, status, api))
            print(f"{count} books × {ENTRIES} entries (filled in {filled:.0f} s): status --json {status:.2f} s, "
                  f"/api/books {api:.2f} s", flush=True)
    if len(rows) > 1:
        (small, s_status, s_api), (large, l_status, l_api) = rows[0], rows[-1]
        print(f"{large} books against {small}: status × {l_status / s_status:.1f}, /api/books × {l_api / s_api:.1f} "
              f"(goal ≤ 2.5)")


if __name__ == "__main__":
    main()
