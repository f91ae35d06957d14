"""Hot-folder driver with real files and real watchdog observers (inotify and polling)."""
from __future__ import annotations

import io
import os
import random
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drivers.base import CapturedPage, CaptureFailure
from drivers.hotfolder import HotFolderDriver, probe
from capturefile import ImageLoadError

SETTLE = 0.3


def jpeg_bytes(seed: int, size=(200, 280)) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)  # noise: not tiny on disk
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90, dpi=(300, 300))
    return buf.getvalue()


def tiff_bytes(frames: int) -> bytes:
    images = [Image.new("L", (200, 280), 40 * i) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], dpi=(300, 300))
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def make_driver(folder: Path, mode: str, **kw) -> HotFolderDriver:
    kw.setdefault("settle_seconds", SETTLE)
    return HotFolderDriver(folder, poll=(mode == "poll"), poll_interval=0.1, **kw)


class Consumer:
    """Runs driver.captures() in a thread like a batch would: check the file, store, acknowledge."""

    def __init__(self, driver: HotFolderDriver, ack: bool = True):
        self.driver = driver
        self.ack = ack
        self.items: list = []
        self.contents: dict[str, bytes] = {}   # source → bytes of the file when it was yielded
        self.decode_errors: list[str] = []
        self.error: BaseException | None = None
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert driver.watching.wait(2.0) or self.ended.is_set(), "driver did not start watching"

    def _run(self) -> None:
        try:
            for item in self.driver.captures():
                if isinstance(item, CapturedPage):
                    self.contents[item.source] = item.file.read_bytes()
                    try:
                        with Image.open(item.file) as im:
                            im.seek(item.frame)
                            im.load()
                    except Exception as exc:  # noqa: BLE001
                        self.decode_errors.append(f"{item.source}: {exc}")
                self.items.append(item)
                if self.ack:
                    self.driver.acknowledge(item)
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
        finally:
            self.ended.set()

    def sources(self, kind=(CapturedPage, CaptureFailure)) -> list[str]:
        return [i.source for i in self.items if isinstance(i, kind)]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sources()) < count and time.monotonic() < deadline and not self.ended.is_set():
            time.sleep(0.02)
        assert self.error is None, self.error
        assert len(self.sources()) >= count, f"got {self.sources()} after {timeout}s"

    def finish(self, timeout: float = 1.0) -> float:
        start = time.monotonic()
        self.driver.stop_event.set()
        assert self.ended.wait(timeout), "generator did not end after stop"
        assert self.error is None, self.error
        return time.monotonic() - start


@pytest.fixture(params=["inotify", "poll"])
def mode(request):
    return request.param


@pytest.fixture
def hot(tmp_path):
    folder = tmp_path / "hot"
    folder.mkdir()
    return folder


def images_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_files_present_before_start_are_taken_in_natural_order_and_moved_to_done(hot, mode):
    data = {name: jpeg_bytes(i) for i, name in enumerate(["page10.jpg", "page2.jpg", "page1.jpg"])}
    for name, blob in data.items():
        write(hot / name, blob)
    write(hot / "notes.txt", b"not an image")
    consumer = Consumer(make_driver(hot, mode))
    consumer.wait_for(3)
    consumer.finish()
    assert consumer.sources() == ["page1.jpg", "page2.jpg", "page10.jpg"]
    assert [i.sequence for i in consumer.items] == [1, 2, 3]
    assert all(i.resolution == 300 and i.device == "hotfolder" for i in consumer.items)
    assert images_in(hot) == ["notes.txt"]
    assert images_in(hot / "done") == ["page1.jpg", "page10.jpg", "page2.jpg"]
    for name, blob in data.items():
        assert (hot / "done" / name).read_bytes() == blob


