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


@dataclass(frozen=True)
class BookPage:
    key: int                          # the page's id in the catalog (capture order)
    blank: bool = False
    printed_page: int | None = None   # the page number printed on it, when read
    numbers: tuple[int, ...] = ()     # registration numbers read on it
    same_as_previous: bool = False    # the same picture as the capture just before it
    unreadable: bool = False          # the capture could not be read: its book page needs capturing again
    stated_page: int | None = None    # the book page the operator stated for it


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


def _said_page(page: BookPage, page_of: dict[int, int], expected: int) -> int | None:
    """The book page this page says it is, or None when it says nothing.

    The operator's word outranks what is read. Of what is read, whatever fits the expected page wins:
    a misread page number or a row misread as another known number does not move the page. Otherwise
    the printed number, unless the rows disagree with it: then the rows, when all that the register
    knows of them point at one page (several numbers read against one), else nothing."""
    if page.stated_page is not None:
        return page.stated_page
    printed = page.printed_page
    places = {page_of[n] for n in page.numbers if n in page_of}
    if expected == printed or expected in places:
        return expected
    if printed is not None and (not places or printed in places):
        return printed
    return min(places) if len(places) == 1 else None


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


def place(runs: list[Run], page_of: dict[int, int], registrations: list[int] | None = None) -> Placement:
    """Place the runs' pages into registrations by the register (`page_of`: registration → trangSo)."""
    result = Placement()
    result.unplaced = sorted(n for n in (registrations or []) if n not in page_of)
    at_page: dict[int, BookPage] = {}        # book page → the capture filed for it
    suspect: dict[int, str] = {}             # book page → why its capture may not be that page
    for run in runs:
        _walk(run, page_of, at_page, suspect, result)
    result.capture_at = {p: page.key for p, page in sorted(at_page.items())}
    last_page = max((p for p, page in at_page.items() if not page.blank), default=0)
    for number, pages in sorted(spans(page_of, last_page).items()):
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


def _walk(run: Run, page_of: dict[int, int], at_page: dict[int, BookPage], suspect: dict[int, str],
          result: Placement) -> None:
    starting: dict[int, list[int]] = {}     # book page → the registrations the register starts there
    for number, first in sorted(page_of.items()):
        starting.setdefault(first, []).append(number)
    expected = run.start_page
    confirmed = run.start_page - 1      # the last book page known to be in place (the sheet says so)
    unsure: list[int] = []              # book pages filed since then on no evidence of their own
    previous: BookPage | None = None
    for page in run.pages:
        said = _said_page(page, page_of, expected)
        again = page.same_as_previous and previous is not None and not (page.blank and previous.blank)
        previous = page
        if again or (said is not None and said <= confirmed):
            result.breaks.append(Break(page.key, expected, said, again_reason(confirmed if said is None else said)))
            result.dropped.append(page.key)
            continue
        if said is not None and said != expected:
            # The pages filed since the last sure one are not where they were counted: a page turn
            # missed or two pages stuck (said > expected), or a page too many (said < expected).
            reason = (missing_reason(confirmed + 1, said - 1) if said > expected
                      else extra_reason(confirmed, said))
            result.breaks.append(Break(page.key, expected, said, reason))
            for p in [*unsure, *range(expected, said)]:
                suspect[p] = reason
            expected = said
        doubt = unreadable_reason(expected) if page.unreadable else None
        if said is None and page.blank and expected in starting:
            # Blank where the register has rows: this is not that page, and where it is, nothing says.
            doubt = blank_reason(expected, starting[expected])
            result.breaks.append(Break(page.key, expected, None, doubt))
            for p in unsure:
                suspect[p] = doubt
            unsure = []
        elif said is None:
            unsure.append(expected)
        else:
            confirmed, unsure = said, []
            result.confirmed_pages += 1
        result.book_page[page.key] = expected
        at_page[expected] = page
        # What was suspected of the capture filed here before (an earlier run's) is not of this one.
        suspect.pop(expected, None)
        if doubt:
            suspect[expected] = doubt
        expected += 1
