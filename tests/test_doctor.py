"""`station doctor` and station.doctor.run_checks on this machine (Tesseract vie+osd, zbar, DejaVu, SANE).

python-sane initialises once per process and SANE reads SANE_CONFIG_DIR only then, so everything that
touches SANE runs `station doctor` in a subprocess with tests/sane (the `test` backend's two devices);
the in-process tests skip the "sane" check so this pytest process never initialises SANE (that would
break tests/test_sane_driver.py, which needs to be first).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from station import doctor
from station.catalog.models import open_catalog
from station.config import REPO_ROOT, load_config

SANE_DIR = Path(__file__).parent / "sane"
STATION = Path(sys.executable).parent / "station"
ALL_CHECKS = [name for name, _ in doctor.CHECKS]


def run_station(home: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SANE_CONFIG_DIR=str(SANE_DIR), STATION_HOME=str(home))
    env.pop("STATION_CONFIG", None)
    if config is not None:
        env["STATION_CONFIG"] = str(config)
    return subprocess.run([str(STATION), *args], check=False, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60, cwd=REPO_ROOT)


def write_config(tmp_path: Path, **web) -> Path:
    """The repo's config.yaml with its profiles, optionally other web settings."""
    data = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["profiles_dir"] = str(REPO_ROOT / "profiles")
    data["web"] = {**data.get("web", {}), **web}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def make_home(tmp_path: Path, mode: int = 0o700) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, mode)
    return home


def checks(config: Path | None, home: Path) -> dict[str, doctor.Check]:
    cfg = load_config(config or REPO_ROOT / "config.yaml", home)
    found = doctor.run_checks(cfg, skip={"sane"})
    return {c.name: c for c in found}


@pytest.fixture(autouse=True)
def enough_disk(tmp_path):
    if shutil.disk_usage(tmp_path).free < doctor.DISK_WARN_BYTES:
        pytest.skip("less than the doctor's warning threshold free in the temp folder")


def test_good_machine_passes(tmp_path):
    home = make_home(tmp_path)
    open_catalog(home).kw["bind"].dispose()        # an existing, empty catalog
    done = run_station(home, "doctor", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    assert list(by_name) == ALL_CHECKS
    assert report["ok"] and report["failed"] == 0 and report["warnings"] == 0
    assert all(c["level"] == "ok" and c["ok"] and c["fix"] is None for c in report["checks"]), by_name
    assert "test:0" in by_name["sane"]["detail"]
    assert "vie" in by_name["tesseract-lang"]["detail"] and "osd" in by_name["tesseract-lang"]["detail"]
    assert "libtesseract" in by_name["tesseract-library"]["detail"]       # the program's own version
    assert "0 sổ" in by_name["catalog"]["detail"]


def test_failure_exits_10_and_says_how_to_fix(tmp_path):
    home = make_home(tmp_path, 0o755)
    done = run_station(home, "doctor")
    assert done.returncode == 10, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    home_line = next(line for line in lines if line.split()[1] == "home")
    assert home_line.startswith("✗") and f"chmod 700 {home}" in home_line
    assert next(line for line in lines if line.split()[1] == "sane").startswith("✓")
    assert "1 lỗi" in lines[-1]
    assert oct(home.stat().st_mode & 0o777) == oct(0o755)   # reported, not silently changed


def test_world_readable_home_is_a_failure_with_the_chmod_fix(tmp_path):
    home = make_home(tmp_path, 0o744)
    found = checks(None, home)
    assert found["home"].level == "fail" and not found["home"].ok
    assert found["home"].fix == f"chmod 700 {home}"
    others = {name: c.level for name, c in found.items() if name != "home"}
    assert set(others.values()) == {"ok"}, others


def test_group_access_alone_is_a_failure(tmp_path):
    home = make_home(tmp_path, 0o710)
    assert checks(None, home)["home"].level == "fail"


def test_missing_home_passes_and_is_not_created(tmp_path):
    home = tmp_path / "not" / "yet"
    found = checks(None, home)
    assert found["home"].level == "ok" and found["catalog"].level == "ok" and found["disk"].level == "ok"
    assert not home.exists() and not (tmp_path / "not").exists()


def test_web_open_to_network_needs_a_token(tmp_path):
    home = make_home(tmp_path)
    web = checks(write_config(tmp_path, host="0.0.0.0"), home)["web"]
    assert web.level == "fail" and "token" in web.detail and "web.token" in web.fix

    config = write_config(tmp_path, host="0.0.0.0", token="x" * 32)
    os.chmod(config, 0o644)
    web = checks(config, home)["web"]
    assert web.level == "warn" and web.fix == f"chmod 600 {config}" and "x" * 32 not in web.detail
    os.chmod(config, 0o600)
    assert checks(config, home)["web"].level == "ok"

    for host in ("localhost", "::1", "127.0.0.2"):
        assert checks(write_config(tmp_path, host=host), home)["web"].level == "ok", host


def test_web_failure_exits_10(tmp_path):
    home = make_home(tmp_path)
    done = run_station(home, "doctor", "--json", config=write_config(tmp_path, host="0.0.0.0"))
    assert done.returncode == 10
    report = json.loads(done.stdout)
    assert not report["ok"] and report["failed"] == 1
    assert [c["name"] for c in report["checks"] if c["level"] == "fail"] == ["web"]


def test_broken_profile_is_named_and_other_checks_still_run(tmp_path):
    profiles = tmp_path / "profiles"
    shutil.copytree(REPO_ROOT / "profiles", profiles)
    (profiles / "broken.yaml").write_text("page:\n  dpi: lots\n", encoding="utf-8")
    config = write_config(tmp_path)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["profiles_dir"] = str(profiles)
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    found = checks(config, make_home(tmp_path))
    assert found["profiles"].level == "fail" and "broken.yaml" in found["profiles"].detail
    assert list(found) == [n for n in ALL_CHECKS if n != "sane"]


def test_disk_thresholds(tmp_path, monkeypatch):
    home = make_home(tmp_path)
    free = shutil.disk_usage(home).free
    monkeypatch.setattr(doctor, "DISK_WARN_BYTES", free * 2)
    assert checks(None, home)["disk"].level == "warn"
    monkeypatch.setattr(doctor, "DISK_FAIL_BYTES", free * 2)
    disk = checks(None, home)["disk"]
    assert disk.level == "fail" and disk.fix


def test_a_crashing_check_is_a_failure_not_an_exception(tmp_path, monkeypatch):
    def boom(name, cfg):
        raise RuntimeError("kaputt")
    monkeypatch.setattr(doctor, "CHECKS", (("web", boom), ("config", doctor._check_config)))
    found = doctor.run_checks(load_config(REPO_ROOT / "config.yaml", tmp_path))
    assert [(c.name, c.level) for c in found] == [("web", "fail"), ("config", "ok")]
    assert "kaputt" in found[0].detail
