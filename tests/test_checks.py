"""The missed-separator guard (station.review.checks): page counts against the book's usual and the register."""
import pytest

from station.review import checks


@pytest.mark.parametrize("cell,start", [("12", 12), (" 7 ", 7), ("12-13", 12), ("12a", 12), ("", None),
                                        (None, None), ("tr. 5", None)])
def test_page_start(cell, start):
    assert checks.page_start(cell) == start


def test_register_spans_need_both_pages_in_order():
    starts = [(1, 1), (2, 3), (3, 4), (4, None), (5, 9), (6, 8), (7, 10)]
    # 3 -> next unknown, 4 unknown, 5 -> 8 lies before 9, 7 is the last entry.
    assert checks.register_spans(starts) == {1: 2, 2: 1, 6: 2}


def test_usual_limit_needs_enough_entries():
    assert checks.usual_limit([2] * (checks.MIN_ENTRIES_TO_JUDGE - 1)) is None
    assert checks.usual_limit([2] * checks.MIN_ENTRIES_TO_JUDGE) == 4          # 2 x median, MAD 0
    assert checks.usual_limit([1, 2, 3] * 4) == 5                              # median 2 + 3 x MAD 1


def test_entry_far_above_the_books_usual_is_flagged():
    counts = {n: 2 for n in range(1, 11)}
    counts[7] = 5
    alarms = checks.page_count_alarms(counts, {})
    assert list(alarms) == [7]
    assert "nhiều trang bất thường" in alarms[7] and "suspiciously many pages" in alarms[7]
    assert "5" in alarms[7] and "2" in alarms[7]


def test_varied_books_do_not_cry_wolf():
    # 1-3 pages per entry: 5 pages is not yet far above (limit median 2 + 3 x MAD 1 = 5), 6 is.
    counts = {n: 1 + n % 3 for n in range(1, 31)}
    counts[10] = 5
    assert checks.page_count_alarms(counts, {}) == {}
    counts[10] = 6
    assert list(checks.page_count_alarms(counts, {})) == [10]


def test_too_few_entries_judge_nothing():
    assert checks.page_count_alarms({1: 1, 2: 9, 3: 1}, {1: 1, 2: 1}) == {}


def test_more_pages_than_the_register_leaves_room_for():
    # Consistent register: each entry spans 2 book pages; entry 5 swallowed entry 6's two pages.
    counts = {n: 2 for n in range(1, 13) if n != 6}
    counts[5] = 4
    spans = {n: 2 for n in range(1, 13)}
    alarms = checks.page_count_alarms(counts, spans)
    assert list(alarms) == [5]
    assert "trangSo" in alarms[5] and "3" in alarms[5]  # room for 2 pages + one shared with the next


def test_a_shared_last_page_is_room_enough():
    counts = {n: 3 for n in range(1, 11)}
    spans = {n: 2 for n in range(1, 11)}
    assert checks.page_count_alarms(counts, spans) == {}


def test_register_counting_something_else_stands_aside():
    # trangSo one apart for every entry, 1-3 scanned pages each: a third of the book "exceeds",
    # so the register counts something other than scanned pages; nothing is flagged from it.
    counts = {n: 1 + n % 3 for n in range(1, 31)}
    spans = {n: 1 for n in range(1, 31)}
    assert checks.page_count_alarms(counts, spans) == {}
    # The same register with one entry over: that one is flagged.
    counts = {n: 2 if n != 9 else 3 for n in range(1, 31)}
    assert list(checks.page_count_alarms(counts, spans)) == [9]


def test_register_decides_over_the_books_usual():
    # Mostly one-page entries, every fifth runs over three pages and the register says so: the
    # book's usual (median 1, MAD 0) would call each of them suspicious; the register does not.
    starts, page = [], 1
    for number in range(1, 41):
        starts.append((number, page))
        page += 3 if number % 5 == 0 else 1
    spans = checks.register_spans(starts)
    counts = {number: 3 if number % 5 == 0 else 1 for number in range(1, 40)}
    assert checks.usual_limit(list(counts.values())) == 2
    assert checks.page_count_alarms(counts, spans) == {}
    # A separator missed between 14 and 15: 14's PDF holds both, 15 is missing; only 14 is flagged.
    # (One page too many is room for a page shared with the next entry: not told from that.)
    counts[14] += counts.pop(15)
    alarms = checks.page_count_alarms(counts, spans)
    assert list(alarms) == [14] and "trangSo" in alarms[14] and "4" in alarms[14]


def test_register_rule_waits_for_enough_entries_rather_than_fall_back_to_statistics():
    spans = {n: 3 for n in range(1, 6)}
    counts = {n: 1 for n in range(1, 6)}
    counts[3] = 3
    assert checks.page_count_alarms(counts, spans) == {}
