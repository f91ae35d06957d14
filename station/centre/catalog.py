"""The centre's catalog on PostgreSQL: the stations that send to it, and what they sent.

Filled by the stations' sync (push.py applies one book's push; station/sync/protocol.py is the wire format).

- What a station made (scans, pages, PDFs, corrections, what it says of an entry) is keyed by
  (station_id, local_id): the row's id in that station's own catalog. Two stations never collide, and a
  push repeated after a crash finds the row it made the first time instead of adding another.
- Books and their entries are shared by the stations of a commune, keyed by what is written on them:
  (commune, book code) and (book, registration number). An entry scanned on two stations has a scan from
  each: a rescan to pick (`Scan.picked`, at most one an entry), never one overwriting the other.
- Files (page images, PDFs, registers) live in the content-addressed store (store.py), named by SHA-256.
  A `blobs` row is written only once its file is durable in the store, and every row that needs a file
  references its blob, so the catalog never points at a file that is not there. `station_blobs` says
  which station sent which file: a station learns what it already sent, never what others hold.

The station's models (station/catalog/models.py) are mirrored here rather than shared: the centre adds the
station and the shared book to every key, and keeps measures as JSONB.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, Enum, Float, ForeignKey, Index,
                        MetaData, String, UniqueConstraint, create_engine, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from station.catalog.models import Verdict, utcnow
from station.errors import CentreError

SHA256_CHECK = "~ '^[0-9a-f]{64}$'"
ENTRY_STATUSES = ("done", "missing", "doubtful")


class CentreBase(DeclarativeBase):
    # Named constraints, so that later revisions can alter them by name.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Station(CentreBase):
    """A scanning station allowed to send, known by its token (tokens.py: only a hash of it is kept)."""
    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's public part, to find its station in one lookup; the secret part is only hashed.
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_contact: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The commune the station's config.yaml named at its last contact (a station may move between communes;
    # each book carries its own).
    commune: Mapped[str | None] = mapped_column(String(100))


class Blob(CentreBase):
    """A file held in the store, by its SHA-256; the row exists only once the file is durable."""
    __tablename__ = "blobs"
    __table_args__ = (CheckConstraint(f"sha256 {SHA256_CHECK}", name="sha256_hex"),)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))        # page, pdf, register, evidence
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StationBlob(CentreBase):
    """Which station sent which file (the same bytes from two stations are one file, sent by both)."""
    __tablename__ = "station_blobs"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Book(CentreBase):
    """One physical book, shared by every station of its commune that scans it."""
    __tablename__ = "books"
    __table_args__ = (UniqueConstraint("commune", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str] = mapped_column(String(20))         # the station's book id, e.g. KS.2017.01
    book_type: Mapped[str] = mapped_column(String(4))
    year: Mapped[int]
    volume: Mapped[int]
    register_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entries: Mapped[list[Entry]] = relationship(back_populates="book", order_by="Entry.number")


class Entry(CentreBase):
    """One registration of a book, whichever station scans it."""
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("book_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), index=True)
    number: Mapped[int]
    reg_date: Mapped[date | None] = mapped_column(Date)
    page_no: Mapped[str | None] = mapped_column(String(20))
    book: Mapped[Book] = relationship(back_populates="entries")


class EntryState(CentreBase):
    """What one station says of an entry: done, missing or doubtful there, and why."""
    __tablename__ = "entry_states"
    __table_args__ = (CheckConstraint("status IN ('done', 'missing', 'doubtful')", name="status_known"),)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    # Indexed on its own too: a book's tally reads its entries' states across stations.
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(300))
    accepted_reason: Mapped[str | None] = mapped_column(String(300))
    # The station's Entry.version when it sent this: an older state arriving late never replaces a newer one.
    local_version: Mapped[int]
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Scan(CentreBase):
    """One scanning of an entry on one station (station/catalog/models.py Scan)."""
    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("station_id", "local_id"),
        # The centre's pick between the scans of an entry (several stations, or rescans): one at most.
        Index("ux_scans_one_pick_per_entry", "entry_id", unique=True, postgresql_where=text("picked")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    local_id: Mapped[int]
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    chosen: Mapped[bool | None] = mapped_column(Boolean)  # the station operator's pick, as sent
    damaged: Mapped[bool] = mapped_column(Boolean, default=False)
    placed: Mapped[bool] = mapped_column(Boolean, default=False)
    doubt: Mapped[str | None] = mapped_column(String(300))
    picked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    pages: Mapped[list[ScanPage]] = relationship(order_by="ScanPage.position", cascade="all, delete-orphan")


class Page(CentreBase):
    """What a station's pipeline made of a capture, and its image for the review."""
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("station_id", "local_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    local_id: Mapped[int]
    # The capture's hash: the same sheet sent by two stations, or twice, is recognised.
    capture_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    part: Mapped[int] = mapped_column(default=0)
    verdict: Mapped[Verdict] = mapped_column(Enum(Verdict, native_enum=False, length=16))
    reason: Mapped[str | None] = mapped_column(String(300))
    held_reason: Mapped[str | None] = mapped_column(String(300))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    image_format: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None]
    height: Mapped[int | None]
    dpi: Mapped[float | None] = mapped_column(Float)
    skew_deg: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[int | None]
    read_number: Mapped[int | None]
    book_page: Mapped[int | None]         # the page's place in a bound book, stated or read
    measures: Mapped[dict | None] = mapped_column(JSONB)
    # Indexed for the dashboard's throughput over the last days.
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ScanPage(CentreBase):
    __tablename__ = "scan_pages"
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), primary_key=True)
    position: Mapped[int]


