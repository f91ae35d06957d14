"""Each entry's state kept in the catalog, so that every book's progress is a few SQL aggregates however
many books a station holds (`station status`, the dashboard's /api/books, the weekly report) instead of
every book loaded whole and every entry worked out in Python.

What is stored is what station.review.entries.entry_state says (entry_states: status, pages, reasons,
when it became done; book_states: what its book's notes need), kept right at ONE place: a session of
the catalog (open_catalog) notes after each flush which books an added, changed or deleted entry, scan,
scan page or page belongs to (a bulk statement on them: before it runs), and states those books again
just before it commits, in the same transaction, from the books loaded afresh. Opening the catalog
states the books this code has not (bring_up_to_date: after the upgrade that made the tables, or a
release that states entries differently); `station doctor` compares a sample with fresh states
(drifted) and `station book restate` states books again.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, event, insert, inspect, select, union
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from station.catalog import migrate
from station.catalog.models import Book, Entry, Page, Pdf, Scan, ScanPage, StoredBookFacts, StoredEntryState
from station.review.entries import CrossCheck, book_facts, book_notes, entry_state, load_books

# What an entry's state is worked out from (entry_state, book_facts), and its PDF (the book's bytes): a
# change to any of them restates the book.
WATCHED = (Entry, Scan, ScanPage, Page, Pdf)
TOUCHED = "touched_books"   # session.info key: the books this transaction changed so far
EVERY_BOOK = "*"
# What the stored states were worked out by: bump it when entry_state or book_facts come to say something
# else of the same catalog (a rule, a reason's words), and every book is stated again when a station
# with the new code opens its catalog.
STATES_VERSION = 1
# Books loaded at once when many are stated (an upgrade, `station book restate`): bounded memory.
CHUNK = 50


def as_utc(moment: datetime) -> datetime:
    """Catalog times are UTC; SQLite hands them back without a zone."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def done_at(entry: Entry, pages: list[Page]) -> datetime | None:
    """When a done entry became done: the later of its last page processed and its last correction."""
    moments = [p.processed_at for p in pages if p.processed_at] + ([entry.changed_at] if entry.changed_at else [])
    return max((as_utc(m) for m in moments), default=None)


def _quarter(moment: datetime | None) -> str:
    """The UTC quarter-hour of a moment, as done_quarters keys it ("" for none: counted as done the day
    it is asked)."""
    if moment is None:
        return ""
    moment = as_utc(moment)
    quarter = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return quarter.strftime("%Y-%m-%d %H:%M")


def stated(book: Book) -> tuple[dict, list[dict]]:
    """A loaded book's row (its counts and facts) and its entries' state rows, as stored."""
    facts = book_facts(book)
    rows, quarters = [], Counter()
    for entry in book.entries:
        state = entry_state(entry, facts)
        rows.append({"entry_id": entry.id, "book_id": book.id, "status": state.status, "pages": len(state.pages),
                     "reasons": state.reasons})
        if state.status == "done":
            quarters[_quarter(done_at(entry, state.pages))] += 1
    counts = Counter(row["status"] for row in rows)
    # Any page filed into one of its entries, a scan not counting and a page deleted included.
    filed = [sp.page.processed_at for entry in book.entries for scan in entry.scans for sp in scan.pages
             if sp.page.processed_at]
    check = facts.crosscheck
    return ({"book_id": book.id, "expected": len(rows), "done": counts["done"], "missing": counts["missing"],
             "doubtful": counts["doubtful"], "pages": sum(row["pages"] for row in rows),
             "bytes": sum(entry.pdf.bytes for entry in book.entries if entry.pdf),
             "last_page_at": max((as_utc(m) for m in filed), default=None), "done_quarters": dict(quarters),
             "by_page": any(scan.placed for entry in book.entries for scan in entry.scans),
             "first_pages": check.first_pages, "numbers_attempted": check.attempted, "numbers_read": check.read,
             "over_cap_pages": facts.over_cap_pages, "stated_by": STATES_VERSION}, rows)


def _fresh(connection: Connection, book_ids: Collection[str] | None) -> Iterator[tuple[str, dict, list[dict]]]:
    """Each book stated from the catalog as the connection sees it, in a session of its own: a caller's
    objects may be older than what another process committed since."""
    ids = sorted(book_ids) if book_ids is not None else list(connection.scalars(select(Book.id).order_by(Book.id)))
    for start in range(0, len(ids), CHUNK):
        with Session(bind=connection, autoflush=False) as fresh:
            for book in load_books(fresh, ids[start:start + CHUNK]):
                yield book.id, *stated(book)


