"""Is the station up, and which station it is."""
from __future__ import annotations

import socket

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from station.catalog import library
from station.sync.state import read_state
from station.web.deps import CurrentStation
from station.web.schemas import API_VERSION

router = APIRouter(tags=["station"])


class Health(BaseModel):
    ok: bool
    api: str


class StationInfo(BaseModel):
    name: str = Field(description="The station's host name.")
    commune: str
    api: str
    token_required: bool
    held_pages: int = Field(description="Pages outside any entry, waiting for the operator.")
    centre: dict | None = Field(None, description="The last sync with the province centre: last_reached, "
                                "last_complete, left_files, left_bytes, left_books (null: never synced).")


@router.get("/health", summary="Is the station up", response_model=Health)
def health() -> dict:
    return {"ok": True, "api": API_VERSION}


@router.get("/station", summary="This station: host name, commune, held pages, last sync with the centre",
            response_model=StationInfo)
def station_info(station: CurrentStation, request: Request) -> dict:
    with station.sessions() as session:
        held = library.held_page_count(session)
    synced = read_state(station.cfg.home)
    return {"name": socket.gethostname(), "commune": station.cfg.settings.commune, "api": API_VERSION,
            "token_required": request.app.state.token is not None, "held_pages": held,
            "centre": synced.as_dict() if synced else None}
