"""`POST /api/sync`: one book as one station holds it (station/sync/protocol.py), applied in one transaction.

- Refused whole (409, naming the files) when it names a file the centre has not received from that
  station: what is committed never points at a file that is not there.
- Written under the token's station only; rows keyed by (station, local id) are upserted, so the same
  push twice changes nothing, and one cut short by a kill -9 is rolled back by PostgreSQL and sent again.
- The book is shared: (commune, code) finds the one another station may have made, entries by number.
  A station's scans of the book that it no longer has (re-placed, re-assigned) are removed with their
  PDFs; another station's rows are never touched. An entry scanned on two stations keeps both scans,
  none picked by the centre: a rescan to pick, never one overwriting the other.
- An entry's state sent with an older version than the one held is ignored (a late, stale push).
- The book's tally (progress.count_books) is counted again in the same transaction.
- The digest of the push is kept (`station_books`): a station whose book has not changed sends nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, case, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from station.catalog.models import Verdict, utcnow
from station.centre.catalog import (Book, Correction, Entry, EntryState, Page, Pdf, Scan, ScanPage, StationBlob,
                                    StationBook)
from station.centre.progress import count_books
from station.sync.protocol import BookPush, PushAnswer

CHUNK_ROWS = 1000         # rows per INSERT: PostgreSQL takes at most 65,535 parameters a statement


class MissingFiles(Exception):
    def __init__(self, missing: list[str]):
        super().__init__(f"{len(missing)} files missing")
        self.missing = missing


def _chunks(rows: list[dict]):
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start:start + CHUNK_ROWS]


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def apply_push(session: Session, station_id: int, push: BookPush) -> PushAnswer:
    """Write the push (the caller commits); MissingFiles when it names a file the station has not sent."""
    digest = push.digest()
    named = sorted(push.files())
    if named:
        received = set(session.scalars(select(StationBlob.sha256).where(
            StationBlob.station_id == station_id, StationBlob.sha256.in_(named))))
        missing = [sha for sha in named if sha not in received]
        if missing:
            raise MissingFiles(missing)
    rows = len(push.entries) + len(push.states) + len(push.pages) + len(push.scans) + len(push.pdfs) \
        + len(push.corrections)
    if push.book is None:
        _corrections(session, station_id, None, push)
        return PushAnswer(book=None, digest=digest, unchanged=False, rows=rows)
    book_id = _book(session, push)
    # One push of a book by one station at a time (a sync killed and run again may overlap its ghost).
    session.execute(text("SELECT pg_advisory_xact_lock(:station, :book)"), {"station": station_id, "book": book_id})
    held = session.get(StationBook, (station_id, book_id))
    if held is not None and held.digest == digest:
        return PushAnswer(book=push.book.code, digest=digest, unchanged=True, rows=rows)
    entry_ids = _entries(session, book_id, push)
    page_ids = _pages(session, station_id, push)
    scan_ids = _scans(session, station_id, push, entry_ids, page_ids)
    _pdfs(session, station_id, push, entry_ids, scan_ids)
    _states(session, station_id, push, entry_ids)
    _corrections(session, station_id, book_id, push)
    count_books(session, [book_id])
    session.execute(insert(StationBook).values(station_id=station_id, book_id=book_id, digest=digest,
                                               pushed_at=utcnow())
                    .on_conflict_do_update(index_elements=["station_id", "book_id"],
                                           set_={"digest": digest, "pushed_at": utcnow()}))
    return PushAnswer(book=push.book.code, digest=digest, unchanged=False, rows=rows)


def _book(session: Session, push: BookPush) -> int:
    row = push.book
    session.execute(insert(Book).values(commune=row.commune, code=row.code, book_type=row.book_type, year=row.year,
                                        volume=row.volume, register_sha256=row.register_sha256, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["commune", "code"]))
    book_id = session.scalar(select(Book.id).where(Book.commune == row.commune, Book.code == row.code))
    if row.register_sha256:   # the first register received stays the book's; a book made without one gets it
        session.execute(update(Book).where(Book.id == book_id, Book.register_sha256.is_(None))
                        .values(register_sha256=row.register_sha256))
    return book_id


def _entries(session: Session, book_id: int, push: BookPush) -> dict[int, int]:
    """Entry number -> centre id; an entry another station made is shared, its empty fields filled."""
    for chunk in _chunks([{"book_id": book_id, "number": e.number, "reg_date": e.reg_date, "page_no": e.page_no}
                          for e in push.entries]):
        statement = insert(Entry).values(chunk)
        session.execute(statement.on_conflict_do_update(
            index_elements=["book_id", "number"],
            set_={"reg_date": func.coalesce(Entry.reg_date, statement.excluded.reg_date),
                  "page_no": func.coalesce(Entry.page_no, statement.excluded.page_no)}))
    return dict(session.execute(select(Entry.number, Entry.id).where(Entry.book_id == book_id)).all())


def _pages(session: Session, station_id: int, push: BookPush) -> dict[int, int]:
    rows = [{**p.model_dump(), "station_id": station_id, "verdict": Verdict(p.verdict),
             "processed_at": _utc(p.processed_at)} for p in push.pages]
    ids: dict[int, int] = {}
    for chunk in _chunks(rows):
        statement = insert(Page).values(chunk)
        updated = {c: statement.excluded[c] for c in chunk[0] if c not in ("station_id", "local_id")}
        result = session.execute(statement.on_conflict_do_update(
            index_elements=["station_id", "local_id"], set_=updated).returning(Page.local_id, Page.id))
        ids.update(result.all())
    return ids


def _scans(session: Session, station_id: int, push: BookPush, entry_ids: dict[int, int],
           page_ids: dict[int, int]) -> dict[int, int]:
    """The station's scans of the book as pushed: local id -> centre id. Its scans of this book it no
    longer has go, with their PDFs (another station's scans are not the push's to touch)."""
    of_book = select(Scan.id, Scan.local_id).where(Scan.station_id == station_id,
                                                   Scan.entry_id.in_(list(entry_ids.values())))
    pushed = {s.local_id for s in push.scans}
    gone = [scan_id for scan_id, local_id in session.execute(of_book) if local_id not in pushed]
    if gone:
        session.execute(delete(Pdf).where(Pdf.scan_id.in_(gone)))
        session.execute(delete(ScanPage).where(ScanPage.scan_id.in_(gone)))
        session.execute(delete(Scan).where(Scan.id.in_(gone)))
    ids: dict[int, int] = {}
    rows = [{"station_id": station_id, "local_id": s.local_id, "entry_id": entry_ids[s.number], "chosen": s.chosen,
             "damaged": s.damaged, "placed": s.placed, "doubt": s.doubt, "picked": False,
             "created_at": _utc(s.created_at) or utcnow()} for s in push.scans]
    for chunk in _chunks(rows):
        statement = insert(Scan).values(chunk)
        excluded = statement.excluded
        result = session.execute(statement.on_conflict_do_update(
            index_elements=["station_id", "local_id"],
            set_={"entry_id": excluded.entry_id, "chosen": excluded.chosen, "damaged": excluded.damaged,
                  "placed": excluded.placed, "doubt": excluded.doubt, "created_at": excluded.created_at,
                  # A station id reused for a scan of another entry loses the centre's pick of the old one.
                  "picked": case((Scan.entry_id == excluded.entry_id, Scan.picked), else_=False)})
            .returning(Scan.local_id, Scan.id))
        ids.update(result.all())
    if ids:
        session.execute(delete(ScanPage).where(ScanPage.scan_id.in_(list(ids.values()))))
    links = [{"scan_id": ids[s.local_id], "page_id": page_ids[page], "position": position}
             for s in push.scans for position, page in enumerate(dict.fromkeys(s.pages))]
    for chunk in _chunks(links):
        session.execute(insert(ScanPage).values(chunk))
    return ids


def _pdfs(session: Session, station_id: int, push: BookPush, entry_ids: dict[int, int],
          scan_ids: dict[int, int]) -> None:
    kept = [entry_ids[p.number] for p in push.pdfs]
    session.execute(delete(Pdf).where(Pdf.station_id == station_id, Pdf.entry_id.in_(list(entry_ids.values())),
                                      Pdf.entry_id.not_in(kept)))
    rows = [{"station_id": station_id, "entry_id": entry_ids[p.number], "scan_id": scan_ids[p.scan],
             "sha256": p.sha256, "pages": p.pages, "bytes": p.bytes, "created_at": utcnow()} for p in push.pdfs]
    for chunk in _chunks(rows):
        statement = insert(Pdf).values(chunk)
        excluded = statement.excluded
        session.execute(statement.on_conflict_do_update(
            index_elements=["station_id", "entry_id"],
            set_={"scan_id": excluded.scan_id, "sha256": excluded.sha256, "pages": excluded.pages,
                  "bytes": excluded.bytes,
                  "created_at": case((Pdf.sha256 == excluded.sha256, Pdf.created_at), else_=excluded.created_at)}))


def _states(session: Session, station_id: int, push: BookPush, entry_ids: dict[int, int]) -> None:
    rows = [{"station_id": station_id, "entry_id": entry_ids[s.number], "status": s.status, "reason": s.reason,
             "accepted_reason": s.accepted_reason, "local_version": s.version, "changed_at": _utc(s.changed_at),
             "received_at": utcnow()} for s in push.states]
    for chunk in _chunks(rows):
        statement = insert(EntryState).values(chunk)
        excluded = statement.excluded
        session.execute(statement.on_conflict_do_update(
            index_elements=["station_id", "entry_id"],
            set_={"status": excluded.status, "reason": excluded.reason, "accepted_reason": excluded.accepted_reason,
                  "local_version": excluded.local_version, "changed_at": excluded.changed_at,
                  "received_at": excluded.received_at},
            # An older version of the entry, arriving late, never replaces a newer one.
            where=and_(excluded.local_version >= EntryState.local_version)))


def _corrections(session: Session, station_id: int, book_id: int | None, push: BookPush) -> None:
    """The audit log is append-only: a correction already received stays as it was."""
    rows = [{"station_id": station_id, "local_id": c.local_id, "at": _utc(c.at), "operator": c.operator,
             "action": c.action, "book_id": book_id, "entry_number": c.entry_number, "details": c.details}
            for c in push.corrections]
    for chunk in _chunks(rows):
        session.execute(insert(Correction).values(chunk).on_conflict_do_nothing(
            index_elements=["station_id", "local_id"]))
