"""Scan jobs from a SANE device: started, resumed after a jam, stopped."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from station.capture.daemon import Station
from station.errors import StationError
from station.web.deps import CurrentStation

router = APIRouter(tags=["devices"])


class ScanRequest(BaseModel):
    device: str = Field(..., min_length=1, max_length=200, description="SANE device name, e.g. `test:0`.")
    source: str | None = Field(None, pattern="^(flatbed|adf|adf-duplex)$")
    profile: str | None = Field(None, max_length=64)
    resolution: int = Field(300, ge=75, le=1200)
    paper: str | None = Field(None, max_length=32, description="Paper scanned: A4, A3, B4… or WxHmm (default: the profile's).")


class Job(BaseModel):
    id: int
    device: str
    source: str | None
    profile: str
    state: str = Field(description="starting, scanning, paused, finished, failed or stopped.")
    message: str | None
    started_at: datetime
    batch: int | None
    captures: int | None


class Jobs(BaseModel):
    jobs: list[Job]


@router.get("/jobs", summary="Scan jobs since the station started", response_model=Jobs)
def jobs(station: CurrentStation) -> dict:
    return {"jobs": [job.as_dict() for job in station.jobs.values()]}


@router.post("/scan", status_code=202, summary="Start scanning from a SANE device", response_model=Job)
def scan(request: ScanRequest, station: CurrentStation) -> dict:
    try:
        job = station.start_scan(request.device, request.source, request.profile, request.resolution,
                                 request.paper)
    except StationError as exc:
        raise HTTPException(400, exc.message) from None
    return job.as_dict()


def require_job(station: Station, job_id: int):
    job = station.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"Không có lượt quét {job_id} / no such scan job")
    return job


@router.get("/jobs/{job_id}", summary="One scan job", response_model=Job)
def job(job_id: int, station: CurrentStation) -> dict:
    return require_job(station, job_id).as_dict()


@router.post("/jobs/{job_id}/resume", summary="Go on after the operator fixed a jam or refilled the feeder",
             response_model=Job)
def resume(job_id: int, station: CurrentStation) -> dict:
    found = require_job(station, job_id)
    if found.state != "paused":
        raise HTTPException(409, f"Lượt quét {job_id} không tạm dừng / job is not paused")
    found.decide(True)
    return found.as_dict()


@router.post("/jobs/{job_id}/stop", summary="Stop a scan job", response_model=Job)
def stop(job_id: int, station: CurrentStation) -> dict:
    found = require_job(station, job_id)
    if found.state in ("finished", "failed", "stopped"):
        raise HTTPException(409, f"Lượt quét {job_id} đã kết thúc / job already ended")
    if found.state == "paused":
        found.decide(False)
    elif found.driver is not None:
        found.driver.stop()
        found.state = "stopped"
    return found.as_dict()
