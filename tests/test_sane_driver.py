"""SaneDriver against real libsane and SANE's `test` backend (no mocks).

tests/sane/ is a SANE config folder with only the test backend (dll.conf) and an A4-capable scan area
(test.conf: geometry_max 300 mm). SANE reads SANE_CONFIG_DIR once, in sane_init(), and python-sane inits
once per process, so the fixture below sets it before the driver's first sane.init().

Facts about the test backend these tests rely on (sane-backends 1.2.1):
- source "Flatbed" | "Automatic Document Feeder"; the feeder holds 10 sheets: sane_start() returns
  SANE_STATUS_NO_DOCS on every 11th start of a device handle (the count includes flatbed scans and
  failed scans, and restarts when the device is opened again);
- option values persist across close/open of a device (the fixture below puts them back);
- read-return-value = "SANE_STATUS_JAMMED" etc. makes every sane_read() return that status, so a fault
  is injected between two sheets by setting it, and cleared by setting "Default" again.
"""
from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.base import CapturedPage, DeviceEvent

SANE_DIR = Path(__file__).parent / "sane"
DEVICE = "test:0"
ADF = "Automatic Document Feeder"
FEEDER_SHEETS = 10          # the test backend's feeder
BOUND = 60                  # no test reads more items than this, whatever the driver does
SMALL = dict(mode="gray", resolution=50, area_mm=(50, 70))


@pytest.fixture(scope="module", autouse=True)
def sane_test_backend():
    old = os.environ.get("SANE_CONFIG_DIR")
    os.environ["SANE_CONFIG_DIR"] = str(SANE_DIR)
    from drivers import sane_driver
    names = [d.name for d in sane_driver.list_devices()]
    if DEVICE not in names:
        pytest.fail(f"SANE was initialised in this process before SANE_CONFIG_DIR={SANE_DIR} was set "
                    f"(devices seen: {names}); run this module in its own pytest process")
    yield sane_driver
    if old is None:
        os.environ.pop("SANE_CONFIG_DIR", None)
    else:
        os.environ["SANE_CONFIG_DIR"] = old


@pytest.fixture(autouse=True)
def fresh_test_device(sane_test_backend):
    """The test backend keeps option values across close/open: put back what a test may change."""
    yield
    import sane
    dev = sane.open(DEVICE)
    try:
        dev.hand_scanner = False
        dev.read_return_value = "Default"
        dev.test_picture = "Solid white"
    finally:
        dev.close()


def pages_of(items):
    return [i for i in items if isinstance(i, CapturedPage)]


def events_of(items):
    return [i for i in items if isinstance(i, DeviceEvent)]


def px(mm: float, dpi: float) -> int:
    return int(mm / 25.4 * dpi)


def assert_size(image, mm_w, mm_h, dpi):
    w, h = image.size
    assert abs(w - px(mm_w, dpi)) <= 2 and abs(h - px(mm_h, dpi)) <= 2, (image.size, mm_w, mm_h, dpi)


# --- devices -------------------------------------------------------------------------------------

def test_list_devices_finds_test_backend_quickly(sane_test_backend):
    start = time.monotonic()
    devices = sane_test_backend.list_devices(local_only=True)
    assert time.monotonic() - start < 1.0
    by_name = {d.name: d for d in devices}
    assert DEVICE in by_name
    info = by_name[DEVICE]
    assert (info.vendor, info.model, info.type) == ("Noname", "frontend-tester", "virtual device")


def test_unknown_device_is_named_with_what_is_seen(sane_test_backend):
    with pytest.raises(sane_test_backend.DeviceNotFoundError) as caught:
        sane_test_backend.SaneDriver("nosuch:0", **SMALL)
    err = caught.value
    assert err.device_name == "nosuch:0"
    assert DEVICE in [d.name for d in err.available]
    assert "nosuch:0" in str(err) and DEVICE in str(err)


# --- options -------------------------------------------------------------------------------------

def test_source_the_device_lacks_is_an_error_naming_device_and_option(sane_test_backend):
    with pytest.raises(sane_test_backend.SaneOptionError) as caught:
        sane_test_backend.SaneDriver(DEVICE, source="adf-duplex", **SMALL)
    message = str(caught.value)
    assert DEVICE in message and "source" in message and ADF in message and "Flatbed" in message
    # the failed setup released the device: it opens again
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", **SMALL) as scanner:
        assert scanner.source_label == "Flatbed"


def test_out_of_range_values_are_clamped_and_logged(sane_test_backend, caplog):
    caplog.set_level("INFO", logger="drivers.sane_driver")
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", mode="gray", resolution=5000,
                                      area_mm=(400, 250.4)) as scanner:
        assert scanner.resolution == 1200.0
        assert scanner.option_value("br-x") == 300.0
        assert scanner.option_value("br-y") == pytest.approx(250.0)   # quantised to 1 mm steps
    text = caplog.text
    assert "resolution 5000" in text and "br-x 400" in text


