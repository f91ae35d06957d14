"""Bound books captured page by page after one start sheet: the register places the pages.

Pure logic over what each page said, so every rule is tested alone:
- a start sheet for book page N makes the pages after it the book's pages N, N+1, ... in capture order
  (an open spread is two pages, left then right: the caller gives them in that order); a later start
  sheet resumes elsewhere, and a page captured again in a later run replaces the earlier capture;
- a registration takes the book pages from its `trangSo` up to the page before the next registration's
  (only its own page when the next one starts on the same page); a page holding several registrations
  goes into each of their PDFs; the book's last registration takes what follows it, up to the last
  page with ink;
- blank pages count as book pages and go into no PDF;
- a page turn that went wrong would shift every registration after it into the wrong PDF, so each page
  is held against what it says of itself: its printed page number, the registration numbers read on it
  (each registration's `trangSo` is its page) and whether it is the same picture as the capture before.
  At the first page that does not fit, the registrations of every page since the last page that
  confirmed its place are doubtful with the reason; the page that did not fit says where the book is,
  and filing goes on from there. A page turned back or captured twice is dropped, not filed. A book
  page captured again in a later run (the missing page, a range redone) takes the doubt away with the
  capture it replaces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class BookPage:
    key: int                          # the page's id in the catalog (capture order)
    blank: bool = False
    printed_page: int | None = None   # the page number printed on it, when read
    numbers: tuple[int, ...] = ()     # registration numbers read on it
    same_as_previous: bool = False    # the same picture as the capture just before it
    unreadable: bool = False          # the capture could not be read: its book page needs capturing again
    stated_page: int | None = None    # the book page the operator stated for it
    signature: object = field(default=None, compare=False)   # for `same_picture` (pipeline.likeness)


@dataclass(frozen=True)
class Run:
    start_page: int                   # the book page the start sheet names
    pages: tuple[BookPage, ...]


@dataclass(frozen=True)
class Break:
    key: int                          # the page where the sequence stopped fitting
    expected: int                     # the book page it should have been
    found: int | None                 # the book page it says it is (None: the same picture again)
    reason: str                       # Vietnamese / English, for the operator
    pages: tuple[int, ...] = ()       # the book pages it casts doubt on (none: a capture dropped, no harm)


@dataclass
class Placement:
    pages_of: dict[int, list[int]] = field(default_factory=dict)   # registration → page keys
    doubtful: dict[int, str] = field(default_factory=dict)         # registration → reason
    book_page: dict[int, int] = field(default_factory=dict)        # page key → its book page
    breaks: list[Break] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)               # page keys filed nowhere
    unplaced: list[int] = field(default_factory=list)              # registrations without trangSo
    confirmed_pages: int = 0        # pages whose own number or registrations proved their place
    capture_at: dict[int, int] = field(default_factory=dict)       # book page → the page key filed there


def missing_reason(first: int, last: int) -> str:
    if first == last:
        return (f"trang {first} không thấy: có thể lật sót trang / page {first} not found: "
                f"a page turn missed?")
    return (f"một trang trong các trang {first}–{last} không thấy: có thể lật sót trang / one of pages "
            f"{first}–{last} not found: a page turn missed?")


def extra_reason(before: int, page: int) -> str:
    return (f"có trang thừa giữa trang {before} và trang {page} / a page too many between pages {before} "
            f"and {page}")


def again_reason(page: int) -> str:
    return (f"trang {page} được chụp lại hoặc lật ngược: bỏ bản chụp thừa / page {page} captured again "
            f"or turned back: drop the extra capture")


def twice_reason(page: int) -> str:
    return (f"hai ảnh khác nhau cùng là trang {page}? (đọc nhầm số, hay chụp lại trang?) xem và bỏ ảnh sai hoặc "
            f"ghi đúng trang / two different captures say page {page} (a misread number, or the page captured "
            f"again?): look, then drop the wrong one or state its page")


def _said_page(page: BookPage, starting: dict[int, list[int]], page_of: dict[int, int],
               expected: int) -> int | None:
    """The book page this page says it is, or None when it says nothing sure.

    The operator's word outranks what is read. Each registration number read is a vote for the page
    the register puts it on, the printed page number one more. The expected page wins when it has
    more votes than any other (a misread page number or a stray row moves nothing); another page wins
    alone only on strong evidence: its printed number, or two of its rows (its one row when the
    register starts only one registration there). A single misread digit never moves the book."""
    if page.stated_page is not None:
        return page.stated_page
    votes: dict[int, int] = {}
    for number in set(page.numbers):
        if number in page_of:
            votes[page_of[number]] = votes.get(page_of[number], 0) + 1
    if page.printed_page is not None:
        votes[page.printed_page] = votes.get(page.printed_page, 0) + 1
    if not votes:
        return None
    best = max(votes.values())
    leaders = [p for p, v in votes.items() if v == best]
    if expected in leaders:
        return expected if len(leaders) == 1 else None
    if len(leaders) > 1:
        return None
    leader = leaders[0]
    rows = best - (page.printed_page == leader)
    strong = page.printed_page == leader or rows >= min(2, len(starting.get(leader, ())) or 1)
    return leader if strong else None


def spans(page_of: dict[int, int], last_page: int) -> dict[int, range]:
    """Each registration's book pages by the register: from its trangSo to the page before the next
    registration's; the last runs to `last_page`."""
    starts = sorted(set(page_of.values()))
    following = {p: (starts[i + 1] if i + 1 < len(starts) else None) for i, p in enumerate(starts)}
    out = {}
    for number, first in page_of.items():
        nxt = following[first]
        last = max(first, last_page) if nxt is None else nxt - 1
        out[number] = range(first, max(first, last) + 1)
    return out


