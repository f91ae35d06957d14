"""The speed goal alone: `station process` against the floor on bench/compare.py's batch, interleaved.

The full comparison (bench/compare.py) takes ~18 minutes; this gives its headline figure, the station's
wall time over the floor's (decode each capture, encode one JPEG a page, 2 processes), in a few:
station and floor runs alternate, so both see the same machine, and the medians are compared.

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.ratio --runs 5
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

from bench import compare
from bench.measures import run_floor

PROFILE_SHADE = {"ministry-color": ("colour", "color"), "ministry-grey": ("grey", "grey")}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", choices=sorted(PROFILE_SHADE), default="ministry-color")
    ap.add_argument("--work", type=Path, default=compare.REPO / "out" / "bench")
    args = ap.parse_args(argv)
    plan = dataclasses.replace(compare.FULL, scaling=(compare.FULL.batch,))   # no scaling batch needed
    c = compare.build_corpus(args.work, plan)
    shade, floor_mode = PROFILE_SHADE[args.profile]
    batch = c.prefix(shade, plan.batch)
    station_s, floor_s = [], []
    for i in range(args.runs):
        station = compare.run_station(c, batch, args.profile, args.work / "ratio" / f"station-{i}")
        out = compare._fresh(args.work / "ratio" / f"floor-{i}")
        floor = run_floor(batch, out, floor_mode)
        station_s.append(station.wall_s)
        floor_s.append(floor.wall_s)
        print(f"run {i + 1}: station {station.wall_s:.1f} s ({station.cpu_s:.1f} CPU s), floor {floor.wall_s:.1f} s, "
              f"{station.wall_s / floor.wall_s:.2f}× (load {station.load_before:.1f}→{floor.load_after:.1f})",
              flush=True)
    ratio = statistics.median(station_s) / statistics.median(floor_s)
    print(f"{args.profile}, {plan.batch} captures, {args.runs} runs: station {statistics.median(station_s):.1f} s, "
          f"floor {statistics.median(floor_s):.1f} s (medians): {ratio:.2f}× the floor (goal ≤ 3×)")


if __name__ == "__main__":
    main()
