"""SANE driver: pages straight off a scanner through python-sane (flatbed or document feeder).

    with SaneDriver("fujitsu:fi-7160:123", source="adf", mode="gray", resolution=300) as scanner:
        for item in scanner.captures():      # CapturedPage | DeviceEvent
            ...

Flatbed: each call of `captures()` is one scan. Feeder: `captures()` scans sheet after sheet until the
backend reports the feeder empty (SANE_STATUS_NO_DOCS, in whatever wording; or a scan that ends before
any data). A jam, open cover or I/O error mid-batch is yielded as a `DeviceEvent` with a plain
Vietnamese message; the driver then pauses until the operator says go on, and carries on with the next
sheet; pages already yielded stay yielded and sequence numbers keep counting up across the pause.

Pausing: pass `wait_for_operator=callback` (called with the event once the consumer asks for the next
item; return True to go on, False to end the batch), or leave it out and call `resume()` / `stop()`
from another thread (e.g. the UI's "Tiếp tục" / "Dừng" buttons); `paused` tells whether it waits.

The module is named sane_driver, not sane, so that it does not shadow the python-sane library.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import _sane
import sane

from drivers.base import Capture, CapturedPage, DeviceEvent

log = logging.getLogger(__name__)

MM_PER_INCH = 25.4
SOURCES = ("flatbed", "adf", "adf-duplex")
MODES = ("color", "gray", "lineart")


# --- SANE library, devices ----------------------------------------------------------------------

_init_lock = threading.Lock()
_initialised = False


def _ensure_init() -> None:
    """sane.init() once per process. SANE reads SANE_CONFIG_DIR here, so set it before the first call."""
    global _initialised
    with _init_lock:
        if not _initialised:
            version = sane.init()
            _initialised = True
            log.debug("SANE initialised, version %s", version)


@dataclass(frozen=True)
class DeviceInfo:
    name: str      # what SaneDriver takes, e.g. "test:0", "fujitsu:fi-7160:1234"
    vendor: str
    model: str
    type: str      # "flatbed scanner", "sheetfed scanner", "virtual device", ...

    def __str__(self) -> str:
        return f"{self.name} ({self.vendor} {self.model}, {self.type})"


def list_devices(local_only: bool = True) -> list[DeviceInfo]:
    """Scanners SANE sees. Local only is fast; with network backends it can take seconds."""
    _ensure_init()
    return [DeviceInfo(*entry) for entry in sane.get_devices(localOnly=local_only)]


# --- errors ----------------------------------------------------------------------------------------

class SaneDriverError(RuntimeError):
    """The scanner cannot be opened or set up as asked (raised before any scanning)."""


class DeviceNotFoundError(SaneDriverError, LookupError):
    def __init__(self, device_name: str, available: Sequence[DeviceInfo], reason: str):
        self.device_name = device_name
        self.available = list(available)
        self.reason = reason
        seen = "; ".join(str(d) for d in self.available) or "không có / none"
        super().__init__(f"Không tìm thấy máy quét {device_name!r} / scanner not found ({reason}). "
                         f"Máy quét đang thấy / devices seen: {seen}")


class DeviceOpenError(SaneDriverError):
    def __init__(self, device_name: str, reason: str):
        self.device_name = device_name
        self.reason = reason
        super().__init__(f"Không mở được máy quét {device_name!r} / cannot open scanner: {reason} "
                         f"(máy đang bận hoặc thiếu quyền? / busy or no permission?)")


class SaneOptionError(SaneDriverError):
    def __init__(self, device_name: str, option: str, value: Any, detail: str):
        self.device_name = device_name
        self.option = option
        self.value = value
        super().__init__(f"Máy quét {device_name!r} không đặt được {option} = {value!r} / "
                         f"cannot set option {option!r} to {value!r}: {detail}")


# --- SANE status → what happened --------------------------------------------------------------------
# python-sane raises _sane.error(sane_strstatus(status)) with no status code, and a scan that ends before
# any data as RuntimeError("Scanner returned no data"); backends and versions word things differently.
# So statuses are recognised by the words in the text, plus the SANE_STATUS_* names themselves.

_STATUS_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("no_docs", ("no_docs", "out of documents", "out of document", "no documents", "no document",
                 "no paper", "out of paper", "feeder empty", "feeder is empty", "no more documents")),
    ("jammed", ("jammed", "jam")),
    ("cover_open", ("cover_open", "cover is open", "cover open", "lid open", "door open")),
    ("warming_up", ("warming_up", "warming up", "lamp not ready")),
    ("locked", ("hw_locked", "locked for transport", "mechanism locked")),
    ("busy", ("device_busy", "device busy", "busy")),
    ("denied", ("access_denied", "access to resource has been denied", "denied", "permission")),
    ("cancelled", ("cancelled", "canceled")),
    ("closed", ("object is closed", "no such device", "not connected", "disconnected")),
    ("no_data", ("returned no data", "no data")),
    ("io_error", ("io_error", "i/o", "input/output", "io error")),
    ("no_mem", ("no_mem", "out of memory")),
    ("inval", ("inval", "invalid argument")),
]


def classify_status(error: BaseException | str) -> str:
    """What a python-sane error means: "no_docs", "jammed", "cover_open", "io_error", "busy", "denied",
    "cancelled", "closed", "no_data", "warming_up", "locked", "no_mem", "inval" or "other"."""
    text = str(error).strip().lower()
    for status, words in _STATUS_WORDS:
        if any(word in text for word in words):
            return status
    return "other"


# Plain Vietnamese for the operator; the feeder variant where it matters (a sheet must go back in).
def _message(status: str, feeder: bool, raw: str) -> tuple[str, str]:
    """(DeviceEvent kind, message) for a fault status."""
    if status == "jammed":
        return "jammed", "Kẹt giấy trong khay nạp — gỡ tờ bị kẹt, đặt lại tờ đó lên khay rồi bấm Tiếp tục"
    if status == "cover_open":
        return "cover_open", "Nắp máy quét đang mở — đóng nắp lại rồi bấm Tiếp tục"
    if status == "no_docs":
        return "out_of_paper", "Khay nạp giấy trống — đặt giấy vào khay rồi bấm Quét"
    if status == "busy":
        return "disconnected", ("Máy quét đang bận hoặc không trả lời — tắt chương trình quét khác nếu có, "
                                "chờ một lát rồi bấm Tiếp tục")
    if status == "denied":
        return "disconnected", "Không có quyền dùng máy quét — gọi cán bộ kỹ thuật, rồi bấm Tiếp tục"
    if status == "closed":
        return "disconnected", "Mất kết nối với máy quét — cắm lại cáp, bật máy rồi bấm Tiếp tục"
    if status == "locked":
        return "io_error", "Máy quét đang khóa vận chuyển — mở khóa rồi bấm Tiếp tục"
    again = ("đặt lại tờ đang quét dở lên khay rồi bấm Tiếp tục" if feeder
             else "rồi bấm Tiếp tục để quét lại trang này")
    if status in ("io_error", "no_data"):
        return "io_error", f"Lỗi truyền dữ liệu với máy quét — kiểm tra cáp và nguồn, {again}"
    return "io_error", f"Máy quét báo lỗi ({raw}) — kiểm tra máy, {again}"


# After these the handle may be stale (device reset, unplugged and back): reopen it before going on.
_REOPEN_AFTER = {"io_error", "no_data", "busy", "denied", "closed", "other", "no_mem", "inval"}
WARMUP_RETRIES = 15
WARMUP_WAIT_S = 2.0
READER_SETTLE_S = 0.1      # after a failed read, before the cancel (see _scan_one)


# --- option values -------------------------------------------------------------------------------

_SOURCE_WORDS = {
    "flatbed": ("flatbed", "platen", "glass", "document table", "normal"),
    "adf": ("adf", "feeder", "automatic document", "sheetfed", "sheet fed"),
    "adf-duplex": ("duplex",),
}
_MODE_WORDS = {
    "color": ("color", "colour", "rgb"),
    "gray": ("gray", "grey"),
    "lineart": ("lineart", "line art", "binary", "black & white", "black and white", "bw", "monochrome",
                "threshold"),
}


def _pick(values: Sequence[str], words: Sequence[str], avoid: Sequence[str] = ()) -> str | None:
    """The offered value that best matches: exact word first, then the first containing a word."""
    lowered = [(v, v.lower()) for v in values]
    for word in words:
        for value, low in lowered:
            if low == word:
                return value
    for word in words:
        for value, low in lowered:
            if word in low and not any(a in low for a in avoid):
                return value
    return None


def _is_feeder(source_value: str) -> bool:
    low = source_value.lower()
    return any(w in low for w in _SOURCE_WORDS["adf"] + _SOURCE_WORDS["adf-duplex"])


# --- the driver -------------------------------------------------------------------------------------

class SaneDriver:
    """One SANE scanner, opened and set up on construction; `close()` (or `with`) releases it."""

    def __init__(self, device_name: str, *, source: str | None = None, mode: str = "color",
                 resolution: float = 300, area_mm: tuple[float, float] | None = (210, 297),
                 wait_for_operator: Callable[[DeviceEvent], bool] | None = None,
                 pause_timeout: float | None = None, max_pages: int | None = None):
        self._check(source, mode)
        self.name = device_name
        self.requested = {"source": source, "mode": mode, "resolution": resolution, "area_mm": area_mm}
        self.wait_for_operator = wait_for_operator
        self.pause_timeout = pause_timeout      # internal wait only: None = wait for resume()/stop()
        self.max_pages = max_pages              # a safety bound on one feeder batch
        self.resolution: float | None = None    # as actually set on the device
        self.source_label = "Flatbed"
        self.feeder = False
        self.duplex = False
        self._sequence = 0
        self._resume = threading.Event()
        self._stop = threading.Event()
        self._paused = False
        self._lock = threading.RLock()   # held while a sheet is scanned; close() waits for it
        self._dev = None
        _ensure_init()
        self._dev = self._open(device_name)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    # --- public API ---
    def expected(self) -> int | None:
        return None

    @property
    def paused(self) -> bool:
        """True while the driver waits for the operator after a fault."""
        return self._paused

    def resume(self) -> None:
        """The operator cleared the fault: carry on with the next sheet (safe from any thread)."""
        self._resume.set()

    def stop(self) -> None:
        """End the batch: a pause ends, and no further sheet is started (safe from any thread)."""
        self._stop.set()
        self._resume.set()

    def close(self) -> None:
        """Release the device. From another thread it waits for the sheet being scanned."""
        self._stop.set()
        self._resume.set()
        with self._lock:
            dev, self._dev = self._dev, None
        if dev is not None:
            try:
                dev.cancel()
            except Exception:
                pass
            try:
                dev.close()
            except Exception:
                log.debug("closing %s failed", self.name, exc_info=True)

    def __enter__(self) -> "SaneDriver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    _UNSET: Any = object()

    def configure(self, *, source: Any = _UNSET, mode: Any = _UNSET, resolution: Any = _UNSET,
                  area_mm: Any = _UNSET) -> None:
        """Change settings between batches (e.g. another book's resolution) without reopening."""
        changes = {"source": source, "mode": mode, "resolution": resolution, "area_mm": area_mm}
        changes = {k: v for k, v in changes.items() if v is not self._UNSET}
        self._check(changes.get("source", self.requested["source"]), changes.get("mode", self.requested["mode"]))
        self.requested.update(changes)
        with self._lock:
            self._device()
            self._setup()

    @staticmethod
    def _check(source: str | None, mode: str) -> None:
        if source is not None and source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES} or None, not {source!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")

    def option_value(self, name: str) -> Any:
        """Current value of a device option by its SANE name ("source", "br-x", ...)."""
        with self._lock:
            return getattr(self._device(), name.replace("-", "_"))

    def set_option(self, name: str, value: Any) -> Any:
        """Set any device option by its SANE name, clamped to its range; returns the value now set.
        For device-specific settings (and for injecting faults into SANE's test backend). From another
        thread it waits for the sheet being scanned."""
        with self._lock:
            opt = self._option(name)
            if opt is None:
                raise SaneOptionError(self.name, name, value, "thiết bị không có tùy chọn này / no such option")
            return self._set(opt, name, self._fit(opt, name, value))

    def captures(self) -> Iterator[Capture]:
        """Flatbed: one page. Feeder: every sheet until the feeder is empty. Faults in between."""
        self._device()
        self._stop.clear()
        scanned = 0          # pages in this call
        side = 0             # duplex: 0 front, 1 back
        retried_start = False
        warmups = 0
        try:
            while not self._stop.is_set():
                if self.feeder and self.max_pages is not None and scanned >= self.max_pages:
                    log.warning("%s: stopped after max_pages=%d", self.name, self.max_pages)
                    return
                try:
                    image = self._scan_one()
                except (_sane.error, RuntimeError) as exc:
                    status = classify_status(exc)
                    self._cancel()
                    log.info("%s: scan ended with %r (%s) after %d page(s)", self.name, str(exc), status,
                             scanned)
                    if status == "no_docs" or (status == "no_data" and self.feeder):
                        # The feeder is empty: the normal end of a batch; an event only when it was
                        # empty from the start (nothing scanned), so the operator knows why.
                        if scanned == 0:
                            kind, message = _message("no_docs", self.feeder, str(exc))
                            yield DeviceEvent(self.name, kind, message)
                        return
                    if status == "cancelled":    # stop() here, or the device's own stop button
                        return
                    if status == "warming_up" and warmups < WARMUP_RETRIES:
                        warmups += 1
                        time.sleep(WARMUP_WAIT_S)
                        continue
                    if status == "inval" and self.feeder and scanned > 0 and not retried_start:
                        # Some backends refuse a new start without a cancel in between; try that once.
                        retried_start = True
                        continue
                    if not (yield from self._pause(status, str(exc))):
                        return
                    side = 0
                    continue
                if image is None:    # closed from another thread
                    return
                retried_start = False
                warmups = 0
                self._sequence += 1
                scanned += 1
                label = self.source_label
                if self.duplex:
                    label = f"{label} ({'mặt trước' if side == 0 else 'mặt sau'})"
                    side ^= 1
                if self.resolution:
                    image.info["dpi"] = (self.resolution, self.resolution)
                yield CapturedPage(self._sequence, self.name, label, self.resolution, image=image)
                if not self.feeder:
                    return
        finally:
            self._cancel()

    def _pause(self, status: str, raw: str) -> Iterator[Capture]:
        """Yield the fault's event, wait for the operator, reopen the device if the fault calls for it.
        Returns whether to go on (as the value of `yield from`)."""
        while True:
            kind, message = _message(status, self.feeder, raw)
            event = DeviceEvent(self.name, kind, message)
            self._resume.clear()     # before the yield: a resume() from now on is not lost
            self._paused = True
            try:
                yield event
                go_on = self._wait(event)
            finally:
                self._paused = False
            if not go_on:
                return False
            if status not in _REOPEN_AFTER:
                return True
            try:
                self._reopen()
                return True
            except SaneDriverError as exc:
                log.warning("%s: reopen failed: %s", self.name, exc)
                if self._dev is None and self._stop.is_set():
                    return False
                status, raw = "closed", str(exc)

    # --- scanning ---
    def _scan_one(self):
        with self._lock:
            dev = self._dev
            if dev is None:
                return None
            dev.start()
            try:
                # Feeder batches are not cancelled between sheets (a cancel ends the batch on many backends).
                return dev.snap(no_cancel=self.feeder)
            except (_sane.error, RuntimeError):
                # The read failed while the backend's reader thread may still be starting or ending.
                # Backends built on sanei_thread cancel it asynchronously; cancelled inside malloc, it
                # leaves glibc's arena lock held and the sane_cancel() that follows waits forever (seen
                # with SANE's test backend, about 1 fault in 20). A moment first closes that window.
                time.sleep(READER_SETTLE_S)
                raise

    def _cancel(self) -> None:
        if self._dev is not None:
            try:
                self._dev.cancel()
            except Exception:
                log.debug("cancel on %s failed", self.name, exc_info=True)

    def _wait(self, event: DeviceEvent) -> bool:
        if self._stop.is_set():
            return False
        if self.wait_for_operator is not None:
            go_on = bool(self.wait_for_operator(event))
        else:
            log.info("%s: paused (%s), waiting for resume()", self.name, event.kind)
            if not self._resume.wait(self.pause_timeout):
                log.warning("%s: no resume within %s s, batch ended", self.name, self.pause_timeout)
                return False
            go_on = True
        return go_on and not self._stop.is_set()

    # --- device ---
    def _device(self):
        if self._dev is None:
            raise SaneDriverError(f"Máy quét {self.name!r} đã đóng / scanner is closed")
        return self._dev

    def _open(self, name: str):
        try:
            return sane.open(name)
        except _sane.error as exc:
            available = list_devices(local_only=True)
            if name not in {d.name for d in available}:
                raise DeviceNotFoundError(name, available, str(exc)) from None
            raise DeviceOpenError(name, str(exc)) from None

    def _reopen(self) -> None:
        """After an I/O error or a lost device: close the handle, open it again, set it up again."""
        with self._lock:
            if self._stop.is_set() and self._dev is None:
                raise SaneDriverError(f"Máy quét {self.name!r} đã đóng / scanner is closed")
            old, self._dev = self._dev, None
            if old is not None:
                try:
                    old.close()
                except Exception:
                    pass
            self._dev = self._open(self.name)
            self._setup()
        log.info("%s: reopened", self.name)

    def _option(self, name: str):
        dev = self._device()
        return dev.opt.get(name.replace("-", "_"))

    @staticmethod
    def _usable(opt) -> bool:
        return opt is not None and opt.is_active() and opt.is_settable()

    def _fit(self, opt, name: str, value: Any) -> Any:
        """The value coerced to the option's type and clamped to its constraint."""
        constraint = opt.constraint
        if opt.type == _sane.TYPE_STRING:
            if isinstance(constraint, list) and value not in constraint:
                raise SaneOptionError(self.name, name, value, f"máy chỉ có / offered: {constraint}")
            return str(value)
        if opt.type == _sane.TYPE_BOOL:
            return int(bool(value))
        if opt.type not in (_sane.TYPE_INT, _sane.TYPE_FIXED):
            raise SaneOptionError(self.name, name, value, "kiểu tùy chọn không đặt được / not settable type")
        number = float(value)
        if isinstance(constraint, tuple):
            low, high, quant = constraint
            fitted = min(max(number, low), high)
            if quant:
                fitted = low + round((fitted - low) / quant) * quant
                fitted = min(max(fitted, low), high)
        elif isinstance(constraint, list) and constraint:
            fitted = min(constraint, key=lambda c: (abs(c - number), -c))
        else:
            fitted = number
        if abs(fitted - number) > 1e-6:
            log.info("%s: %s %s is outside what the device allows %s, using %s",
                     self.name, name, value, constraint, fitted)
        return int(round(fitted)) if opt.type == _sane.TYPE_INT else float(fitted)

    def _set(self, opt, name: str, value: Any) -> Any:
        if not self._usable(opt):
            raise SaneOptionError(self.name, name, value, "tùy chọn đang tắt hoặc chỉ đọc / inactive or read-only")
        dev = self._device()
        try:
            setattr(dev, opt.py_name, value)
        except (_sane.error, AttributeError, TypeError) as exc:
            raise SaneOptionError(self.name, name, value, str(exc)) from None
        return getattr(dev, opt.py_name)

    def _set_if_present(self, name: str, value: Any, log_missing: bool = True) -> Any | None:
        opt = self._option(name)
        if not self._usable(opt):
            if log_missing:
                log.info("%s: no settable option %r, left as the device has it", self.name, name)
            return None
        return self._set(opt, name, self._fit(opt, name, value))

    def _setup(self) -> None:
        source, mode = self.requested["source"], self.requested["mode"]
        resolution, area = self.requested["resolution"], self.requested["area_mm"]
        # Source first: it can change the modes, resolutions and geometry on offer.
        self._setup_source(source)
        self._setup_mode(mode)
        res = self._set_if_present("resolution", resolution, log_missing=False)
        if res is None:  # some backends have separate x and y resolutions
            res = self._set_if_present("x-resolution", resolution, log_missing=False)
            self._set_if_present("y-resolution", resolution, log_missing=False)
        if res is None:
            log.info("%s: no settable resolution option, left as the device has it", self.name)
        res = float(res) if res is not None else None
        self.resolution = res
        if area is not None:
            self._setup_area(area)

    def _setup_source(self, source: str | None) -> None:
        opt = self._option("source")
        offered = opt.constraint if self._usable(opt) and isinstance(opt.constraint, list) else None
        if source is None:
            current = self.option_value("source") if opt is not None and opt.is_active() else None
            dev_type = next((d.type for d in list_devices(local_only=True) if d.name == self.name), "")
            self.feeder = bool(current and _is_feeder(current)) or "sheetfed" in dev_type.lower()
            self.duplex = bool(current and "duplex" in current.lower())
            self.source_label = current or ("ADF" if self.feeder else "Flatbed")
            return
        self.feeder = source != "flatbed"
        self.duplex = source == "adf-duplex"
        if offered is None:
            if self.duplex and not self._set_duplex_flag():
                raise SaneOptionError(self.name, "source", source,
                                      "máy không có tùy chọn nguồn giấy hay quét hai mặt / no source or duplex option")
            log.info("%s: no settable 'source' option; scanning from its only source (%s)", self.name, source)
            self.source_label = "ADF" if self.feeder else "Flatbed"
            return
        if source == "flatbed":
            value = _pick(offered, _SOURCE_WORDS["flatbed"], avoid=("adf", "feeder", "duplex"))
        elif source == "adf":
            value = (_pick(offered, ("adf front", "adf", "automatic document feeder"), avoid=("duplex", "back", "rear"))
                     or _pick(offered, _SOURCE_WORDS["adf"], avoid=("duplex", "back", "rear")))
        else:
            value = _pick(offered, ("adf duplex", "duplex"))
            if value is None:
                simplex = _pick(offered, _SOURCE_WORDS["adf"], avoid=("duplex", "back", "rear"))
                if simplex is not None and self._set_duplex_flag():
                    value = simplex
        if value is None:
            raise SaneOptionError(self.name, "source", source, f"máy chỉ có / offered: {offered}")
        self.source_label = self._set(opt, "source", value)

    def _set_duplex_flag(self) -> bool:
        opt = self._option("duplex")
        if self._usable(opt) and opt.type == _sane.TYPE_BOOL:
            self._set(opt, "duplex", 1)
            return True
        return False

    def _setup_mode(self, mode: str) -> None:
        opt = self._option("mode")
        depth = self._option("depth")
        depths = depth.constraint if self._usable(depth) and isinstance(depth.constraint, list) else []
        if not self._usable(opt) or not isinstance(opt.constraint, list):
            log.info("%s: no settable 'mode' option, left as the device has it", self.name)
            return
        offered = opt.constraint
        if mode == "color":
            value = _pick(offered, _MODE_WORDS["color"])
        elif mode == "gray":
            value = _pick(offered, _MODE_WORDS["gray"], avoid=("16",)) or _pick(offered, _MODE_WORDS["gray"])
        else:
            value = _pick(offered, _MODE_WORDS["lineart"]) or _pick(offered, ("halftone",))
            if value is None and 1 in depths:
                # Devices without a line-art mode (SANE's test backend): grey at 1 bit per sample.
                value = _pick(offered, _MODE_WORDS["gray"])
                if value is not None:
                    self._set(opt, "mode", value)
                    self._set(self._option("depth"), "depth", 1)
                    return
        if value is None:
            raise SaneOptionError(self.name, "mode", mode, f"máy chỉ có / offered: {offered}")
        self._set(opt, "mode", value)
        depth = self._option("depth")  # options may have been reloaded by the mode change
        if mode != "lineart" and self._usable(depth) and isinstance(depth.constraint, list) and 8 in depth.constraint:
            self._set(depth, "depth", 8)

    def _setup_area(self, area: tuple[float, float]) -> None:
        width, height = area
        # ADF scanners often cap the scan area by the paper size set here; set it first when there is one.
        for name, value in (("page-width", width), ("page-height", height)):
            opt = self._option(name)
            if self._usable(opt):
                self._set(opt, name, self._fit(opt, name, self._geometry_value(opt, value)))
        for name, value in (("tl-x", 0.0), ("tl-y", 0.0), ("br-x", width), ("br-y", height)):
            opt = self._option(name)
            if not self._usable(opt):
                log.info("%s: no settable option %r, scan area left as the device has it", self.name, name)
                continue
            self._set(opt, name, self._fit(opt, name, self._geometry_value(opt, value)))

    def _geometry_value(self, opt, mm: float) -> float:
        if opt.unit == _sane.UNIT_PIXEL and self.resolution:
            return mm / MM_PER_INCH * self.resolution
        return mm
