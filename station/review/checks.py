"""The missed-separator guard: an entry with far more pages than it should have.

A separator sheet skipped or lost in the feeder runs two registrations into one PDF and leaves the
next entry missing; nothing in the images says so. What does: the entry's page count, against the
room the register's page numbers (`trangSo`) leave between this entry and the next, or, for books
whose register gives no pages, against the book's usual count. Pure functions over counts, so each
rule is tested alone; station.review.entries applies them to a book.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence

# Fewer scanned entries than this: no "usual" count, and no telling how the register counts pages.
MIN_ENTRIES_TO_JUDGE = 8
# Usual count: an entry is flagged above max(FACTOR x median, median + MADS x MAD) pages. The MAD
# (median absolute deviation) keeps books whose entries vary (1-3 pages) from crying wolf.
USUAL_FACTOR = 2.0
USUAL_MADS = 3.0
# Register: an entry spans its trangSo up to the next entry's, plus that next page when the two
# registrations share it. When more than this share of the judged entries exceed that anyway, the
# book's trangSo counts something else (leaves, book pages of a different size...), not scanned
# pages: the rule stands aside rather than flag half the book.
REGISTER_MAX_EXCEEDING_SHARE = 0.2

_LEADING_NUMBER = re.compile(r"\s*(\d{1,6})")


def page_start(page_no: str | None) -> int | None:
    """The first page number of a `trangSo` cell: "12" -> 12, "12-13" -> 12, "12a" -> 12."""
    match = _LEADING_NUMBER.match(page_no or "")
    return int(match.group(1)) if match else None


def register_spans(starts: Sequence[tuple[int, int | None]]) -> dict[int, int]:
    """Entry number -> book pages from its trangSo to the next entry's, for (number, first page)
    in register order. Unknown when either page is missing or the next one lies before this one."""
    spans = {}
    for (number, start), (_, following) in zip(starts, starts[1:]):
        if start is not None and following is not None and following >= start:
            spans[number] = following - start
    return spans


def usual_limit(counts: Sequence[int]) -> float | None:
    """Most pages an entry of this book may have before it looks like two; None: too few to judge."""
    if len(counts) < MIN_ENTRIES_TO_JUDGE:
        return None
    median = statistics.median(counts)
    mad = statistics.median(abs(c - median) for c in counts)
    return max(USUAL_FACTOR * median, median + USUAL_MADS * mad)


def page_count_alarms(counts: Mapping[int, int], spans: Mapping[int, int]) -> dict[int, str]:
    """Entry number -> why its page count is suspicious, for the entries scanned so far.

    counts: entry number -> pages of the scan that counts (entries with pages only);
    spans: entry number -> book pages between its trangSo and the next entry's (register_spans).

    Where the register gives pages, it decides: an entry whose trangSo leaves room for three pages
    may have three, however short the book's other entries are. The book's usual count is only for
    books whose register says nothing of pages, or whose trangSo proves to count something else."""
    judged = {n: spans[n] for n in counts if n in spans}
    exceeding = {n: span for n, span in judged.items() if counts[n] > span + 1}
    if len(judged) >= MIN_ENTRIES_TO_JUDGE and len(exceeding) <= REGISTER_MAX_EXCEEDING_SHARE * len(judged):
        return {number: _register_alarm(counts[number], span) for number, span in exceeding.items()}
    if judged and len(judged) < MIN_ENTRIES_TO_JUDGE:
        return {}  # the register will decide once enough of it is scanned to trust how it counts
    return _usual_alarms(counts)


def _register_alarm(count: int, span: int) -> str:
    return (f"nhiều trang bất thường: {count} trang, sổ đăng ký (trangSo) chỉ để chỗ cho {span + 1}, có thể "
            f"thiếu tờ phân cách / suspiciously many pages: {count}, the register's trangSo leaves room for "
            f"{span + 1}: a separator may be missing")


def _usual_alarms(counts: Mapping[int, int]) -> dict[int, str]:
    limit = usual_limit(list(counts.values()))
    if limit is None:
        return {}
    usual = statistics.median(counts.values())
    return {number: (f"nhiều trang bất thường: {count} trang, thường lệ của sổ {usual:g} trang mỗi số, có thể "
                     f"thiếu tờ phân cách / suspiciously many pages: {count}, the book's usual is {usual:g}: "
                     "a separator may be missing")
            for number, count in counts.items() if count > limit}
