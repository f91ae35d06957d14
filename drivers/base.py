"""The one small interface every capture device implements.

A driver yields, in scan order, captured pages, captures it could not take (a corrupt file), and
device events (out of paper, jam, cover open). Drivers know nothing of books or entries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Protocol, Union

from PIL import Image


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class CapturedPage:
    sequence: int                 # scan order within this run of the driver, from 1
    device: str                   # e.g. "replay", "test:0", "hotfolder"
    source: str                   # what the operator knows it by: file name (#frame) or feeder side
    resolution: float | None      # dpi the device reported, if any
    # A capture is either a file already on disk (replay, hot folder) or pixels from a device.
    file: Path | None = None
    frame: int = 0
    image: Image.Image | None = None
    captured_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class CaptureFailure:
    """A capture that exists but cannot be used (corrupt, unsupported); the batch goes on."""
    sequence: int
    device: str
    source: str
    reason: str
    file: Path | None = None


@dataclass(frozen=True)
class DeviceEvent:
    device: str
    kind: str          # "out_of_paper", "jammed", "cover_open", "io_error", "disconnected"
    message: str       # plain Vietnamese for the operator
    at: datetime = field(default_factory=now)


Capture = Union[CapturedPage, CaptureFailure, DeviceEvent]


class Driver(Protocol):
    name: str

    def expected(self) -> int | None:
        """How many captures this run will yield, when known in advance (for a progress bar)."""

    def captures(self) -> Iterator[Capture]:
        ...