def restate(connection: Connection, book_ids: Collection[str] | None = None) -> int:
    """State the books (every one without `book_ids`) again, in the connection's transaction; returns
    how many were stated."""
    count = 0
    for book_id, facts, rows in _fresh(connection, book_ids):
        connection.execute(delete(StoredEntryState).where(StoredEntryState.book_id == book_id))
        connection.execute(delete(StoredBookFacts).where(StoredBookFacts.book_id == book_id))
        connection.execute(insert(StoredBookFacts), [facts])
        if rows:
            connection.execute(insert(StoredEntryState), rows)
        count += 1
    return count


def _outdated(connection: Connection) -> list[str]:
    return list(connection.scalars(select(Book.id).outerjoin(StoredBookFacts, StoredBookFacts.book_id == Book.id)
                                   .where((StoredBookFacts.stated_by != STATES_VERSION)
                                          | StoredBookFacts.book_id.is_(None))))


def bring_up_to_date(engine: Engine, home: Path) -> None:
    """On opening the catalog: state every book this code has not (all of them after the upgrade that
    made the tables, or a release whose entry_state says something new), under the home's upgrade lock so
    that two processes opening it do not both do it."""
    with engine.connect() as connection:
        if not _outdated(connection):
            return
    with migrate.locked(home), engine.begin() as connection:
        if outdated := _outdated(connection):
            restate(connection, outdated)


def _stored(connection: Connection, book_id: str) -> tuple[dict | None, list[dict]]:
    facts = connection.execute(select(StoredBookFacts).where(StoredBookFacts.book_id == book_id)).mappings().first()
    rows = connection.execute(select(StoredEntryState).where(StoredEntryState.book_id == book_id)
                              .order_by(StoredEntryState.entry_id)).mappings().all()
    return (dict(facts) if facts else None), [dict(row) for row in rows]


def _in_utc(row: dict) -> dict:
    """A row with its moments in UTC (SQLite hands them back without a zone)."""
    return {key: as_utc(value) if isinstance(value, datetime) else value for key, value in row.items()}


def _comparable(rows: list[dict]) -> list[dict]:
    return sorted(map(_in_utc, rows), key=lambda row: row["entry_id"])


@dataclass
class Drift:
    checked: list[str]     # the books compared, most recently active first
    differ: list[str]      # those whose stored state is not what entry_state says today
    books: int             # every book of the station
    seconds: float


def drifted(connection: Connection, budget_s: float | None = None) -> Drift:
    """Compare stored states with fresh ones, book by book, most recently active first (where a fault in
    keeping them would show first), until `budget_s` is spent (None: every book)."""
    started = time.perf_counter()
    order = list(connection.scalars(select(Book.id).outerjoin(StoredBookFacts, StoredBookFacts.book_id == Book.id)
                                    .order_by(StoredBookFacts.last_page_at.desc().nulls_last(), Book.id)))
    drift = Drift([], [], len(order), 0.0)
    for book_id in order:
        if budget_s is not None and drift.checked and time.perf_counter() - started > budget_s:
            break
        ((_, facts, rows),) = _fresh(connection, [book_id])
        stored_facts, stored_rows = _stored(connection, book_id)
        drift.checked.append(book_id)
        if _in_utc(stored_facts or {}) != _in_utc(facts) or _comparable(stored_rows) != _comparable(rows):
            drift.differ.append(book_id)
    drift.seconds = time.perf_counter() - started
    return drift


# --- keeping them current -------------------------------------------------------------------------

def _touch(session: Session, book_ids) -> None:
    session.info.setdefault(TOUCHED, set()).update(b for b in book_ids if b is not None)


def _books_of_flush(session: Session, flush_context) -> None:
    """after_flush: the books whose entries' states the flushed objects may change. The catalog already
    holds the flush; the objects still tell what they were (a scan moved, a link deleted)."""
    books: set[str] = set()
    entry_ids: set[int] = set()
    scan_ids: set[int] = set()
    page_ids: set[int] = set()
    new = session.new
    for obj in (*new, *session.dirty, *session.deleted):
        if isinstance(obj, Entry):
            books.add(obj.book_id)
        elif isinstance(obj, (Scan, Pdf)):
            entry_ids.update(_values(obj, "entry_id"))
        elif isinstance(obj, ScanPage):
            scan_ids.update(_values(obj, "scan_id"))
        elif isinstance(obj, Page) and obj not in new:   # a new page is held only through a new link
            page_ids.add(obj.id)
    lookups = [select(Entry.book_id).where(Entry.id.in_(entry_ids)) if entry_ids else None,
               select(Entry.book_id).join(Scan, Scan.entry_id == Entry.id).where(Scan.id.in_(scan_ids))
               if scan_ids else None,
               _books_holding().where(ScanPage.page_id.in_(page_ids)) if page_ids else None]
    lookups = [lookup for lookup in lookups if lookup is not None]
    if lookups:    # one round trip, however many kinds of object the flush held
        books.update(session.connection().scalars(union(*lookups) if len(lookups) > 1 else lookups[0]))
    _touch(session, books)