def test_file_written_slowly_is_taken_only_when_complete(hot, mode):
    data = jpeg_bytes(7)
    chunks = [data[i:i + len(data) // 3 + 1] for i in range(0, len(data), len(data) // 3 + 1)]
    if mode == "inotify":
        # Pauses longer than settle: only the close-after-write keeps the driver off the file.
        driver, pause = make_driver(hot, mode), SETTLE + 0.15
    else:
        # No close events when polling: the settle time must cover the pauses.
        driver, pause = make_driver(hot, mode, settle_seconds=0.5), 0.15
    consumer = Consumer(driver)
    with open(hot / "slow.jpg", "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            time.sleep(pause)
            assert consumer.items == [], "took a half-written file"
    consumer.wait_for(1)
    time.sleep(SETTLE)
    consumer.finish()
    assert consumer.sources() == ["slow.jpg"]
    assert consumer.contents["slow.jpg"] == data
    assert consumer.decode_errors == []


def test_burst_of_files_comes_out_in_name_order(hot, mode):
    consumer = Consumer(make_driver(hot, mode))
    names = [f"scan{i}.jpg" for i in range(1, 11)]
    blobs = {name: jpeg_bytes(i) for i, name in enumerate(names)}
    # Event order ≠ name order, and the burst spans a few of the driver's looks at the folder
    # (as a camera writing a batch does), so order cannot come from seeing them all at once.
    for name in random.Random(4).sample(names, len(names)):
        write(hot / name, blobs[name])
        time.sleep(0.02)
    consumer.wait_for(10)
    consumer.finish()
    assert consumer.sources() == names
    assert consumer.decode_errors == []
    assert images_in(hot / "done") == sorted(names)


def test_mtime_order(hot):
    names = ["a.jpg", "b.jpg", "c.jpg"]
    now = time.time()
    for age, name in zip([10, 30, 20], names):
        write(hot / name, jpeg_bytes(age))
        os.utime(hot / name, (now - age, now - age))
    consumer = Consumer(make_driver(hot, "inotify", order="mtime"))
    consumer.wait_for(3)
    consumer.finish()
    assert consumer.sources() == ["b.jpg", "c.jpg", "a.jpg"]


def test_tmp_then_rename_is_taken_once_under_final_name(hot, mode):
    consumer = Consumer(make_driver(hot, mode))
    data = jpeg_bytes(3)
    with open(hot / "capture.tmp", "wb") as handle:
        handle.write(data[:1000])
        handle.flush()
        time.sleep(SETTLE + 0.1)   # a stable temp file is still not taken
        handle.write(data[1000:])
    os.utime(hot / "capture.tmp", (1e9, 1e9))   # as rsync does: times set after close, then rename
    os.rename(hot / "capture.tmp", hot / "capture.jpg")
    write(hot / ".hidden.jpg", jpeg_bytes(1))
    write(hot / "~lock.jpg", jpeg_bytes(2))
    write(hot / "download.jpg.part", data)
    outside = write(hot.parent / "elsewhere.jpg", jpeg_bytes(5))
    shutil.copy2(outside, hot / "copied.jpg")   # cp -p: metadata changes after the last write
    consumer.wait_for(2, timeout=3.0)           # well before stale_seconds
    time.sleep(SETTLE + 0.3)   # nothing more comes
    consumer.finish()
    assert consumer.sources() == ["capture.jpg", "copied.jpg"]
    assert consumer.contents["capture.jpg"] == data
    assert images_in(hot / "done") == ["capture.jpg", "copied.jpg"]
    assert images_in(hot) == [".hidden.jpg", "download.jpg.part", "~lock.jpg"]


def test_corrupt_files_become_failures_in_done_failed_and_the_batch_goes_on(hot, mode):
    good = {f"p{i}.jpg": jpeg_bytes(i) for i in (1, 3, 5)}
    for name, blob in good.items():
        write(hot / name, blob)
    write(hot / "p2.jpg", b"\xff\xd8 this is not really a jpeg" * 10)
    write(hot / "p4.jpg", jpeg_bytes(4)[:3000])      # cut short
    write(hot / "p6.png", b"GIF89a" + bytes(200))    # wrong format behind the name
    consumer = Consumer(make_driver(hot, mode))
    consumer.wait_for(6)
    consumer.finish()
    assert consumer.sources() == ["p1.jpg", "p2.jpg", "p3.jpg", "p4.jpg", "p5.jpg", "p6.png"]
    failures = {i.source: i for i in consumer.items if isinstance(i, CaptureFailure)}
    assert set(failures) == {"p2.jpg", "p4.jpg", "p6.png"}
    assert "truncated" in failures["p4.jpg"].reason
    for failure in failures.values():
        assert failure.reason and failure.file == hot / "done" / "failed" / failure.source
        assert failure.file.exists()
    assert images_in(hot / "done" / "failed") == ["p2.jpg", "p4.jpg", "p6.png"]
    assert [p for p in images_in(hot / "done") if p != "failed"] == ["p1.jpg", "p3.jpg", "p5.jpg"]
    assert images_in(hot) == []


def test_multipage_tiff_yields_each_frame_and_moves_after_the_last_ack(hot):
    write(hot / "book.tif", tiff_bytes(3))
    driver = make_driver(hot, "inotify")
    consumer = Consumer(driver, ack=False)
    consumer.wait_for(3)
    consumer.finish()
    pages = consumer.items
    assert [p.source for p in pages] == ["book.tif#1", "book.tif#2", "book.tif#3"]
    assert [p.frame for p in pages] == [0, 1, 2]
    assert driver.acknowledge(pages[0]) is None and driver.acknowledge(pages[2]) is None
    assert (hot / "book.tif").exists()
    assert driver.acknowledge(pages[1]) == hot / "done" / "book.tif"
    assert not (hot / "book.tif").exists()


def test_unacknowledged_file_is_taken_again_after_restart_and_done_names_never_clash(hot):
    blob = jpeg_bytes(9)
    write(hot / "a.jpg", blob)
    (hot / "done").mkdir()
    write(hot / "done" / "a.jpg", b"an earlier a.jpg")  # done already holds that name
    first = Consumer(make_driver(hot, "inotify"), ack=False)   # "crashes" before storing
    first.wait_for(1)
    first.finish()
    assert (hot / "a.jpg").read_bytes() == blob

    second = Consumer(make_driver(hot, "inotify"))
    second.wait_for(1)
    second.finish()
    assert second.sources() == ["a.jpg"]
    assert (hot / "done" / "a.jpg").read_bytes() == b"an earlier a.jpg"
    assert (hot / "done" / "a__1.jpg").read_bytes() == blob
    assert not (hot / "a.jpg").exists()


def test_stop_ends_the_generator_promptly(hot, mode):
    consumer = Consumer(make_driver(hot, mode))
    time.sleep(0.3)
    assert consumer.finish(timeout=1.0) < 0.5
    assert consumer.items == []


def test_stop_drains_complete_files_and_leaves_the_rest(hot):
    stop = threading.Event()
    driver = HotFolderDriver(hot, settle_seconds=SETTLE, stop=stop)
    consumer = Consumer(driver)
    write(hot / "x2.jpg", jpeg_bytes(2))
    write(hot / "x1.jpg", jpeg_bytes(1))
    consumer.wait_for(2)
    with open(hot / "x3.jpg", "wb") as handle:   # still being written when stop comes
        handle.write(jpeg_bytes(3)[:500])
        handle.flush()
        assert consumer.finish(timeout=1.0) < 0.5
    assert consumer.sources() == ["x1.jpg", "x2.jpg"]
    assert (hot / "x3.jpg").exists()


def test_probe_catches_truncated_tiff_and_png(tmp_path):
    tif = write(tmp_path / "t.tif", tiff_bytes(3)[:-5000])
    with pytest.raises(ImageLoadError):
        probe(tif, 10**8)
    buf = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buf, "PNG")
    png = write(tmp_path / "t.png", buf.getvalue()[:-20])
    with pytest.raises(ImageLoadError):
        probe(png, 10**8)
    assert probe(write(tmp_path / "ok.tif", tiff_bytes(2)), 10**8) == [300.0, 300.0]
