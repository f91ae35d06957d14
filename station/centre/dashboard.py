"""The centre's dashboard, behind a login: the page at `/` (plain HTML and JavaScript from
station/centre/static, styled by the station's own app.css), the weekly report as a printable page and
as Excel, and the JSON the page reads under /ui/.

/ui/ is apart from /api/ on purpose: /api/ is the stations' sync, behind their tokens (app.py), and its
gate stays as it is; /ui/ answers only a signed-in user's session cookie (users.py), 401 otherwise. The
pages redirect to /login instead. Answers carry book and entry numbers, counts and station names, never
citizens' data.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from station.centre import users
from station.centre.catalog import Book, CentreUser
from station.centre.communes import NO_DISTRICT, SET_DISTRICT_ADVICE, commune_key
from station.centre.picture import (MAX_PAGE, book_entries, commune_book_ids, district_book_ids, picture,
                                    THROUGHPUT_DAYS, risk_order, station_work)
from station.centre.progress import pick
from station.centre.weekly import area_report, report_page, report_workbook
from station.errors import CentreError
from station.web.page import PAGE_HEADERS

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)
COOKIE = "centre_session"
AT_RISK_SHOWN = 50            # the province's books at risk, worst first; the communes' pages have the rest
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LOGIN_BYTES = 4000      # a name and a password, form-encoded
NOT_SIGNED_IN = "Cần đăng nhập / sign in first: open the dashboard's login page."

router = APIRouter(include_in_schema=False)


def _sessions(request: Request):
    return request.app.state.sessions()


def current_user(request: Request) -> CentreUser | None:
    session_id = request.cookies.get(COOKIE, "")
    if not session_id:
        return None
    with _sessions(request) as session:
        return users.signed_in(session, session_id)


def signed_in(request: Request) -> CentreUser:
    """The /ui/ gate: the signed-in user, or 401."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401, NOT_SIGNED_IN)
    return user


User = Annotated[CentreUser, Depends(signed_in)]


# --- login -----------------------------------------------------------------------------------------
def login_page(status: int, message: str = "") -> HTMLResponse:
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    page = page.replace("<!--message-->", f'<p class="error">{message}</p>' if message else "")
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)


@router.get("/login")
def login_form(request: Request) -> Response:
    if current_user(request) is not None:
        return RedirectResponse("/", status_code=303)
    return login_page(200)