def test_missing_options_are_skipped_with_a_log_line(sane_test_backend, caplog):
    # As a hand scanner the test device has no (active) scan-area options.
    caplog.set_level("INFO", logger="drivers.sane_driver")
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", mode="gray", resolution=50,
                                      area_mm=None) as scanner:
        scanner.set_option("hand-scanner", True)
        scanner.configure(area_mm=(50, 70))
        (page,) = list(itertools.islice(scanner.captures(), BOUND))
    for name in ("tl-x", "tl-y", "br-x", "br-y"):
        assert f"no settable option '{name}'" in caplog.text
    assert page.image.size[0] == px(110, 50)      # a hand scanner is 11 cm wide


# --- flatbed -------------------------------------------------------------------------------------

def test_flatbed_one_scan_per_call_with_the_size_of_area_and_resolution(sane_test_backend):
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", mode="gray", resolution=100,
                                      area_mm=(50.8, 76.2)) as scanner:
        assert scanner.expected() is None
        first = list(itertools.islice(scanner.captures(), BOUND))
        second = list(itertools.islice(scanner.captures(), BOUND))
    assert len(first) == 1 and len(second) == 1
    page = first[0]
    assert isinstance(page, CapturedPage)
    assert (page.sequence, page.device, page.source, page.resolution) == (1, DEVICE, "Flatbed", 100.0)
    assert page.image.mode == "L"
    assert_size(page.image, 50.8, 76.2, 100)
    assert second[0].sequence == 2


def test_flatbed_a4_at_300_dpi(sane_test_backend):
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", mode="gray", resolution=300) as scanner:
        assert scanner.option_value("br-x") == 210.0 and scanner.option_value("br-y") == 297.0
        (page,) = list(itertools.islice(scanner.captures(), BOUND))
    assert page.resolution == 300.0
    assert page.image.size == (2480, 3507)       # 210 and 297 mm at 300 dpi, whole pixels


def test_color_and_lineart(sane_test_backend):
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", mode="color", resolution=50,
                                      area_mm=(50, 70)) as scanner:
        (page,) = list(scanner.captures())
    assert page.image.mode == "RGB"
    assert_size(page.image, 50, 70, 50)
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", mode="lineart", resolution=100,
                                      area_mm=(50, 70)) as scanner:
        assert scanner.option_value("depth") == 1      # the test backend's line art: grey at 1 bit
        scanner.set_option("test-picture", "Grid")
        (page,) = list(scanner.captures())
    assert page.image.mode == "L"
    assert set(np.unique(np.asarray(page.image)).tolist()) == {0, 255}


# --- feeder --------------------------------------------------------------------------------------

def test_feeder_batch_stops_cleanly_when_the_feeder_is_empty(sane_test_backend):
    start = time.monotonic()
    with sane_test_backend.SaneDriver(DEVICE, source="adf", **SMALL) as scanner:
        assert scanner.feeder and scanner.source_label == ADF
        items = list(itertools.islice(scanner.captures(), BOUND))
    assert len(items) == FEEDER_SHEETS and not events_of(items)
    assert [p.sequence for p in items] == list(range(1, FEEDER_SHEETS + 1))
    assert all(p.source == ADF and p.device == DEVICE and p.resolution == 50.0 for p in items)
    assert all(p.image.mode == "L" for p in items)
    assert_size(items[0].image, 50, 70, 50)
    assert time.monotonic() - start < 10


def test_feeder_in_colour_and_max_pages(sane_test_backend):
    with sane_test_backend.SaneDriver(DEVICE, source="adf", mode="color", resolution=50, area_mm=(50, 70),
                                      max_pages=3) as scanner:
        items = list(itertools.islice(scanner.captures(), BOUND))
        assert len(items) == 3 and all(p.image.mode == "RGB" for p in items)
        more = list(itertools.islice(scanner.captures(), BOUND))   # the next batch goes on numbering
    assert [p.sequence for p in more] == [4, 5, 6]


@pytest.mark.parametrize("status", ["SANE_STATUS_NO_DOCS", "SANE_STATUS_EOF"])
def test_feeder_empty_reported_while_reading_also_ends_the_batch(sane_test_backend, status):
    # Backends differ: NO_DOCS from sane_read() instead of sane_start(), or a sheet that ends before
    # any data (python-sane: RuntimeError "Scanner returned no data"). Both end the batch, no event.
    with sane_test_backend.SaneDriver(DEVICE, source="adf", **SMALL) as scanner:
        items = []
        for item in itertools.islice(scanner.captures(), BOUND):
            items.append(item)
            if len(items) == 4:
                scanner.set_option("read-return-value", status)
    assert len(items) == 4 and not events_of(items)


def test_feeder_empty_from_the_start_is_an_out_of_paper_event(sane_test_backend):
    with sane_test_backend.SaneDriver(DEVICE, source="adf", **SMALL) as scanner:
        scanner.set_option("read-return-value", "SANE_STATUS_NO_DOCS")
        items = list(itertools.islice(scanner.captures(), BOUND))
    assert len(items) == 1
    (event,) = items
    assert isinstance(event, DeviceEvent) and event.kind == "out_of_paper" and event.device == DEVICE
    assert "Khay nạp giấy trống" in event.message


