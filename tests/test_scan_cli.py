"""`station scan` against SANE's test backend, in its own process (SANE reads its config once)."""
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

SANE_DIR = Path(__file__).parent / "sane"
STATION = Path(sys.executable).parent / "station"


def run(home, *args):
    env = dict(os.environ, SANE_CONFIG_DIR=str(SANE_DIR), STATION_HOME=str(home))
    return subprocess.run([str(STATION), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=300)


def test_devices_lists_the_test_scanner(tmp_path):
    done = run(tmp_path / "home", "devices")
    assert done.returncode == 0 and "test:0" in done.stdout


def test_feeder_batch_is_stored_and_processed(tmp_path):
    done = run(tmp_path / "home", "scan", "--device", "test:0", "--source", "adf", "--resolution", "75")
    assert done.returncode == 0, done.stderr
    # The test backend's feeder holds 10 blank sheets: all captured, all judged blank, none lost.
    assert "Lô 1: 10 ảnh" in done.stdout and "10 trang trắng" in done.stdout
    # Stored raw (uncompressed TIFF) while the scanner runs, then packed to lossless PNG once processed:
    # the catalog names the PNG, its checksum matches, and no raw TIFF is left.
    home = tmp_path / "home"
    assert not list((home / "captures").rglob("*.tif"))
    with sqlite3.connect(home / "catalog.sqlite") as db:
        rows = db.execute("select stored_file, sha256 from captures").fetchall()
    assert len(rows) == 10
    for stored, digest in rows:
        assert stored.endswith(".png") and hashlib.sha256((home / stored).read_bytes()).hexdigest() == digest
        with Image.open(home / stored) as image:
            assert image.info["dpi"][0] == pytest.approx(75, abs=0.01)


def test_unknown_device_is_one_clear_line(tmp_path):
    done = run(tmp_path / "home", "scan", "--device", "nosuch:9")
    assert done.returncode == 5 and "nosuch:9" in done.stderr and done.stderr.count("\n") == 1
