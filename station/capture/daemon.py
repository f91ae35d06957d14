"""The station daemon (`station run`): hot folders taken continuously, SANE scan jobs on request, one
pool of worker processes for all of them, the web API the dashboard uses, and the sync with the province
centre in the background when config.yaml names it (station/sync/background.py).

On start it finishes whatever a crash left open (`recover`), then holds the home for itself. Device
events (jam, out of paper) are kept for the operator's banner until cleared.
"""
from __future__ import annotations

import itertools
import os
import logging
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from drivers.base import DeviceEvent, now
from drivers.hotfolder import HotFolderDriver
from station.capture.batch import BatchRunner, BatchSummary, make_pool, recover
from station.config import HotFolderSettings, LoadedConfig
from station.errors import DiskFullError
from station.sync import background

log = logging.getLogger(__name__)
# A hot folder stopped by a full disk starts again once this much space is freed, or after this long.
DISK_FULL_RESUME_BYTES = 4 << 20
DISK_FULL_RETRY_SECONDS = 60.0


class EventLog(deque):
    """The latest device events, numbered from the station's start, so the operator's banner can be
    cleared up to the event they saw while a newer one stays."""

    def __init__(self, maxlen: int):
        super().__init__(maxlen=maxlen)
        self.total = 0      # events recorded: the newest one's number
        self.cleared = 0    # the banner was cleared up to this number
        self._lock = threading.Lock()

    def append(self, event: DeviceEvent) -> None:
        with self._lock:
            super().append(event)
            self.total += 1

    def numbered(self) -> list[tuple[int, DeviceEvent]]:
        with self._lock:
            first = self.total - len(self) + 1
            return [(first + i, event) for i, event in enumerate(self)]

    def dismiss(self, through: int) -> None:
        with self._lock:
            self.cleared = max(self.cleared, min(through, self.total))


@dataclass
class ScanJob:
    id: int
    device: str
    source: str | None
    profile: str
    state: str = "starting"        # starting, scanning, paused, finished, failed, stopped
    started_at: datetime = field(default_factory=now)
    message: str | None = None     # the operator's instruction while paused, the error when failed
    summary: BatchSummary | None = None
    driver: object | None = None
    _go_on: threading.Event = field(default_factory=threading.Event)
    _decision: bool = True

    def wait_for_operator(self, event: DeviceEvent) -> bool:
        """Called from the scanning thread when the device stops: wait until resume() or stop()."""
        self.state, self.message = "paused", event.message
        self._go_on.clear()
        self._go_on.wait()
        if self.state == "paused":
            self.state, self.message = "scanning", None
        return self._decision

    def decide(self, go_on: bool) -> None:
        self._decision = go_on
        if not go_on:
            self.state = "stopped"
        self._go_on.set()

    def as_dict(self) -> dict:
        summary = self.summary
        return {"id": self.id, "device": self.device, "source": self.source, "profile": self.profile,
                "state": self.state, "message": self.message, "started_at": self.started_at.isoformat(),
                "batch": summary.batch_id if summary else None,
                "captures": summary.captures if summary else None}


