"""The sync's faults, with `station centre serve` and `station sync` as real processes on the real PostgreSQL:
the centre killed with -9 at each of its points and at random moments, the station's sync killed with -9,
the network cut midway, the centre's disk full. After each: the station exits 15 saying what is left (or
died), the centre holds no file row without its whole file and nothing of a book half-written; the same
sync again finishes, with every row exactly once and the book complete. Counts in docs/reliability.md."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from station.centre import stations
from station.centre.catalog import StationBook, open_centre
from station.centre.store import DiskStore
from station.cli import main
from tests.centre.fake_station import BOOK, FakeStation
from tests.centre.processes import (CentreProcess, CuttingProxy, Expected, centre_problems, finish, station_sync,
                                    stored_files, when_store_holds)
from tests.centre.test_sync import centre_status, station_config

ENTRIES = 20                 # scanned on one station, 2 pages each
FILES = 1 + 2 * ENTRIES + ENTRIES      # the register, page images, PDFs
FULL = Expected(books=1, entries=ENTRIES, states=ENTRIES, scans=ENTRIES, pages=2 * ENTRIES, pdfs=ENTRIES)
SEED = random.Random(12)


class Trial:
    """One station holding a scanned book, a centre database with its token, the centre's store."""

    def __init__(self, centre_url, tmp_path, store=None):
        (tmp_path / "a").mkdir()
        self.station = FakeStation(tmp_path / "a" / "home", count=ENTRIES)
        self.station.scan(range(1, ENTRIES + 1))
        self.config = station_config(tmp_path / "a")
        self.sessions = open_centre(centre_url)
        with self.sessions() as session:
            self.token = stations.register(session, "xa-a")
        self.store_path = store or tmp_path / "store"
        self.centre = CentreProcess(centre_url, self.store_path)
        self.centre_url = centre_url

    @property
    def store(self) -> DiskStore:
        return DiskStore(self.store_path)

    def sync(self, url=None, retries=0, crash=None) -> subprocess.Popen:
        return station_sync(self.config, self.station.home, url or self.centre.url, self.token, retries, crash)

    def problems(self, expected=None) -> list[str]:
        return centre_problems(self.sessions, self.store, expected)

    def book_visible(self) -> bool:
        with self.sessions() as session:
            return session.scalar(select(StationBook)) is not None

    def finishes(self) -> None:
        """The same sync again ends it: exit 0, every row once, the book complete, a further sync sends nothing."""
        code, out = finish(self.sync())
        assert code == 0, out
        assert self.problems(FULL) == []
        (book,) = centre_status(self.centre_url)["books"]
        assert (book["done"], book["expected"]) == (ENTRIES, ENTRIES)
        code, out = finish(self.sync())
        assert code == 0 and "0 books sent, 1 unchanged, 0 files" in out, out
        state = json.loads((self.station.home / "sync-state.json").read_text())
        assert (state["left_files"], state["left_books"]) == (0, 0)

    def close(self) -> None:
        self.centre.stop()
        self.sessions.kw["bind"].dispose()


@pytest.fixture
def trial(centre_url, tmp_path):
    made = Trial(centre_url, tmp_path)
    try:
        yield made
    finally:
        made.close()


def _left_said(out: str) -> None:
    assert "sync incomplete" in out and "files" in out and "books left" in out, out


@pytest.mark.parametrize("point", ["centre:blob-stored:1", "centre:blob-stored:30", "centre:blob-recorded:1",
                                   f"centre:blob-recorded:{FILES}", "centre:push-commit:1"])
def test_the_centre_killed_at_a_point_then_restarted_loses_and_doubles_nothing(trial, point):
    trial.centre.start(crash=point)
    code, out = finish(trial.sync(retries=1))
    assert trial.centre.wait() == -9                       # it died there
    assert code == 15, out
    _left_said(out)
    assert trial.problems() == [] and not trial.book_visible()      # nothing of the book half-visible
    trial.centre.start()
    trial.finishes()


@pytest.mark.parametrize("files_seen", sorted(SEED.sample(range(2, FILES), 3)))
def test_the_centre_killed_at_a_random_moment_then_restarted(trial, files_seen):
    trial.centre.start()
    sync = trial.sync(retries=1)
    assert when_store_holds(trial.store_path, files_seen, sync)      # the sync still sending files
    trial.centre.kill()
    code, out = finish(sync)
    assert code == 15, out
    _left_said(out)
    assert trial.problems() == [] and not trial.book_visible()
    trial.centre.start()
    trial.finishes()


def test_a_centre_back_within_the_retries_is_waited_for_in_the_same_sync(trial):
    trial.centre.start(crash="centre:blob-recorded:10")
    sync = trial.sync(retries=8)          # waits up to 0.5 + 1 + 2 + 4 + 8 + 10 + 10 + 10 s
    assert trial.centre.wait(timeout=60) == -9
    trial.centre.start()
    code, out = finish(sync)
    assert code == 0, out
    assert trial.problems(FULL) == []


@pytest.mark.parametrize("point", ["sync:uploaded:1", "sync:uploaded:30", "sync:pushed:1"])
def test_the_station_killed_at_a_point_then_run_again(trial, point):
    trial.centre.start()
    code, out = finish(trial.sync(crash=point))
    assert code == -9, out
    assert trial.problems() == []
    assert trial.book_visible() == (point == "sync:pushed:1")
    trial.finishes()


