"""How fast `station sync` sends a book to the centre on this machine: pages a minute, MB a second, and what
a second sync (nothing to send) costs.

A station home filled straight through the catalog (tests/centre/fake_station.py) with ENTRIES entries of
2 pages each, every page a real JPEG of about 100 KB at A4 and 200 dpi (what the profile aims for), each
entry's real PDF; a throwaway PostgreSQL cluster (tests/centre/conftest.py), `station centre serve` and
`station sync` as processes of their own on 127.0.0.1 (no network in between: the figure is the station's
and the centre's own work: hashing, fsync, PostgreSQL).

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.sync_throughput --entries 100
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from station.centre import stations
from station.centre.catalog import open_centre
from tests.centre.conftest import start_cluster, stop_cluster
from tests.centre.fake_station import FakeStation
from tests.centre.processes import CentreProcess, finish, station_sync

A4_200DPI = (1654, 2339)
_BASE = None


def a4_page(book: str, number: int, index: int, variant: int = 0) -> bytes:
    """A grey A4 page at 200 dpi, about 100 KB as JPEG, its pixels unique to (number, index)."""
    global _BASE
    if _BASE is None:
        rng = np.random.default_rng(7)
        _BASE = (rng.normal(225, 6.5, A4_200DPI[::-1])).clip(0, 255).astype(np.uint8)
    pixels = _BASE.copy()
    pixels[100 + 40 * index:140 + 40 * index, 100:100 + 8 * (number % 150 + 1)] = 20
    pixels[300 + 40 * index:340 + 40 * index, 100:100 + 8 * (number // 150 + 1)] = 20
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=30, dpi=(200, 200))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100)
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
            root = Path(folder)
            made = time.monotonic()
            (root / "a").mkdir()
            station = FakeStation(root / "a" / "home", count=args.entries)
            station.scan(range(1, args.entries + 1), image=a4_page)
            made = time.monotonic() - made
            url = cluster.create_database("bench")
            with open_centre(url)() as session:
                token = stations.register(session, "bench")
            config = root / "a" / "config.yaml"
            config.write_text(json.dumps({"commune": "bench", "profiles_dir": str(Path.cwd() / "profiles")}))
            centre = CentreProcess(url, root / "store").start()
            try:
                began = time.monotonic()
                code, out = finish(station_sync(config, station.home, centre.url, token), timeout=3600)
                first = time.monotonic() - began
                assert code == 0, out
                began = time.monotonic()
                code, out = finish(station_sync(config, station.home, centre.url, token), timeout=3600)
                second = time.monotonic() - began
                assert code == 0 and "0 files" in out, out
            finally:
                centre.stop()
            size = sum(p.stat().st_size for p in (root / "store" / "objects").rglob("*") if p.is_file())
            pages = 2 * args.entries
            print(f"station made in {made:.0f} s: {args.entries} entries, {pages} pages, {size / 1e6:.1f} MB of files")
            print(f"first sync: {first:.1f} s (process start included) = {pages / first * 60:.0f} pages/minute, "
                  f"{size / 1e6 / first:.1f} MB/s")
            print(f"second sync, nothing to send: {second:.1f} s")
    finally:
        stop_cluster(cluster)


if __name__ == "__main__":
    main()
