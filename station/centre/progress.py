"""What the centre holds of each book, across its stations: `station centre status`, and which PDF counts
for each entry (the centre's export).

An entry is done at the centre when the scan the centre picked is done on its station (with its PDF), or,
with no pick, when exactly one station has it done. Done on two stations and not picked, it is a rescan to
pick (the stations' scans are never merged). Otherwise it is doubtful when a station holds a scan of it
that is not done, missing when none does.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, case, delete, func, select, text, true, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import Session, aliased

from station.catalog.models import utcnow
from station.centre.catalog import (Book, BookTally, Entry, EntryState, Pdf, Scan, Station, StationBook,
                                    StoredOutcome)
from station.errors import CentreError


@dataclass
class EntryOutcome:
    number: int
    status: str                     # done, missing, doubtful
    pdf: Pdf | None = None          # the PDF that counts, when done
    to_pick: bool = False           # done on several stations, none picked
    reasons: list[str] = field(default_factory=list)


@dataclass
class BookProgress:
    commune: str
    book: str
    expected: int
    done: int
    missing: int
    doubtful: int
    to_pick: int
    stations: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class StationContact:
    station: str
    commune: str | None
    last_contact: datetime | None
    revoked: bool
    books: int

    def as_dict(self) -> dict:
        data = asdict(self)
        data["last_contact"] = self.last_contact.isoformat() if self.last_contact else None
        return data


def entry_outcomes(session: Session, book: Book) -> list[EntryOutcome]:
    entries = list(session.scalars(select(Entry).where(Entry.book_id == book.id).order_by(Entry.number)))
    ids = [e.id for e in entries]
    states: dict[int, dict[int, EntryState]] = {}
    for state in session.scalars(select(EntryState).where(EntryState.entry_id.in_(ids))):
        states.setdefault(state.entry_id, {})[state.station_id] = state
    pdfs: dict[tuple[int, int], Pdf] = {(p.entry_id, p.station_id): p
                                        for p in session.scalars(select(Pdf).where(Pdf.entry_id.in_(ids)))}
    picked = {s.entry_id: s for s in session.scalars(select(Scan).where(Scan.entry_id.in_(ids), Scan.picked))}
    names = dict(session.execute(select(Station.id, Station.name)).all())
    return [_outcome(e, states.get(e.id, {}), pdfs, picked.get(e.id), names) for e in entries]


def _outcome(entry: Entry, states: dict[int, EntryState], pdfs: dict, picked: Scan | None,
             names: dict[int, str]) -> EntryOutcome:
    if picked is not None:
        state, pdf = states.get(picked.station_id), pdfs.get((entry.id, picked.station_id))
        if state is not None and state.status == "done" and pdf is not None and pdf.scan_id == picked.id:
            return EntryOutcome(entry.number, "done", pdf)
        return EntryOutcome(entry.number, "doubtful", reasons=[
            f"bản quét đã chọn (trạm {names.get(picked.station_id)}) chưa xong ở trạm đó / the picked scan is not "
            "done on its station"])
    done = sorted(station for station, state in states.items() if state.status == "done")
    if len(done) == 1:
        pdf = pdfs.get((entry.id, done[0]))
        if pdf is not None:
            return EntryOutcome(entry.number, "done", pdf)
        return EntryOutcome(entry.number, "doubtful", reasons=["trung tâm chưa có tệp PDF / PDF not received"])
    if len(done) > 1:
        shown = ", ".join(names.get(s, str(s)) for s in done)
        return EntryOutcome(entry.number, "doubtful", to_pick=True, reasons=[
            f"quét ở {len(done)} trạm ({shown}), cần chọn một bản / scanned on {len(done)} stations: pick one"])
    doubtful = [f"{names.get(s, s)}: {state.reason or 'cần kiểm tra / doubtful'}"
                for s, state in sorted(states.items()) if state.status == "doubtful"]
    if doubtful:
        return EntryOutcome(entry.number, "doubtful", reasons=doubtful)
    return EntryOutcome(entry.number, "missing")


def outcome_rows(book_ids: list[int] | None = None) -> Select:
    """Every entry's outcome by the rules above (or only the entries of `book_ids`), worked out by PostgreSQL:
    columns entry_id, book_id, number, status, to_pick. A book's tally (count_books) aggregates it for that
    book's entries; the books are chosen inside each part, so a book's count reads its own rows only."""
    chosen = select(Entry.id).where(Entry.book_id.in_(book_ids)) if book_ids is not None else None
    pdf = aliased(Pdf)
    said = (select(EntryState.entry_id,
                   func.count().filter(EntryState.status == "done").label("done"),
                   func.bool_or(EntryState.status == "doubtful").label("doubtful"),
                   func.bool_or(and_(EntryState.status == "done", pdf.entry_id.is_not(None))).label("done_with_pdf"))
            .outerjoin(pdf, and_(pdf.entry_id == EntryState.entry_id, pdf.station_id == EntryState.station_id))
            .where(EntryState.entry_id.in_(chosen) if chosen is not None else true())
            .group_by(EntryState.entry_id).subquery("said"))
    picked_state, picked_pdf = aliased(EntryState), aliased(Pdf)
    picked = (select(Scan.entry_id,
                     and_(picked_state.status == "done", picked_pdf.scan_id == Scan.id).label("ready"))
              .outerjoin(picked_state, and_(picked_state.entry_id == Scan.entry_id,
                                            picked_state.station_id == Scan.station_id))
              .outerjoin(picked_pdf, and_(picked_pdf.entry_id == Scan.entry_id, picked_pdf.station_id == Scan.station_id))
              .where(Scan.picked, Scan.entry_id.in_(chosen) if chosen is not None else true()).subquery("picked"))
    done_here = func.coalesce(said.c.done, 0)
    status = case(
        (picked.c.entry_id.is_not(None), case((func.coalesce(picked.c.ready, False), "done"), else_="doubtful")),
        (done_here == 1, case((said.c.done_with_pdf, "done"), else_="doubtful")),
        (done_here > 1, "doubtful"),
        (func.coalesce(said.c.doubtful, False), "doubtful"),
        else_="missing")
    return (select(Entry.id.label("entry_id"), Entry.book_id, Entry.number, status.label("status"),
                   and_(picked.c.entry_id.is_(None), done_here > 1).label("to_pick"))
            .outerjoin(said, said.c.entry_id == Entry.id)
            .outerjoin(picked, picked.c.entry_id == Entry.id)
            .where(Entry.book_id.in_(book_ids) if book_ids is not None else true()))


def done_moments(entry_ids: list[int] | None = None, book_ids: list[int] | None = None) -> Select:
    """When each entry done somewhere became so (of `entry_ids`, or of the books `book_ids`, or all): the
    latest change of a state done with its PDF, the PDF's arrival when the station sent no time. Columns
    entry_id, done_at."""
    query = (select(EntryState.entry_id, func.max(func.coalesce(EntryState.changed_at, Pdf.created_at)).label("done_at"))
             .join(Pdf, and_(Pdf.entry_id == EntryState.entry_id, Pdf.station_id == EntryState.station_id))
             .where(EntryState.status == "done").group_by(EntryState.entry_id))
    if entry_ids is not None:
        query = query.where(EntryState.entry_id.in_(entry_ids))
    if book_ids is not None:
        query = query.where(EntryState.entry_id.in_(select(Entry.id).where(Entry.book_id.in_(book_ids))))
    return query


# Any fixed number: with a book's id, the advisory lock under which its tally is counted ("TALY").
TALLY_LOCK = 0x54414C59
TALLY_CHUNK = 100           # books counted in one query when many have no tally


def count_books(session: Session, book_ids: list[int]) -> None:
    """Count these books' tallies (and store their entries' outcomes) again, in the caller's transaction.
    Two stations pushing one book at once take turns here, so the later count sees the earlier push
    committed (READ COMMITTED) and none is lost."""
    for book_id in sorted(set(book_ids)):           # one order for all: no deadlock between two pushes
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :book)"), {"key": TALLY_LOCK, "book": book_id})
    outcomes = outcome_rows(book_ids).subquery("outcomes")
    moments = done_moments(book_ids=book_ids).subquery("moments")
    session.execute(delete(StoredOutcome).where(StoredOutcome.book_id.in_(book_ids)))
    session.execute(insert(StoredOutcome).from_select(
        ["entry_id", "book_id", "status", "to_pick", "done_at"],
        select(outcomes.c.entry_id, outcomes.c.book_id, outcomes.c.status, outcomes.c.to_pick,
               case((outcomes.c.status == "done", moments.c.done_at)))
        .outerjoin(moments, moments.c.entry_id == outcomes.c.entry_id)))
    counts = {row.book_id: row for row in session.execute(
        select(StoredOutcome.book_id, func.count().label("expected"),
               func.count().filter(StoredOutcome.status == "done").label("done"),
               func.count().filter(StoredOutcome.status == "missing").label("missing"),
               func.count().filter(StoredOutcome.status == "doubtful").label("doubtful"),
               func.count().filter(StoredOutcome.to_pick).label("to_pick"))
        .where(StoredOutcome.book_id.in_(book_ids)).group_by(StoredOutcome.book_id))}
    activity = dict(session.execute(
        select(Entry.book_id, func.max(EntryState.changed_at)).join(EntryState, EntryState.entry_id == Entry.id)
        .where(Entry.book_id.in_(book_ids)).group_by(Entry.book_id)).all())
    for book_id in set(book_ids):
        row = counts.get(book_id)
        figures = {"expected": row.expected, "done": row.done, "missing": row.missing, "doubtful": row.doubtful,
                   "to_pick": row.to_pick} if row else dict.fromkeys(("expected", "done", "missing", "doubtful",
                                                                      "to_pick"), 0)
        figures.update(last_activity=activity.get(book_id), counted_at=utcnow())
        session.execute(insert(BookTally).values(book_id=book_id, **figures)
                        .on_conflict_do_update(index_elements=["book_id"], set_=figures))


def count_untallied(session: Session) -> int:
    """Count the books that have no tally (a database from before tallies, or a count lost): how many."""
    missing = list(session.scalars(select(Book.id).where(~select(BookTally.book_id)
                                                         .where(BookTally.book_id == Book.id).exists())))
    for start in range(0, len(missing), TALLY_CHUNK):
        count_books(session, missing[start:start + TALLY_CHUNK])
    return len(missing)


def pick(session: Session, book: Book, number: int, station_name: str) -> Scan:
    """The centre picks a station's scan of an entry done on several (the one its PDF was made from): that
    PDF is the entry's from now on; the book's tally is counted again. The caller commits."""
    entry = session.scalar(select(Entry).where(Entry.book_id == book.id, Entry.number == number))
    station = session.scalar(select(Station).where(Station.name == station_name))
    pdf = session.get(Pdf, (station.id, entry.id)) if entry is not None and station is not None else None
    if pdf is None:
        raise CentreError(f"Sổ {book.code}, số {number}: trạm {station_name!r} chưa gửi bản quét có PDF của trường "
                          f"hợp này / station {station_name!r} sent no scan with a PDF of entry {number}: `station "
                          f"centre status` names the stations holding it.")
    session.execute(update(Scan).where(Scan.entry_id == entry.id, Scan.picked).values(picked=False))
    session.flush()     # the unique pick per entry: the old one off before the new one on
    scan = session.get(Scan, pdf.scan_id)
    scan.picked = True
    session.flush()
    count_books(session, [book.id])
    return scan


def book_progress(session: Session) -> list[BookProgress]:
    senders: dict[int, list[str]] = dict(session.execute(
        select(StationBook.book_id, func.array_agg(aggregate_order_by(Station.name, Station.name)))
        .join(Station, Station.id == StationBook.station_id).group_by(StationBook.book_id)).all())
    rows = session.execute(select(Book.id, Book.commune, Book.code, BookTally)
                           .outerjoin(BookTally, BookTally.book_id == Book.id).order_by(Book.commune, Book.code))
    return [BookProgress(commune, code, *((t.expected, t.done, t.missing, t.doubtful, t.to_pick) if t else
                                          (0, 0, 0, 0, 0)), list(senders.get(book_id, [])))
            for book_id, commune, code, t in rows]


def station_contacts(session: Session) -> list[StationContact]:
    books = dict(session.execute(select(StationBook.station_id, func.count()).group_by(StationBook.station_id)).all())
    return [StationContact(s.name, s.commune, s.last_contact, s.revoked_at is not None, books.get(s.id, 0))
            for s in session.scalars(select(Station).order_by(Station.name))]
