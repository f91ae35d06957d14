"""One batch: captures from a driver → stored in the home → processed in worker processes →
assigned to entries in capture order → each entry's PDF kept current.

Every capture is on disk (fsynced) and in the catalog before the device may let go of it, so nothing
acknowledged is lost. Workers take stored files, not pixels, so the scanner side never waits on them
and memory stays flat however long the batch. A batch interrupted by a crash is finished on the next
start (`recover`), or continued where it stopped when the same folder is processed again.
"""
from __future__ import annotations

import io
import logging
import multiprocessing
import os
import queue
import shutil
import threading
from collections import Counter
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from drivers.base import CapturedPage, CaptureFailure, DeviceEvent, Driver
from pipeline.load import ImageLoadError
from pipeline.page import PageResult, process_capture
from pipeline.settings import PageSettings
from station.capture.assign import Assigner, reset_batch
from station.catalog.models import Batch, Capture, Page, Verdict, utcnow
from station.config import LoadedConfig, Profile
from station.catalog.storage import (disk_full_as_error, ensure_home, exclusive_home, is_disk_full, sha256_bytes,
                             write_atomic)

log = logging.getLogger(__name__)
IMAGE_SUFFIX = {"jpeg": ".jpg", "tiff-g4": ".tif"}


@dataclass
class BatchSummary:
    batch_id: int
    captures: int = 0
    skipped: int = 0           # already filed (same content), e.g. a folder processed again
    resumed: bool = False
    verdicts: Counter = field(default_factory=Counter)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    dpi_estimated: list[str] = field(default_factory=list)
    held: Counter = field(default_factory=Counter)
    entries: dict[str, set[int]] = field(default_factory=dict)
    events: list[DeviceEvent] = field(default_factory=list)
    failure: BaseException | None = None


def worker_init() -> None:
    # Two workers on two cores: libraries must not each start a thread per core as well.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    import cv2
    cv2.setNumThreads(1)


def make_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=worker_init)


@dataclass(frozen=True)
class _Processed:
    pages: tuple[PageResult, ...] | str    # the pages, or why the capture could not be read
    packed: tuple[str, str] | None = None  # (file, sha256) of the capture's lossless PNG copy


def _process(path: str, frame: int, settings: PageSettings, pack: bool = False) -> _Processed:
    try:
        pages = process_capture(Path(path), frame, settings)
    except ImageLoadError as exc:
        return _Processed(str(exc))
    packed = None
    if pack:
        try:
            packed = _pack_capture(Path(path))
        except OSError as exc:  # disk full…: the raw TIFF stays, the page is filed all the same
            log.warning("capture %s not packed: %s", Path(path).name, exc.strerror or type(exc).__name__)
    return _Processed(pages, packed)


def _pack_capture(raw: Path) -> tuple[str, str]:
    """A scanner's raw TIFF (stored uncompressed so the scanner never waits) rewritten as lossless PNG
    once processed, in the worker: 3-10 MB instead of 20-36 MB per 300 dpi colour page. The
    assigning thread switches the catalog to it, then removes the TIFF."""
    from PIL import Image
    with Image.open(raw) as image:
        buffer = io.BytesIO()
        # Level 1: most of the gain of deflate at a third of the time of the default level.
        image.save(buffer, format="PNG", compress_level=1, dpi=image.info.get("dpi"))
    data = buffer.getvalue()
    packed = raw.with_suffix(".png")
    write_atomic(packed, data)
    return str(packed), sha256_bytes(data)


@dataclass
class _Job:
    capture_id: int
    seq: int
    source: str
    future: Future | None  # None: nothing to process (the capture was quarantined on arrival)


