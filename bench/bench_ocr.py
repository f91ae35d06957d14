"""Reading the pages: orientation, registration numbers, the cross-check, throughput with OCR on/off.

    OMP_THREAD_LIMIT=1 python -m bench.bench_ocr [--parts orientation numbers book] [--out FILE.md]

orientation  rendered register pages (3 layouts, 150/200/300 dpi, ordinary and harsh captures, fed at
             0/90/180/270) and the real scans in tests/data/realscans (each at the four turns):
             Tesseract OSD alone (the former method) against the text-line first pass with OSD where
             it is unsure (pipeline.orientation.find_orientation): right / unsure (flagged) / wrong, time.
             Seeds differ from those the thresholds were calibrated on.
textlayer    rendered pages with the text layer: bytes it adds to the PDF, Tesseract time, whether
             words with diacritics printed on first pages are found by pymupdf's search.
numbers      first pages (must read their own number) and continuation pages / blank backs (must read
             none), straightened, then pipeline.ocr.read_entry_number: read rate, false reads, time.
             Levels: `mild` skew ±3°, blur 0.8, noise 6; `scan` ordinary captures; `harsh` strong
             blur/noise, JPEG 25-60, wide borders, streaks, sideways/upside-down feeds.
layouts      first pages of the register layouts in bench/layouts.py (number on its own line, inside the
             header line, in a boxed header table, ledger rows, typewritten "Số N", two forms on an A3
             sheet) and a letter with "Số 12 đường ..." near the top (must give none): N pages per layout,
             level (random_degradation ordinary / harsh) and dpi, straightened, then read_entry_number:
             numbers read right / not read / WRONG per layout, seconds per page. The reader was tuned on
             layouts a, b, d; c, e, f are held out (never looked at while tuning).
book         a rendered book through the station's BatchRunner (as `station process`, 2 workers), with
             the separators of two entries swapped: pages/min with number reading off and on, whether
             the swap is caught (both entries doubtful), entries flagged in the rest of the book (false
             alarms) and numbers read wrong, read rate on first pages.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract is ~5x slower with OpenMP threads

from bench import corpus, layouts  # noqa: E402
from pipeline import geometry  # noqa: E402
from pipeline.deskew import SKEW_MIN_INK_SHARE, measure_skew  # noqa: E402
from pipeline.ocr import read_entry_number  # noqa: E402
from pipeline.orientation import detect_orientation, find_orientation  # noqa: E402
from pipeline.settings import PageSettings  # noqa: E402

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "realscans"
NO_TURN = PageSettings(fix_orientation=False)


# --- orientation ----------------------------------------------------------------------------------

def orientation_pages(n: int, seed: int):
    """(label, upright-unknown page, dpi, rotation to find): rendered pages, then the real scans."""
    rng = np.random.default_rng(seed)
    entries = corpus.make_entries("KS", 2017, 1, 300, seed)
    for i in range(n):
        dpi, rotation = (150, 200, 300)[i % 3], (0, 90, 180, 270)[(i // 3) % 4]
        level, layout = ("scan", "harsh")[(i // 12) % 2], 1 + (i // 24) % 3
        entry = entries[int(rng.integers(len(entries)))]
        image = corpus.render_register_page(entry, layout, dpi, seed=seed * 1000 + i)
        deg = dataclasses.replace(corpus.random_degradation(rng, 6.0, harsh=level == "harsh"), rotation=rotation)
        capture = corpus.degrade(image, dpi, deg, seed=seed * 1000 + i)
        yield f"{level}", geometry.straighten(capture, dpi, NO_TURN).image, dpi, rotation
    import pymupdf
    from PIL import Image
    with pymupdf.open(REAL / "cardinal.pdf") as doc:
        for index, rotation in enumerate((0, 270, 180, 90)):
            pix = doc[index].get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
            page = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, :pix.width].copy()
            yield "real", page, 150, rotation
    for name, dpi in (("c02-22.jpg", 150), ("typewriter.png", 300)):
        image = np.asarray(Image.open(REAL / name).convert("L"))
        for turns in range(4):
            yield "real", np.ascontiguousarray(np.rot90(image, turns)), dpi, 90 * turns


def bench_orientation(n: int, seed: int) -> dict:
    tally: dict[tuple[str, str], Counter] = {}
    seconds: dict[str, list[float]] = {"osd": [], "text-lines + osd": []}
    fallbacks = 0
    for level, page, dpi, rotation in orientation_pages(n, seed):
        if measure_skew(page, dpi).ink_share < SKEW_MIN_INK_SHARE:
            continue
        for method, find in (("osd", detect_orientation), ("text-lines + osd", find_orientation)):
            found = find(page, dpi)
            seconds[method].append(found.seconds)
            verdict = "unsure" if not found.confident else "right" if found.rotation == rotation else "wrong"
            tally.setdefault((method, level), Counter())[verdict] += 1
            if method != "osd" and found.method == "osd":
                fallbacks += 1
    return {"tally": tally, "seconds": seconds, "fallbacks": fallbacks}


def orientation_report(r: dict) -> list[str]:
    lines = ["| method | pages | right | unsure (flagged) | wrong | ms/page median | ms/page mean |",
             "|---|---|---|---|---|---|---|"]
    for method in ("osd", "text-lines + osd"):
        rows = {level: c for (m, level), c in r["tally"].items() if m == method}
        total = sum(rows.values(), Counter())
        times = r["seconds"][method]
        for level, c in sorted(rows.items()) + [("all", total)]:
            pages = sum(c.values())
            timing = (f"{1000 * statistics.median(times):.0f} | {1000 * statistics.mean(times):.0f}"
                      if level == "all" else " | ")
            lines.append(f"| {method} ({level}) | {pages} | {c['right']} | {c['unsure']} | {c['wrong']} | {timing} |")
    lines.append(f"\nOSD fallbacks of the new method: {r['fallbacks']} of "
                 f"{len(r['seconds']['text-lines + osd'])} pages.")
    return lines


# --- registration numbers -------------------------------------------------------------------------

def _degradation(level: str, rng: np.random.Generator) -> corpus.Degradation:
    if level == "mild":
        return corpus.Degradation(skew_deg=float(rng.uniform(-3, 3)), blur_sigma=0.8, noise_sigma=6.0)
    if level == "scan":
        return corpus.random_degradation(rng, max_skew=3.0)
    if level == "harsh":
        return corpus.random_degradation(rng, max_skew=3.0, harsh=True)
    raise ValueError(level)


def bench_numbers(n: int, dpi: int, level: str, seed: int = 1, verbose: bool = False) -> dict:
    rng = np.random.default_rng([seed, dpi, ["mild", "scan", "harsh"].index(level)])
    entries = corpus.make_entries("KS", 2017, 1, 400, seed)
    settings = PageSettings()
    right = wrong = none = other_false = errors = 0
    others = max(2, n // 4)
    t_ocr: list[float] = []
    for i in range(n + others):
        entry = entries[int(rng.integers(len(entries)))]
        first = i < n
        if first:
            img = corpus.render_register_page(entry, 1, dpi, seed=seed * 1000 + i)
        elif i % 3 == 0:
            img = corpus.render_blank_page(dpi, seed=seed * 1000 + i, bleed_through=True)
        else:
            img = corpus.render_register_page(entry, 2 + i % 2, dpi, seed=seed * 1000 + i)
        d = _degradation(level, rng)
        page = geometry.straighten(corpus.degrade(img, dpi, d, seed=seed * 1000 + i), dpi, settings).image
        r = read_entry_number(page, dpi)
        t_ocr.append(r.seconds)
        errors += r.error is not None
        if first:
            right += r.number == entry.number
            none += r.number is None
            wrong += r.number is not None and r.number != entry.number
        else:
            other_false += r.number is not None
        if verbose and (not first or r.number != entry.number):
            print(f"  {'first' if first else 'other'} truth={entry.number if first else None} read={r.number} "
                  f"conf={r.confidence} {d} err={r.error}")
    return {"level": level, "dpi": dpi, "first_pages": n, "read": right, "none": none, "wrong": wrong,
            "other_pages": others, "other_false": other_false, "errors": errors,
            "read_rate": right / n if n else 0.0, "false_rate": (wrong + other_false) / (n + others),
            "ocr_s_mean": float(np.mean(t_ocr)), "ocr_s_max": float(np.max(t_ocr))}


def numbers_report(rows: list[dict]) -> list[str]:
    lines = ["| level | dpi | first pages read right | not read | read wrong | other pages with a number "
             "| errors | read % | false % | OCR s/page mean (max) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['level']} | {r['dpi']} | {r['read']}/{r['first_pages']} | {r['none']} | {r['wrong']} | "
                     f"{r['other_false']}/{r['other_pages']} | {r['errors']} | {100 * r['read_rate']:.1f} | "
                     f"{100 * r['false_rate']:.1f} | {r['ocr_s_mean']:.2f} ({r['ocr_s_max']:.2f}) |")
    return lines


# --- register layouts ------------------------------------------------------------------------------

TUNED_ON = ("a", "b", "d")
HELD_OUT = ("c", "e", "f")


def bench_layouts(n: int, seed: int, verbose: bool = False) -> list[dict]:
    """Per layout (and the address letter): numbers printed, read right, not read, read wrong, s/page."""
    settings = PageSettings()
    entries = corpus.make_entries("KS", 2014, 1, 400, seed)
    rows = []
    for key in [*TUNED_ON, *HELD_OUT, layouts.ADDRESS_LETTER.key]:
        tally = Counter()
        seconds = []
        for level in ("scan", "harsh"):
            for dpi in (200, 300):
                rng = np.random.default_rng([seed, ord(key[0]), dpi, level == "harsh"])
                for i in range(n):
                    page_seed = seed * 1000 + i
                    ents = layouts.page_entries(key, entries, int(rng.integers(len(entries) - 5)), page_seed)
                    page = layouts.render_layout_page(key, ents, dpi, page_seed)
                    capture = corpus.degrade(page.image, dpi, _degradation(level, rng), seed=page_seed)
                    r = read_entry_number(geometry.straighten(capture, dpi, settings).image, dpi)
                    seconds.append(r.seconds)
                    truth, read = set(page.numbers), set(r.numbers)
                    tally["pages"] += 1
                    tally["printed"] += len(truth)
                    tally["right"] += len(truth & read)
                    tally["missed"] += len(truth - read)
                    tally["wrong"] += len(read - truth)
                    tally["errors"] += r.error is not None
                    if verbose and truth != read:
                        print(f"  {key} {level} {dpi} truth={sorted(truth)} read={sorted(read)} err={r.error}")
        rows.append({"layout": key, "tally": tally, "s_mean": float(np.mean(seconds)),
                     "s_max": float(np.max(seconds))})
    return rows


def layouts_report(rows: list[dict], n: int) -> list[str]:
    lines = [f"{n} pages per layout, level (ordinary `scan` / `harsh` captures) and dpi (200, 300): "
             f"{4 * n} pages a layout. Tuned on {', '.join(TUNED_ON)}; {', '.join(HELD_OUT)} held out.", "",
             "| layout | set | pages | numbers printed | read right | not read | WRONG | errors | s/page mean (max) |",
             "|---|---|---|---|---|---|---|---|---|"]
    names = {**{k: v.name for k, v in layouts.LAYOUTS.items()}, layouts.ADDRESS_LETTER.key: layouts.ADDRESS_LETTER.name}
    for r in rows:
        t, key = r["tally"], r["layout"]
        kind = "tuning" if key in TUNED_ON else "held out" if key in HELD_OUT else "no number"
        lines.append(f"| {key}: {names[key]} | {kind} | {t['pages']} | {t['printed']} | {t['right']} | {t['missed']} "
                     f"| {t['wrong']} | {t['errors']} | {r['s_mean']:.2f} ({r['s_max']:.2f}) |")
    return lines


# --- searchable PDFs ------------------------------------------------------------------------------

# Printed on every first page of a birth entry (bench.corpus), with diacritics.
FIRST_PAGE_WORDS = ("Quốc tịch", "Dân tộc", "Nơi cư trú", "Quyển số", "Hạnh phúc")


def bench_text_layer(n: int, seed: int) -> dict:
    import pymupdf

    from pipeline.page import process_page
    from pipeline.pdf import assemble_pdf
    rng = np.random.default_rng(seed)
    entries = corpus.make_entries("KS", 2017, 1, 300, seed)
    settings = PageSettings(text_layer=True)
    added, layer_kb, page_kb, took, found, looked = [], [], [], [], 0, 0
    for i in range(n):
        dpi, layout = (200, 300)[i % 2], 1 + i % 3
        entry = entries[int(rng.integers(len(entries)))]
        image = corpus.render_register_page(entry, layout, dpi, seed=seed * 1000 + i)
        result = process_page(corpus.degrade(image, dpi, corpus.random_degradation(rng, 4.0), seed=i), dpi, settings)
        if result.text_layer is None:
            continue
        took.append(result.seconds["text_layer"])
        plain = assemble_pdf([result.image.data], "t")
        layered = assemble_pdf([result.image.data], "t", [result.text_layer])
        added.append((len(layered) - len(plain)) / 1024)
        layer_kb.append(len(result.text_layer) / 1024)
        page_kb.append(len(plain) / 1024)
        if layout == 1:
            with pymupdf.open(stream=layered) as doc:
                found += sum(bool(doc[0].search_for(w)) for w in FIRST_PAGE_WORDS)
                looked += len(FIRST_PAGE_WORDS)
    return {"pages": len(added), "added_kb": added, "layer_kb": layer_kb, "page_kb": page_kb, "seconds": took,
            "found": found, "looked": looked}


def text_layer_report(r: dict) -> list[str]:
    mean = statistics.mean
    return [f"{r['pages']} rendered pages (3 layouts, 200/300 dpi captures, profile ministry-color):",
            "", "| PDF page without layer KB (mean) | added by the layer KB mean / max | added % | "
            "Tesseract s/page mean / max | words found by search on first pages |", "|---|---|---|---|---|",
            f"| {mean(r['page_kb']):.0f} | {mean(r['added_kb']):.1f} / {max(r['added_kb']):.1f} | "
            f"{100 * mean(r['added_kb']) / mean(r['page_kb']):.1f} | {mean(r['seconds']):.2f} / "
            f"{max(r['seconds']):.2f} | {r['found']}/{r['looked']} |"]


# --- a book through the station --------------------------------------------------------------------

SWAPPED = (5, 6)


def _make_book(root: Path, entries_count: int, seed: int, harsh: bool):
    """Register, separators (from a scratch home) and captures, with the sheets of SWAPPED exchanged."""
    from station.catalog.library import add_book, separator_pdf
    from station.catalog.models import open_catalog
    from station.config import load_config
    entries = corpus.make_entries("KS", 2017, 1, entries_count, seed=seed)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    cfg = load_config(home=root / "scratch")
    with open_catalog(_fresh(root / "scratch"))() as session:
        add_book(session, root / "scratch", "KS.2017.01", root / "register.xlsx", None)
        (root / "sheets.pdf").write_bytes(separator_pdf(session, cfg, "KS.2017.01", None, None))
    truths = corpus.write_captures(root / "captures", entries, root / "sheets.pdf", seed=seed, harsh=harsh)
    sheets = {t.entries[0]: root / "captures" / t.file for t in truths if t.kind == "separator"}
    a, b = (sheets[n].read_bytes() for n in SWAPPED)
    sheets[SWAPPED[0]].write_bytes(b)
    sheets[SWAPPED[1]].write_bytes(a)
    return truths


def _run_book(root: Path, name: str, read_numbers: bool, workers: int) -> dict:
    from sqlalchemy import select

    from drivers.replay import ReplayDriver
    from station.capture.batch import BatchRunner
    from station.catalog.library import add_book, book_report, require_book
    from station.catalog.models import Capture, Page, open_catalog
    from station.config import load_config
    home = root / name
    cfg = load_config(home=home)
    profile = cfg.profile("ministry-color")
    profile = profile.model_copy(update={"page": profile.page.model_copy(update={"read_entry_number": read_numbers})})
    sessions = open_catalog(_fresh(home))
    with sessions() as session:
        add_book(session, home, "KS.2017.01", root / "register.xlsx", None)
    driver = ReplayDriver(root / "captures", profile.page.max_pixels)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    BatchRunner(cfg, profile, sessions, workers).run(driver, str(root / "captures"))
    seconds = time.perf_counter() - start
    with sessions() as session:
        report = book_report(session, require_book(session, "KS.2017.01"))
        pages = session.execute(select(Capture.source_name, Page).join(Page, Page.capture_id == Capture.id)).all()
        read = {source: page.read_number for source, page in pages}
        orientation = Counter((page.measures or {}).get("orientation_method") for _, page in pages)
        steps: dict[str, list[float]] = {}
        for _, page in pages:
            if page.verdict.value == "content":
                for step, took in (page.measures or {}).get("seconds", {}).items():
                    steps.setdefault(step, []).append(took)
    return {"seconds": seconds, "captures": len(pages), "report": report, "read": read,
            "orientation": orientation, "load": (load_before, os.getloadavg()[0]),
            "steps": {step: statistics.median(took) for step, took in steps.items()}}


def _fresh(home: Path) -> Path:
    from station.catalog.storage import ensure_home
    ensure_home(home)
    return home


def bench_book(entries_count: int, seed: int, harsh: bool, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        truths = _make_book(root, entries_count, seed, harsh)
        runs = {name: _run_book(root, name, on, workers) for name, on in (("off", False), ("on", True))}
    truth = {t.file: t for t in truths}
    out = {"entries": entries_count, "captures": len(truths), "harsh": harsh, "runs": {}}
    for name, run in runs.items():
        states = {e.number: e for e in run["report"].entries}
        first_pages = [f for f, t in truth.items() if t.kind == "content" and t.page_in_entry == 1]
        out["runs"][name] = {
            "seconds": run["seconds"], "pages_per_min": 60 * len(truths) / run["seconds"], "load": run["load"],
            "swap_caught": all(states[n].status == "doubtful" for n in SWAPPED),
            "false_alarms": sorted(n for n, e in states.items() if n not in SWAPPED and e.status != "done"),
            "false_alarm_reasons": [r for n, e in states.items() if n not in SWAPPED for r in e.reasons],
            "first_read": sum(run["read"][f] == truth[f].entries[0] for f in first_pages),
            "first_pages": len(first_pages),
            "wrong_reads": sum(1 for f, n in run["read"].items() if n is not None and n != truth[f].entries[0]),
            "orientation": dict(run["orientation"]),
            "steps": run["steps"],
        }
    return out


def book_report_lines(r: dict) -> list[str]:
    lines = [f"{r['entries']} entries, {r['captures']} captures ({'harsh' if r['harsh'] else 'ordinary'} "
             f"captures), separators of entries {SWAPPED[0]} and {SWAPPED[1]} swapped.", "",
             "| number reading | s | pages/min | swap caught | false alarms (entries) | first pages read right "
             "| numbers read wrong | orientation by text lines / OSD / none | load 1-min before→after |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, run in r["runs"].items():
        o = run["orientation"]
        caught = "yes" if run["swap_caught"] else "no"
        lines.append(f"| {name} | {run['seconds']:.0f} | {run['pages_per_min']:.1f} | {caught} "
                     f"| {len(run['false_alarms'])} {run['false_alarms'] or ''} | "
                     f"{run['first_read'] if name == 'on' else '-'}/{run['first_pages']} | {run['wrong_reads']} | "
                     f"{o.get('text-lines', 0)} / {o.get('osd', 0)} / {o.get(None, 0)} | "
                     f"{run['load'][0]:.2f}→{run['load'][1]:.2f} |")
    steps = r["runs"]["on"]["steps"]
    total = sum(steps.values())
    share = 100 * steps.get("read_number", 0) / total
    lines.append("\nMedian seconds per content page and step, number reading on (worker processes, same load): "
                 + ", ".join(f"{step} {took:.2f}" for step, took in steps.items())
                 + f"; reading the number is {share:.0f} % of the sum {total:.2f} s.")
    reasons = {reason for run in r["runs"].values() for reason in run["false_alarm_reasons"]}
    if reasons:
        lines.append("\nReasons given outside the swapped entries: " + "; ".join(sorted(reasons)))
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["orientation", "numbers", "textlayer", "book"],
                    choices=["orientation", "numbers", "textlayer", "book", "layouts"])
    ap.add_argument("--text-pages", type=int, default=24)
    ap.add_argument("--orientation-pages", type=int, default=96)
    ap.add_argument("-n", type=int, default=40, help="first pages per dpi and level (numbers)")
    ap.add_argument("--layout-pages", type=int, default=3, help="pages per layout, level and dpi (layouts)")
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--levels", nargs="+", default=["mild", "scan", "harsh"])
    ap.add_argument("--entries", type=int, default=20, help="entries of the book (book)")
    ap.add_argument("--harsh", action="store_true", help="harsh captures for the book")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    given = " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"Run {time.strftime('%Y-%m-%d %H:%M')} with `OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.bench_ocr "
             f"{given}`.",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared with other "
             f"work: load average given), OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT')}.", ""]
    if "orientation" in a.parts:
        lines += ["## Orientation", ""] + orientation_report(bench_orientation(a.orientation_pages, a.seed)) + [""]
        print("\n".join(lines), flush=True)
    if "numbers" in a.parts:
        rows = [bench_numbers(a.n, dpi, level, a.seed, a.verbose) for level in a.levels for dpi in a.dpi]
        lines += ["## Registration number", ""] + numbers_report(rows) + [""]
        print("\n".join(numbers_report(rows)), flush=True)
    if "layouts" in a.parts:
        report = layouts_report(bench_layouts(a.layout_pages, a.seed, a.verbose), a.layout_pages)
        lines += ["## Register layouts", ""] + report + [""]
        print("\n".join(report), flush=True)
    if "textlayer" in a.parts:
        layer = bench_text_layer(a.text_pages, a.seed)
        lines += ["## Text layer (searchable PDFs)", ""] + text_layer_report(layer) + [""]
    if "book" in a.parts:
        lines += ["## A book through the station", ""] + book_report_lines(
            bench_book(a.entries, a.seed, a.harsh, a.workers)) + [""]
    text = "\n".join(lines)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
