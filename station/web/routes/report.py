"""The weekly progress report: entries done per ISO week, for the commune and per book, as JSON or Excel."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from station.capture.daemon import Station
from station.export import report
from station.web.deps import CurrentStation
from station.web.lookups import require_book
from station.web.schemas import BookSummary

router = APIRouter(tags=["report"])


class WeekRowModel(BaseModel):
    week: str = Field(description="ISO week, e.g. 2025-W07.")
    start: date
    end: date
    done: int
    cumulative: int
    remaining: int


class BookWeeks(BookSummary):
    weeks: list[WeekRowModel]


class WeeklyReportModel(BaseModel):
    commune: str
    station: str
    generated_at: datetime
    expected: int
    weeks: list[WeekRowModel]
    books: list[BookWeeks]


def weekly(station: Station, book_id: str | None) -> report.WeeklyReport:
    with station.sessions() as session:
        found = require_book(session, book_id).id if book_id else None
        return report.weekly_report(session, station.cfg, found)


@router.get("/report/weekly", summary="Weekly progress: entries done per ISO week, cumulative, remaining, "
            "for the commune and per book", response_model=WeeklyReportModel)
def weekly_json(station: CurrentStation, book: str | None = Query(None, max_length=20)) -> dict:
    return weekly(station, book).as_dict()


@router.get("/report/weekly.xlsx", summary="The weekly progress report as Excel", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
                             "description": "An .xlsx workbook."}})
def weekly_xlsx(station: CurrentStation, book: str | None = Query(None, max_length=20)) -> Response:
    found = weekly(station, book)
    name = f"bao-cao-tuan-{book or 'xa'}-{found.generated_at:%Y-%m-%d}.xlsx"
    return Response(report.weekly_workbook(found, name),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})
