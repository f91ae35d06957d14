"""The weekly progress report from the centre's data, for a commune, a district or the whole province:
entries done per ISO week, cumulative, remaining, as the station's own report (station/export/report.py)
but over every station's work, with the same week rows and workbook cells (station/export/weeks.py). Excel
(`station centre report`, the dashboard's download) and a printable page.

An entry done at the centre counts in the week it became done: when a station's state of it, done with its
PDF, last changed (progress.done_moments, stored with the entry's outcome at each push of its book). Weeks
are ISO weeks in the centre's local time, counted by PostgreSQL (GROUP BY book and week); each book's
figures are its tally.
"""
from __future__ import annotations

import html
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from sqlalchemy import Date, Interval, Select, cast, func, literal, select
from sqlalchemy.orm import Session

from station.catalog.storage import write_atomic
from station.centre.catalog import StoredOutcome
from station.centre.communes import NO_DISTRICT, commune_key, districts, known_names, tidy
from station.centre.picture import NO_COMMUNE, book_rows, commune_book_ids, district_book_ids, for_aggregates
from station.errors import CentreError
from station.export.weeks import WEEK_HEADER, WeekRow, date_cell, week_cells, week_rows, week_start
from station.export.workbook import DATETIME_FORMAT, text_cell, verify_no_formula

def done_per_week(book_ids: list[int] | None, utc_offset: timedelta) -> Select:
    """Per book, its entries done at the centre by the Monday of the week (local time) they became done:
    book_id, monday (None when no moment is known), entries."""
    local = func.timezone(literal(utc_offset, Interval()), StoredOutcome.done_at)
    monday = cast(func.date_trunc("week", local), Date).label("monday")
    query = (select(StoredOutcome.book_id, monday, func.count()).where(StoredOutcome.status == "done")
             .group_by(StoredOutcome.book_id, monday))
    return query.where(StoredOutcome.book_id.in_(book_ids)) if book_ids is not None else query


@dataclass
class Part:
    """A district of the province, a commune of a district, or a book of a commune."""
    name: str
    expected: int
    done: int
    doubtful: int
    missing: int
    weeks: list[WeekRow]

    def as_dict(self) -> dict:
        return {"name": self.name, "expected": self.expected, "done": self.done, "doubtful": self.doubtful,
                "missing": self.missing, "weeks": [w.as_dict() for w in self.weeks]}


@dataclass
class AreaReport:
    kind: str               # province, district, commune
    area: str
    generated_at: datetime
    expected: int
    done: int
    weeks: list[WeekRow]
    parts: list[Part]

    @property
    def part_label(self) -> str:
        return {"province": "Huyện / district", "district": "Xã / commune", "commune": "Sổ / book"}[self.kind]

    @property
    def title(self) -> str:
        return {"province": "Toàn tỉnh / province", "district": f"Huyện / district {self.area}",
                "commune": f"Xã / commune {self.area}"}[self.kind]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "area": self.area, "generated_at": self.generated_at.isoformat(),
                "expected": self.expected, "done": self.done, "weeks": [w.as_dict() for w in self.weeks],
                "parts": [p.as_dict() for p in self.parts]}


def area_report(session: Session, district: str | None = None, commune: str | None = None,
                now: datetime | None = None) -> AreaReport:
    """The report for a commune (any spelling), a district (NO_DISTRICT for the communes without one), or,
    with neither, the province."""
    if district is not None and commune is not None:
        raise CentreError("Chọn một: --district hoặc --commune / give a district or a commune, not both.")
    now = (now or datetime.now()).astimezone()
    names, known = known_names(session), districts(session)
    if commune is not None:
        key = commune_key(commune)
        book_ids = commune_book_ids(session, key)
        if not book_ids:
            raise CentreError(f"Trung tâm chưa có sổ nào của xã {tidy(commune)!r} / no book of this commune: "
                              "check its spelling on the dashboard.")
        kind, area = "commune", names.get(key, tidy(commune))
    elif district is not None:
        area = tidy(district) or NO_DISTRICT
        book_ids = district_book_ids(session, area)
        if book_ids == []:          # None: every book
            raise CentreError(f"Không có sổ nào thuộc huyện {area!r} / no book in this district: see the "
                              "dashboard's districts, or set communes' districts with `station centre commune`.")
        kind = "district"
    else:
        kind, area, book_ids = "province", "", None
    books = {book.id: book for book in book_rows(session, book_ids, now=now)}
    per_book: dict[int, Counter[date]] = defaultdict(Counter)
    today = now.date()
    for_aggregates(session)
    for book_id, monday, count in session.execute(done_per_week(book_ids, now.utcoffset())):
        per_book[book_id][monday or week_start(today)] += count      # done with no moment known: this week

    def part_of(book) -> str:
        key = commune_key(book.commune)
        if kind == "commune":
            return book.code
        if kind == "district":
            return names.get(key) or tidy(book.commune) or NO_COMMUNE
        return known.get(key) or NO_DISTRICT

    grouped: dict[str, list[int]] = defaultdict(list)
    for book_id, book in books.items():
        grouped[part_of(book)].append(book_id)
    every_week: Counter[date] = Counter()
    for counts in per_book.values():
        every_week.update(counts)
    first = min(every_week, default=None)
    parts = []
    for name, ids in sorted(grouped.items(), key=lambda item: (item[0] == NO_DISTRICT, item[0].casefold())):
        weeks: Counter[date] = Counter()
        for book_id in ids:
            weeks.update(per_book.get(book_id, {}))
        members = [books[book_id] for book_id in ids]
        expected = sum(b.expected for b in members)
        parts.append(Part(name, expected, sum(b.done for b in members), sum(b.doubtful for b in members),
                          sum(b.missing for b in members), week_rows(weeks, expected, first, today)))
    expected = sum(b.expected for b in books.values())
    return AreaReport(kind, area, now, expected, sum(b.done for b in books.values()),
                      week_rows(every_week, expected, first, today), parts)


