"""Registration-number reading on rendered register pages: read rate, false-read rate, time.

    OMP_THREAD_LIMIT=1 python -m bench.bench_ocr [-n 40] [--dpi 200 300] [--levels mild scan harsh]

Each page: render (first page of a random entry, or a continuation page / blank back, which must
give no number), degrade, straighten (pipeline.geometry), then read_entry_number.

Levels: `mild` = skew ±3°, blur 0.8, noise 6 (the test's level); `scan` = random_degradation
(ordinary scans, borders, JPEG); `harsh` = random_degradation(harsh=True): strong blur/noise,
JPEG 25-60, wide borders, streaks, sideways/upside-down feeds.

read rate = first pages whose number was read right; false reads = any number that is not the
page's own (wrong number on a first page, or any number on a continuation/blank page).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bench.corpus import (
    Degradation,
    degrade,
    make_entries,
    random_degradation,
    render_blank_page,
    render_register_page,
)
from pipeline.geometry import straighten
from pipeline.ocr import read_entry_number
from pipeline.settings import PageSettings


def _degradation(level: str, rng: np.random.Generator) -> Degradation:
    if level == "mild":
        return Degradation(skew_deg=float(rng.uniform(-3, 3)), blur_sigma=0.8, noise_sigma=6.0)
    if level == "scan":
        return random_degradation(rng, max_skew=3.0)
    if level == "harsh":
        return random_degradation(rng, max_skew=3.0, harsh=True)
    raise ValueError(level)


def run(n: int, dpi: int, level: str, seed: int = 1, others: int | None = None,
        verbose: bool = False) -> dict[str, float]:
    rng = np.random.default_rng([seed, dpi, ["mild", "scan", "harsh"].index(level)])
    entries = make_entries("KS", 2017, 1, 400, seed)
    settings = PageSettings()
    right = wrong = none = 0
    other_false = 0
    others = max(2, n // 4) if others is None else others
    t_ocr: list[float] = []
    t_str: list[float] = []
    errors = 0
    for i in range(n + others):
        entry = entries[int(rng.integers(len(entries)))]
        first = i < n
        if first:
            img = render_register_page(entry, 1, dpi, seed=seed * 1000 + i)
        elif i % 3 == 0:
            img = render_blank_page(dpi, seed=seed * 1000 + i, bleed_through=True)
        else:
            img = render_register_page(entry, 2 + i % 2, dpi, seed=seed * 1000 + i)
        d = _degradation(level, rng)
        cap = degrade(img, dpi, d, seed=seed * 1000 + i)
        t0 = time.perf_counter()
        page = straighten(cap, dpi, settings).image
        t_str.append(time.perf_counter() - t0)
        r = read_entry_number(page, dpi)
        t_ocr.append(r.seconds)
        errors += r.error is not None
        if first:
            if r.number == entry.number:
                right += 1
            elif r.number is None:
                none += 1
            else:
                wrong += 1
        elif r.number is not None:
            other_false += 1
        if verbose and (not first or r.number != entry.number):
            print(f"  {'first' if first else 'other'} truth={entry.number if first else None} "
                  f"read={r.number} conf={r.confidence} {d} err={r.error}")
    return {"first_pages": n, "read": right, "none": none, "wrong": wrong,
            "other_pages": others, "other_false": other_false, "errors": errors,
            "read_rate": right / n if n else 0.0,
            "false_rate": (wrong + other_false) / (n + others),
            "ocr_s_mean": float(np.mean(t_ocr)), "ocr_s_max": float(np.max(t_ocr)),
            "straighten_s_mean": float(np.mean(t_str))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=40, help="first pages per dpi and level")
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--levels", nargs="+", default=["mild", "scan", "harsh"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    print(f"{'level':6} {'dpi':>4} {'read':>9} {'none':>5} {'wrong':>5} {'other FP':>9} "
          f"{'err':>4} {'read%':>6} {'false%':>6} {'ocr s/pg':>9} {'max s':>6}")
    for level in a.levels:
        for dpi in a.dpi:
            r = run(a.n, dpi, level, a.seed, verbose=a.verbose)
            print(f"{level:6} {dpi:4d} {r['read']:4d}/{r['first_pages']:<4d} {r['none']:5d} "
                  f"{r['wrong']:5d} {r['other_false']:4d}/{r['other_pages']:<4d} {r['errors']:4d} "
                  f"{100 * r['read_rate']:6.1f} {100 * r['false_rate']:6.1f} "
                  f"{r['ocr_s_mean']:9.2f} {r['ocr_s_max']:6.2f}", flush=True)


if __name__ == "__main__":
    main()
