"""Median time of each page step at 200 and 300 dpi, on a rendered register page captured with a
dark border and a 4° skew.

    OMP_THREAD_LIMIT=1 python -m bench.bench_steps [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract is ~5x slower with OpenMP threads

from bench import corpus  # noqa: E402
from pipeline import blank, deskew, encode, geometry, ocr, orientation, sheet, tone  # noqa: E402
from pipeline.settings import PageSettings  # noqa: E402


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: first-touch allocations, Tesseract's model load into the page cache
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    entry = corpus.make_entries("KS", 2017, 1, 1, seed=1)[0]
    no_osd = PageSettings(fix_orientation=False)
    colour, grey = PageSettings(), PageSettings(mode="grey")
    bilevel = PageSettings(mode="bilevel", dpi=300, min_dpi=200)
    print(f"{'step (capture at)':<34}{'200 dpi':>10}{'300 dpi':>10}")
    rows: dict[str, list[str]] = {}
    for dpi in (200, 300):
        page = corpus.render_register_page(entry, 1, dpi, seed=1)
        capture = corpus.degrade(page, dpi, corpus.Degradation(
            skew_deg=4.0, border_mm=12.0, noise_sigma=4.0, blur_sigma=0.7), seed=1)
        straight = geometry.straighten(capture, dpi, no_osd).image
        flat = tone.flatten_background(straight, dpi)
        steps: dict[str, Callable[[], object]] = {
            "find_sheet": lambda: sheet.find_sheet(capture, dpi),
            "measure_skew": lambda: deskew.measure_skew(straight, dpi),
            "straighten (no OSD)": lambda: geometry.straighten(capture, dpi, no_osd),
            "detect_orientation (Tesseract OSD)":
                lambda: orientation.detect_orientation(straight, dpi),
            "text_orientation (text lines)": lambda: orientation.text_orientation(straight, dpi),
            "read_entry_number (Tesseract)": lambda: ocr.read_entry_number(straight, dpi),
            "is_blank": lambda: blank.is_blank(straight, dpi, colour),
            "flatten_background": lambda: tone.flatten_background(straight, dpi),
            "encode colour 200 dpi": lambda: encode.encode_page(flat, dpi, colour),
            "encode grey 200 dpi": lambda: encode.encode_page(flat, dpi, grey),
            "encode bilevel G4 300 dpi": lambda: encode.encode_page(flat, dpi, bilevel),
        }
        for name, fn in steps.items():
            repeat = max(1, args.repeat // 2) if "Tesseract" in name else args.repeat
            rows.setdefault(name, []).append(f"{median_seconds(fn, repeat) * 1000:8.0f}ms")
    for name, cells in rows.items():
        print(f"{name:<34}" + "".join(f"{c:>10}" for c in cells))


if __name__ == "__main__":
    main()
