"""Pages of a bound book placed by the register after one start sheet (station/capture/bypage.py)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from station.capture.bypage import BookPage, Run, place, spans

# A book of 6 pages: registrations 1-2 on page 1, 3 on pages 2-3 (runs on), 4-6 on page 4, page 5
# blank, 7 on page 6.
REGISTER = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 4, 7: 6}


def pages(*specs) -> tuple[BookPage, ...]:
    """One BookPage a spec: a printed page number, 'blank', or a dict of BookPage fields; keys from 101."""
    out = []
    for key, spec in enumerate(specs, start=101):
        if spec == "blank":
            out.append(BookPage(key, blank=True))
        elif isinstance(spec, dict):
            out.append(BookPage(key, **spec))
        else:
            out.append(BookPage(key, printed_page=spec))
    return tuple(out)


def test_clean_book_places_every_registration_on_its_pages():
    result = place([Run(1, pages(1, 2, 3, 4, "blank", 6))], REGISTER)
    assert result.pages_of == {1: [101], 2: [101], 3: [102, 103], 4: [104], 5: [104], 6: [104], 7: [106]}
    assert not result.doubtful and not result.breaks and not result.dropped
    assert result.confirmed_pages == 5


def test_registration_numbers_place_pages_without_printed_numbers():
    run = Run(1, pages({"numbers": (1, 2)}, {}, {}, {"numbers": (4, 5, 6)}, "blank", {"numbers": (7,)}))
    result = place([run], REGISTER)
    assert result.pages_of[3] == [102, 103] and result.pages_of[7] == [106]
    assert not result.breaks


def test_missed_page_turn_is_caught_at_its_page_and_shifts_nothing():
    # Page 3 was never captured: the page after 2 says 4.
    result = place([Run(1, pages(1, 2, 4, "blank", 6))], REGISTER)
    assert [(b.key, b.expected, b.found) for b in result.breaks] == [(103, 3, 4)]
    assert "trang 3 không thấy" in result.doubtful[3] and "page 3 not found" in result.doubtful[3]
    assert set(result.doubtful) == {3}
    assert result.pages_of[4] == [103] and result.pages_of[7] == [105]     # placed where they belong


def test_missed_turn_seen_late_makes_every_unconfirmed_page_doubtful():
    # Nothing printed; page 3 missed; page "4" is known only from registration 4's number.
    run = Run(1, pages({"numbers": (1, 2)}, {}, {"numbers": (4, 5, 6)}, "blank", {"numbers": (7,)}))
    result = place([run], REGISTER)
    assert result.breaks[0].key == 103
    assert "trang 2–3" in result.doubtful[3]          # page 2 was counted on no evidence of its own
    assert set(result.doubtful) == {3}
    assert result.pages_of[4] == [103]


def test_two_pages_stuck_together_is_a_missed_page():
    result = place([Run(1, pages(1, 4, "blank", 6))], REGISTER)       # 2 and 3 turned as one
    assert "một trang trong các trang 2–3 không thấy" in result.doubtful[3]
    assert result.pages_of[1] == [101] and result.pages_of[4] == [102]


def test_page_captured_twice_is_dropped_not_filed():
    run = Run(1, pages(1, 2, {"printed_page": 2, "same_as_previous": True}, 3, 4, "blank", 6))
    result = place([run], REGISTER)
    assert result.dropped == [103]
    assert "được chụp lại" in result.breaks[0].reason
    assert result.pages_of[3] == [102, 104] and not result.doubtful


def test_same_picture_again_without_any_number_is_dropped():
    run = Run(1, pages(1, {}, {"same_as_previous": True}, 3, 4, "blank", 6))
    result = place([run], REGISTER)
    assert result.dropped == [103] and result.pages_of[3] == [102, 104]


def test_page_turned_back_is_dropped():
    result = place([Run(1, pages(1, 2, 3, 2, 4, "blank", 6))], REGISTER)
    assert result.dropped == [104]
    assert result.pages_of[3] == [102, 103] and result.pages_of[4] == [105] and not result.doubtful


def test_two_blank_backs_in_a_row_are_not_a_double_capture():
    register = {1: 1, 2: 4}
    run = Run(1, pages(1, "blank", {"blank": True, "same_as_previous": True}, 4))
    result = place([run], register)
    assert not result.dropped and result.pages_of == {1: [101], 2: [104]}


def test_a_page_too_many_makes_the_pages_since_the_last_sure_one_doubtful():
    # An unnumbered loose sheet between pages 1 and 2, then page 2 says "2" where 3 was expected.
    run = Run(1, pages({"numbers": (1, 2)}, {}, 2, 3, 4, "blank", 6))
    result = place([run], REGISTER)
    assert "trang thừa" in result.breaks[0].reason
    assert result.pages_of[3] == [103, 104] and not result.doubtful


def test_later_start_sheet_fills_the_missing_page():
    first = Run(1, pages(1, 2, 4, "blank", 6))
    again = Run(3, (BookPage(201, printed_page=3),))
    result = place([first, again], REGISTER)
    assert result.pages_of[3] == [102, 201] and not result.doubtful


def test_the_missing_page_captured_later_without_its_number_takes_the_doubt_away():
    first = Run(1, pages(1, 2, 4, "blank", 6))
    assert 3 in place([first], REGISTER).doubtful
    again = Run(3, (BookPage(201),))                     # nothing read on it: the start sheet places it
    result = place([first, again], REGISTER)
    assert result.pages_of[3] == [102, 201] and not result.doubtful
    assert result.capture_at[3] == 201 and not result.breaks      # the break is over


def test_a_misread_page_number_against_the_rows_read_does_not_break_the_book():
    # Page 4's foot misread as "2", its three rows read: they and the sequence say 4.
    run = Run(1, pages(1, 2, 3, {"printed_page": 2, "numbers": (4, 5, 6)}, "blank", 6))
    result = place([run], REGISTER)
    assert not result.breaks and not result.doubtful and result.pages_of[4] == [104]


def test_an_unreadable_capture_holds_back_the_registrations_of_its_page():
    result = place([Run(1, pages(1, 2, 3, {"unreadable": True}, "blank", 6))], REGISTER)
    assert set(result.doubtful) == {4, 5, 6} and "trang 4" in result.doubtful[4]
    assert result.pages_of[7] == [106] and not result.breaks


def test_a_blank_capture_where_the_register_has_rows_is_a_break():
    # Page 2 missed; nothing printed; the blank page 5 lands where page 4 (rows 4-6) should be.
    run = Run(1, pages({"numbers": (1, 2)}, {}, {}, "blank", {"numbers": (7,)}))
    result = place([run], REGISTER)
    assert "blank capture where page 4 should be" in result.breaks[0].reason
    assert {3, 4, 5, 6} <= set(result.doubtful) and not result.pages_of.keys() & {3, 4, 5, 6}


def test_a_misread_page_number_then_the_true_page_holds_both_back():
    # Page 3's foot misread "4", nothing else read: it jumps to 4; then the real page 4 says 4 too.
    result = place([Run(1, pages(1, 2, 4, 4, "blank", 6))], REGISTER)
    assert {3, 4, 5, 6} <= set(result.doubtful) and "two different captures say page 4" in result.doubtful[4]
    assert not result.pages_of.keys() & {3, 4, 5, 6} and result.pages_of[7] == [106]


def test_the_same_picture_by_signature_is_dropped_and_a_different_one_is_not():
    same = lambda a, b: a == b          # noqa: E731  signatures stand in for pipeline.likeness
    double = Run(1, pages(1, 2, {"signature": "s3"}, {"signature": "s3"}, 4, "blank", 6))
    result = place([double], REGISTER, same_picture=same)
    assert result.dropped == [104] and not result.doubtful and result.pages_of[3] == [102, 103]
    # Two different pictures, nothing read on either: the second is page 4 by the count.
    other = Run(1, pages(1, 2, {"signature": "s3"}, {"signature": "s4"}, "blank", 6))
    assert place([other], REGISTER, same_picture=same).book_page[104] == 4


def test_pages_captured_again_after_a_turn_back_are_known_by_their_picture():
    # Turned back after page 6, the last registration's (it runs on to the end of the book): page 5 again
    # says where it is and is dropped; page 6 again reads nothing and would run on as a page 7 of
    # registration 7, but its picture is page 6's.
    same = lambda a, b: a == b          # noqa: E731  signatures stand in for pipeline.likeness
    book = pages(1, 2, 3, 4, {"printed_page": 5, "signature": "s5"}, {"numbers": (7,), "signature": "s6"},
                 {"printed_page": 5, "signature": "s5"}, {"signature": "s6"})
    result = place([Run(1, book)], REGISTER, same_picture=same)
    assert result.dropped == [107, 108]
    assert result.pages_of[7] == [106] and not result.doubtful
    # Another picture there is the next page, as before.
    other = book[:7] + (BookPage(108, signature="s7"),)
    assert place([Run(1, other)], REGISTER, same_picture=same).pages_of[7] == [106, 108]


def test_the_operator_states_a_page_and_the_pages_after_it_follow():
    # Nothing read after page 1; the operator says the third capture is page 4 (page 3 missed), over
    # what its foot seemed to say.
    run = Run(1, pages(1, {}, {"stated_page": 4, "printed_page": 9}, "blank", {"numbers": (7,)}))
    result = place([run], REGISTER)
    assert result.book_page[103] == 4 and result.book_page[105] == 6
    assert set(result.doubtful) == {3} and result.pages_of[4] == [103] and result.pages_of[7] == [105]


def test_a_first_page_at_the_end_that_says_nothing_is_held_back():
    # Page 5 (blank) missed; page 6 (registration 7's) read nothing and lands on 5, a run-on page of
    # 4-6 by the register; nothing comes after it to say so.
    result = place([Run(1, pages(1, 2, 3, 4, {}))], REGISTER)
    assert "page 5 did not confirm its place" in result.doubtful[4]
    assert not result.pages_of.keys() & {4, 5, 6, 7}
    # The book's last registration running on at the end is its own.
    assert place([Run(1, pages(1, 2, {"numbers": (3,)}, {}))], {1: 1, 2: 1, 3: 3}).pages_of[3] == [103, 104]
    # Read, it is in place.
    assert place([Run(1, pages(1, 2, 3, 4, "blank", {"numbers": (7,)}))], REGISTER).pages_of[7] == [106]


def test_registrations_past_the_pages_captured_wait_for_them():
    result = place([Run(1, pages(1, 2))], REGISTER)
    assert result.pages_of == {1: [101], 2: [101]}      # 3 runs on to page 3, not captured yet
    assert not result.doubtful


def test_registrations_without_a_page_in_the_register_are_named():
    result = place([Run(1, pages(1))], {1: 1}, registrations=[1, 2])
    assert result.unplaced == [2]


def test_a_misread_number_of_another_row_does_not_move_the_page():
    # Page 4 reads 4, 5 and a stray "7" (another registration): the expected page is among them.
    run = Run(1, pages(1, 2, 3, {"numbers": (4, 5, 7)}, "blank", 6))
    assert not place([run], REGISTER).breaks


# --- every fault, on random books: caught, and never a page in a wrong PDF -----------------------

FAULTS = ("none", "missed", "twice", "stuck", "back")


@st.composite
def books(draw):
    """A register over n pages (0-3 registrations start on each page, at least one on page 1; a page
    where none starts continues the registration before), whether pages print their number, and one
    fault at page `at`."""
    n = draw(st.integers(4, 16))
    register, number = {}, 1
    for page in range(1, n + 1):
        for _ in range(draw(st.integers(1 if page == 1 else 0, 3))):
            register[number] = page
            number += 1
    return n, register, draw(st.booleans()), draw(st.sampled_from(FAULTS)), draw(st.integers(2, n - 1))


def captures(n, register, printed, fault, at) -> list[BookPage]:
    """Each page shows its printed number (if the book prints them) and the numbers of the
    registrations that start on it; key = 1000 × its true page + which capture of it this is."""
    order = list(range(1, n + 1))
    if fault in ("missed", "stuck"):
        for gone in (at, at + 1) if fault == "stuck" else (at,):
            order.remove(gone)
    elif fault in ("twice", "back"):
        order.insert(at, at if fault == "twice" else at - 1)       # after page `at`
    seen: dict[int, int] = {}
    out = []
    for i, page in enumerate(order):
        seen[page] = seen.get(page, 0) + 1
        out.append(BookPage(1000 * page + seen[page], printed_page=page if printed else None,
                            numbers=tuple(k for k, v in register.items() if v == page),
                            same_as_previous=i > 0 and order[i - 1] == page))
    return out


@settings(max_examples=1000, deadline=None)
@given(books())
def test_random_books_never_file_a_page_into_a_wrong_registration(book):
    n, register, printed, fault, at = book
    taken = captures(*book)
    result = place([Run(1, tuple(taken))], register)
    truth = {k: [1000 * p + 1 for p in pages] for k, pages in spans(register, n).items()}
    # Where nothing after the fault says where the book is, no check can see it: the book's
    # confirmed-page count is what tells the operator so. Everywhere else: never a wrong page.
    evidence_after = any(p.printed_page or p.numbers for p in taken if p.key // 1000 > at)
    if fault == "none" or evidence_after:
        for number, keys in result.pages_of.items():
            assert keys == truth[number], (number, keys, truth[number])
    # A page turned back says so only by its own number, or its registrations' (a page where no
    # registration starts, in a book without printed numbers, looks like any other).
    turned_back_says = fault == "back" and (printed or any(v == at - 1 for v in register.values()))
    if fault == "none":
        assert not result.breaks and not result.doubtful
    elif evidence_after or fault == "twice" or turned_back_says:
        assert result.breaks, "fault not caught"
    if fault in ("missed", "stuck") and evidence_after:
        gone = {at, at + 1} if fault == "stuck" else {at}
        hit = {k for k, pages in spans(register, n).items() if gone & set(pages)}
        assert hit <= set(result.doubtful), (hit, result.doubtful)
