"""The province's picture for the centre's dashboard: province → district → commune → book → entry, each
station's throughput and last contact, and the books at risk.

Nothing is counted entry by entry in Python: a province is some 2,000 books, 200,000 entries and 1,000,000
pages, and a view must answer within a second. A book's figures are its tally (book_tallies, counted by
progress.py at each push), a row a book; Python only adds those rows up into communes and districts, whose
names are compared normalised (communes.py). A book's entries are their outcomes stored with its tally,
one page of them at a time; the stations' throughput is a GROUP BY over the last days.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from station.catalog.models import utcnow
from station.centre.catalog import Book, BookTally, Entry, StoredOutcome
from station.centre.communes import NO_DISTRICT, commune_key, districts, known_names, tidy

STALLED_DAYS = 3          # an unfinished book with nothing new for this long is stalled
SILENT_HOURS = 24         # a station not heard from for this long is flagged
THROUGHPUT_DAYS = 7       # stations' throughput is measured over this many last days
NO_COMMUNE = "(chưa đặt tên xã / commune not set)"
MAX_PAGE = 500            # rows a listing sends at once

def for_aggregates(session: Session) -> None:
    """Settings for this transaction's aggregates over the whole province: no JIT (compiling them cost over
    a second of the 3.5 s a first province view took at 200,000 entries, for nothing), and enough memory to
    group 200,000 entries or 1,000,000 pages without spilling to disk."""
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))


@dataclass
class Totals:
    expected: int = 0
    done: int = 0
    doubtful: int = 0
    missing: int = 0
    to_pick: int = 0

    def add(self, other: Totals) -> None:
        for name in ("expected", "done", "doubtful", "missing", "to_pick"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class BookRow(Totals):
    id: int = 0
    commune: str = ""
    code: str = ""
    last_activity: datetime | None = None
    stalled: bool = False
    risks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["last_activity"] = self.last_activity.isoformat() if self.last_activity else None
        return data


@dataclass
class Area(Totals):
    """A district or a commune: its totals and how many of its books are at risk."""
    name: str = ""
    key: str = ""
    books: int = 0
    communes: int = 0
    at_risk: int = 0
    stalled: int = 0
    district: str | None = None

    def take(self, book: BookRow) -> None:
        self.add(book)
        self.books += 1
        self.at_risk += bool(book.risks)
        self.stalled += book.stalled

    def as_dict(self) -> dict:
        return asdict(self)


def book_rows(session: Session, book_ids: list[int] | None = None, stalled_days: float = STALLED_DAYS,
              now: datetime | None = None) -> list[BookRow]:
    """Every book's figures (or those of `book_ids`) from its tally, with its risks. Its last activity is the
    latest change a station recorded on one of its entries, else the book's arrival."""
    query = (select(Book.id, Book.commune, Book.code, Book.created_at, BookTally)
             .outerjoin(BookTally, BookTally.book_id == Book.id).order_by(Book.commune, Book.code))
    if book_ids is not None:
        query = query.where(Book.id.in_(book_ids))
    stalled_before = (now or utcnow()) - timedelta(days=stalled_days)
    rows = []
    for book_id, commune, code, created_at, tally in session.execute(query):
        book = BookRow(id=book_id, commune=commune, code=code,
                       last_activity=(tally.last_activity if tally else None) or created_at)
        if tally is not None:
            book.expected, book.done, book.doubtful = tally.expected, tally.done, tally.doubtful
            book.missing, book.to_pick = tally.missing, tally.to_pick
        book.stalled = book.done < book.expected and book.last_activity < stalled_before
        book.risks = risks(book, stalled_days)
        rows.append(book)
    return rows


def risks(book: BookRow, stalled_days: float) -> list[str]:
    """Why a book needs someone's eye; none for a book going well. Entries missing from a book nobody has
    started are only work to come; once it has started they are gaps."""
    found = []
    if book.stalled:
        found.append(f"đứng yên hơn {stalled_days:g} ngày / nothing new for over {stalled_days:g} days")
    if book.to_pick:
        found.append(f"{book.to_pick} cần chọn bản quét / rescans to pick")
    if book.doubtful - book.to_pick > 0:
        found.append(f"{book.doubtful - book.to_pick} cần kiểm tra / doubtful")
    if book.missing and book.done + book.doubtful:
        found.append(f"{book.missing} thiếu / missing")
    return found


