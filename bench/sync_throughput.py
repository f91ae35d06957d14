"""How fast `station sync` sends a book to the centre on this machine: pages a minute, MB a second, and what
a second sync (nothing to send) costs.

A station home filled straight through the catalog (tests/centre/fake_station.py) with ENTRIES entries of
2 pages each, every page a real JPEG of about 100 KB at A4 and 200 dpi (what the profile aims for), each
entry's real PDF; a throwaway PostgreSQL cluster (tests/centre/conftest.py), `station centre serve` and
`station sync` as processes of their own on 127.0.0.1 (no network in between: the figure is the station's
and the centre's own work: hashing, fsync, PostgreSQL).

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.sync_throughput --entries 100 [--stations 4]

With --stations N, N stations (each its own book) run `station sync` at the same moment.
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import zlib
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
    """A grey A4 page at 200 dpi, about 100 KB as JPEG, its pixels unique to (book, number, index)."""
    global _BASE
    if _BASE is None:
        rng = np.random.default_rng(7)
        _BASE = (rng.normal(225, 6.5, A4_200DPI[::-1])).clip(0, 255).astype(np.uint8)
    pixels = _BASE.copy()
    pixels[100 + 40 * index:140 + 40 * index, 100:100 + 8 * (number % 150 + 1)] = 20
    pixels[300 + 40 * index:340 + 40 * index, 100:100 + 8 * (number // 150 + 1)] = 20
    pixels[500 + 40 * index:540 + 40 * index, 100:100 + 8 * (zlib.crc32(book.encode()) % 150 + 1)] = 20  # per book
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=30, dpi=(200, 200))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100, help="entries a station holds")
    parser.add_argument("--stations", type=int, default=1,
                        help="stations pushing at once, each its own book of --entries entries")
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
            root = Path(folder)
            made = time.monotonic()
            homes = []
            for index in range(args.stations):
                (root / f"s{index}").mkdir()
                station = FakeStation(root / f"s{index}" / "home", count=args.entries, book=f"KS.{2000 + index}.01")
                station.scan(range(1, args.entries + 1), image=a4_page)
                config = root / f"s{index}" / "config.yaml"
                config.write_text(json.dumps({"commune": "bench", "profiles_dir": str(Path.cwd() / "profiles")}))
                homes.append((config, station.home))
            made = time.monotonic() - made
            url = cluster.create_database("bench")
            with open_centre(url)() as session:
                tokens = [stations.register(session, f"bench-{index}") for index in range(args.stations)]
            centre = CentreProcess(url, root / "store").start()
            try:
                def all_sync() -> tuple[float, list[str]]:
                    began = time.monotonic()
                    running = [station_sync(config, home, centre.url, token)
                               for (config, home), token in zip(homes, tokens)]
                    results = [finish(process, timeout=3600) for process in running]
                    for code, out in results:
                        assert code == 0, out
                    return time.monotonic() - began, [out for _, out in results]

                first, _ = all_sync()
                second, outs = all_sync()
                assert all("0 files" in out for out in outs), outs
            finally:
                centre.stop()
            size = sum(p.stat().st_size for p in (root / "store" / "objects").rglob("*") if p.is_file())
            pages = 2 * args.entries * args.stations
            print(f"{args.stations} station(s) made in {made:.0f} s: {args.entries} entries each, {pages} pages in "
                  f"all, {size / 1e6:.1f} MB of files")
            print(f"first sync, all at once: {first:.1f} s (process start included) = {pages / first * 60:.0f} "
                  f"pages/minute, {size / 1e6 / first:.1f} MB/s")
            print(f"second sync, nothing to send: {second:.1f} s")
    finally:
        stop_cluster(cluster)


if __name__ == "__main__":
    main()
