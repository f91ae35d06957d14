"""The missed-separator guard (station.review.checks) on simulated books: false alarms and separators caught.

Books of mostly one-page entries where some run over 2-4 pages (the case where the book's usual
count cries wolf), each entry's page count as its register's trangSo gives it, with a page shared
between consecutive entries now and then. For each book: false alarms on the clean book, and, for
every separator in turn left out (the entry before swallows the next), whether the guard flags it.
Run with and without the register's page numbers.

    .venv/bin/python -m bench.guard [--books 200] [--entries 60] [--seed 1]
"""
from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

from station.review import checks


def simulate_book(rr: random.Random, entries: int, long_share: float, shared_share: float
                  ) -> tuple[dict[int, int], dict[int, int]]:
    """(scanned pages per entry, register spans) of one book."""
    starts, counts, page = [], {}, 1
    for number in range(1, entries + 1):
        length = rr.choice((2, 3, 3, 4)) if rr.random() < long_share else 1
        shared = number > 1 and rr.random() < shared_share
        if shared:
            page -= 1  # this entry begins on the page where the previous one ends: in both PDFs
        starts.append((number, page))
        counts[number] = length
        page += length
    return counts, checks.register_spans(starts)


def run(books: int, entries: int, seed: int, long_share: float, shared_share: float) -> dict[str, dict]:
    rr = random.Random(seed)
    results = {}
    for label in ("register trangSo", "book's usual only"):
        results[label] = {"books": 0, "entries": 0, "false_alarms": 0, "books_with_false_alarm": 0,
                          "missed_separators": 0, "caught": 0}
    for _ in range(books):
        counts, spans = simulate_book(rr, entries, long_share, shared_share)
        for label, with_register in (("register trangSo", True), ("book's usual only", False)):
            r = results[label]
            used = spans if with_register else {}
            alarms = checks.page_count_alarms(counts, used)
            r["books"] += 1
            r["entries"] += len(counts)
            r["false_alarms"] += len(alarms)
            r["books_with_false_alarm"] += bool(alarms)
            for number in range(1, entries):
                merged = dict(counts)
                merged[number] += merged.pop(number + 1)
                r["missed_separators"] += 1
                r["caught"] += number in checks.page_count_alarms(merged, used)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", type=int, default=200)
    ap.add_argument("--entries", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--long-share", type=float, default=0.1, help="entries of 2-4 pages")
    ap.add_argument("--shared-share", type=float, default=0.05, help="entries starting on a shared page")
    args = ap.parse_args(argv)
    results = run(args.books, args.entries, args.seed, args.long_share, args.shared_share)
    print(f"{args.books} books × {args.entries} entries, {args.long_share:.0%} of entries 2-4 pages, "
          f"{args.shared_share:.0%} starting on a shared page (seed {args.seed})")
    print("| guard | false alarms / entries | books with a false alarm | missed separators caught |")
    print("|---|---|---|---|")
    for label, r in results.items():
        print(f"| {label} | {r['false_alarms']} / {r['entries']} ({r['false_alarms'] / r['entries']:.2%}) | "
              f"{r['books_with_false_alarm']} / {r['books']} | {r['caught']} / {r['missed_separators']} "
              f"({r['caught'] / r['missed_separators']:.1%}) |")


if __name__ == "__main__":
    main()
