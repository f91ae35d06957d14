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

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from station.centre.catalog import Book, Entry, EntryState, Pdf, Scan, Station, StationBook


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


def outcome_rows() -> Select:
    """Every entry's outcome by the rules above, worked out by PostgreSQL: columns entry_id, book_id, number,
    status, to_pick. The province's figures aggregate it (GROUP BY) instead of loading entries: 200,000 of
    them answer in a fraction of a second (bench/centre_scale.py)."""
    pdf = aliased(Pdf)
    said = (select(EntryState.entry_id,
                   func.count().filter(EntryState.status == "done").label("done"),
                   func.bool_or(EntryState.status == "doubtful").label("doubtful"),
                   func.bool_or(and_(EntryState.status == "done", pdf.entry_id.is_not(None))).label("done_with_pdf"))
            .outerjoin(pdf, and_(pdf.entry_id == EntryState.entry_id, pdf.station_id == EntryState.station_id))
            .group_by(EntryState.entry_id).subquery("said"))
    picked_state, picked_pdf = aliased(EntryState), aliased(Pdf)
    picked = (select(Scan.entry_id,
                     and_(picked_state.status == "done", picked_pdf.scan_id == Scan.id).label("ready"))
              .outerjoin(picked_state, and_(picked_state.entry_id == Scan.entry_id,
                                            picked_state.station_id == Scan.station_id))
              .outerjoin(picked_pdf, and_(picked_pdf.entry_id == Scan.entry_id, picked_pdf.station_id == Scan.station_id))
              .where(Scan.picked).subquery("picked"))
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
            .outerjoin(picked, picked.c.entry_id == Entry.id))


def book_progress(session: Session) -> list[BookProgress]:
    outcomes = outcome_rows().subquery("outcomes")
    counts = {row.book_id: row for row in session.execute(
        select(outcomes.c.book_id, func.count().label("expected"),
               func.count().filter(outcomes.c.status == "done").label("done"),
               func.count().filter(outcomes.c.status == "missing").label("missing"),
               func.count().filter(outcomes.c.status == "doubtful").label("doubtful"),
               func.count().filter(outcomes.c.to_pick).label("to_pick"))
        .group_by(outcomes.c.book_id))}
    senders: dict[int, list[str]] = dict(session.execute(
        select(StationBook.book_id, func.array_agg(aggregate_order_by(Station.name, Station.name)))
        .join(Station, Station.id == StationBook.station_id).group_by(StationBook.book_id)).all())
    progress = []
    for book_id, commune, code in session.execute(select(Book.id, Book.commune, Book.code)
                                                  .order_by(Book.commune, Book.code)):
        row = counts.get(book_id)
        progress.append(BookProgress(commune, code, *(
            (row.expected, row.done, row.missing, row.doubtful, row.to_pick) if row else (0, 0, 0, 0, 0)),
            list(senders.get(book_id, []))))
    return progress


def station_contacts(session: Session) -> list[StationContact]:
    books = dict(session.execute(select(StationBook.station_id, func.count()).group_by(StationBook.station_id)).all())
    return [StationContact(s.name, s.commune, s.last_contact, s.revoked_at is not None, books.get(s.id, 0))
            for s in session.scalars(select(Station).order_by(Station.name))]
