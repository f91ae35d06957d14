"""A slow scanner (SANE test backend with a read delay): pages are processed while the feeder still
runs, and nothing captured is lost."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, sqlite3, sys
from pathlib import Path
from drivers.sane_driver import SaneDriver
from station.capture.batch import BatchRunner
from station.catalog.models import open_catalog
from station.config import load_config

home = Path(sys.argv[1])
cfg = load_config(home=home)
sessions = open_catalog(home) if home.exists() else None
from station.catalog.storage import ensure_home
ensure_home(home)
sessions = open_catalog(home)
with SaneDriver("test:0", source="adf", mode="gray", resolution=100) as driver:
    driver.set_option("read-delay", True)
    driver.set_option("read-delay-duration", 200000)  # microseconds per buffer: a slow scanner
    summary = BatchRunner(cfg, cfg.profile(), sessions, workers=2).run(driver, "sane:test:0")
with sqlite3.connect(home / "catalog.sqlite") as db:
    stored = [r[0] for r in db.execute("select stored_at from captures order by seq")]
    processed = [r[0] for r in db.execute("select processed_at from pages order by id")]
print(json.dumps({"captures": summary.captures, "stored": stored, "processed": processed}))
"""


def test_processing_overlaps_a_slow_scanner(tmp_path):
    env = dict(os.environ, SANE_CONFIG_DIR=str(REPO / "tests" / "sane"), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "home")], capture_output=True,
                          text=True, env=env, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["captures"] == 10 and len(result["processed"]) == 10
    # The first page was processed before the scanner delivered its last sheet.
    assert min(result["processed"]) < max(result["stored"]), result
