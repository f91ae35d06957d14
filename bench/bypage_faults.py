"""Bound books placed by page after one start sheet: registrations filed right, page-turn faults caught,
false breaks on clean books, sheets printed.

Each book (bench/bound_book.py: ledgers of 14 pages, 2-5 registrations a page, page numbers printed at
the top, the foot or nowhere, row numbers printed or handwritten, some pages left blank; or books of
one-registration forms of one or two pages, "Số: N" on the first, nothing on the second) has every page
rendered and captured twice (two independent flatbed captures), each capture through the pipeline as the
station runs it (profile ministry-color: registration and page numbers read). What was read then goes
through the placement (station/capture/bypage.py) for the clean sequence and for every fault at every
page: a missed turn, a page captured twice, two pages stuck, a page turned back.

    OMP_THREAD_LIMIT=1 python -m bench.bypage_faults [--books tune|held|all] [--dpi 200] [--workers 2]
                                                     [--cache DIR]

Tuning books: KS.2015.01-06 ledgers, 07-08 forms (what the rules were looked at against); held-out:
KS.2016.01-06 ledgers, 07-08 forms; fresh: KS.2017.01-06 ledgers, 07-08 forms, made once the held-out books
had shown a case to the rules (--books fresh).
Figures (per book set): registrations filed, filed WRONG (goal 0), withheld as doubtful; faults caught at
their page / caught later / missed; breaks on clean books (goal 0); sheets: one start sheet a book
against one separator per registration (or one shared sheet per page holding several).
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from bench import bound_book, corpus  # noqa: E402
from pipeline import likeness  # noqa: E402
from pipeline.page import process_capture  # noqa: E402
from pipeline.settings import PageSettings  # noqa: E402
from station.capture import bypage  # noqa: E402

# (book, kind): ledgers of rows, and books of one-registration forms of one or two pages.
TUNE = [(f"KS.2015.{v:02d}", "ledger") for v in range(1, 7)] + [("KS.2015.07", "forms"), ("KS.2015.08", "forms")]
HELD = [(f"KS.2016.{v:02d}", "ledger") for v in range(1, 7)] + [("KS.2016.07", "forms"), ("KS.2016.08", "forms")]
# Made after the held-out books had shown a rule its case (the turned-back page), and run once, to report on.
FRESH = [(f"KS.2017.{v:02d}", "ledger") for v in range(1, 7)] + [("KS.2017.07", "forms"), ("KS.2017.08", "forms")]
PAGES = 14
SEED = 3


def _read(args: tuple[str, str, int]) -> tuple[str, dict]:
    """One capture through the pipeline: what the placement needs of it."""
    path, paper, dpi = args
    settings = PageSettings(read_entry_number=True, paper=paper, dpi=dpi, min_dpi=min(dpi, 200))
    result = process_capture(Path(path), 0, settings)[0]
    reading = result.reading
    signature = None
    if result.verdict == "content" and result.image is not None:   # as the station signs its stored image
        with Image.open(io.BytesIO(result.image.data)) as stored:
            signature = likeness.signature(np.asarray(stored.convert("L")), result.image.dpi).to_json()
    return path, {"blank": result.verdict == "blank",
                  "printed_page": reading.page_number if reading else None,
                  "numbers": tuple(sorted(set(reading.numbers) | ({reading.number} - {None}))) if reading else (),
                  "signature": signature}


def _captures(book: bound_book.BoundBook, folder: Path, dpi: int) -> dict[tuple[int, int], Path]:
    """(book page, take) → a capture file; take 0 and 1 are independent captures of the page."""
    rng = corpus.seeded_rng(SEED, "bypage-bench", book.book_id)
    files = {}
    for page in range(1, book.pages + 1):
        image = bound_book.render_page(book, page, dpi, SEED * 1000 + page)
        for take in (0, 1):
            scanned, _ = corpus.degrade_ex(image, dpi, corpus.random_degradation(rng, 3.0), int(rng.integers(1 << 31)))
            path = folder / f"{book.book_id}-{page:02d}-{take}.jpg"
            corpus.save_image(path, scanned, dpi)
            files[(page, take)] = path
    return files


def _evaluate(book: bound_book.BoundBook, order: list[tuple[int, bool]], reads: dict[tuple[int, int], dict]
              ) -> tuple[bypage.Placement, dict[int, int]]:
    pages, truth = [], {}
    for key, (page, again) in enumerate(order, start=1):
        read = reads[(page, int(again))]
        pages.append(bypage.BookPage(key, blank=read["blank"], printed_page=read["printed_page"],
                                     numbers=read["numbers"], signature=(page, int(again))))
        truth[key] = page
    return bypage.place([bypage.Run(1, tuple(pages))], book.page_of, same_picture=_same_picture(reads)), truth


def _same_picture(reads: dict[tuple[int, int], dict]):
    """The station's picture comparison (pipeline.likeness) over the captures' signatures, each pair once."""
    signatures = {key: likeness.Signature.from_json(read["signature"]) for key, read in reads.items()
                  if read.get("signature")}

    @functools.lru_cache(maxsize=None)
    def same(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a in signatures and b in signatures and likeness.same_picture(signatures[a], signatures[b]).same
    return same


def _fault_key(order: list[tuple[int, bool]], fault: str, at: int) -> int:
    """The capture (1-based) where the fault first shows: after the gap, or the first capture again."""
    for key, (page, again) in enumerate(order, start=1):
        if fault in ("missed", "stuck") and page > at:
            return key
        if fault in ("double", "back") and again:
            return key
    return len(order)


def run(books: list[tuple[str, str]], dpi: int, workers: int, cache: Path | None = None) -> dict:
    stats = Counter()
    per_kind: dict[str, Counter] = {kind: Counter() for kind in bound_book.FAULTS}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(workers) as pool:
        for book_id, kind in books:
            book = bound_book.make_book(book_id, PAGES, SEED, kind=kind)
            cached = cache / f"{book_id}-{kind}-{dpi}-signed.json" if cache else None
            if cached and cached.exists():
                reads = {tuple(map(int, k.split(","))): {**v, "numbers": tuple(v["numbers"])}
                         for k, v in json.loads(cached.read_text()).items()}
            else:
                files = _captures(book, Path(tmp), dpi)
                by_path = {str(path): key for key, path in files.items()}
                reads = {by_path[path]: read for path, read in
                         pool.map(_read, [(str(p), book.paper, dpi) for p in files.values()])}
                if cached:
                    cached.write_text(json.dumps({f"{p},{t}": v for (p, t), v in reads.items()}))
            spans = bypage.spans(book.page_of, book.pages)
            own = {n: [p for p in spans[n] if p not in book.blank] for n in book.page_of}
            stats["books"] += 1
            stats["registrations"] += len(book.page_of)
            stats["pages"] += book.pages
            stats["shared_sheets"] += len({p for p in book.page_of.values()})
            sequences = [("clean", 0)] + [(kind, at) for kind in bound_book.FAULTS for at in range(2, book.pages)]
            for kind, at in sequences:
                order = bound_book.capture_order(list(range(1, book.pages + 1)), None if kind == "clean" else kind, at)
                placement, truth = _evaluate(book, order, reads)
                wrong = 0
                for n, keys in placement.pages_of.items():
                    if [truth[k] for k in keys] != own[n]:
                        wrong += 1
                        print(f"{book_id} {kind}@{at}: no. {n} filed with pages {[truth[k] for k in keys]}, "
                              f"its own {own[n]}", file=sys.stderr)
                counts = stats if kind == "clean" else per_kind[kind]
                counts["runs"] += 1
                counts["filed"] += len(placement.pages_of)
                counts["wrong"] += wrong
                counts["doubtful"] += len(placement.doubtful)
                if kind == "clean":
                    stats["clean_breaks"] += len(placement.breaks)
                    for brk in placement.breaks:
                        print(f"{book_id}: false break at page {truth[brk.key]}: {brk.reason}; read there: "
                              f"{reads[(truth[brk.key], 0)]}", file=sys.stderr)
                    stats["clean_confirmed"] += placement.confirmed_pages
                    continue
                # A page the clerk left blank says nothing: a fault there shows at the next page that does.
                first = _fault_key(order, kind, at)
                keys = [b.key for b in placement.breaks]
                if first in keys:
                    counts["at_page"] += 1
                elif any(k > first for k in keys):
                    counts["later"] += 1
                else:
                    counts["missed"] += 1
                    counts["missed_harmless"] += wrong == 0
    stats["seconds"] = round(time.perf_counter() - started, 1)
    stats["cached"] = bool(cache)
    return {"stats": stats, "faults": per_kind}


def report(name: str, books: list[tuple[str, str]], result: dict) -> str:
    s, faults = result["stats"], result["faults"]
    lines = [f"### {name}: {', '.join(f'{b} ({kind})' for b, kind in books)}", "",
             f"{s['books']} books, {s['pages']} pages, {s['registrations']} registrations; {s['seconds']} s "
             + ("(placements over cached reads)." if s["cached"] else
                "(rendering, two captures a page through the pipeline with OCR, placements)."), "",
             f"- Clean books: {s['filed']} of {s['registrations']} registrations filed, {s['wrong']} wrong, "
             f"{s['doubtful']} withheld; **{s['clean_breaks']} false breaks**; "
             f"{s['clean_confirmed']} of {s['pages']} pages confirmed their own place.",
             f"- Sheets printed: {s['books']} start sheets against {s['registrations']} entry separators "
             f"(or {s['shared_sheets']} shared-page sheets, one per page holding registrations).", "",
             "| fault | runs | caught at its page | caught later | not caught (of which harmless) | "
             "registrations filed | filed WRONG | withheld |", "|---|---|---|---|---|---|---|---|"]
    for kind, c in faults.items():
        lines.append(f"| {kind} | {c['runs']} | {c['at_page']} | {c['later']} | {c['missed']} "
                     f"({c['missed_harmless']}) | {c['filed']} | {c['wrong']} | {c['doubtful']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", choices=["tune", "held", "fresh", "all"], default="all")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="keep what the pipeline read per book here (re-runs skip it)")
    args = parser.parse_args(argv)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    sets = {"tune": [("Tuning books", TUNE)], "held": [("Held-out books", HELD)],
            "fresh": [("Fresh books", FRESH)],
            "all": [("Tuning books", TUNE), ("Held-out books", HELD), ("Fresh books", FRESH)]}[args.books]
    for name, books in sets:
        print(report(name, books, run(books, args.dpi, args.workers, args.cache)))


if __name__ == "__main__":
    main()
