"""ISO weeks of progress, for the weekly reports: the station's (report.py) and the province centre's
(station/centre/weekly.py). Entries done per week, cumulative and remaining, one row per week, and those
rows as workbook cells. Light on purpose: the centre uses it without the station's review code."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openpyxl.cell import WriteOnlyCell

from station.export.workbook import DATE_FORMAT, text_cell


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeekRow:
    week: str          # ISO week, e.g. 2025-W07
    start: date        # Monday
    end: date          # Sunday
    done: int          # entries that became done this week
    cumulative: int
    remaining: int

    def as_dict(self) -> dict:
        return {"week": self.week, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "done": self.done, "cumulative": self.cumulative, "remaining": self.remaining}


def week_rows(per_week: Mapping[date, int], expected: int, first: date | None, last: date) -> list[WeekRow]:
    """One row per week from `first`'s week to `last`'s, weeks without progress included; `per_week`
    counts the entries done each week, by its Monday."""
    per_week = Counter(per_week)
    monday = week_start(first) if first else week_start(last)
    rows, cumulative = [], 0
    while monday <= week_start(last):
        cumulative += per_week[monday]
        rows.append(WeekRow(week_label(monday), monday, monday + timedelta(days=6), per_week[monday], cumulative,
                            expected - cumulative))
        monday += timedelta(days=7)
    return rows


def week_rows_of_days(done_days: Mapping[date, int], expected: int, last: date) -> list[WeekRow]:
    """The rows from the week of the first day an entry became done (`done_days`: day -> how many) to
    `last`'s."""
    per_week: Counter[date] = Counter()
    for day, count in done_days.items():
        per_week[week_start(day)] += count
    return week_rows(per_week, expected, min(done_days, default=None), last)


# --- Excel ---------------------------------------------------------------------------------------------
WEEK_HEADER = ["Tuần / week", "Từ ngày / from", "Đến ngày / to", "Xong trong tuần / done",
               "Lũy kế / cumulative", "Còn lại / remaining"]


def date_cell(ws, value: date | datetime | None, fmt: str = DATE_FORMAT):
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value.replace(tzinfo=None) if isinstance(value, datetime) else value)
    cell.number_format = fmt
    return cell


def week_cells(ws, row: WeekRow) -> list:
    return [text_cell(ws, row.week), date_cell(ws, row.start), date_cell(ws, row.end), row.done,
            row.cumulative, row.remaining]
