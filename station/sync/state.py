"""When the station last reached the centre, and what was left then: `sync-state.json` in the home.

A small file of its own rather than a catalog table (no change to the station's schema): written
atomically, 0600, read by `station status` and the dashboard's /api/station. Ids and numbers only.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from station.catalog.storage import write_atomic

STATE_FILE = "sync-state.json"


@dataclass
class SyncState:
    centre: str | None = None                 # the centre's URL (never the token)
    last_reached: datetime | None = None      # the last answer from the centre
    last_complete: datetime | None = None     # the last sync the centre acknowledged whole
    left_files: int = 0
    left_bytes: int = 0
    left_books: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("last_reached", "last_complete"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def read_state(home: Path) -> SyncState | None:
    """The last sync's state; None when the station never synced (or the file is unreadable)."""
    try:
        data = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
        for key in ("last_reached", "last_complete"):
            data[key] = datetime.fromisoformat(data[key]) if data.get(key) else None
        return SyncState(**{k: v for k, v in data.items() if k in SyncState.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def write_state(home: Path, state: SyncState) -> None:
    write_atomic(home / STATE_FILE, json.dumps(state.as_dict(), indent=1).encode())


def status_line(state: SyncState | None, configured: bool) -> str | None:
    """The one line `station status` says of the centre; None for a station that has none."""
    if state is None:
        return "Trung tâm / centre: chưa đồng bộ lần nào / never synced" if configured else None

    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else "chưa bao giờ / never"

    if state.left_files or state.left_books:
        left = (f"còn {state.left_files} tệp ({state.left_bytes / 1e6:.1f} MB), {state.left_books} sổ / left: "
                f"{state.left_files} files, {state.left_books} books")
    else:
        left = f"đồng bộ xong lúc / complete at {when(state.last_complete)}"
    return f"Trung tâm / centre: liên lạc lần cuối / last reached {when(state.last_reached)}; {left}"
