from station.capture.grouping import AFTER_UNREAD, BEFORE_FIRST, PageSignal, group_pages

BOOK = "KS.2017.01"
KNOWN = {(BOOK, n) for n in range(1, 11)}


def sep(i, *entries, book=BOOK):
    return PageSignal(i, "separator", book, tuple(entries))


def page(i, kind="content"):
    return PageSignal(i, kind)


def run(signals):
    return group_pages(signals, lambda b: b == BOOK, lambda b, n: (b, n) in KNOWN)


def test_pages_follow_their_separator_until_the_next():
    groups = run([sep(1, 1), page(2), page(3), sep(4, 2), page(5)])
    assert [(g.entries, g.pages, g.separator) for g in groups] == [((1,), [2, 3], 1), ((2,), [5], 4)]
    assert not any(g.held for g in groups)


def test_blank_pages_are_left_out_of_entries():
    groups = run([sep(1, 1), page(2), page(3, "blank"), page(4)])
    assert groups[0].pages == [2, 4]


def test_pages_before_any_separator_are_held_not_dropped():
    groups = run([page(1), page(2), sep(3, 1), page(4)])
    assert groups[0].held_reason == BEFORE_FIRST and groups[0].pages == [1, 2]
    assert groups[1].entries == (1,) and groups[1].pages == [4]


def test_unreadable_separator_is_never_merged_into_the_previous_entry():
    groups = run([sep(1, 1), page(2), page(3, "doubtful"), page(4), page(5), sep(6, 3), page(7)])
    assert groups[0].entries == (1,) and groups[0].pages == [2]
    assert groups[1].held_reason == AFTER_UNREAD and groups[1].pages == [3, 4, 5]
    assert groups[2].entries == (3,)


def test_pages_after_a_start_sheet_are_a_run_until_the_next_separator():
    groups = run([sep(1, 1), page(2), PageSignal(3, "separator", BOOK, (), start_page=5), page(4), sep(5, 2),
                  page(6), PageSignal(7, "separator", BOOK, (), start_page=9), page(8)])
    assert groups[0].pages == [2]
    assert groups[1].start_page == 5 and not groups[1].held and groups[1].entries == () and groups[1].pages == [4]
    assert groups[2].entries == (2,) and groups[2].pages == [6]       # a loose sheet inside the bound book
    assert groups[3].start_page == 9 and groups[3].pages == [8]       # the run goes on after the next start sheet


def test_shared_sheet_assigns_pages_to_every_entry_it_names():
    groups = run([sep(1, 7, 8), page(2)])
    assert groups[0].entries == (7, 8) and groups[0].pages == [2]


def test_separator_of_unknown_book_holds_its_pages_with_the_reason():
    groups = run([sep(1, 1, book="KT.2018.02"), page(2)])
    assert groups[0].held and "KT.2018.02" in groups[0].held_reason and groups[0].pages == [2]


def test_entry_not_in_register_is_held_with_its_number():
    groups = run([sep(1, 99), page(2)])
    assert groups[0].held and "99" in groups[0].held_reason


def test_unreadable_capture_marks_the_stretch_damaged():
    groups = run([sep(1, 1), page(2), page(3, "quarantined"), sep(4, 2), page(5)])
    assert groups[0].damaged and not groups[1].damaged


def test_batch_starting_with_a_separator_has_no_empty_held_group():
    assert len(run([sep(1, 1), page(2)])) == 1
