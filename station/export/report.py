"""Weekly progress report, per book and for the commune: entries done per ISO week, cumulative,
remaining. The commune's plan requires it weekly for the district; it is written as Excel (`station
report weekly`) and shown as a printable page by the dashboard.

An entry counts in the week it became done: the later of the moment its last page was processed and
the operator's last correction of it (a pick, an accept). Entries not done today count as remaining,
whatever was scanned of them. Weeks are ISO weeks (Monday to Sunday) in the station's local time.
"""
from __future__ import annotations

import io
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station.catalog.models import Book, Correction, StoredBookFacts
from station.catalog.storage import write_atomic
from station.config import LoadedConfig
from station.export.weeks import WEEK_HEADER, WeekRow, date_cell, week_cells, week_rows_of_days
from station.export.workbook import DATETIME_FORMAT, text_cell, verify_no_formula
from station.review import states
from station.review.entries import EntryState, book_facts, entry_state
from station.review.states import done_at
from station.review.strip import by_page_books, by_page_facts

NO_COMMUNE = "(chưa đặt tên xã trong config.yaml / commune not set)"


def local_time(moment: datetime) -> datetime:
    """Catalog times are UTC (SQLite hands them back without a zone); the report speaks local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone()


@dataclass
class BookProgress:
    book: str
    expected: int
    done: int
    missing: int
    doubtful: int
    pages: int
    bytes: int
    last_activity: datetime | None
    done_this_week: int
    weeks: list[WeekRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # BookFacts.notes: checks that cannot work, size
    # Captured by page after start sheets (placed by the register), and where its sequence broke.
    by_page: bool = False
    breaks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"book": self.book, "expected": self.expected, "done": self.done, "missing": self.missing,
                "doubtful": self.doubtful, "pages": self.pages, "bytes": self.bytes,
                "last_activity": self.last_activity.isoformat() if self.last_activity else None,
                "done_this_week": self.done_this_week, "weeks": [w.as_dict() for w in self.weeks],
                "notes": self.notes, "by_page": self.by_page, "breaks": self.breaks}


@dataclass
class WeeklyReport:
    commune: str
    station: str
    generated_at: datetime
    expected: int
    weeks: list[WeekRow]            # the commune: every book of this station together
    books: list[BookProgress]

    def as_dict(self) -> dict:
        return {"commune": self.commune, "station": self.station, "generated_at": self.generated_at.isoformat(),
                "expected": self.expected, "weeks": [w.as_dict() for w in self.weeks],
                "books": [b.as_dict() for b in self.books]}


def last_activity(session: Session, book_id: str | None = None) -> dict[str, datetime]:
    """Per book (or for one), the latest page filed into one of its entries (stored with its entries'
    states) or correction of it."""
    latest: dict[str, datetime] = {}
    pages = select(StoredBookFacts.book_id, StoredBookFacts.last_page_at)
    corrections = (select(Correction.book_id, func.max(Correction.at)).where(Correction.book_id.is_not(None))
                   .group_by(Correction.book_id))
    if book_id:
        pages = pages.where(StoredBookFacts.book_id == book_id)
        corrections = corrections.where(Correction.book_id == book_id)
    for query in (pages, corrections):
        for book_id, moment in session.execute(query):
            if moment is not None:
                moment = local_time(moment)
                latest[book_id] = max(latest.get(book_id, moment), moment)
    return latest


def progress_of(session: Session, book: Book, last: datetime | None, today: date
                ) -> tuple[BookProgress, Counter[date], list[EntryState]]:
    """One loaded book: its progress, the days its done entries became done, each entry's state. The
    session is asked again only for a book captured by page (its breaks)."""
    done_days, status, pages, size, states = Counter(), Counter(), 0, 0, []
    facts = book_facts(book)
    for entry in book.entries:
        state = entry_state(entry, facts)
        states.append(state)
        status[state.status] += 1
        pages += len(state.pages)
        size += entry.pdf.bytes if entry.pdf else 0
        if state.status == "done":
            moment = done_at(entry, state.pages)
            done_days[local_time(moment).date() if moment else today] += 1
    expected = len(book.entries)
    weeks = week_rows_of_days(done_days, expected, today)
    progress = BookProgress(book.id, expected, status["done"], status["missing"], status["doubtful"], pages, size,
                            last, weeks[-1].done, weeks, facts.notes())
    by_page = by_page_facts(session, book)
    if by_page is not None:
        progress.by_page = True
        progress.breaks, notes = by_page
        progress.notes.extend(notes)
    return progress, done_days, states


def _collect(session: Session, book_id: str | None, today: date) -> list[tuple[BookProgress, Counter[date]]]:
    """Each book's progress with the days its done entries became done, from the stored states: a few
    SQL aggregates, however many books (a book captured by page also has its strip worked out)."""
    activity = last_activity(session, book_id)
    days = states.done_days(session, today, book_id)
    by_page = by_page_books(session, book_id)
    collected = []
    for tally in states.tallies(session, book_id):
        done_days = days.get(tally.book, Counter())
        weeks = week_rows_of_days(done_days, tally.expected, today)
        progress = BookProgress(tally.book, tally.expected, tally.done, tally.missing, tally.doubtful, tally.pages,
                                tally.bytes, activity.get(tally.book), weeks[-1].done, weeks, tally.notes)
        if tally.book in by_page:
            progress.by_page = True
            progress.breaks, notes = by_page[tally.book]
            progress.notes.extend(notes)
        collected.append((progress, done_days))
    return collected


def today_here() -> date:
    return datetime.now().astimezone().date()


def book_progress(session: Session, book_id: str | None = None) -> list[BookProgress]:
    return [progress for progress, _ in _collect(session, book_id, today_here())]


def weekly_report(session: Session, cfg: LoadedConfig, book_id: str | None = None,
                  today: date | None = None) -> WeeklyReport:
    """The report for every book in the catalog, or for one (`book_id`, already checked to exist)."""
    today = today or today_here()
    collected = _collect(session, book_id, today)
    every_day = sum((days for _, days in collected), Counter())
    books = [progress for progress, _ in collected]
    expected = sum(b.expected for b in books)
    return WeeklyReport(cfg.settings.commune or NO_COMMUNE, socket.gethostname(), datetime.now().astimezone(),
                        expected, week_rows_of_days(every_day, expected, today), books)


# --- Excel ------------------------------------------------------------------------------------
def weekly_workbook(report: WeeklyReport, name: str) -> bytes:
    """The report as .xlsx bytes: the commune by week, the books today, every book by week. Text from
    the config or the catalog is written as plain text, never as a formula."""
    wb = Workbook(write_only=True)
    commune = wb.create_sheet("Xã")
    commune.append([text_cell(commune, "Báo cáo tiến độ số hóa Sổ hộ tịch theo tuần / weekly progress")])
    commune.append([text_cell(commune, "Xã / commune"), text_cell(commune, report.commune)])
    commune.append([text_cell(commune, "Trạm / station"), text_cell(commune, report.station)])
    commune.append([text_cell(commune, "Lập lúc / generated"),
                    date_cell(commune, report.generated_at, DATETIME_FORMAT)])
    commune.append([text_cell(commune, "Tổng số trường hợp / entries"), report.expected])
    commune.append([])
    commune.append([text_cell(commune, h) for h in WEEK_HEADER])
    for row in report.weeks:
        commune.append(week_cells(commune, row))

    books = wb.create_sheet("Sổ")
    books.append([text_cell(books, h) for h in (
        "Sổ / book", "Tổng số / expected", "Xong / done", "Thiếu / missing", "Cần kiểm tra / doubtful",
        "Xong tuần này / done this week", "Còn lại / remaining", "Trang / pages", "MB",
        "Hoạt động gần nhất / last activity")])
    for book in report.books:
        books.append([text_cell(books, book.book), book.expected, book.done, book.missing, book.doubtful,
                      book.done_this_week, book.expected - book.done, book.pages, round(book.bytes / 1e6, 1),
                      date_cell(books, book.last_activity, DATETIME_FORMAT)])

    by_week = wb.create_sheet("Theo tuần")
    by_week.append([text_cell(by_week, "Sổ / book"), *(text_cell(by_week, h) for h in WEEK_HEADER)])
    for book in report.books:
        for row in book.weeks:
            by_week.append([text_cell(by_week, book.book), *week_cells(by_week, row)])

    buffer = io.BytesIO()
    wb.save(buffer)
    verify_no_formula(buffer, name)
    return buffer.getvalue()


def write_weekly_workbook(path: Path, report: WeeklyReport) -> None:
    write_atomic(path, weekly_workbook(report, str(path)))