def blank_reason(page: int, numbers: list[int]) -> str:
    listed = ", ".join(map(str, numbers))
    return (f"ảnh chụp trắng ở chỗ trang {page}, nơi sổ đăng ký ghi số {listed}: lật sai trang, hay trang quá mờ? "
            f"/ a blank capture where page {page} should be, which holds no. {listed} by the register: a page "
            f"turn gone wrong, or a page too faint?")


def unreadable_reason(page: int) -> str:
    return (f"ảnh chụp trang {page} không đọc được: chụp lại trang này / the capture of page {page} could not "
            f"be read: capture it again")


SamePicture = Callable[[object, object], bool]


def place(runs: list[Run], page_of: dict[int, int], registrations: list[int] | None = None,
          same_picture: SamePicture | None = None) -> Placement:
    """Place the runs' pages into registrations by the register (`page_of`: registration → trangSo).
    `same_picture(a, b)` tells whether two pages' signatures show one physical page."""
    result = Placement()
    result.unplaced = sorted(n for n in (registrations or []) if n not in page_of)
    starting: dict[int, list[int]] = {}     # book page → the registrations the register starts there
    for number, first in sorted(page_of.items()):
        starting.setdefault(first, []).append(number)
    walk = _Walk(page_of, starting, same_picture, result)
    broke_in: list[int] = []                # the run each break happened in
    for index, run in enumerate(runs):
        walk.run(run, index)
        broke_in += [index] * (len(result.breaks) - len(broke_in))
    at_page, suspect = walk.at_page, walk.suspect
    # A break whose pages a later run captured again (the missing page, a range redone) is over.
    result.breaks = [b for b, index in zip(result.breaks, broke_in)
                     if not b.pages or any(walk.filed_in.get(p, -1) <= index for p in b.pages)]
    result.capture_at = {p: page.key for p, page in sorted(at_page.items())}
    last_page = max((p for p, page in at_page.items() if not page.blank), default=0)
    book_spans = spans(page_of, last_page)
    _doubt_the_tail(book_spans, at_page, walk.sure, suspect, starting)
    for number, pages in sorted(book_spans.items()):
        reasons = [suspect[p] for p in pages if p in suspect]
        missing = [p for p in pages if p not in at_page and p <= last_page]
        if not reasons and any(p > last_page for p in pages):
            continue                 # its pages are not all captured yet (the book goes on later)
        if reasons:
            result.doubtful[number] = reasons[0]
        elif missing:
            result.doubtful[number] = missing_reason(missing[0], missing[-1])
        else:
            keys = [at_page[p].key for p in pages if p in at_page and not at_page[p].blank]
            if keys:
                result.pages_of[number] = keys
    return result


def _doubt_the_tail(book_spans: dict[int, range], at_page: dict[int, BookPage], sure: set[int],
                    suspect: dict[int, str], starting: dict[int, list[int]]) -> None:
    """The pages after the last one that confirmed its place have nothing after them to be checked
    against: a page turn gone wrong there shows nowhere. A registration with a page among them is held
    back, unless that page is a run-on page of the book's last registration: how far that one runs, the
    register does not say (a page captured twice there shows only as the same picture). A book where no
    page confirmed anything is not held back here: it says so as a whole."""
    if not sure:
        return
    last_sure, last_start = max(sure), max(starting, default=0)
    for number, pages in book_spans.items():
        first = pages.start
        tail = [p for p in pages if p > last_sure and p in at_page and not at_page[p].blank]
        # Run-on pages at the end are the book's last registration's; anyone else's are a shifted page.
        if tail and (first in tail or first != last_start):
            reason = unconfirmed_reason(tail[0], starting.get(tail[0], []))
            for p in pages:
                suspect.setdefault(p, reason)