class BatchRunner:
    def __init__(self, cfg: LoadedConfig, profile: Profile, sessions, workers: int | None = None,
                 pool: Executor | None = None):
        self.cfg = cfg
        self.home = cfg.home
        self.profile = profile
        self.sessions = sessions
        self.workers = workers or cfg.settings.workers or os.cpu_count() or 1
        self.pool = pool

    # --- storing captures -----------------------------------------------------------------------
    def _store_file(self, batch_id: int, seq: int, item: CapturedPage, data: bytes, stored: dict[Path, str]) -> str:
        if item.file in stored:  # a later frame of a multi-page file already stored
            return stored[item.file]
        target = self.home / "captures" / f"batch-{batch_id:05d}" / f"{seq:05d}{item.file.suffix.lower()}"
        write_atomic(target, data)
        stored[item.file] = str(target.relative_to(self.home))
        return stored[item.file]

    def _store_pixels(self, batch_id: int, seq: int, item: CapturedPage) -> tuple[str, str]:
        # Uncompressed TIFF: ~40 ms for a 300 dpi colour A4 page against 1–1.6 s for PNG, time the
        # scanner would otherwise stand still. The worker packs it to PNG once processed (_pack_capture).
        buffer = io.BytesIO()
        dpi = (item.resolution, item.resolution) if item.resolution else None
        item.image.save(buffer, format="TIFF", dpi=dpi)
        data = buffer.getvalue()
        target = self.home / "captures" / f"batch-{batch_id:05d}" / f"{seq:05d}.tif"
        write_atomic(target, data)
        return str(target.relative_to(self.home)), sha256_bytes(data)

    def _quarantine(self, batch_id: int, seq: int, failure: CaptureFailure) -> tuple[str, str]:
        if failure.file is None:
            return "", ""
        target = self.home / "quarantine" / f"batch-{batch_id:05d}" / f"{seq:05d}-{failure.file.name}"
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(failure.file, target)
        os.chmod(target, 0o600)
        return str(target.relative_to(self.home)), sha256_bytes(target.read_bytes())

    def _already_filed(self, session: Session, digest: str, frame: int) -> bool:
        return session.scalar(select(Capture.id).join(Page, Page.capture_id == Capture.id)
                              .join(Batch, Batch.id == Capture.batch_id)
                              .where(Capture.sha256 == digest, Capture.frame == frame,
                                     Batch.finished_at.is_not(None)).limit(1)) is not None

    # --- a batch --------------------------------------------------------------------------------
    def run(self, driver: Driver, source: str, progress: Callable[[int], None] | None = None,
            resumable: bool = False, batch_id: int | None = None,
            on_event: Callable[[DeviceEvent], None] | None = None, close: bool = True) -> BatchSummary:
        """Take every capture the driver yields. With `resumable` (a folder replayed as it was), an
        unfinished batch of the same source is continued: captures it already holds are skipped.
        `batch_id` continues that batch (crash recovery); without `close` it stays unfinished.

        This thread only stores captures and hands them to workers, so the scanner never waits on
        processing; a second thread takes the results in capture order and assigns them."""
        ensure_home(self.home)
        with disk_full_as_error(self.home), exclusive_home(self.home) if not self.pool else nullcontext(), \
                self.sessions() as session, \
                (nullcontext(self.pool) if self.pool else make_pool(self.workers)) as pool:
            batch = self._open_batch(session, source, resumable, batch_id)
            summary = BatchSummary(batch.id)
            previous = list(session.scalars(select(Capture).where(Capture.batch_id == batch.id)
                                            .order_by(Capture.seq)))
            held = {(c.source_name, c.sha256) for c in previous}
            next_seq = max((c.seq for c in previous), default=0) + 1
            jobs: queue.Queue[_Job | None] = queue.Queue()
            assigning = threading.Thread(target=self._assign_results, name=f"assign:{batch.id}",
                                         args=(batch.id, [c.id for c in previous], jobs, pool, summary, progress))
            assigning.start()
            stored: dict[Path, str] = {}
            try:
                for item in driver.captures():
                    if summary.failure:  # the assigning side stopped (disk full…): take no more
                        break
                    if isinstance(item, DeviceEvent):
                        summary.events.append(item)
                        log.warning("device %s: %s", item.device, item.kind)
                        if on_event:
                            on_event(item)
                        continue
                    job = self._take(session, batch.id, next_seq, item, stored, held, pool, summary, progress)
                    if job is not None:
                        next_seq += 1
                        jobs.put(job)
                    # Stored and in the catalog (now, or before a crash): the device may let go of it.
                    acknowledge = getattr(driver, "acknowledge", None)
                    if acknowledge and isinstance(item, CapturedPage):
                        acknowledge(item)
            finally:
                jobs.put(None)
                assigning.join()
            if summary.failure:
                raise summary.failure
            if close:
                batch.finished_at = utcnow()
                session.commit()
        return summary

    def _assign_results(self, batch_id: int, previous: list[int], jobs: queue.Queue, pool, summary, progress) -> None:
        try:
            with self.sessions() as session:
                if previous:
                    summary.resumed = True
                    reset_batch(session, batch_id)
                assigner = Assigner(session, self.home, batch_id)
                self._replay(session, previous, assigner, pool, summary, progress)
                while (job := jobs.get()) is not None:
                    self._finish(session, batch_id, job, assigner, summary, progress)
                summary.entries = assigner.touched
        except BaseException as exc:  # surfaced by run(): the batch stays unfinished, to be recovered
            if is_disk_full(exc, self.home):
                log.error("assigning batch %d stopped: disk full", batch_id)
            else:
                log.exception("assigning batch %d failed", batch_id)
            summary.failure = exc
            while jobs.get() is not None:  # let the capture side finish storing what it has
                pass

    def _open_batch(self, session: Session, source: str, resumable: bool, batch_id: int | None) -> Batch:
        if batch_id is not None:
            return session.get(Batch, batch_id)
        if resumable:
            unfinished = session.scalar(select(Batch).where(Batch.source == source, Batch.finished_at.is_(None))
                                        .order_by(Batch.id.desc()).limit(1))
            if unfinished is not None:
                return unfinished
        batch = Batch(source=source, profile=self.profile.name, paper=self.profile.page.paper)
        session.add(batch)
        session.commit()
        return batch

    def _take(self, session, batch_id, seq, item, stored, held, pool, summary, progress) -> _Job | None:
        """Store one capture and hand it to a worker. Returns the job to assign in order, or None
        when the capture is not taken at all (already filed)."""
        if isinstance(item, CaptureFailure):
            rel, digest = self._quarantine(batch_id, seq, item)
            if (item.source, digest) in held:
                return None
            capture = Capture(batch_id=batch_id, seq=seq, source_name=item.source, stored_file=rel, sha256=digest)
            session.add(capture)
            session.flush()
            session.add(Page(capture_id=capture.id, verdict=Verdict.quarantined, reason=item.reason[:300]))
            session.commit()
            return _Job(capture.id, seq, item.source, None)
        if item.file is not None:
            data = item.file.read_bytes()
            digest = sha256_bytes(data)
            if (item.source, digest) in held:  # taken before the interruption
                return None
            if self._already_filed(session, digest, item.frame):
                summary.skipped += 1
                if progress:
                    progress(1)
                return None
            rel = self._store_file(batch_id, seq, item, data, stored)
        else:
            rel, digest = self._store_pixels(batch_id, seq, item)
        capture = Capture(batch_id=batch_id, seq=seq, source_name=item.source,
                          stored_file=rel, frame=item.frame, sha256=digest)
        session.add(capture)
        session.commit()
        future = pool.submit(_process, str(self.home / rel), item.frame, self.profile.page, item.file is None)
        return _Job(capture.id, seq, item.source, future)

    def _replay(self, session, previous: list[int], assigner, pool, summary, progress) -> None:
        """An interrupted batch: assignments rebuilt in capture order, unprocessed captures processed."""
        for capture_id in previous:
            capture = session.get(Capture, capture_id)
            if not capture.pages:
                job = _Job(capture.id, capture.seq, capture.source_name,
                           pool.submit(_process, str(self.home / capture.stored_file), capture.frame,
                                       self.profile.page))
                self._finish(session, capture.batch_id, job, assigner, summary, progress)
                continue
            summary.captures += 1
            for page in capture.pages:
                assigner.feed(page)
                summary.verdicts[page.verdict.value] += 1
                if page.verdict == Verdict.quarantined:
                    summary.quarantined.append((capture.source_name, page.reason or ""))
            if progress:
                progress(1)
        session.commit()

    # --- results --------------------------------------------------------------------------------
    def _record_failure(self, session: Session, capture: Capture, reason: str, summary: BatchSummary) -> Page:
        page = Page(capture_id=capture.id, verdict=Verdict.quarantined, reason=reason[:300])
        session.add(page)
        summary.verdicts["quarantined"] += 1
        summary.quarantined.append((capture.source_name, reason))
        log.warning("capture %s quarantined: %s", capture.source_name, reason)
        return page

    def _finish(self, session: Session, batch_id: int, job: _Job, assigner: Assigner,
                summary: BatchSummary, progress) -> None:
        capture = session.get(Capture, job.capture_id)
        summary.captures += 1
        if job.future is None:  # unreadable: quarantined when it was captured
            page = capture.pages[0]
            summary.verdicts["quarantined"] += 1
            summary.quarantined.append((capture.source_name, page.reason or ""))
            assigner.feed(page)
            session.commit()
            if progress:
                progress(1)
            return
        try:
            processed = job.future.result()
        except Exception as exc:  # a bug or a crash in a worker must not stop the batch
            log.exception("processing %s failed", job.source)
            processed = _Processed(f"lỗi xử lý / processing error: {type(exc).__name__}")
        result = processed.pages
        if processed.packed:
            self._switch_to_packed(session, capture, *processed.packed)
        if isinstance(result, str):
            pages = [self._record_failure(session, capture, result, summary)]
        else:
            pages = [self._page(capture, batch_id, part, page_result) for part, page_result in enumerate(result)]
            session.add_all(pages)
            for page_result in result:
                summary.verdicts[page_result.verdict] += 1
            if result[0].dpi_estimated:
                summary.dpi_estimated.append(job.source)
        session.flush()
        for page in pages:
            assigner.feed(page)
            if page.held_reason:
                summary.held[page.held_reason] += 1
        session.commit()
        if progress:
            progress(1)

    def _switch_to_packed(self, session: Session, capture: Capture, packed: str, digest: str) -> None:
        raw = self.home / capture.stored_file
        capture.stored_file, capture.sha256 = str(Path(packed).relative_to(self.home)), digest
        session.commit()  # the catalog names the PNG before the TIFF goes: a crash leaves a copy, never none
        raw.unlink(missing_ok=True)

    def _page(self, capture: Capture, batch_id: int, part: int, result: PageResult) -> Page:
        image = result.image
        stem = f"{capture.seq:05d}{'-' + str(part) if part else ''}"
        rel = Path("pages") / f"batch-{batch_id:05d}" / f"{stem}{IMAGE_SUFFIX[image.format]}"
        write_atomic(self.home / rel, image.data)
        page = Page(capture_id=capture.id, part=part, verdict=Verdict(result.verdict), reason=result.reason,
                    image_file=str(rel), image_format=image.format, image_bytes=len(image.data),
                    width=image.width, height=image.height, dpi=image.dpi, input_dpi=result.input_dpi,
                    dpi_estimated=result.dpi_estimated, skew_deg=result.skew_deg, rotation=result.rotation,
                    over_budget=image.over_budget, separator_text=result.separator_text,
                    measures={"ink_ratio": result.ink_ratio, "border_removed": result.border_removed,
                              "keystone": result.keystone,
                              "orientation_confident": result.orientation_confident,
                              "orientation_method": result.orientation_method,
                              "quality": image.quality, "seconds": result.seconds,
                              "file_dpi": result.file_dpi, "measured_dpi": result.measured_dpi})
        if result.warnings:
            page.measures["warnings"] = list(result.warnings)
        self._record_reading(page, rel.with_name(stem), result)
        return page

    def _record_reading(self, page: Page, stem: Path, result: PageResult) -> None:
        """What OCR read on the page, its evidence crop and text layer beside the page image."""
        reading = result.reading
        if reading is not None:
            page.read_number, page.read_volume, page.read_year = reading.number, reading.volume, reading.year
            page.read_confidence = reading.confidence
            # Error text is Tesseract's or "timeout"; the OCR'd text itself never reaches the catalog.
            page.measures["ocr"] = {"box": reading.box, "error": reading.error}
            if set(reading.numbers) - {reading.number}:  # a table page: several registrations read
                page.measures["read_numbers"] = sorted(reading.numbers)
            if reading.page_number is not None:
                page.measures["page_number"] = reading.page_number
            if reading.evidence:
                evidence = stem.with_name(f"{stem.name}-evidence.jpg")
                write_atomic(self.home / evidence, reading.evidence)
                page.number_evidence_file = str(evidence)
        if result.text_layer:
            layer = stem.with_name(f"{stem.name}-text.pdf")
            write_atomic(self.home / layer, result.text_layer)
            page.text_layer_file = str(layer)
        elif result.text_layer_error:
            page.measures["text_layer_error"] = result.text_layer_error


def recover(cfg: LoadedConfig, sessions, profile_for: Callable[[str, str | None], Profile], pool: Executor | None = None,
            keep_open: set[str] = frozenset()) -> list[int]:
    """Finish every batch a crash left open, except those of the sources in `keep_open` (their
    driver continues them): process what was captured but not processed, rebuild its assignments
    and PDFs. A batch of `station process FOLDER` whose folder is still there stays open all the
    same: running that command again continues it, so the pages after the crash join the entry
    whose separator came before it. Returns the batch ids recovered."""
    with sessions() as session:
        open_batches = [b for b in session.scalars(select(Batch).where(Batch.finished_at.is_(None)))
                        if b.source not in keep_open]
    finished = []
    for batch in open_batches:
        runner = BatchRunner(cfg, profile_for(batch.profile, batch.paper), sessions, pool=pool)
        runner.run(_NoCaptures(), batch.source, batch_id=batch.id, close=not Path(batch.source).is_dir())
        finished.append(batch.id)
    return finished


class _NoCaptures:
    name = "recovery"

    def expected(self) -> int:
        return 0

    def captures(self):
        return iter(())
