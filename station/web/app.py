"""The station's web page and API, served by `station run`: the operator's dashboard at `/` and the JSON
API it uses under /api, documented by OpenAPI at /docs. The routes live in station/web/routes, one module
per resource; this module puts them together into the app.

Bound to 127.0.0.1 by default; any other address needs the access token from config.yaml, then asked of
every request (station/web/deps.py). Answers carry book and entry numbers and page measurements, never
citizens' names.
"""
from __future__ import annotations

import ipaddress
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from station.capture.daemon import Station
from station.errors import ConfigError
from station.web.deps import authorised, session_cookie
from station.web.page import STATIC
from station.web.routes import (books, corrections, dashboard, docs, entries, events, jobs, live, pages, report,
                                status, strip)
from station.web.schemas import API_VERSION


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None, config_path) -> None:
    if not is_loopback(host) and not token:
        raise ConfigError(f"{config_path}: khóa 'web.token': cần mã truy cập khi mở trang ra địa chỉ {host} "
                          "/ an access token is required to listen beyond 127.0.0.1.")


def create_app(station: Station, token: str | None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        # Inside the server's own shutdown, before it re-raises SIGTERM: stop the drivers, let the
        # pages in flight finish, close the batches.
        station.shutdown()

    app = FastAPI(title="Trạm số hóa Sổ hộ tịch", version=API_VERSION, lifespan=lifespan,
                  description="API of the civil-status book scanning station: books, entries, corrections, "
                              "device events, scan jobs, weekly report. With a token configured, send "
                              "`Authorization: Bearer TOKEN` (or open `/?token=TOKEN` once in a browser).",
                  docs_url=None, redoc_url=None, openapi_url=None)
    if token is None:
        # No token means loopback only; a page elsewhere could still reach 127.0.0.1 through a DNS name
        # it controls (DNS rebinding): answer only requests addressed to a loopback name.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    app.state.station = station
    app.state.token = token
    app.state.session_cookie = session_cookie(token) if token else None
    # Set by `station run`: true once the server is shutting down, so live streams end and let it.
    app.state.stopping = lambda: False

    app.include_router(dashboard.router)
    app.include_router(docs.router)
    api = APIRouter(prefix="/api", dependencies=[Depends(authorised)])
    # Listed in /docs in this order.
    for resource in (status, books, strip, entries, pages, events, jobs, corrections, report, live):
        api.include_router(resource.router)
    app.include_router(api)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"),
              name="docs-assets")
    return app


def serve(app: FastAPI, host: str, port: int, config_path) -> None:
    """Run the web server until SIGTERM/Ctrl-C. Live streams end as soon as shutdown begins: the server
    waits for open responses, and an event stream never ends by itself."""
    import uvicorn
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    app.state.stopping = lambda: server.should_exit
    try:
        server.run()
    except SystemExit:  # uvicorn's own exit when it cannot listen (it logged why, in English)
        if server.started:
            raise
        raise ConfigError(f"{config_path}: không mở được {host}:{port} (cổng đang được dùng?) / could not "
                          "listen there: đổi 'web.port' hoặc dùng --port.")
