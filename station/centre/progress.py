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

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def book_progress(session: Session) -> list[BookProgress]:
    names = dict(session.execute(select(Station.id, Station.name)).all())
    senders: dict[int, set[str]] = {}
    for station_id, book_id in session.execute(select(StationBook.station_id, StationBook.book_id)):
        senders.setdefault(book_id, set()).add(names[station_id])
    progress = []
    for book in session.scalars(select(Book).order_by(Book.commune, Book.code)):
        outcomes = entry_outcomes(session, book)

        def count(status: str) -> int:
            return sum(1 for o in outcomes if o.status == status)

        progress.append(BookProgress(book.commune, book.code, len(outcomes), count("done"), count("missing"),
                                     count("doubtful"), sum(o.to_pick for o in outcomes),
                                     sorted(senders.get(book.id, ()))))
    return progress


def station_contacts(session: Session) -> list[StationContact]:
    books: dict[int, int] = {}
    for station_id in session.scalars(select(StationBook.station_id)):
        books[station_id] = books.get(station_id, 0) + 1
    return [StationContact(s.name, s.commune, s.last_contact, s.revoked_at is not None, books.get(s.id, 0))
            for s in session.scalars(select(Station).order_by(Station.name))]