def risk_order(book: BookRow) -> tuple:
    return (not book.stalled, -book.to_pick, -(book.doubtful - book.to_pick), -book.missing, book.commune, book.code)


@dataclass
class Picture:
    """Books grouped by commune key and district (NO_DISTRICT when none is known)."""
    books: list[BookRow]
    commune_names: dict[str, str]           # key → name shown
    district_of: dict[str, str]             # commune key → district shown

    def shown(self, book: BookRow) -> dict:
        """A book for the page, its commune named as the picture names it (not as one station spelled it)."""
        key = commune_key(book.commune)
        return book.as_dict() | {"commune": self.commune_names.get(key) or tidy(book.commune) or NO_COMMUNE}

    def commune_books(self, key: str) -> list[BookRow]:
        return [b for b in self.books if commune_key(b.commune) == key]

    def communes(self, district: str | None = None) -> list[Area]:
        areas: dict[str, Area] = {}
        for book in self.books:
            key = commune_key(book.commune)
            if district is not None and self.district_of.get(key, NO_DISTRICT) != district:
                continue
            area = areas.setdefault(key, Area(name=self.commune_names.get(key) or tidy(book.commune) or NO_COMMUNE,
                                              key=key, communes=1, district=self.district_of.get(key, NO_DISTRICT)))
            area.take(book)
        return sorted(areas.values(), key=lambda a: a.name.casefold())

    def districts(self) -> list[Area]:
        areas: dict[str, Area] = defaultdict(Area)
        communes: dict[str, set[str]] = defaultdict(set)
        for book in self.books:
            key = commune_key(book.commune)
            name = self.district_of.get(key, NO_DISTRICT)
            area = areas[name]
            area.name = area.key = name
            area.take(book)
            communes[name].add(key)
        for name, area in areas.items():
            area.communes = len(communes[name])
        # The books without a district last: they ask for the district to be set.
        return sorted(areas.values(), key=lambda a: (a.name == NO_DISTRICT, a.name.casefold()))


def picture(session: Session, stalled_days: float = STALLED_DAYS, book_ids: list[int] | None = None,
            now: datetime | None = None) -> Picture:
    names = known_names(session)
    known = districts(session)
    district_of = {key: known[key] for key in names if known.get(key)}
    return Picture(book_rows(session, book_ids, stalled_days, now), names, district_of)


def commune_book_ids(session: Session, key: str) -> list[int]:
    """The books of a commune, however each station spelled its name."""
    return _books_of_communes(session, lambda name: commune_key(name) == key)


def district_book_ids(session: Session, district: str) -> list[int] | None:
    """The books of a district; None when that is every book (no district set yet, or only one), which
    the aggregates read faster without a list."""
    known = districts(session)
    return _books_of_communes(session, lambda name: (known.get(commune_key(name)) or NO_DISTRICT) == district,
                              none_for_all=True)


def _books_of_communes(session: Session, wanted, none_for_all: bool = False) -> list[int] | None:
    every = list(session.scalars(text("SELECT DISTINCT commune FROM books")))
    spellings = [name for name in every if wanted(name)]
    if none_for_all and spellings and len(spellings) == len(every):
        return None
    return list(session.scalars(text("SELECT id FROM books WHERE commune = ANY(:names) ORDER BY id"),
                                {"names": spellings}))


# --- one book's entries -------------------------------------------------------------------------------
STATION_SAYS = """
SELECT es.entry_id, st.name, es.status, es.reason FROM entry_states es JOIN stations st ON st.id = es.station_id
WHERE es.entry_id = ANY(:ids) ORDER BY st.name
"""