def _values(obj, key: str) -> set:
    """An attribute's value now and the one it had before this flush."""
    return {v for v in (getattr(obj, key), *inspect(obj).attrs[key].history.deleted) if v is not None}


def _books_holding():
    return (select(Entry.book_id).select_from(ScanPage).join(Scan, Scan.id == ScanPage.scan_id)
            .join(Entry, Entry.id == Scan.entry_id))


def _books_of_statement(state: ORMExecuteState) -> None:
    """do_orm_execute: a bulk DELETE of watched rows touches the books its WHERE matches, looked up before
    it runs; a bulk UPDATE or INSERT of them (none in the station today) may land rows in any book."""
    if not (state.is_delete or state.is_update or state.is_insert):
        return
    mapper = state.bind_mapper
    entity = mapper.class_ if mapper is not None else None
    if entity not in WATCHED:
        return
    where = state.statement.whereclause if state.is_delete else None
    if where is None:
        _touch(state.session, [EVERY_BOOK])
        return
    lookup = {Entry: select(Entry.book_id),
              Scan: select(Entry.book_id).join(Scan, Scan.entry_id == Entry.id),
              Pdf: select(Entry.book_id).join(Pdf, Pdf.entry_id == Entry.id),
              ScanPage: _books_holding(),
              Page: _books_holding().join(Page, Page.id == ScanPage.page_id)}[entity]
    _touch(state.session, state.session.connection().scalars(lookup.where(where)))


def _restate_touched(session: Session) -> None:
    """before_commit: what is pending flushed (its books noted), then those books stated again."""
    session.flush()
    touched = session.info.pop(TOUCHED, set())
    if touched:
        restate(session.connection(), None if EVERY_BOOK in touched else touched)


def _forget_touched(session: Session, transaction) -> None:
    """after_transaction_end: what a transaction rolled back (or closed) had touched is not restated later."""
    if transaction.parent is None:
        session.info.pop(TOUCHED, None)


def keep_current(maker: sessionmaker) -> None:
    """Every session of `maker` keeps the stored states of the books it changes right when it commits."""
    event.listen(maker, "after_flush", _books_of_flush)
    event.listen(maker, "do_orm_execute", _books_of_statement)
    event.listen(maker, "before_commit", _restate_touched)
    event.listen(maker, "after_transaction_end", _forget_touched)


# --- reading them -----------------------------------------------------------------------------------

@dataclass
class BookTally:
    """A book's progress from its stored states."""
    book: str
    expected: int = 0
    done: int = 0
    missing: int = 0
    doubtful: int = 0
    pages: int = 0
    bytes: int = 0
    notes: list[str] = field(default_factory=list)


def tallies(session: Session, book_id: str | None = None) -> list[BookTally]:
    """Every book (or one) in book order: one stored row a book, whatever its entries (every book has its
    row from the commit that added it, or from opening the catalog)."""
    table = StoredBookFacts.__table__.c
    query = select(table.book_id, table.expected, table.done, table.missing, table.doubtful, table.pages, table.bytes,
                   table.first_pages, table.numbers_attempted, table.numbers_read, table.over_cap_pages
                   ).order_by(table.book_id)
    if book_id:
        query = query.where(StoredBookFacts.book_id == book_id)
    return [BookTally(row["book_id"], row["expected"], row["done"], row["missing"], row["doubtful"], row["pages"],
                      row["bytes"], book_notes(CrossCheck(row["first_pages"], row["numbers_attempted"],
                                                          row["numbers_read"]), row["over_cap_pages"]))
            for row in session.execute(query).mappings()]


def done_days(session: Session, today: date, book_id: str | None = None) -> dict[str, Counter[date]]:
    """Per book, how many entries became done on each local day (`today` for those done with no moment)."""
    query = select(StoredBookFacts.book_id, StoredBookFacts.done_quarters)
    if book_id:
        query = query.where(StoredBookFacts.book_id == book_id)
    local_day: dict[str, date] = {"": today}
    days: dict[str, Counter[date]] = {}
    for book, quarters in session.execute(query):
        found = days[book] = Counter()
        for quarter, count in quarters.items():
            if quarter not in local_day:
                moment = datetime.strptime(quarter, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
                local_day[quarter] = moment.astimezone().date()
            found[local_day[quarter]] += count
    return days


def doubtful_entries(session: Session) -> dict[str, list[tuple[int, int, list[str]]]]:
    """Per book, its doubtful entries: (number, pages, reasons) in number order."""
    query = (select(StoredEntryState.book_id, Entry.number, StoredEntryState.pages, StoredEntryState.reasons)
             .join(Entry, Entry.id == StoredEntryState.entry_id).where(StoredEntryState.status == "doubtful")
             .order_by(StoredEntryState.book_id, Entry.number))
    found: dict[str, list[tuple[int, int, list[str]]]] = {}
    for book, number, pages, reasons in session.execute(query):
        found.setdefault(book, []).append((number, pages, reasons))
    return found

