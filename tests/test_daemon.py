"""`station run`: a hot folder taken live, a SANE scan job through the API, SIGTERM, kill -9 and restart."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench import corpus

REPO = Path(__file__).resolve().parent.parent
STATION = Path(sys.executable).parent / "station"
BOOK = "KS.2017.01"
DPI = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, root: Path, token: str | None = None, host: str = "127.0.0.1"):
        self.root, self.port, self.token = root, free_port(), token
        self.hot = root / "hot"
        config = {"home": str(root / "home"), "profiles_dir": str(REPO / "profiles"),
                  "web": {"host": host, "port": self.port, **({"token": token} if token else {})},
                  "hotfolders": [{"folder": str(self.hot), "settle_seconds": 0.3}]}
        (root / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
        self.env = dict(os.environ, STATION_CONFIG=str(root / "config.yaml"),
                        SANE_CONFIG_DIR=str(REPO / "tests" / "sane"))
        self.env.pop("STATION_HOME", None)
        self.proc = None

    def cli(self, *args, check=True):
        done = subprocess.run([str(STATION), *map(str, args)], capture_output=True, text=True,
                              env=self.env, timeout=300, stdin=subprocess.DEVNULL)
        assert not check or done.returncode == 0, done.stderr
        return done

    def start(self):
        self.proc = subprocess.Popen([str(STATION), "run"], env=self.env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                self.get("/api/health")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("station run did not answer")

    def request(self, path, body=None, token=...):
        token = self.token if token is ... else token
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10) as answer:
            return json.loads(answer.read())

    def get(self, path):
        return self.request(path)

    def wait(self, check, timeout=240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.3)
        raise AssertionError("timed out")


@pytest.fixture
def book(tmp_path):
    entries = corpus.make_entries("KS", 2017, 1, 3, seed=31)
    corpus.write_register_xlsx(tmp_path / "register.xlsx", entries)
    daemon = Daemon(tmp_path)
    daemon.cli("book", "add", BOOK, "--register", tmp_path / "register.xlsx")
    daemon.cli("separators", BOOK, "-o", tmp_path / "sheets.pdf")
    corpus.write_captures(tmp_path / "captures", entries, tmp_path / "sheets.pdf", seed=31,
                          dpi_choices=(DPI,), duplex_blank_rate=0.0)
    (tmp_path / "captures" / "truth.json").rename(tmp_path / "truth.json")
    yield daemon
    if daemon.proc and daemon.proc.poll() is None:
        os.killpg(daemon.proc.pid, signal.SIGKILL)


def drop(daemon, names):
    """Write files the way a camera does: a temp name, then a rename into the hot folder."""
    daemon.hot.mkdir(exist_ok=True)
    for name in names:
        tmp = daemon.hot / f".{name}.part"
        tmp.write_bytes((daemon.root / "captures" / name).read_bytes())
        tmp.rename(daemon.hot / name)


def entries_done(daemon):
    report = daemon.get(f"/api/books/{BOOK}")
    return report if report["done"] == report["expected"] else None


def test_hot_folder_pages_arrive_live_and_sigterm_stops_cleanly(book):
    book.start()
    names = sorted(p.name for p in (book.root / "captures").iterdir())
    drop(book, names[:3])
    book.wait(lambda: book.get(f"/api/books/{BOOK}")["done"] >= 1)  # the first entry while the rest is unscanned
    drop(book, names[3:])
    report = book.wait(lambda: entries_done(book))
    assert report["doubtful"] == 0
    assert sorted(p.name for p in (book.hot / "done").iterdir()) == names  # moved, never deleted
    book.proc.send_signal(signal.SIGTERM)  # as systemd stops it (KillMode=mixed: the main process only)
    assert book.proc.wait(timeout=120) in (0, -signal.SIGTERM)
    with sqlite3.connect(book.root / "home" / "catalog.sqlite") as db:
        assert db.execute("select count(*) from batches where finished_at is null").fetchone()[0] == 0
    status = json.loads(book.cli("status", BOOK, "--json").stdout)
    assert status["books"][0]["done"] == 3


def test_scan_job_through_the_api_and_the_cli(book):
    book.start()
    job = book.request("/api/scan", {"device": "test:0", "source": "adf", "resolution": 75})
    job = book.wait(lambda: (j := book.get(f"/api/jobs/{job['id']}"))["state"] in ("finished", "failed") and j)
    assert job["state"] == "finished" and job["captures"] == 10, job
    # `station scan` finds the running station and hands it the job.
    done = book.cli("scan", "--device", "test:0", "--source", "adf", "--resolution", "75")
    assert "trên trạm đang chạy" in done.stdout and "finished" in done.stdout
    with pytest.raises(urllib.error.HTTPError) as err:
        book.request("/api/jobs/999")
    assert err.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as err:
        book.request("/api/scan", {"device": "test:0", "source": "sideways"})
    assert err.value.code == 422


@pytest.mark.parametrize("done_before_kill", [1, 4])
def test_kill_9_mid_batch_then_restart_accounts_for_every_capture_once(book, done_before_kill):
    """Killed right after a separator (1) or inside an entry (4): the restarted station continues the
    hot folder's batch, so the pages after the kill still join the entry their separator opened."""
    truth = corpus.load_truth(book.root)
    names = sorted(p.name for p in (book.root / "captures").iterdir())
    book.start()
    drop(book, names)
    book.wait(lambda: (book.hot / "done").exists() and len(list((book.hot / "done").glob("*"))) >= done_before_kill)
    os.killpg(book.proc.pid, signal.SIGKILL)
    book.proc.wait()
    book.start()
    book.wait(lambda: entries_done(book))
    book.wait(lambda: not any(p.is_file() for p in book.hot.iterdir()))  # every file handed over and moved
    book.proc.send_signal(signal.SIGTERM)
    book.proc.wait(timeout=120)
    with sqlite3.connect(book.root / "home" / "catalog.sqlite") as db:
        taken = sorted(n for n, in db.execute("select source_name from captures"))
        held = db.execute("select count(*) from pages where held_reason is not null").fetchone()[0]
    assert taken == names
    assert held == 0
    assert sorted(p.name for p in (book.hot / "done").iterdir()) == names
    status = json.loads(book.cli("status", BOOK, "--json").stdout)["books"][0]
    assert status["done"] == 3 and status["doubtful"] == 0
    for number in (1, 2, 3):
        pages = sum(1 for t in truth if t.kind == "content" and number in t.entries)
        detail = json.loads(book.cli("entry", "show", BOOK, number, "--json").stdout)
        assert detail["pdf"]["pages"] == pages, detail


def test_beyond_loopback_needs_a_token(tmp_path):
    daemon = Daemon(tmp_path, host="0.0.0.0")
    done = subprocess.run([str(STATION), "run"], env=daemon.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "web.token" in done.stderr


def test_token_is_required_when_configured(tmp_path):
    daemon = Daemon(tmp_path, token="s" * 32)
    daemon.start()
    try:
        assert daemon.get("/api/health")["ok"]
        for wrong in (None, "x" * 32):
            with pytest.raises(urllib.error.HTTPError) as err:
                daemon.request("/api/books", token=wrong)
            assert err.value.code == 401
    finally:
        daemon.proc.send_signal(signal.SIGTERM)
        daemon.proc.wait(timeout=60)
