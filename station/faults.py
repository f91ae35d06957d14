"""Kill points for the crash campaign (bench/crash_campaign.py, tests/reliability/test_crash_points.py).

`STATION_CRASH_AT=POINT:N` makes the station kill itself with SIGKILL (no cleanup, no flush: what a
power cut leaves) the Nth time its own process passes POINT (worker processes pass none). When it
leads its process group (the campaign starts it so), the whole group dies, workers included. Points:

- `write:KIND`: a file fully written and fsynced under its temp name, not yet renamed into place.
  KIND is the home folder it goes to (captures, pages, pdfs, registers), or else the file's suffix
  (zip, xlsx: an export);
- `commit`: a catalog transaction about to commit; `committed`: one just committed.

Unset (always, in production) the hook is inert: `crash_point` returns at its first test.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading


def _plan() -> tuple[str, int] | None:
    value = os.environ.get("STATION_CRASH_AT")
    if not value:
        return None
    point, _, count = value.rpartition(":")
    if not point or not count.isdigit() or int(count) < 1:
        raise ValueError(f"STATION_CRASH_AT={value!r}: expected POINT:N with N >= 1, e.g. commit:3")
    return point, int(count)


PLAN = _plan()
_hits = 0
_lock = threading.Lock()


def crash_point(name: str) -> None:
    global _hits
    if PLAN is None or name != PLAN[0] or multiprocessing.parent_process() is not None:
        return
    with _lock:
        _hits += 1
        if _hits < PLAN[1]:
            return
    if os.getpgrp() == os.getpid():
        os.killpg(0, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
