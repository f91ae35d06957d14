"""Device events (jam, out of paper, folder gone…) and the operator clearing the banner."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from station.capture.daemon import Station
from station.web.deps import CurrentStation

router = APIRouter(tags=["devices"])


class ClearRequest(BaseModel):
    through: int = Field(..., ge=0, description="Number of the newest event the operator saw.")


class DeviceEventInfo(BaseModel):
    seq: int = Field(description="Number of the event since the station started.")
    device: str
    kind: str = Field(description="out_of_paper, jammed, cover_open, io_error, disconnected…")
    message: str
    at: datetime
    cleared: bool


class Events(BaseModel):
    events: list[DeviceEventInfo]
    cleared_through: int


def events_answer(station: Station) -> dict:
    cleared = station.events.cleared
    return {"events": [{"seq": seq, "device": e.device, "kind": e.kind, "message": e.message, "at": e.at,
                        "cleared": seq <= cleared} for seq, e in station.events.numbered()],
            "cleared_through": cleared}


@router.get("/events", summary="Device events (jam, out of paper, folder gone…), the latest 200",
            response_model=Events)
def events(station: CurrentStation) -> dict:
    return events_answer(station)


@router.post("/events/clear", summary="Clear the banner: the operator dealt with the events up to `through`",
             response_model=Events)
def clear_events(body: ClearRequest, station: CurrentStation) -> dict:
    station.events.dismiss(body.through)
    return events_answer(station)
