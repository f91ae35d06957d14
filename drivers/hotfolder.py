"""Hot-folder driver: overhead book scanners and cameras that write image files into a folder.

Files are watched with watchdog (inotify, or polling for network shares where inotify sees nothing)
and taken only once complete: size and mtime unchanged for `settle_seconds` and, where inotify tells
us, closed after the last write. Temp names are ignored; a file written as `x.tmp` and renamed to
`x.jpg` is taken once, as `x.jpg`. Within what is complete at a moment, files come out in name
(natural) or mtime order, so a burst of files is yielded in order, not in event order.

Hand-off, so that nothing is lost on a crash: the driver never moves a page before the consumer has
stored it. The consumer calls `acknowledge(capture)` after storing; when every frame of a file is
acknowledged the file is renamed into the done folder (never deleted). Files not acknowledged stay
in the hot folder and are taken again by the next run. A file that is complete but not a usable
image is moved to `done/failed/` before its `CaptureFailure` is yielded (the failure's `file` is the
new path), so it is kept and not retaken.
"""
from __future__ import annotations

import errno
import logging
import os
import queue
import shutil
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from PIL import Image
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from drivers.base import Capture, CapturedPage, CaptureFailure, DeviceEvent
from drivers.replay import IMAGE_SUFFIXES, _natural_key
from capturefile import ImageLoadError, file_dpi, inspect_file

log = logging.getLogger(__name__)

TEMP_SUFFIXES = {".tmp", ".temp", ".part", ".partial", ".filepart", ".crdownload"}
DEFAULT_MAX_PIXELS = 200_000_000
IDLE_WAIT = 0.25        # longest wait between looks at `stop`, in seconds
RESCAN_SECONDS = 3.0    # full listing of the folder now and then: a safety net for lost events


def is_temp_name(name: str) -> bool:
    lower = name.lower()
    return lower.startswith((".", "~")) or Path(lower).suffix in TEMP_SUFFIXES