# --- Excel ---------------------------------------------------------------------------------------
def report_workbook(report: AreaReport, name: str) -> bytes:
    """The area by week, its parts today, every part by week; text always written as text."""
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("Tổng hợp")
    summary.append([text_cell(summary, "Báo cáo tiến độ số hóa Sổ hộ tịch theo tuần / weekly progress")])
    summary.append([text_cell(summary, "Phạm vi / area"), text_cell(summary, report.title)])
    summary.append([text_cell(summary, "Lập lúc / generated"),
                    date_cell(summary, report.generated_at, DATETIME_FORMAT)])
    summary.append([text_cell(summary, "Tổng số trường hợp / entries"), report.expected])
    summary.append([text_cell(summary, "Đã xong / done"), report.done])
    summary.append([])
    summary.append([text_cell(summary, h) for h in WEEK_HEADER])
    for row in report.weeks:
        summary.append(week_cells(summary, row))

    parts = wb.create_sheet("Chi tiết")
    parts.append([text_cell(parts, h) for h in (
        report.part_label, "Tổng số / expected", "Xong / done", "Cần kiểm tra / doubtful", "Thiếu / missing",
        "Xong tuần này / done this week", "Còn lại / remaining")])
    for part in report.parts:
        parts.append([text_cell(parts, part.name), part.expected, part.done, part.doubtful, part.missing,
                      part.weeks[-1].done if part.weeks else 0, part.expected - part.done])

    by_week = wb.create_sheet("Theo tuần")
    by_week.append([text_cell(by_week, report.part_label), *(text_cell(by_week, h) for h in WEEK_HEADER)])
    for part in report.parts:
        for row in part.weeks:
            by_week.append([text_cell(by_week, part.name), *week_cells(by_week, row)])

    buffer = io.BytesIO()
    wb.save(buffer)
    verify_no_formula(buffer, name)
    return buffer.getvalue()


def write_report_workbook(path, report: AreaReport) -> None:
    write_atomic(path, report_workbook(report, str(path)))


# --- the printable page ------------------------------------------------------------------------------
def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if isinstance(c, int) else
                                    f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="list"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _week_table(weeks: list[WeekRow]) -> str:
    return _table(WEEK_HEADER, [[w.week, f"{w.start:%d/%m/%Y}", f"{w.end:%d/%m/%Y}", w.done, w.cumulative,
                                 w.remaining] for w in weeks])


def report_page(report: AreaReport, download: str) -> str:
    """A page to print (the browser's own print), with the same numbers as the workbook."""
    parts = _table([report.part_label, "Tổng số / expected", "Xong / done", "Cần kiểm tra / doubtful",
                    "Thiếu / missing", "Còn lại / remaining"],
                   [[p.name, p.expected, p.done, p.doubtful, p.missing, p.expected - p.done] for p in report.parts])
    each = "".join(f"<h3>{html.escape(p.name)}</h3>{_week_table(p.weeks)}" for p in report.parts)
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo tuần — {html.escape(report.title)}</title>
<link rel="stylesheet" href="/static/app.css"><link rel="stylesheet" href="/centre-static/centre.css">
<link rel="icon" href="data:,"></head>
<body class="printable"><main>
<p class="no-print"><a href="/">← Bảng điều khiển / dashboard</a> · <a href="{html.escape(download)}">Tải Excel /
download Excel</a> · <span class="muted">In bằng Ctrl+P / print with Ctrl+P</span></p>
<h1>Báo cáo tiến độ số hóa Sổ hộ tịch theo tuần / weekly progress</h1>
<p>{html.escape(report.title)} · lập lúc / generated {report.generated_at:%d/%m/%Y %H:%M} ·
{report.done}/{report.expected} trường hợp xong / entries done</p>
<h2>Theo tuần / by week</h2>{_week_table(report.weeks)}
<h2>Chi tiết / in detail</h2>{parts}
<h2>Từng phần theo tuần / each by week</h2>{each}
</main></body></html>"""
