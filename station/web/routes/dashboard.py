"""The operator's page at `/` (plain HTML and JavaScript from station/web/static, nothing fetched from
elsewhere), and the token given once through `/?token=…` or the login form, kept as the session cookie."""
from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from station.web.deps import COOKIE, token_given
from station.web.page import PAGE_HEADERS, STATIC

COOKIE_SECONDS = 12 * 3600          # a working day: the token is asked for again the next morning

router = APIRouter()


def login_page(status: int, wrong: bool = False) -> HTMLResponse:
    html = (STATIC / "login.html").read_text(encoding="utf-8")
    html = html.replace("<!--wrong-->", '<p class="error">Sai mã truy cập / wrong token.</p>' if wrong else "")
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def with_cookie(response: Response, request: Request) -> Response:
    response.set_cookie(COOKIE, request.app.state.session_cookie, max_age=COOKIE_SECONDS, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.get("/", include_in_schema=False)
def index(request: Request, given: str | None = Query(None, alias="token", max_length=500)) -> Response:
    token = request.app.state.token
    if given is not None and token is not None:
        if not hmac.compare_digest(given.encode(), token.encode()):
            return login_page(401, wrong=True)
        # The token leaves the address bar (and the history) at once.
        return with_cookie(RedirectResponse("/", status_code=303), request)
    if not token_given(request):
        return login_page(401)
    return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    form = parse_qs((await request.body())[:2000].decode("utf-8", "replace"))
    given = (form.get("token") or [""])[0]
    token = request.app.state.token
    if token is None:
        return RedirectResponse("/", status_code=303)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return login_page(401, wrong=True)
    return with_cookie(RedirectResponse("/", status_code=303), request)


@router.post("/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