class Station:
    def __init__(self, cfg: LoadedConfig, sessions, workers: int | None = None):
        self.cfg = cfg
        self.sessions = sessions
        self.workers = workers or cfg.settings.workers or None
        self.pool = None
        self.stop_event = threading.Event()
        self.events = EventLog(maxlen=200)
        self.jobs: dict[int, ScanJob] = {}
        self._job_ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._hotfolders: list[HotFolderDriver] = []

    def _runner(self, profile_name: str | None, paper: str | None = None) -> BatchRunner:
        return BatchRunner(self.cfg, self.cfg.profile(profile_name, paper), self.sessions, pool=self.pool)

    def start(self) -> None:
        self.pool = make_pool(self.workers or os.cpu_count() or 1)
        # A hot folder's batch cut by a crash is continued by its watcher, not closed here: the
        # pages still in the folder belong to the entry whose separator the batch already holds.
        continued = {self._hotfolder_source(h) for h in self.cfg.settings.hotfolders}
        finished = recover(self.cfg, self.sessions, self.cfg.profile, pool=self.pool, keep_open=continued)
        if finished:
            log.warning("recovered %d batch(es) interrupted by a crash: %s", len(finished), finished)
        for hotfolder in self.cfg.settings.hotfolders:
            self._spawn(self._watch, hotfolder, name=f"hotfolder:{hotfolder.folder}")
        if background.wanted(self.cfg):
            self._spawn(background.sync_forever, self.cfg, self.sessions, self.stop_event, name="sync")

    def _spawn(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _hotfolder_source(self, hotfolder: HotFolderSettings) -> str:
        return f"hotfolder:{self.cfg.hotfolder_path(hotfolder)}"

    def _watch(self, hotfolder: HotFolderSettings) -> None:
        folder = self.cfg.hotfolder_path(hotfolder)
        folder.mkdir(parents=True, exist_ok=True)
        while not self.stop_event.is_set():
            driver = HotFolderDriver(folder, order=hotfolder.order, poll=hotfolder.poll,
                                     settle_seconds=hotfolder.settle_seconds, stop=self.stop_event)
            self._hotfolders.append(driver)
            try:
                self._runner(hotfolder.profile, hotfolder.paper).run(driver, self._hotfolder_source(hotfolder), resumable=True,
                                                    on_event=self.events.append)
                return
            except DiskFullError as exc:
                # Files not yet stored stay in the hot folder; the same batch goes on once there is room.
                log.warning("hot folder %s paused: disk full", folder)
                self.events.append(DeviceEvent("station", "disk_full", exc.message))
                self._wait_for_space()
            except Exception:
                log.exception("hot folder %s stopped", folder)
                return
            finally:
                self._hotfolders.remove(driver)

    def _wait_for_space(self) -> None:
        """Until the home's disk has DISK_FULL_RESUME_BYTES more free than now (the operator freed
        some), or DISK_FULL_RETRY_SECONDS have passed, or the station stops."""
        wanted = shutil.disk_usage(self.cfg.home).free + DISK_FULL_RESUME_BYTES
        deadline = time.monotonic() + DISK_FULL_RETRY_SECONDS
        while not self.stop_event.wait(1.0) and time.monotonic() < deadline:
            if shutil.disk_usage(self.cfg.home).free >= wanted:
                return

    def start_scan(self, device: str, source: str | None, profile: str | None, resolution: int,
                   paper: str | None = None) -> ScanJob:
        from drivers.sane_driver import SaneDriver
        runner = self._runner(profile, paper)  # validates the profile before anything starts
        job = ScanJob(next(self._job_ids), device, source, runner.profile.name)
        self.jobs[job.id] = job
        mode = "color" if runner.profile.page.mode == "color" else "gray"

        def scan() -> None:
            try:
                with SaneDriver(device, source=source, mode=mode, resolution=resolution,
                                wait_for_operator=job.wait_for_operator) as driver:
                    job.driver, job.state = driver, "scanning"
                    job.summary = runner.run(driver, f"sane:{device}", on_event=self.events.append)
                if job.state != "stopped":
                    job.state = "finished"
            except Exception as exc:  # a device that cannot be opened or set up
                job.state, job.message = "failed", str(exc)
                log.warning("scan job %d on %s failed: %s", job.id, device, type(exc).__name__)

        self._spawn(scan, name=f"scan:{job.id}")
        return job

    def shutdown(self) -> None:
        """Stop taking captures, let the pages in flight finish, close every batch."""
        self.stop_event.set()
        for job in self.jobs.values():
            if job.state == "paused":
                job.decide(False)
            stop = getattr(job.driver, "stop", None)
            if stop:
                stop()
        for driver in self._hotfolders:
            driver.stop()
        for thread in self._threads:
            thread.join(timeout=120)
        if self.pool:
            self.pool.shutdown(wait=True)
