"""What the routers need from the app they are part of: the station, and the access token check.

With a token, every request must carry it, as `Authorization: Bearer …` or as the session cookie the page
sets once the token is given; both are compared in constant time."""
from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from station.capture.daemon import Station

COOKIE = "station_session"


def session_cookie(token: str) -> str:
    """What the browser keeps instead of the token itself."""
    return hmac.new(token.encode(), b"sohotich-station dashboard session v1", hashlib.sha256).hexdigest()


def current_station(request: Request) -> Station:
    return request.app.state.station


CurrentStation = Annotated[Station, Depends(current_station)]


def token_given(request: Request) -> bool:
    token = request.app.state.token
    if token is None:
        return True
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(COOKIE, "")
    # Both compared, always: the time taken does not tell which one was close.
    header_ok = hmac.compare_digest(header.encode(), f"Bearer {token}".encode())
    cookie_ok = hmac.compare_digest(cookie.encode(), request.app.state.session_cookie.encode())
    return header_ok or cookie_ok


def authorised(request: Request) -> None:
    if not token_given(request):
        raise HTTPException(401, "Thiếu hoặc sai mã truy cập / missing or wrong access token",
                            headers={"WWW-Authenticate": "Bearer"})