@pytest.mark.parametrize("files_seen", sorted(SEED.sample(range(2, FILES), 2)))
def test_the_station_killed_at_a_random_moment_then_run_again(trial, files_seen):
    trial.centre.start()
    sync = trial.sync()
    assert when_store_holds(trial.store_path, files_seen, sync)
    os.killpg(sync.pid, 9)
    code, _ = finish(sync)
    assert code == -9
    assert trial.problems() == [] and not trial.book_visible()
    trial.finishes()


@pytest.mark.parametrize("where", ["during the files", "during the push"])
def test_a_network_cut_midway_then_back(trial, where):
    trial.centre.start()
    files = sum(path.stat().st_size for path in (trial.station.home / "pages").rglob("*.jpg")) + \
        sum(path.stat().st_size for path in (trial.station.home / "pdfs").rglob("*.pdf"))
    if where == "during the files":
        proxy = CuttingProxy(trial.centre.port, cut_after=files // 3)
    else:
        proxy = CuttingProxy(trial.centre.port, cut_inside=b"POST /api/sync HTTP/1.1")
    try:
        code, out = finish(trial.sync(url=proxy.url, retries=2))
        assert proxy.cut and code == 15, out
        assert "could not be reached" in out
        _left_said(out)
        if where == "during the push":      # every file there, the book's rows cut short
            assert stored_files(trial.store_path) == FILES and "0 files (0.0 MB) and 1 books left" in out, out
        assert trial.problems() == [] and not trial.book_visible()
        proxy.restore()
        code, out = finish(trial.sync(url=proxy.url))
        assert code == 0, out
    finally:
        proxy.close()
    trial.finishes()


@pytest.fixture
def small_store(centre_url, tmp_path):
    """A trial whose centre keeps its files on a 20 MB tmpfs (mounting needs root, as CI has)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m,mode=0700", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    made = Trial(centre_url, tmp_path, store=disk / "store")
    try:
        yield made, disk
    finally:
        made.close()
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def test_the_centre_disk_full_refuses_files_records_nothing_and_takes_them_once_freed(small_store):
    trial, disk = small_store
    trial.centre.start()
    with open(disk / "ballast", "wb") as ballast:       # leave room for a few files only
        ballast.write(b"\0" * (shutil.disk_usage(disk).free - 40_000))
    code, out = finish(trial.sync(retries=1))
    assert code == 15 and "the centre's disk is full" in out, out
    _left_said(out)
    assert 0 < stored_files(trial.store_path) < FILES
    assert trial.problems() == [] and not trial.book_visible()
    assert not list((trial.store_path / "tmp").iterdir())            # no part file left behind
    (disk / "ballast").unlink()
    trial.finishes()


def test_done_two_stations_halves_centre_killed_mid_sync_exports_as_one_station(centre_url, tmp_path):
    """The issue's test: two stations scan halves of one book and sync, the centre killed with -9 during one
    sync and restarted; the centre shows the book complete and exports it, each PDF identical to a
    one-station export; a wrong token is refused."""
    for name in ("a", "b", "one"):
        (tmp_path / name).mkdir()
    a, b, one = (FakeStation(tmp_path / name / "home", count=ENTRIES) for name in ("a", "b", "one"))
    a.scan(range(1, ENTRIES // 2 + 1))
    b.scan(range(ENTRIES // 2 + 1, ENTRIES + 1))
    one.scan(range(1, ENTRIES + 1))
    sessions = open_centre(centre_url)
    with sessions() as session:
        tokens = {name: stations.register(session, name) for name in ("xa-a", "xa-b")}
    centre = CentreProcess(centre_url, tmp_path / "store")
    try:
        centre.start(crash="centre:blob-recorded:12")
        code, out = finish(station_sync(station_config(tmp_path / "a"), a.home, centre.url, tokens["xa-a"]))
        assert centre.wait() == -9 and code == 15, out
        centre.start()
        for station, name in ((a, "xa-a"), (b, "xa-b")):
            code, out = finish(station_sync(station_config(station.home.parent), station.home, centre.url, tokens[name]))
            assert code == 0, out
        wrong = tokens["xa-a"][:-3] + "abc"
        code, out = finish(station_sync(station_config(tmp_path / "a"), a.home, centre.url, wrong))
        assert code == 16 and "refused this station's token" in out, out
    finally:
        centre.stop()
    (book,) = centre_status(centre_url)["books"]
    assert (book["done"], book["missing"], book["doubtful"], book["stations"]) == (ENTRIES, 0, 0, ["xa-a", "xa-b"])
    assert centre_problems(sessions, DiskStore(tmp_path / "store"),
                           Expected(1, ENTRIES, 2 * ENTRIES, ENTRIES, 2 * ENTRIES, ENTRIES)) == []
    runner = CliRunner()
    exported = runner.invoke(main, ["centre", "export", BOOK, "--database", centre_url, "--store",
                                    str(tmp_path / "store"), "-o", str(tmp_path / "centre-export")])
    assert exported.exit_code == 0, exported.output
    alone = runner.invoke(main, ["--home", str(one.home), "export", BOOK, "-o", str(tmp_path / "one-export")])
    assert alone.exit_code == 0, alone.output
    with zipfile.ZipFile(tmp_path / "centre-export" / f"{BOOK}.zip") as ours, \
            zipfile.ZipFile(tmp_path / "one-export" / f"{BOOK}.zip") as theirs:
        assert ours.namelist() == theirs.namelist() and len(ours.namelist()) == ENTRIES + 1
        assert all(ours.read(name) == theirs.read(name) for name in theirs.namelist())
    verified = runner.invoke(main, ["verify", str(tmp_path / "centre-export" / f"{BOOK}.zip")])
    assert verified.exit_code == 0, verified.output
    sessions.kw["bind"].dispose()
