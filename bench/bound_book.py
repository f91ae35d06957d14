"""Bound registers captured page by page after one start sheet, with page turns that go wrong.

A book is a ruled ledger (bench/layouts.py layout d): each page holds two to five registrations, rows
starting with their numbers (printed or handwritten, as the book's style says), the book's page number
printed at the top or the foot on some books and on none on others, sometimes a page the clerk left
blank. Its register gives each registration's page (trangSo). A capture sequence is the book's pages
in order, or with one fault: a page turn missed, a page captured twice, two pages stuck together (the
page under the stuck one is never seen), a page turned back (the two pages before are captured again).

    python -m bench.bound_book OUT --pages 14 --seed 3 [--fault missed:5] [--start-page 1]
writes OUT/register.xlsx and OUT/captures/ (0000 is the start sheet when --sheet PDF is given) with
OUT/truth.json: each capture's book page.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench import corpus, layouts

FAULTS = ("missed", "double", "stuck", "back")


@dataclass(frozen=True)
class BoundBook:
    book_id: str
    entries: list[corpus.EntryInfo]
    page_of: dict[int, int]          # registration → its book page (the register's trangSo)
    pages: int
    blank: frozenset[int]            # book pages the clerk left blank
    style: layouts.LedgerStyle
    size_mm: tuple[float, float]     # the book's paper (A4 or A3 portrait)
    kind: str = "ledger"             # "ledger" (rows), or "forms": one registration a form, 1-2 pages each

    @property
    def paper(self) -> str:
        return "A3" if max(self.size_mm) > 400 else "A4"

    def numbers_on(self, page: int) -> list[int]:
        return [n for n, p in self.page_of.items() if p == page]


def make_book(book_id: str, pages: int, seed: int, blank_rate: float = 0.08, kind: str = "ledger") -> BoundBook:
    """A ledger of `pages` pages, two to five registrations on each page that is not left blank
    (never the first or the last); or a book of forms: one registration a form of one or two pages
    ("Số: N" on its first page only, the second a continuation), no page numbers, no blank pages."""
    book_type, year, volume = book_id.split(".")
    rr = corpus.seeded_random("bound-book", book_id, pages, seed)
    if kind == "forms":
        return _forms_book(book_id, pages, seed, rr)
    blank = frozenset(p for p in range(2, pages) if rr.random() < blank_rate)
    counts = {p: rr.randint(2, layouts.LEDGER_MAX_ROWS) for p in range(1, pages + 1) if p not in blank}
    entries = corpus.make_entries(book_type, int(year), int(volume), sum(counts.values()), seed=seed)
    page_of, number = {}, 1
    for page, count in counts.items():
        for _ in range(count):
            page_of[number] = page
            number += 1
    size = corpus.seeded_random("size", "d", book_type, int(year), int(volume)).choice(layouts.LAYOUTS["d"].sizes)
    return BoundBook(book_id, entries, page_of, pages, blank, layouts.ledger_style(entries[0]), size)


def _forms_book(book_id: str, pages: int, seed: int, rr) -> BoundBook:
    book_type, year, volume = book_id.split(".")
    firsts, page = [], 1
    while page <= pages:
        firsts.append(page)
        page += 1 if page == pages or rr.random() < 0.6 else 2
    entries = corpus.make_entries(book_type, int(year), int(volume), len(firsts), seed=seed)
    page_of = {e.number: first for e, first in zip(entries, firsts)}
    style = layouts.LedgerStyle(True, None, ("Số",), True)
    return BoundBook(book_id, entries, page_of, pages, frozenset(), style, layouts.A4_PORTRAIT, "forms")


def render_page(book: BoundBook, page: int, dpi: int, seed: int) -> np.ndarray:
    """Book page `page` as printed and written, before any capture fault."""
    if book.kind == "forms":
        number, first = max(((n, p) for n, p in book.page_of.items() if p <= page), key=lambda item: item[1])
        entry = next(e for e in book.entries if e.number == number)
        return corpus.render_register_page(entry, page - first + 1, dpi, seed)
    if page in book.blank:
        blank = corpus.render_blank_page(dpi, seed)
        size = tuple(round(mm / 25.4 * dpi) for mm in book.size_mm)
        return blank if blank.shape[1::-1] == size else cv2.resize(blank, size, interpolation=cv2.INTER_LINEAR)
    numbers = set(book.numbers_on(page))
    rows = [e for e in book.entries if e.number in numbers]
    return layouts.render_layout_page("d", rows, dpi, seed, book_page=page).image


def capture_order(pages: list[int], fault: str | None, at: int) -> list[tuple[int, bool]]:
    """The book pages in the order captured, each with whether it is a second capture of a page,
    for `fault` at book page `at` (None: a clean run)."""
    order = [(p, False) for p in pages]
    if fault is None:
        return order
    i = pages.index(at)
    if fault == "missed":             # turned two leaves at once: page `at` never captured
        del order[i]
    elif fault == "stuck":            # `at` stuck under the page before it: captured as one, unseen
        del order[i]
    elif fault == "double":           # the same page captured twice in a row
        order.insert(i + 1, (at, True))
    elif fault == "back":             # after `at`, turned back: the page before and `at` captured again
        order[i + 1:i + 1] = [(at - 1, True), (at, True)]
    else:
        raise ValueError(f"fault {fault!r}: one of {', '.join(FAULTS)}")
    return order


def write_capture_set(out: Path, book: BoundBook, seed: int, *, dpi: int = 200, start_page: int = 1,
                      fault: str | None = None, at: int = 0, sheet_pdf: Path | None = None,
                      max_skew: float = 3.0) -> list[dict]:
    """Captures of the book's pages from `start_page` (a start sheet first when `sheet_pdf` is given),
    degraded as a flatbed would; a page captured twice is a second, independent capture. Returns and
    writes out/truth.json: [{"file", "book_page", "again"}] (the sheet: book_page None)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = corpus.seeded_rng(seed, "bound-captures", book.book_id)
    truth = []

    def emit(image: np.ndarray, book_page: int | None, again: bool) -> None:
        degradation = corpus.random_degradation(rng, max_skew)
        scanned, _ = corpus.degrade_ex(image, dpi, degradation, int(rng.integers(1 << 31)))
        name = f"{len(truth):04d}.jpg"
        corpus.save_image(out / name, scanned, dpi)
        truth.append({"file": name, "book_page": book_page, "again": again})

    if sheet_pdf is not None:
        import pymupdf
        with pymupdf.open(str(sheet_pdf)) as doc:
            emit(corpus.raster(doc[0], dpi), None, False)
    for page, again in capture_order(list(range(start_page, book.pages + 1)), fault, at):
        emit(render_page(book, page, dpi, seed * 1000 + page), page, again)
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def write_register(path: Path, book: BoundBook) -> None:
    corpus.write_register_xlsx(path, book.entries, pages=book.page_of)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--book", default="KS.2016.03")
    parser.add_argument("--pages", type=int, default=14)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--fault", help="KIND:PAGE, KIND one of " + ", ".join(FAULTS))
    parser.add_argument("--sheet", type=Path, help="the start sheet's PDF (station separators --start-page)")
    args = parser.parse_args(argv)
    book = make_book(args.book, args.pages, args.seed)
    kind, at = (args.fault.split(":")[0], int(args.fault.split(":")[1])) if args.fault else (None, 0)
    args.out.mkdir(parents=True, exist_ok=True)
    write_register(args.out / "register.xlsx", book)
    truth = write_capture_set(args.out / "captures", book, args.seed, dpi=args.dpi, fault=kind, at=at,
                              sheet_pdf=args.sheet)
    print(f"{book.book_id}: {args.pages} pages, {len(book.entries)} registrations, blank {sorted(book.blank)}, "
          f"page numbers {book.style.page_number_at}, {book.paper}, {len(truth)} captures")


if __name__ == "__main__":
    main()
