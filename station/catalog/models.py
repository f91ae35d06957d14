"""The catalog: books, entries, batches, captures, pages, scans of entries and PDFs.

SQLite in the station home, through SQLAlchemy, so that a shared PostgreSQL can replace it without
rewriting this module. Capture order (the order pages came off the scanner) is kept apart from book
order (the entry and position a page is assigned to).
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Date, DateTime, Enum, Float, ForeignKey, Index, String,
                        UniqueConstraint, create_engine, event, select, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from station import faults
from station.catalog import migrate


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Verdict(str, enum.Enum):
    separator = "separator"
    blank = "blank"
    content = "content"
    doubtful = "doubtful"
    quarantined = "quarantined"


class Book(Base):
    __tablename__ = "books"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    book_type: Mapped[str] = mapped_column(String(4))
    year: Mapped[int]
    volume: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The register as imported, kept in the home so export can give back its rows unchanged.
    register_file: Mapped[str | None] = mapped_column(String(300))
    register_sha256: Mapped[str | None] = mapped_column(String(64))
    entries: Mapped[list[Entry]] = relationship(back_populates="book", order_by="Entry.number",
                                                cascade="all, delete-orphan")


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("book_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[str] = mapped_column(ForeignKey("books.id"), index=True)
    number: Mapped[int]
    reg_date: Mapped[date | None] = mapped_column(Date)
    page_no: Mapped[str | None] = mapped_column(String(20))
    register_row: Mapped[int | None]
    # The operator accepted the entry despite its warnings (e.g. a page below the profile's dpi).
    accepted_reason: Mapped[str | None] = mapped_column(String(300))
    # Optimistic locking: a correction made on a stale view of the entry is refused, not merged.
    version: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __mapper_args__ = {"version_id_col": version}
    book: Mapped[Book] = relationship(back_populates="entries")
    scans: Mapped[list[Scan]] = relationship(back_populates="entry", order_by="Scan.id")
    pdf: Mapped[Pdf | None] = relationship(back_populates="entry")


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    profile: Mapped[str] = mapped_column(String(64))
    # The paper the operator stated for the session (--paper, a hot folder's paper:), so that a batch
    # finished after a crash measures its captures' resolution on the same paper. NULL: the profile's.
    paper: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    captures: Mapped[list[Capture]] = relationship(back_populates="batch", order_by="Capture.seq")


class Capture(Base):
    """One image as it came off the scanner (or one frame of a multi-page file), stored in the home."""
    __tablename__ = "captures"
    __table_args__ = (UniqueConstraint("batch_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    seq: Mapped[int]
    source_name: Mapped[str] = mapped_column(String(500))
    stored_file: Mapped[str] = mapped_column(String(300))
    frame: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    batch: Mapped[Batch] = relationship(back_populates="captures")
    # One page, or two when an overhead capture of an open book is split at the gutter.
    pages: Mapped[list[Page]] = relationship(back_populates="capture", order_by="Page.part")


class Page(Base):
    """What the pipeline made of a capture: verdict, measurements and the encoded image."""
    __tablename__ = "pages"
    # Pages held outside any entry, counted on every overview: an index of those alone.
    __table_args__ = (UniqueConstraint("capture_id", "part"),
                      Index("ix_pages_held", "deleted", sqlite_where=text("held_reason IS NOT NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    part: Mapped[int] = mapped_column(default=0)  # 0, or 0/1 for the left/right page of a spread
    verdict: Mapped[Verdict] = mapped_column(Enum(Verdict, native_enum=False, length=16))
    # The pipeline's warning: why the page is doubtful, quarantined, or below the profile's bar.
    reason: Mapped[str | None] = mapped_column(String(300))
    # The station's: why the page is held outside any entry (before a separator, unknown book…).
    held_reason: Mapped[str | None] = mapped_column(String(300))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    image_file: Mapped[str | None] = mapped_column(String(300))
    image_format: Mapped[str | None] = mapped_column(String(16))
    image_bytes: Mapped[int | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    dpi: Mapped[float | None] = mapped_column(Float)
    input_dpi: Mapped[float | None] = mapped_column(Float)
    dpi_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    skew_deg: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[int | None]
    over_budget: Mapped[bool] = mapped_column(Boolean, default=False)
    separator_text: Mapped[str | None] = mapped_column(String(200))
    # Read on the page by OCR (pipeline.ocr), when the profile asks: the registration number (only
    # when read with confidence), the volume and year printed beside it, and a small image of the
    # "Số: N" words as the operator's evidence. NULL: nothing read (see measures["ocr"]).
    read_number: Mapped[int | None] = mapped_column(index=True)
    read_confidence: Mapped[float | None] = mapped_column(Float)
    read_volume: Mapped[str | None] = mapped_column(String(8))
    read_year: Mapped[int | None]
    number_evidence_file: Mapped[str | None] = mapped_column(String(300))
    # Invisible OCR text laid under the image in the entry's PDF (profile `text_layer`).
    text_layer_file: Mapped[str | None] = mapped_column(String(300))
    measures: Mapped[dict | None] = mapped_column(JSON)
    # A bound book captured by page (station/capture/placing.py): the start sheet this page follows,
    # and the book page the operator stated for it when the sequence broke (it outranks what is read).
    run_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    stated_page: Mapped[int | None]
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    capture: Mapped[Capture] = relationship(back_populates="pages")


class Scan(Base):
    """One scanning of an entry: the pages after its separator sheet in one batch. An entry scanned
    again has several; until the operator picks one (`chosen`), the entry is doubtful."""
    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    separator_page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    chosen: Mapped[bool | None] = mapped_column(Boolean)
    # A capture of this scan's stretch could not be read: a page (or a separator) may be missing.
    damaged: Mapped[bool] = mapped_column(Boolean, default=False)
    # Made by placing a bound book's pages by the register, not by an entry's separator: kept current
    # as the book's pages come, and `doubt` says why its pages are withheld (a page turn went wrong).
    placed: Mapped[bool] = mapped_column(Boolean, default=False)
    doubt: Mapped[str | None] = mapped_column(String(300))
    entry: Mapped[Entry] = relationship(back_populates="scans")
    pages: Mapped[list[ScanPage]] = relationship(order_by="ScanPage.position", cascade="all, delete-orphan",
                                                 back_populates="scan")


class ScanPage(Base):
    __tablename__ = "scan_pages"
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), primary_key=True)
    position: Mapped[int]
    page: Mapped[Page] = relationship()
    scan: Mapped[Scan] = relationship(back_populates="pages")


class Pdf(Base):
    __tablename__ = "pdfs"
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    file: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entry: Mapped[Entry] = relationship(back_populates="pdf")


class Correction(Base):
    """The audit record of an operator's correction: who, when, what. Ids and numbers only."""
    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operator: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    book_id: Mapped[str | None] = mapped_column(String(20), index=True)
    entry_number: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON)


