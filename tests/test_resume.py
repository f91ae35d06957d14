"""kill -9 in the middle of `station process`, run it again: every capture filed exactly once."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import corpus

STATION = Path(sys.executable).parent / "station"
BOOK = "KS.2017.01"


def station(home, *args, **kw):
    env = dict(os.environ, STATION_HOME=str(home))
    return subprocess.run([str(STATION), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=600, **kw)


def captured(home) -> int:
    try:
        with sqlite3.connect(home / "catalog.sqlite", timeout=1) as db:
            return db.execute("select count(*) from pages").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("kill_after", [3, 9])
def test_killed_batch_resumes_without_loss_or_duplicates(tmp_path, kill_after):
    home = tmp_path / "home"
    entries = corpus.make_entries("KS", 2017, 1, 5, seed=21)
    corpus.write_register_xlsx(tmp_path / "register.xlsx", entries)
    assert station(home, "book", "add", BOOK, "--register", tmp_path / "register.xlsx").returncode == 0
    assert station(home, "separators", BOOK, "-o", tmp_path / "sheets.pdf").returncode == 0
    truths = corpus.write_captures(tmp_path / "caps", entries, tmp_path / "sheets.pdf", seed=21,
                                   dpi_choices=(200,))
    (tmp_path / "caps" / "truth.json").unlink()

    env = dict(os.environ, STATION_HOME=str(home))
    proc = subprocess.Popen([str(STATION), "process", str(tmp_path / "caps")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while captured(home) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "batch ended before the kill: make the batch longer"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, as a power cut would
    proc.wait()

    again = station(home, "process", tmp_path / "caps")
    assert again.returncode == 0, again.stderr
    assert "Tiếp tục lô bị gián đoạn" in again.stdout

    with sqlite3.connect(home / "catalog.sqlite") as db:
        names = [n for n, in db.execute("select source_name from captures")]
        batches = db.execute("select count(*), count(finished_at) from batches").fetchone()
    assert sorted(names) == sorted(t.file for t in truths)  # each exactly once
    assert batches == (1, 1)
    report = json.loads(station(home, "status", BOOK, "--json").stdout)["books"][0]
    assert report["done"] == 5, report
    want = {e.number: sum(1 for t in truths if t.kind == "content" and t.entries == (e.number,)) for e in entries}
    assert {e["number"]: e["pages"] for e in report["entries"]} == want
    assert not [p for p in home.rglob("*") if p.name.endswith(".tmp")]