def unconfirmed_reason(page: int, numbers: list[int]) -> str:
    whose = f" (số {', '.join(map(str, numbers))})" if numbers else ""
    whose_en = f" (no. {', '.join(map(str, numbers))})" if numbers else ""
    return (f"trang {page}{whose} không tự xác nhận vị trí và không còn trang nào sau để đối chiếu: xem rồi ghi "
            f"trang cho ảnh / page {page}{whose_en} did not confirm its place and no page after it can: look, "
            f"then state the capture's page")


class _Walk:
    """The runs in capture order, each page held against what it says (see the module's doc)."""

    def __init__(self, page_of: dict[int, int], starting: dict[int, list[int]],
                 same_picture: SamePicture | None, result: Placement):
        self.page_of, self.starting, self.same_picture, self.result = page_of, starting, same_picture, result
        self.at_page: dict[int, BookPage] = {}      # book page → the capture filed for it
        self.filed_in: dict[int, int] = {}          # book page → the run its capture came in
        self.suspect: dict[int, str] = {}           # book page → why its capture may not be that page
        self.jumped: set[int] = set()               # book pages whose capture only its own word put there
        self.sure: set[int] = set()                 # book pages whose capture said where it is

    def same(self, a: BookPage, b: BookPage | None) -> bool:
        if b is None:
            return False
        return bool(self.same_picture and a.signature is not None and b.signature is not None
                    and self.same_picture(a.signature, b.signature))

    def _break(self, page: BookPage, expected: int, said: int | None, reason: str, pages) -> None:
        pages = tuple(pages)
        self.result.breaks.append(Break(page.key, expected, said, reason, pages))
        for p in pages:
            self.suspect[p] = reason

    def run(self, run: Run, index: int) -> None:
        result, starting = self.result, self.starting
        expected = run.start_page
        confirmed = run.start_page - 1      # the last book page known to be in place (the sheet says so)
        unsure: list[int] = []              # book pages filed since then on no evidence of their own
        previous: BookPage | None = None
        replay: int | None = None           # after a passed page came again: the page its next one may repeat
        for page in run.pages:
            said = _said_page(page, starting, self.page_of, expected)
            if (replay is not None and replay < expected and said in (None, replay)
                    and self.same(page, self.at_page.get(replay))):
                self._break(page, expected, said, again_reason(replay), ())
                result.dropped.append(page.key)
                previous, replay = page, replay + 1
                continue
            replay = None
            # A page that says it is the expected one is not the last one again; two blank backs in a
            # row look alike and are two pages. (Pictures are compared only when it matters: it costs.)
            again = said != expected and previous is not None and not (page.blank and previous.blank) and (
                page.same_as_previous or self.same(page, previous))
            before, previous = previous, page
            if again or (said is not None and said <= confirmed):
                # The same picture again, or a page the book has already passed: not filed. Another
                # picture of a page that only its own word put in place (a jump): one of the two
                # misread, so that page is held back too.
                shown = said if said is not None else result.book_page.get(before.key, confirmed)
                earlier = before if again else self.at_page.get(shown)
                harmless = (again or page.stated_page is not None or shown not in self.jumped
                            or self.same(page, earlier))
                self._break(page, expected, said, again_reason(shown) if harmless else twice_reason(shown),
                            () if harmless else (shown,))
                result.dropped.append(page.key)
                # Turned back: the pages after it may come again, each the picture filed the first time.
                replay = shown + 1
                continue
            jump = False
            if said is not None and said != expected:
                # The pages filed since the last sure one are not where they were counted: a page turn
                # missed or two pages stuck (said > expected), or a page too many (said < expected).
                reason = (missing_reason(confirmed + 1, said - 1) if said > expected
                          else extra_reason(confirmed, said))
                self._break(page, expected, said, reason, [*unsure, *range(expected, said)])
                expected = said
                jump = page.stated_page is None
            doubt = unreadable_reason(expected) if page.unreadable else None
            if said is None and page.blank and expected in starting:
                # Blank where the register has rows: this is not that page, and where it is, nothing says.
                doubt = blank_reason(expected, starting[expected])
                self._break(page, expected, None, doubt, [*unsure, expected])
                unsure = []
            elif said is None:
                unsure.append(expected)
            else:
                confirmed, unsure = said, []
                result.confirmed_pages += 1
            result.book_page[page.key] = expected
            self.at_page[expected] = page
            self.filed_in[expected] = index
            (self.jumped.add if jump else self.jumped.discard)(expected)
            (self.sure.discard if said is None else self.sure.add)(expected)
            # What was suspected of the capture filed here before (an earlier run's) is not of this one.
            self.suspect.pop(expected, None)
            if doubt:
                self.suspect[expected] = doubt
            expected += 1
