"""A full disk in the middle of a batch, on a small tmpfs home: the station stops taking pages with a
clear message and its exit code, keeps every page it took, and finishes once space is freed; the daemon
leaves the files it could not take in its hot folder and takes them once there is room."""
import os
import shutil

import pytest

from bench.crash_campaign import Daemon, check_home, disk_full_trial, export_problems, fill_disk, small_disk, \
    taken_captures
from station.errors import DiskFullError


@pytest.fixture
def disk(tmp_path):
    """A 20 MB tmpfs (needs root, as `make test` has on CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        with small_disk(tmp_path / "disk") as mounted:
            yield mounted
    except PermissionError as exc:
        pytest.skip(str(exc))


def captures_size(book) -> int:
    return sum((book.captures / name).stat().st_size for name in book.names)


@pytest.mark.parametrize("room", ["half the captures", "the captures, not the pages"])
def test_process_stops_on_a_full_disk_keeps_what_it_took_and_finishes_after(scanned_book, disk, tmp_path, room):
    leave = captures_size(scanned_book) // 2 if room == "half the captures" else captures_size(scanned_book) + 200_000
    outcome = disk_full_trial(scanned_book, disk, leave, tmp_path / "export")
    assert outcome.code == DiskFullError.exit_code
    assert outcome.problems == []  # one clear line, what it took whole; then the book finished, same export
    if room == "half the captures":
        assert 0 < outcome.taken < len(scanned_book.names)  # it stopped taking pages in the middle


def test_daemon_leaves_files_in_the_hot_folder_while_the_disk_is_full(scanned_book, disk, tmp_path):
    home = fill_disk(disk, scanned_book, leave=captures_size(scanned_book) // 2)
    daemon = Daemon(tmp_path / "station", home)
    for name in scanned_book.names:
        shutil.copy2(scanned_book.captures / name, daemon.hot / name)
    daemon.start()
    try:
        event = daemon.until(lambda: next((e for e in daemon.get("/api/events")["events"]
                                           if e["kind"] == "disk_full"), None))
        assert "Ổ đĩa đầy" in event["message"]
        waiting, done = daemon.waiting_files(), daemon.done_files()
        assert waiting and sorted(waiting + done) == sorted(scanned_book.names)
        assert set(taken_captures(home)) >= set(done)  # moved to done/ only once stored

        (disk / "ballast").unlink()
        daemon.until(lambda: daemon.book_done(scanned_book))
    finally:
        code = daemon.stop()
    assert code in (0, -15)
    assert daemon.done_files() == sorted(scanned_book.names)
    assert check_home(scanned_book, home) == []
    assert export_problems(scanned_book, home, tmp_path / "export") == []