# --- faults mid-batch ----------------------------------------------------------------------------
# status injected after 3 sheets → (event kind, words of its message, sheets the feeder gives after
# the resume). Jam and open cover: the failed start counted as a sheet, so 10 - 4 = 6 remain. I/O
# error and busy: the driver reopens the device, which refills the test backend's feeder: 10.

FAULTS = [
    ("SANE_STATUS_JAMMED", "jammed", "Kẹt giấy", 6),
    ("SANE_STATUS_COVER_OPEN", "cover_open", "Nắp máy quét đang mở", 6),
    ("SANE_STATUS_IO_ERROR", "io_error", "Lỗi truyền dữ liệu", 10),
    ("SANE_STATUS_DEVICE_BUSY", "disconnected", "Máy quét đang bận", 10),
]


@pytest.mark.parametrize("status, kind, words, after", FAULTS)
def test_fault_mid_batch_pauses_until_the_operator_resumes(sane_test_backend, status, kind, words, after):
    calls = []

    def operator(event):
        calls.append((event, scanner.paused))
        scanner.set_option("read-return-value", "Default")   # the operator clears the fault
        return True

    with sane_test_backend.SaneDriver(DEVICE, source="adf", wait_for_operator=operator, **SMALL) as scanner:
        items = []
        for item in itertools.islice(scanner.captures(), BOUND):
            items.append(item)
            if len(items) == 3:
                scanner.set_option("read-return-value", status)
    kinds = ["page" if isinstance(i, CapturedPage) else i.kind for i in items]
    assert kinds == ["page"] * 3 + [kind] + ["page"] * after
    event = items[3]
    assert event.device == DEVICE and words in event.message and "Tiếp tục" in event.message
    assert len(calls) == 1 and calls[0][0] is event and calls[0][1] is True   # paused while asked
    pages = pages_of(items)
    assert [p.sequence for p in pages] == list(range(1, 3 + after + 1))       # no gap, no repeat
    assert all(p.image is not None for p in pages[:3])                        # kept before the fault


def test_resume_from_another_thread(sane_test_backend):
    out: queue.Queue = queue.Queue()
    scanner = sane_test_backend.SaneDriver(DEVICE, source="adf", pause_timeout=20, **SMALL)

    def consume():
        try:
            count = 0
            for item in itertools.islice(scanner.captures(), BOUND):
                out.put(item)
                count += isinstance(item, CapturedPage)
                if count == 2 and not isinstance(item, DeviceEvent):
                    scanner.set_option("read-return-value", "SANE_STATUS_COVER_OPEN")
        finally:
            out.put(None)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    try:
        got = [out.get(timeout=10), out.get(timeout=10), out.get(timeout=10)]
        assert [type(i).__name__ for i in got] == ["CapturedPage", "CapturedPage", "DeviceEvent"]
        assert got[2].kind == "cover_open"
        time.sleep(0.3)
        assert scanner.paused and out.empty()          # nothing is scanned while paused
        scanner.set_option("read-return-value", "Default")
        scanner.resume()
        rest = []
        while (item := out.get(timeout=10)) is not None:
            rest.append(item)
        worker.join(timeout=10)
        assert not scanner.paused
        assert [p.sequence for p in rest] == list(range(3, 3 + 7))   # 10 sheets - 3 started
    finally:
        scanner.close()


def test_stop_while_paused_ends_the_batch(sane_test_backend):
    out: queue.Queue = queue.Queue()
    scanner = sane_test_backend.SaneDriver(DEVICE, source="adf", pause_timeout=20, **SMALL)
    scanner.set_option("read-return-value", "SANE_STATUS_JAMMED")

    def consume():
        for item in itertools.islice(scanner.captures(), BOUND):
            out.put(item)
        out.put(None)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    try:
        event = out.get(timeout=10)
        assert isinstance(event, DeviceEvent) and event.kind == "jammed"
        scanner.stop()
        assert out.get(timeout=10) is None
        worker.join(timeout=10)
    finally:
        scanner.close()


def test_closed_driver_refuses_to_scan(sane_test_backend):
    with sane_test_backend.SaneDriver(DEVICE, source="flatbed", **SMALL) as scanner:
        pass
    with pytest.raises(sane_test_backend.SaneDriverError):
        next(scanner.captures())


# --- wording ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, status", [
    ("Document feeder out of documents", "no_docs"),     # sane_strstatus(SANE_STATUS_NO_DOCS)
    ("SANE_STATUS_NO_DOCS", "no_docs"),
    ("ADF: no documents loaded", "no_docs"),
    ("Document feeder jammed", "jammed"),
    ("Paper jam in ADF", "jammed"),
    ("Scanner cover is open", "cover_open"),
    ("Error during device I/O", "io_error"),
    ("Device busy", "busy"),
    ("Operation was canceled", "cancelled"),
    ("Scanner returned no data", "no_data"),
    ("Lamp not ready, please retry", "warming_up"),
    ("SaneDev object is closed", "closed"),
])
def test_status_wordings(sane_test_backend, text, status):
    assert sane_test_backend.classify_status(text) == status
