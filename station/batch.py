"""One batch: captures from a driver → stored in the home → processed in worker processes →
grouped into scans of entries → one PDF per entry.

Every capture is on disk (fsynced) and in the catalog before it is handed to processing, so nothing
acknowledged is lost. Workers take stored files, not pixels, so the scanner side never waits on them
and memory stays flat however long the batch.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from drivers.base import CapturedPage, CaptureFailure, DeviceEvent, Driver
from pipeline.load import ImageLoadError
from pipeline.page import PageResult, process_file
from pipeline.separator import parse_payload
from pipeline.settings import PageSettings
from station.catalog import Batch, Book, Capture, Entry, Page, Scan, ScanPage, Verdict, utcnow
from station.config import LoadedConfig, Profile
from station.entries import entry_state, write_entry_pdf
from station.grouping import PageSignal, group_pages
from station.storage import ensure_home, fsync_dir, sha256_bytes, sha256_file, write_atomic

log = logging.getLogger(__name__)
IMAGE_SUFFIX = {"jpeg": ".jpg", "tiff-g4": ".tif"}


@dataclass
class BatchSummary:
    batch_id: int
    captures: int = 0
    verdicts: Counter = field(default_factory=Counter)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    dpi_estimated: list[str] = field(default_factory=list)
    held: Counter = field(default_factory=Counter)
    entries: dict[str, set[int]] = field(default_factory=dict)
    events: list[DeviceEvent] = field(default_factory=list)


def _worker_init() -> None:
    # Two workers on two cores: libraries must not each start a thread per core as well.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    import cv2
    cv2.setNumThreads(1)


def _process(path: str, frame: int, settings: PageSettings) -> PageResult | str:
    try:
        return process_file(Path(path), frame, settings)
    except ImageLoadError as exc:
        return str(exc)


class BatchRunner:
    def __init__(self, cfg: LoadedConfig, profile: Profile, sessions, workers: int | None = None):
        self.cfg = cfg
        self.home = cfg.home
        self.profile = profile
        self.sessions = sessions
        self.workers = workers or cfg.settings.workers or os.cpu_count() or 1

    # --- capture side -------------------------------------------------------------------------
    def _store(self, batch_id: int, item: CapturedPage, stored: dict[Path, str]) -> tuple[str, str]:
        """Put the capture in the home (fsynced) and return (relative path, sha256)."""
        folder = self.home / "captures" / f"batch-{batch_id:05d}"
        if item.file is not None:
            if item.file in stored:  # later frame of a multi-page file already stored
                rel = stored[item.file]
                return rel, sha256_file(self.home / rel)
            target = folder / f"{item.sequence:05d}{item.file.suffix.lower()}"
            data = item.file.read_bytes()
            write_atomic(target, data)
            rel = str(target.relative_to(self.home))
            stored[item.file] = rel
            return rel, sha256_bytes(data)
        target = folder / f"{item.sequence:05d}.png"
        tmp = target.with_suffix(".png.tmp")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        dpi = (item.resolution, item.resolution) if item.resolution else None
        with open(tmp, "wb") as handle:
            item.image.save(handle, format="PNG", dpi=dpi, compress_level=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        fsync_dir(folder)
        return str(target.relative_to(self.home)), sha256_file(target)

    def _quarantine(self, batch_id: int, failure: CaptureFailure) -> tuple[str, str]:
        target = self.home / "quarantine" / f"batch-{batch_id:05d}" / f"{failure.sequence:05d}-{failure.file.name}"
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(failure.file, target)
        os.chmod(target, 0o600)
        return str(target.relative_to(self.home)), sha256_file(target)

    def run(self, driver: Driver, source: str, progress: Callable[[int], None] | None = None) -> BatchSummary:
        ensure_home(self.home)
        with self.sessions() as session:
            batch = Batch(source=source, profile=self.profile.name)
            session.add(batch)
            session.commit()
            summary = BatchSummary(batch.id)
            settings = self.profile.page
            stored: dict[Path, str] = {}
            pending: deque[tuple[int, str, Future]] = deque()
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_init) as pool:
                for item in driver.captures():
                    if isinstance(item, DeviceEvent):
                        summary.events.append(item)
                        log.warning("device %s: %s", item.device, item.kind)
                        continue
                    summary.captures += 1
                    if isinstance(item, CaptureFailure):
                        rel, digest = self._quarantine(batch.id, item) if item.file else ("", "")
                        capture = Capture(batch_id=batch.id, seq=item.sequence, source_name=item.source,
                                          stored_file=rel, sha256=digest)
                        session.add(capture)
                        session.flush()
                        self._record_failure(session, capture, item.reason, summary)
                        session.commit()
                        if progress:
                            progress(1)
                        continue
                    rel, digest = self._store(batch.id, item, stored)
                    capture = Capture(batch_id=batch.id, seq=item.sequence, source_name=item.source,
                                      stored_file=rel, frame=item.frame, sha256=digest)
                    session.add(capture)
                    session.commit()
                    acknowledge = getattr(driver, "acknowledge", None)
                    if acknowledge:  # stored and in the catalog: the device may let go of it now
                        acknowledge(item)
                    future = pool.submit(_process, str(self.home / rel), item.frame, settings)
                    pending.append((capture.id, item.source, future))
                    while len(pending) > 2 * self.workers:
                        self._finish(session, batch.id, pending.popleft(), summary, progress)
                while pending:
                    self._finish(session, batch.id, pending.popleft(), summary, progress)
            self._assign(session, batch, summary)
            batch.finished_at = utcnow()
            session.commit()
        return summary

    # --- processing results ---------------------------------------------------------------------
    def _record_failure(self, session: Session, capture: Capture, reason: str, summary: BatchSummary) -> None:
        session.add(Page(capture_id=capture.id, verdict=Verdict.quarantined, reason=reason[:300]))
        summary.verdicts["quarantined"] += 1
        summary.quarantined.append((capture.source_name, reason))
        log.warning("capture %s quarantined: %s", capture.source_name, reason)

    def _finish(self, session: Session, batch_id: int, job, summary: BatchSummary, progress) -> None:
        capture_id, source, future = job
        capture = session.get(Capture, capture_id)
        try:
            result = future.result()
        except Exception as exc:  # a bug or a crash in a worker must not stop the batch
            log.exception("processing %s failed", source)
            result = f"lỗi xử lý / processing error: {type(exc).__name__}"
        if isinstance(result, str):
            self._record_failure(session, capture, result, summary)
        else:
            session.add(self._page(capture, batch_id, result))
            summary.verdicts[result.verdict] += 1
            if result.dpi_estimated:
                summary.dpi_estimated.append(source)
        session.commit()
        if progress:
            progress(1)

    def _page(self, capture: Capture, batch_id: int, result: PageResult) -> Page:
        image = result.image
        rel = Path("pages") / f"batch-{batch_id:05d}" / f"{capture.seq:05d}{IMAGE_SUFFIX[image.format]}"
        write_atomic(self.home / rel, image.data)
        return Page(capture_id=capture.id, verdict=Verdict(result.verdict), reason=result.reason,
                    image_file=str(rel), image_format=image.format, image_bytes=len(image.data),
                    width=image.width, height=image.height, dpi=image.dpi, input_dpi=result.input_dpi,
                    dpi_estimated=result.dpi_estimated, skew_deg=result.skew_deg, rotation=result.rotation,
                    over_budget=image.over_budget, separator_text=result.separator_text,
                    measures={"ink_ratio": result.ink_ratio, "border_removed": result.border_removed,
                              "orientation_confident": result.orientation_confident,
                              "quality": image.quality, "seconds": result.seconds})

    # --- grouping into entries ------------------------------------------------------------------
    def _assign(self, session: Session, batch: Batch, summary: BatchSummary) -> None:
        rows = session.execute(select(Capture.seq, Page).join(Page, Page.capture_id == Capture.id)
                               .where(Capture.batch_id == batch.id).order_by(Capture.seq)).all()
        pages = {seq: page for seq, page in rows}
        signals = []
        for seq, page in rows:
            payload = None
            if page.verdict == Verdict.separator:
                payload = parse_payload(page.separator_text)
            signals.append(PageSignal(seq, page.verdict.value, payload.book_id if payload else None,
                                      payload.entries if payload else ()))
        books = {b for b, in session.execute(select(Book.id))}
        entries = {(b, n): e for b, n, e in session.execute(select(Entry.book_id, Entry.number, Entry))}
        groups = group_pages(signals, lambda b: b in books, lambda b, n: (b, n) in entries)
        touched: list[Entry] = []
        for group in groups:
            if group.held:
                for seq in ([] if group.separator is None else [group.separator]) + group.pages:
                    pages[seq].held = True
                    pages[seq].reason = pages[seq].reason or group.held_reason
                summary.held[group.held_reason] += len(group.pages)
                continue
            for number in group.entries:
                entry = entries[(group.book_id, number)]
                for earlier in entry.scans:  # a rescan: the operator picks, we never overwrite
                    earlier.chosen = None
                scan = Scan(entry=entry, batch_id=batch.id, damaged=group.damaged,
                            separator_page_id=pages[group.separator].id)
                scan.pages = [ScanPage(page_id=pages[seq].id, position=i, page=pages[seq])
                              for i, seq in enumerate(group.pages)]
                session.add(scan)
                touched.append(entry)
                summary.entries.setdefault(group.book_id, set()).add(number)
        session.flush()
        for entry in touched:
            session.refresh(entry)
            if entry_state(entry).status == "done":
                write_entry_pdf(session, self.home, entry)