def book_entries(session: Session, book_id: int, status: str | None, offset: int, limit: int) -> dict:
    """A page of one book's entries with their outcome as stored with the book's tally (progress.count_books)
    and what each station says of the doubtful ones."""
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    counts = dict(session.execute(select(StoredOutcome.status, func.count()).where(StoredOutcome.book_id == book_id)
                                  .group_by(StoredOutcome.status)).all())
    page = (select(StoredOutcome.entry_id, Entry.number, StoredOutcome.status, StoredOutcome.to_pick,
                   StoredOutcome.done_at, Entry.page_no)
            .join(Entry, Entry.id == StoredOutcome.entry_id).where(StoredOutcome.book_id == book_id)
            .order_by(Entry.number).limit(limit).offset(offset))
    if status:
        page = page.where(StoredOutcome.status == status)
    rows = session.execute(page).all()
    ids = [r.entry_id for r in rows]
    says: dict[int, list[str]] = defaultdict(list)
    done_on: dict[int, list[str]] = defaultdict(list)
    for entry_id, station, said, reason in session.execute(text(STATION_SAYS), {"ids": ids}):
        if said != "done" or reason:
            says[entry_id].append(f"{station}: {reason or said}")
        if said == "done":
            done_on[entry_id].append(station)
    entries = [{"number": r.number, "status": r.status, "to_pick": r.to_pick, "page_no": r.page_no,
                "done_at": r.done_at.isoformat() if r.done_at else None,          # stored for done entries only
                "stations": says.get(r.entry_id, []),
                # The stations whose scan the user may pick (progress.pick) when the entry is to pick.
                "pick_from": done_on.get(r.entry_id, []) if r.to_pick else []}
               for r in rows]
    total = counts.get(status, 0) if status else sum(counts.values())
    return {"entries": entries, "offset": offset, "limit": limit, "total": total}


# --- stations ---------------------------------------------------------------------------------------
STATION_WORK = """
SELECT s.id, s.name, s.commune, s.last_contact, s.revoked_at,
       coalesce(p.pages, 0) AS pages, coalesce(p.hours, 0) AS active_hours,
       coalesce(d.pdfs, 0) AS pdfs, coalesce(e.done, 0) AS entries_done
FROM stations s
LEFT JOIN (SELECT station_id, sum(pages) AS pages, count(*) AS hours
           FROM (SELECT station_id, date_trunc('hour', processed_at) AS hour, count(*) AS pages
                 FROM pages WHERE processed_at >= :since GROUP BY station_id, hour) per_hour
           GROUP BY station_id) p ON p.station_id = s.id
LEFT JOIN (SELECT station_id, count(*) AS pdfs FROM pdfs WHERE created_at >= :since GROUP BY station_id) d
       ON d.station_id = s.id
LEFT JOIN (SELECT station_id, count(*) AS done FROM entry_states
           WHERE status = 'done' AND changed_at >= :since GROUP BY station_id) e ON e.station_id = s.id
ORDER BY s.name
"""


def station_work(session: Session, days: float = THROUGHPUT_DAYS, silent_hours: float = SILENT_HOURS,
                 now: datetime | None = None) -> list[dict]:
    """Each station's last contact and its work over the last `days`: pages processed, pages an hour (over
    the hours it processed any), PDFs received, entries done and done a day."""
    now = now or utcnow()
    silent_before = now - timedelta(hours=silent_hours)
    for_aggregates(session)
    stations = []
    for r in session.execute(text(STATION_WORK), {"since": now - timedelta(days=days)}).mappings():
        contact = r["last_contact"]
        stations.append({
            "station": r["name"], "commune": r["commune"], "revoked": r["revoked_at"] is not None,
            "last_contact": contact.isoformat() if contact else None,
            "silent": r["revoked_at"] is None and (contact is None or contact < silent_before),
            "pages": r["pages"], "active_hours": r["active_hours"],
            "pages_per_hour": round(r["pages"] / r["active_hours"], 1) if r["active_hours"] else 0.0,
            "pdfs": r["pdfs"], "entries_done": r["entries_done"],
            "entries_per_day": round(r["entries_done"] / days, 1)})
    return stations