@router.post("/login")
async def login(request: Request) -> Response:
    throttle: users.LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "?"
    wait = throttle.wait_seconds(address)
    if wait > 0:
        return login_page(429, f"Sai quá nhiều lần; thử lại sau {int(wait // 60) + 1} phút / too many failed "
                               "sign-ins from here: try again in a few minutes.")
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_LOGIN_BYTES:
        return login_page(413, "Yêu cầu không hợp lệ / request refused: send the login form.")
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    name, password = (form.get("name") or [""])[0].strip(), (form.get("password") or [""])[0]

    def sign_in() -> str | None:
        with _sessions(request) as session:
            return users.sign_in(session, name, password)

    session_id = await run_in_threadpool(sign_in)     # scrypt and the database, off the event loop
    if session_id is None:
        throttle.failed(address)
        await asyncio.sleep(request.app.state.login_delay)       # each guess costs the guesser time
        return login_page(401, users.WRONG_LOGIN)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session_id, max_age=users.SESSION_HOURS * 3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    session_id = request.cookies.get(COOKIE, "")
    if session_id:
        with _sessions(request) as session:
            users.sign_out(session, session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


# --- pages -------------------------------------------------------------------------------------------
@router.get("/")
def index(request: Request) -> Response:
    if current_user(request) is None:
        return RedirectResponse("/login", status_code=303)
    return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


def _report(request: Request, district: str | None, commune: str | None):
    try:
        with _sessions(request) as session:
            return area_report(session, district, commune)
    except CentreError as refused:
        raise HTTPException(404, refused.message) from None


def _report_query(district: str | None, commune: str | None) -> str:
    given = {k: v for k, v in (("district", district), ("commune", commune)) if v is not None}
    return urlencode(given)



@router.get("/report")
def printable_report(request: Request, district: str | None = Query(None, max_length=100),
                     commune: str | None = Query(None, max_length=100)) -> Response:
    if current_user(request) is None:
        return RedirectResponse("/login", status_code=303)
    found = _report(request, district, commune)
    return HTMLResponse(report_page(found, f"/ui/report.xlsx?{_report_query(district, commune)}"),
                        headers=PAGE_HEADERS)


# --- the page's JSON -----------------------------------------------------------------------------------
ui = APIRouter(prefix="/ui", dependencies=[Depends(signed_in)], include_in_schema=False)


def _settings(request: Request) -> dict:
    return {"stalled_days": request.app.state.stalled_days, "silent_hours": request.app.state.silent_hours,
            "throughput_days": THROUGHPUT_DAYS}


@ui.get("/me")
def me(user: User, request: Request) -> dict:
    return {"user": user.name, **_settings(request)}


@ui.get("/province")
def province(request: Request) -> dict:
    with _sessions(request) as session:
        seen = picture(session, request.app.state.stalled_days)
        stations = station_work(session, silent_hours=request.app.state.silent_hours)
    at_risk = sorted((b for b in seen.books if b.risks), key=risk_order)
    totals = seen.districts()
    return {"districts": [d.as_dict() for d in totals], "stations": stations,
            "at_risk": [seen.shown(b) for b in at_risk[:AT_RISK_SHOWN]], "at_risk_total": len(at_risk),
            "books": len(seen.books), "expected": sum(d.expected for d in totals),
            "done": sum(d.done for d in totals), "no_district": NO_DISTRICT, "advice": SET_DISTRICT_ADVICE,
            **_settings(request)}


@ui.get("/district")
def district(request: Request, name: str = Query(..., max_length=100)) -> dict:
    with _sessions(request) as session:
        seen = picture(session, request.app.state.stalled_days, district_book_ids(session, name))
    return {"district": name, "communes": [c.as_dict() for c in seen.communes(name)],
            "advice": SET_DISTRICT_ADVICE if name == NO_DISTRICT else None, **_settings(request)}




@ui.get("/commune")
def commune(request: Request, name: str = Query(..., max_length=100), offset: int = Query(0, ge=0),
            limit: int = Query(100, ge=1, le=MAX_PAGE)) -> dict:
    key = commune_key(name)
    with _sessions(request) as session:
        seen = picture(session, request.app.state.stalled_days, commune_book_ids(session, key))
    areas = seen.communes()
    if not areas:
        raise HTTPException(404, f"Không có sổ nào của xã {name!r} / no book of this commune at the centre.")
    (area,) = areas
    books = seen.commune_books(key)
    return {"commune": area.as_dict(), "books": [seen.shown(b) for b in books[offset:offset + limit]],
            "offset": offset, "limit": limit, "total": len(books),
            "advice": SET_DISTRICT_ADVICE if area.district == NO_DISTRICT else None, **_settings(request)}


@ui.get("/books/{book_id}")
def book(request: Request, book_id: int, status: str | None = Query(None, pattern="^(done|doubtful|missing)$"),
         offset: int = Query(0, ge=0), limit: int = Query(200, ge=1, le=MAX_PAGE)) -> dict:
    with _sessions(request) as session:
        found = session.get(Book, book_id)
        if found is None:
            raise HTTPException(404, f"Trung tâm không có sổ số {book_id} / no such book at the centre.")
        seen = picture(session, request.app.state.stalled_days, [book_id])
        (row,) = seen.books
        entries = book_entries(session, book_id, status, offset, limit)
    return {"book": seen.shown(row), **entries}


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station: str = Field(..., min_length=1, max_length=64)


@ui.post("/books/{book_id}/entries/{number}/pick")
def pick_scan(request: Request, user: User, book_id: int, number: int, body: Pick) -> dict:
    """The user picks which station's scan of an entry done on several counts (its PDF is exported)."""
    with _sessions(request) as session:
        found = session.get(Book, book_id)
        if found is None:
            raise HTTPException(404, f"Trung tâm không có sổ số {book_id} / no such book at the centre.")
        try:
            pick(session, found, number, body.station)
        except CentreError as refused:
            raise HTTPException(409, refused.message) from None
        session.commit()
    # Who picked what, in the service's journal whatever its log level (it changes what is delivered):
    # names of the user, book and station only.
    log.warning("pick: %s chose station %s for %s no. %d", user.name, body.station, found.code, number)
    return {"book": found.code, "number": number, "station": body.station}


@ui.get("/report.xlsx")
def report_xlsx(request: Request, district: str | None = Query(None, max_length=100),
                commune: str | None = Query(None, max_length=100)) -> Response:
    found = _report(request, district, commune)
    name = f"bao-cao-tuan-{found.kind}-{datetime.now():%Y-%m-%d}.xlsx"
    return Response(report_workbook(found, name), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


@ui.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def not_found(rest: str) -> None:
    """Last: a path under /ui/ that does not exist is said so only to a signed-in user (401 to others)."""
    raise HTTPException(404, "Không có / not found.")
