"""Run a rendered, degraded book through the real CLI and measure it against its ground truth.

    .venv/bin/python -m bench.book_check --entries 30 --seed 7 [--profile ministry-color] [--harsh]

Prints (and with --json writes) the figures the core issue asks for: KB per page, residual skew,
separator read rate, verdict accuracy, entries exactly right, and seconds per page.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pymupdf
from click.testing import CliRunner
from sqlalchemy import select

from bench import corpus
from pipeline.deskew import measure_skew
from station.catalog.models import Capture, Entry, Page, open_catalog
from station.cli import main

BOOK = "KS.2017.01"


def _cli(home: Path, *args) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *map(str, args)])
    if result.exit_code != 0:
        raise SystemExit(f"station {' '.join(map(str, args))} failed ({result.exit_code}): {result.output}")
    return result.output


def check_book(root: Path, entries_count: int, seed: int, profile: str, harsh: bool) -> dict:
    home = root / "home"
    entries = corpus.make_entries("KS", 2017, 1, entries_count, seed=seed)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    _cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    _cli(home, "separators", BOOK, "-o", root / "sheets.pdf")
    truths = corpus.write_captures(root / "captures", entries, root / "sheets.pdf", seed=seed,
                                   upside_down_separators=1, harsh=harsh)
    started = time.perf_counter()
    _cli(home, "process", root / "captures", "--profile", profile)
    seconds = time.perf_counter() - started
    truth = {t.file: t for t in truths}

    sessions = open_catalog(home)
    with sessions() as session:
        rows = session.execute(select(Capture.source_name, Page).join(Page, Page.capture_id == Capture.id)).all()
        verdicts_right = sum(1 for name, page in rows if page.verdict.value == truth[name].kind)
        separators = [t for t in truths if t.kind == "separator"]
        separators_read = sum(1 for name, page in rows
                              if truth[name].kind == "separator" and page.verdict.value == "separator")
        residual, output_skew, sizes = [], [], []
        for name, page in rows:
            if page.verdict.value != "content" or truth[name].kind != "content":
                continue
            residual.append(abs(page.skew_deg - truth[name].degradation.skew_deg))
            grey = cv2.imdecode(np.frombuffer((home / page.image_file).read_bytes(), np.uint8),
                                cv2.IMREAD_GRAYSCALE)
            if grey is not None:  # JPEG; G4 pages are measured through their recorded skew only
                output_skew.append(abs(measure_skew(grey, page.dpi).angle_deg))
            sizes.append(page.image_bytes / 1024)
        exact = 0
        for entry in session.scalars(select(Entry)):
            want = [t.file for t in truths if t.kind == "content" and entry.number in t.entries]
            got = [sp.page.capture.source_name for sp in entry.scans[0].pages] if len(entry.scans) == 1 else None
            exact += got == want
    _cli(home, "export", BOOK, "-o", root / "export", "--profile", profile)
    pdf_kb_per_page = []
    with zipfile.ZipFile(root / "export" / f"{BOOK}.zip") as archive:
        for name in archive.namelist():
            if name.endswith(".pdf"):
                data = archive.read(name)
                pdf_kb_per_page.append(len(data) / 1024 / pymupdf.open(stream=data).page_count)
    return {
        "entries": entries_count, "captures": len(truths), "seed": seed, "profile": profile, "harsh": harsh,
        "verdict_accuracy": verdicts_right / len(truths),
        "separator_read_rate": separators_read / len(separators),
        "entries_exact": exact / entries_count,
        "kb_per_page_mean": statistics.mean(sizes), "kb_per_page_max": max(sizes),
        "pdf_kb_per_page_max": max(pdf_kb_per_page),
        "residual_skew_mean": statistics.mean(residual), "residual_skew_max": max(residual),
        "output_skew_max": max(output_skew) if output_skew else None,
        "seconds_per_capture": seconds / len(truths),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", default="ministry-color")
    parser.add_argument("--harsh", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = check_book(Path(tmp), args.entries, args.seed, args.profile, args.harsh)
    for key, value in figures.items():
        print(f"{key:24} {value:.3f}" if isinstance(value, float) else f"{key:24} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