class StoredEntryState(Base):
    """An entry's state as station.review.entries.entry_state gives it, kept current by
    station.review.states so that every book's progress is a few SQL aggregates."""
    __tablename__ = "entry_states"
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    book_id: Mapped[str] = mapped_column(ForeignKey("books.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))   # done, missing or doubtful
    pages: Mapped[int]                                # pages of the scan that counts
    reasons: Mapped[list] = mapped_column(JSON)       # why doubtful (or accepted), as the operator reads it


class StoredBookFacts(Base):
    """A book's counts from its entries' states, and what its notes need (station.review.entries.BookFacts),
    kept with them: a station's overview reads one row a book."""
    __tablename__ = "book_states"
    book_id: Mapped[str] = mapped_column(ForeignKey("books.id"), primary_key=True)
    expected: Mapped[int]
    done: Mapped[int]
    missing: Mapped[int]
    doubtful: Mapped[int]
    pages: Mapped[int]              # of the scans that count
    bytes: Mapped[int]              # of the entries' PDFs
    last_page_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # latest page filed, UTC
    # Entries done by the UTC quarter-hour they became done in ("2025-03-04 12:15": 3): the local day of
    # each, wherever the station is, since every time zone is whole quarter-hours off UTC.
    done_quarters: Mapped[dict] = mapped_column(JSON)
    by_page: Mapped[bool] = mapped_column(Boolean)    # a scan of it placed by page (after start sheets)
    first_pages: Mapped[int]        # CrossCheck: entries whose counting scan has pages,
    numbers_attempted: Mapped[int]  # of their first pages those OCR read,
    numbers_read: Mapped[int]       # and of those, a number read with confidence
    over_cap_pages: Mapped[int]
    stated_by: Mapped[int]          # station.review.states.STATES_VERSION of the code that stated the book


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def open_catalog(home: Path) -> sessionmaker[Session]:
    # Entries' stored states are worked out by the review code, which needs these models loaded first.
    from station.review import states
    # Several batches (a hot folder, a scan job) may write at once: wait for the lock, don't fail.
    engine = create_engine(f"sqlite:///{home / 'catalog.sqlite'}", connect_args={"timeout": 60})
    event.listen(engine, "connect", _sqlite_pragmas)
    migrate.upgrade(engine, home)
    states.bring_up_to_date(engine, home)
    maker = sessionmaker(engine, expire_on_commit=False)
    states.keep_current(maker)
    if faults.PLAN:  # the crash campaign's kill points around every commit (station/faults.py)
        event.listen(engine, "commit", lambda _connection: faults.crash_point("commit"))
        event.listen(maker, "after_commit", lambda _session: faults.crash_point("committed"))
    return maker


def get_book(session: Session, book_id: str) -> Book | None:
    return session.get(Book, book_id)


def entry_by_number(session: Session, book_id: str, number: int) -> Entry | None:
    return session.scalar(select(Entry).where(Entry.book_id == book_id, Entry.number == number))