class Pdf(CentreBase):
    """A station's current PDF of an entry. A PDF rewritten by a correction replaces the row; its older
    file stays in the store."""
    __tablename__ = "pdfs"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True, index=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    pages: Mapped[int]
    bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StationBook(CentreBase):
    """The last push of a book a station's sync committed: its digest (station/sync/protocol.py), so a book
    the station has not changed since is not sent again."""
    __tablename__ = "station_books"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BookTally(CentreBase):
    """A book's figures across its stations (progress.py's rules), counted again in the transaction of each
    push of the book: the province's picture reads 2,000 of these rows instead of working out 200,000 entries.
    Derived: a book without one is counted when the centre opens (progress.count_untallied), its entries'
    outcomes (StoredOutcome) with it."""
    __tablename__ = "book_tallies"
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), primary_key=True)
    expected: Mapped[int]
    done: Mapped[int]
    missing: Mapped[int]
    doubtful: Mapped[int]
    to_pick: Mapped[int]
    # The latest change a station recorded on one of the book's entries: a book not finished and quiet for
    # days is stalled.
    last_activity: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoredOutcome(CentreBase):
    """An entry's outcome at the centre (progress.py's rules) and when it became done, stored with its book's
    tally at each push of the book: the province's weekly report groups these rows by week."""
    __tablename__ = "entry_outcomes"
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    to_pick: Mapped[bool] = mapped_column(Boolean)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Correction(CentreBase):
    """A station's audit record of an operator's correction, as it was made there."""
    __tablename__ = "corrections"
    __table_args__ = (UniqueConstraint("station_id", "local_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    local_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operator: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id"), index=True)
    entry_number: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSONB)


class Commune(CentreBase):
    """A commune as the centre's picture groups it: its name compared normalised (communes.py), and the
    district (huyện) it belongs to, which the books do not say."""
    __tablename__ = "communes"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)    # communes.commune_key(name)
    name: Mapped[str] = mapped_column(String(100))                     # as last written, for display
    district: Mapped[str | None] = mapped_column(String(100))
    # "station" (a station's config.yaml said it) or "centre" (set by `station centre commune`): a
    # station's word never overrides the centre's correction.
    district_source: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CentreUser(CentreBase):
    """Someone allowed to see the centre's dashboard; only a salted scrypt hash of the password is kept."""
    __tablename__ = "centre_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(CentreBase):
    """A signed-in browser: the cookie holds a random id, the database only its SHA-256."""
    __tablename__ = "user_sessions"
    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("centre_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def database_url(url: str) -> URL:
    """The URL as SQLAlchemy takes it; PostgreSQL only, through psycopg (`postgresql://…` works too)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CentreError(f"--database {url!r} không phải địa chỉ cơ sở dữ liệu / not a database URL: give "
                          "postgresql://USER:PASSWORD@HOST:PORT/DATABASE") from None
    if parsed.get_backend_name() != "postgresql":
        raise CentreError(f"--database {parsed.render_as_string(hide_password=True)}: trung tâm cần PostgreSQL / "
                          "the centre needs PostgreSQL: give postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    if parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown(url: URL | str) -> str:
    """The URL without its password, for messages and logs."""
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)


def open_centre(url: str) -> sessionmaker[Session]:
    """The centre's catalog at `url`, brought to the code's schema first (migrate.py)."""
    from station.centre import migrate
    parsed = database_url(url)
    engine = create_engine(parsed, pool_pre_ping=True)
    try:
        migrate.upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CentreError(f"Không kết nối được cơ sở dữ liệu {shown(parsed)} / cannot reach the centre's "
                          f"database ({reason}): check --database and that PostgreSQL is running.") from None
    sessions = sessionmaker(engine, expire_on_commit=False)
    from station.centre.progress import count_untallied
    with sessions() as session:
        count_untallied(session)
        session.commit()
    return sessions