def is_candidate_name(name: str) -> bool:
    return not is_temp_name(name) and Path(name).suffix.lower() in IMAGE_SUFFIXES


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem__N.suffix` with the first N not taken."""
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists() or target.is_symlink():
        target = folder / f"{stem}__{n}{suffix}"
        n += 1
    return target


def move_into(src: Path, folder: Path) -> Path:
    """Move src into folder without overwriting anything there; an atomic rename when on the same
    filesystem, else copy (fsynced) → rename → remove the source. Returns the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, src.name)
    try:
        os.rename(src, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = folder / f".{target.name}.part"
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
        os.replace(tmp, target)
        _fsync_dir(folder)
        os.unlink(src)
    else:
        _fsync_dir(folder)
    _fsync_dir(src.parent)
    return target


def probe(path: Path, max_pixels: int) -> list[float | None]:
    """Check a complete file is a usable image; return the reported dpi of each frame.

    Beyond `inspect_file` (header only), catch files cut short: JPEG is decoded at 1/8 scale (fast,
    but reads the whole stream), PNG chunks are verified up to IEND, TIFF strips must lie inside
    the file. Raises ImageLoadError with the reason.
    """
    try:
        info = inspect_file(path, max_pixels)
    except ImageLoadError:
        raise
    except Exception as exc:  # inspect_file lets some decoder errors (e.g. TypeError) through
        raise ImageLoadError(f"không đọc được ảnh / not a readable image ({type(exc).__name__})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            size = path.stat().st_size
            with Image.open(path) as im:
                if info.format == "PNG":
                    dpis = [info.dpi]
                    im.verify()
                elif info.format == "TIFF":
                    dpis = []
                    for frame in range(info.frames):
                        im.seek(frame)
                        dpis.append(file_dpi(im))
                        offsets = im.tag_v2.get(273) or im.tag_v2.get(324) or ()
                        counts = im.tag_v2.get(279) or im.tag_v2.get(325) or ()
                        end = max((o + c for o, c in zip(offsets, counts)), default=0)
                        if end > size:
                            raise ImageLoadError(f"trang {frame + 1} bị cắt cụt / frame {frame + 1} "
                                                 f"truncated ({end - size} bytes missing)")
                else:  # JPEG, MPO
                    dpis = [info.dpi] * info.frames
                    im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
                    im.load()
    except ImageLoadError:
        raise
    except Exception as exc:
        raise ImageLoadError(f"ảnh hỏng hoặc bị cắt cụt / corrupt or truncated image ({exc})") from None
    return dpis


@dataclass
class _Pending:
    """A candidate file seen in the hot folder, not yet taken. Touched only by the generator."""
    name: str
    stat_key: tuple | None = None   # (inode, size, mtime_ns) when last looked at
    mtime_ns: int = 0
    since: float = 0.0              # monotonic time the stat key was first seen
    writing: bool = False           # inotify: written to since the last close-after-write


@dataclass
class _Taken:
    path: Path
    inode: int
    frames: int
    acked: set


class _Handler(FileSystemEventHandler):
    def __init__(self, events: queue.Queue):
        self.events = events

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.events.put((event.event_type, os.fsdecode(event.src_path),
                             os.fsdecode(getattr(event, "dest_path", "") or "")))


class HotFolderDriver:
    name = "hotfolder"

    def __init__(self, folder: Path, *, done_folder: Path | None = None,
                 order: Literal["name", "mtime"] = "name", settle_seconds: float = 1.0,
                 poll: bool = False, poll_interval: float = 1.0, max_pixels: int = DEFAULT_MAX_PIXELS,
                 stop: threading.Event | None = None, gather_seconds: float = 0.5,
                 stale_seconds: float = 60.0):
        if order not in ("name", "mtime"):
            raise ValueError(f"order must be 'name' or 'mtime', not {order!r}")
        self.folder = Path(os.path.abspath(folder))
        if not self.folder.is_dir():
            raise NotADirectoryError(str(self.folder))
        self.done_folder = Path(os.path.abspath(done_folder)) if done_folder else self.folder / "done"
        self.failed_folder = self.done_folder / "failed"
        self.done_folder.mkdir(parents=True, exist_ok=True)
        self.order = order
        self.settle_seconds = float(settle_seconds)
        # Where inotify says a file is still open for writing after it stopped changing, take it
        # anyway after this long (a writer that never closes must not block the folder forever).
        self.stale_seconds = max(float(stale_seconds), self.settle_seconds)
        self.poll = poll
        self.poll_interval = float(poll_interval)
        self.max_pixels = max_pixels
        self.stop_event = stop if stop is not None else threading.Event()
        # Files settling within this long of the first ready one count as one burst, sorted together.
        self.gather_seconds = float(gather_seconds)
        self._tick = max(0.02, min(IDLE_WAIT, self.settle_seconds / 4))
        self._events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._taken: dict[str, _Taken] = {}   # yielded, waiting for acknowledge; by file name
        self._pending: dict[str, _Pending] = {}
        self._writing: dict[str, bool] = {}   # inotify write/close state of every name, temp ones too
        self._track_close = False
        self._running = False
        # Set once the folder is watched and its initial listing taken (cleared when captures() ends).
        self.watching = threading.Event()

    # --- Driver interface ----------------------------------------------------------------------
    def expected(self) -> None:
        return None

    def stop(self) -> None:
        self.stop_event.set()
        self._events.put(("wake", "", ""))

    def captures(self) -> Iterator[Capture]:
        if self._running:
            raise RuntimeError("captures() is already running")
        self._running = True
        self._events = queue.Queue()   # a fresh one: nothing left over from an earlier run
        sequence = 0
        observer = None
        folder_ok = True
        try:
            observer = self._start_observer()
            self._rescan(time.monotonic())
            self.watching.set()
            next_rescan = time.monotonic() + RESCAN_SECONDS
            while True:
                stopping = self.stop_event.is_set()
                self._drain_events()
                now = time.monotonic()
                if now >= next_rescan or stopping:
                    ok = self._rescan(now)
                    next_rescan = now + RESCAN_SECONDS
                    if ok != folder_ok:
                        folder_ok = ok
                        if not ok:
                            log.warning("hot folder %s is gone", self.folder)
                            yield DeviceEvent(self.name, "disconnected",
                                              f"Không truy cập được thư mục nhận ảnh {self.folder}")
                        else:
                            log.warning("hot folder %s is back", self.folder)
                            observer = self._restart_observer(observer)
                self._refresh(now)
                if stopping:
                    # Drain what is complete now, in order, then end.
                    for pending in sorted(self._ready(now), key=self._sort_key):
                        for item in self._take(pending, sequence):
                            sequence += 1
                            yield item
                    return
                pending, wait = self._next(now)
                if pending is not None:
                    for item in self._take(pending, sequence):
                        sequence += 1
                        yield item
                    continue
                self._wait(wait)
        finally:
            self._running = False
            self.watching.clear()
            if observer is not None:
                # Stopping inotify can wait a moment for unpaired moves (ours, into done/): do it
                # aside so the generator ends at once.
                threading.Thread(target=self._stop_observer, args=(observer,), daemon=True,
                                 name="hotfolder-observer-stop").start()

    def acknowledge(self, capture: Capture) -> Path | None:
        """The consumer has stored this capture. Once every frame of its file is acknowledged the
        file is renamed into the done folder; returns its new path then, else None.

        A CaptureFailure's file is already in done/failed: acknowledging it is a no-op.
        """
        if isinstance(capture, CaptureFailure):
            return capture.file
        if not isinstance(capture, CapturedPage) or capture.file is None:
            return None
        name = capture.file.name
        with self._lock:
            taken = self._taken.get(name)
            if taken is None or taken.path != capture.file:
                log.warning("acknowledge of %s, which is not waiting for one", capture.source)
                return None
            taken.acked.add(capture.frame)
            if len(taken.acked) < taken.frames:
                return None
            try:
                st = os.stat(taken.path)
            except FileNotFoundError:
                del self._taken[name]
                log.warning("%s vanished from the hot folder before it was moved to done", name)
                return None
            if st.st_ino != taken.inode:
                # Replaced by a new file of the same name since it was taken: leave the new one
                # in place to be taken in its turn.
                del self._taken[name]
                self._events.put(("rescan", str(taken.path), ""))
                return None
            try:
                target = move_into(taken.path, self.done_folder)
            except OSError as exc:
                # Kept in _taken so it is not yielded twice in this run; the next run takes it
                # again (a duplicate, never a loss).
                log.error("cannot move %s to %s: %s", taken.path, self.done_folder, exc)
                return None
            del self._taken[name]
        return target

    # --- watching ------------------------------------------------------------------------------
    def _start_observer(self):
        handler = _Handler(self._events)
        observer = None
        if not self.poll:
            try:
                from watchdog.observers.inotify import InotifyObserver
                # Full events: a file moved in from outside the folder comes as a move with no
                # source (complete already), not as a creation (a writer at work).
                observer = InotifyObserver(generate_full_events=True)
                observer.schedule(handler, str(self.folder), recursive=False)
                observer.start()
                self._track_close = True
                return observer
            except (ImportError, OSError) as exc:
                log.warning("inotify unavailable for %s (%s); polling instead", self.folder, exc)
                if observer is not None:
                    self._stop_observer(observer)
        self._track_close = False
        observer = PollingObserver(timeout=self.poll_interval)
        observer.schedule(handler, str(self.folder), recursive=False)
        observer.start()
        return observer

    def _stop_observer(self, observer) -> None:
        try:
            observer.stop()
            observer.join(timeout=2.0)
        except Exception:  # noqa: BLE001 - a failing watcher must not hide the real outcome
            log.exception("stopping the folder watcher")

    def _restart_observer(self, observer):
        if observer is not None:
            self._stop_observer(observer)
        try:
            return self._start_observer()
        except OSError as exc:
            log.error("cannot watch %s again: %s", self.folder, exc)
            return None

    def _drain_events(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            self._apply(event)

    def _wait(self, timeout: float) -> None:
        try:
            event = self._events.get(timeout=max(0.005, timeout))
        except queue.Empty:
            return
        self._apply(event)

    def _own(self, path: str) -> str | None:
        """The file name, when path is directly in the hot folder."""
        if not path or os.path.dirname(path) != str(self.folder):
            return None
        return os.path.basename(path)

    def _apply(self, event: tuple[str, str, str]) -> None:
        kind, src, dest = event
        name = self._own(src)
        if kind == "moved":
            new = self._own(dest)
            writing = self._writing.pop(name, False) if name else False
            if name:
                self._pending.pop(name, None)
            if new:
                self._writing[new] = writing and self._track_close
                self._seen(new)
            return
        if name is None:
            return
        if kind == "deleted":
            self._writing.pop(name, None)
            self._pending.pop(name, None)
        elif kind in ("created", "modified"):
            if self._track_close:
                self._writing[name] = True
                if name in self._pending:
                    self._pending[name].writing = True
            self._seen(name)
        elif kind == "closed":
            self._writing[name] = False
            if name in self._pending:
                self._pending[name].writing = False
            self._seen(name)
        elif kind == "rescan":
            self._seen(name)

    def _seen(self, name: str) -> None:
        if name in self._pending or not is_candidate_name(name):
            return
        with self._lock:
            if name in self._taken:
                return
        self._pending[name] = _Pending(name, writing=self._writing.get(name, False))

    def _rescan(self, now: float) -> bool:
        try:
            with os.scandir(self.folder) as entries:
                names = [e.name for e in entries if e.is_file(follow_symlinks=False)]
        except OSError as exc:
            log.debug("cannot list hot folder %s: %s", self.folder, exc)
            return False
        present = set(names)
        for name in names:
            self._seen(name)
        for name in [n for n in self._pending if n not in present]:
            del self._pending[name]
        return True

    # --- completeness and order ----------------------------------------------------------------
    def _refresh(self, now: float) -> None:
        """Stat every pending file; a change restarts its settle time."""
        for name in list(self._pending):
            pending = self._pending[name]
            try:
                st = os.stat(self.folder / name)
            except FileNotFoundError:
                del self._pending[name]
                continue
            except OSError:
                continue
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
            if key != pending.stat_key:
                pending.stat_key, pending.mtime_ns, pending.since = key, st.st_mtime_ns, now

    def _ready_at(self, pending: _Pending) -> float:
        if pending.stat_key is None:
            return float("inf")
        if pending.writing or pending.stat_key[1] == 0:
            return pending.since + self.stale_seconds
        return pending.since + self.settle_seconds

    def _ready(self, now: float) -> list[_Pending]:
        return [p for p in self._pending.values() if self._ready_at(p) <= now]

    def _sort_key(self, pending: _Pending):
        if self.order == "mtime":
            return (pending.mtime_ns, _natural_key(Path(pending.name)))
        return _natural_key(Path(pending.name))

    def _next(self, now: float) -> tuple[_Pending | None, float]:
        """The file to take now, or None and how long to wait before looking again.

        Files of one burst settle a few ticks apart; the first ready one waits up to
        `gather_seconds` for others about to settle, so the burst comes out in order, not in
        event order.
        """
        ready, soon = [], []
        for p in self._pending.values():
            (ready if self._ready_at(p) <= now else soon).append(p)
        if ready:
            horizon = min(self._ready_at(p) for p in ready) + self.gather_seconds
            coming = [self._ready_at(p) for p in soon if self._ready_at(p) <= horizon]
            if now < horizon and coming:
                return None, min(self._tick, min(coming) - now)
            return min(ready, key=self._sort_key), 0.0
        if soon:
            return None, min(self._tick, min(self._ready_at(p) for p in soon) - now)
        return None, IDLE_WAIT

    def _take(self, pending: _Pending, sequence: int) -> Iterator[Capture]:
        del self._pending[pending.name]
        path = self.folder / pending.name
        try:
            dpis = probe(path, self.max_pixels)
        except FileNotFoundError:
            return
        except ImageLoadError as exc:
            reason = str(exc)
            try:
                moved = move_into(path, self.failed_folder)
            except FileNotFoundError:
                return
            except OSError as move_exc:
                log.error("cannot move %s to %s: %s", path, self.failed_folder, move_exc)
                moved = path
                with self._lock:  # not yielded again in this run
                    self._taken[pending.name] = _Taken(path, pending.stat_key[0], 1, {0})
            log.warning("hot folder: %s unusable: %s", pending.name, reason)
            yield CaptureFailure(sequence + 1, self.name, pending.name, reason, moved)
            return
        with self._lock:
            self._taken[pending.name] = _Taken(path, pending.stat_key[0], len(dpis), set())
        for frame, dpi in enumerate(dpis):
            source = pending.name if len(dpis) == 1 else f"{pending.name}#{frame + 1}"
            yield CapturedPage(sequence + frame + 1, self.name, source, dpi, file=path, frame=frame)
