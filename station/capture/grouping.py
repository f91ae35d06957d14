"""Grouping a batch's pages, in capture order, into scans of entries.

Pure logic over page signals, so every rule is tested alone:
- pages after a separator belong to its entries until the next separator (a shared-page sheet names
  several entries, and its pages go to each);
- pages after a book's start sheet are a run of its pages, placed by the register (bypage.py), blank
  ones included: a blank page of a bound book is one of its pages;
- pages before any separator, after an unreadable separator, or after a separator of an unknown book
  or entry are held for the operator with the reason, never merged into the entry before;
- blank pages go nowhere (they stay in the catalog);
- an unreadable capture inside an entry's stretch marks that scan damaged: a page may be missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

SignalKind = Literal["separator", "blank", "content", "doubtful", "quarantined"]

BEFORE_FIRST = "trang trước tờ phân cách đầu tiên / page before any separator"
AFTER_UNREAD = "sau một tờ phân cách không đọc được / after an unreadable separator"


@dataclass(frozen=True)
class PageSignal:
    index: int                     # the page's key (capture order)
    kind: SignalKind
    book_id: str | None = None     # separators only
    entries: tuple[int, ...] = ()  # separators only
    start_page: int | None = None  # a book-start sheet: the book page its pages start from


@dataclass
class Group:
    book_id: str | None
    entries: tuple[int, ...]       # empty: held pages, see `held_reason`
    separator: int | None
    pages: list[int] = field(default_factory=list)
    held_reason: str | None = None
    damaged: bool = False
    start_page: int | None = None  # a start sheet's run: its pages are the book's from this page on

    @property
    def held(self) -> bool:
        return self.held_reason is not None


def _unknown_reason(book_id: str, missing: list[int] | None) -> str:
    if missing is None:
        return f"tờ phân cách của sổ {book_id} chưa có trong danh mục / book not in the catalog"
    listed = ", ".join(map(str, missing))
    return f"số {listed} không có trong sổ {book_id} / entry not in the book's register"


class Grouper:
    """The rules, one page at a time, so a live station assigns pages as they arrive."""

    def __init__(self, book_known: Callable[[str], bool], entry_known: Callable[[str, int], bool]):
        self.book_known = book_known
        self.entry_known = entry_known
        self.current = Group(None, (), None, held_reason=BEFORE_FIRST)

    def feed(self, signal: PageSignal) -> Group:
        """Apply one page (in capture order); returns the group it belongs to or opened."""
        if signal.kind == "separator":
            book = signal.book_id or ""
            if not self.book_known(book):
                self.current = Group(book, (), signal.index, held_reason=_unknown_reason(book, None))
            elif signal.start_page is not None:
                self.current = Group(book, (), signal.index, start_page=signal.start_page)
            else:
                missing = [n for n in signal.entries if not self.entry_known(book, n)]
                reason = _unknown_reason(book, missing) if missing else None
                self.current = Group(book, () if missing else signal.entries, signal.index, held_reason=reason)
        elif signal.kind == "doubtful":
            # A sheet that looks like a separator but cannot be read: what follows is not the
            # previous entry's, whatever it looks like.
            self.current = Group(None, (), None, [signal.index], held_reason=AFTER_UNREAD)
        elif signal.kind == "content":
            self.current.pages.append(signal.index)
        elif signal.kind == "quarantined":
            self.current.damaged = True
        return self.current


def group_pages(signals: list[PageSignal], book_known: Callable[[str], bool],
                entry_known: Callable[[str, int], bool]) -> list[Group]:
    grouper = Grouper(book_known, entry_known)
    groups: list[Group] = []
    for signal in signals:
        group = grouper.feed(signal)
        if not groups or groups[-1] is not group:
            groups.append(group)
    # A held stretch with no pages (e.g. the batch starts with a separator) is nothing to show.
    return [g for g in groups if not (g.held and not g.pages and g.separator is None)]
