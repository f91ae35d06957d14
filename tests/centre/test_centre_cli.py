"""`station centre …` on a real PostgreSQL: tokens added, listed and revoked through the CLI, and the
centre served by a real process that refuses what has no token."""
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from station.centre.app import create_app
from station.centre.catalog import open_centre
from station.centre.store import DiskStore
from station.cli import main
from tests.centre.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def centre_cli(*args, code=0, env=None):
    result = CliRunner().invoke(main, ["centre", *map(str, args)], env=env)
    assert result.exit_code == code, result.output
    return result


def test_tokens_are_added_listed_and_revoked(centre_url, tmp_path):
    added = centre_cli("token", "add", "xa-hai-lang-1", "--database", centre_url)
    token = added.output.strip().splitlines()[-1]
    assert "station registered" in added.output and len(token) > 50 and " " not in token
    centre_cli("token", "add", "xa-hai-lang-2", env={"CENTRE_DATABASE": centre_url})

    duplicate = centre_cli("token", "add", "xa-hai-lang-1", "--database", centre_url, code=14)
    assert "already registered" in duplicate.output and token not in duplicate.output
    assert "invalid station name" in centre_cli("token", "add", "Xã 1", "--database", centre_url, code=14).output

    listed = centre_cli("token", "list", "--database", centre_url).output
    assert listed.count("active") == 2 and token.split(".")[0] in listed and token.split(".")[1] not in listed

    client = TestClient(create_app(open_centre(centre_url), DiskStore(tmp_path / "store")))
    whoami = client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert whoami.status_code == 200 and whoami.json()["station"] == "xa-hai-lang-1"

    assert "token revoked" in centre_cli("token", "revoke", "xa-hai-lang-1", "--database", centre_url).output
    assert "already revoked" in centre_cli("token", "revoke", "xa-hai-lang-1", "--database", centre_url).output
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    listed = centre_cli("token", "list", "--database", centre_url).output
    assert listed.count("active") == 1 and "revoked" in listed
    assert "no station named" in centre_cli("token", "revoke", "nobody", "--database", centre_url, code=14).output
    # Revoked, the name stays taken: its scans stay under it.
    centre_cli("token", "add", "xa-hai-lang-1", "--database", centre_url, code=14)


def test_a_database_that_cannot_be_reached_is_named_without_its_password(centre_url):
    url = make_url(centre_url).set(port=free_port())
    refused = centre_cli("token", "list", "--database", url.render_as_string(hide_password=False), code=14).output
    assert "cannot reach the centre's database" in refused and "***" in refused and url.password not in refused


def test_serve_refuses_a_port_in_use(centre_url, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = centre_cli("serve", "--database", centre_url, "--store", tmp_path / "store", "--port", port,
                             code=14)
    assert "could not listen" in refused.output


@pytest.fixture
def served_centre(centre_url, tmp_path):
    """`station centre serve` in a process of its own, the database given by environment."""
    token = centre_cli("token", "add", "xa-a", "--database", centre_url).output.strip().splitlines()[-1]
    port = free_port()
    env = dict(os.environ, CENTRE_DATABASE=centre_url, PYTHONPATH=str(REPO))
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", "from station.cli import main; main()", "centre", "serve",
                                "--store", str(tmp_path / "store"), "--port", str(port)],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "station centre serve did not start within 60 s"
        line = process.stdout.readline()      # said once it listens
        assert "province centre listening" in line, process.stderr.read() if process.poll() is not None else line
        yield f"http://127.0.0.1:{port}", token, tmp_path / "store", time.monotonic() - began
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()


def test_serve_runs_the_api_in_a_process_of_its_own(served_centre):
    base, token, store, started_in = served_centre
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).json()["station"] == "xa-a"
        assert client.get("/api/whoami").status_code == 401
        assert client.post("/api/sync").status_code == 401
        assert client.post("/api/sync/hello", json={}).status_code == 401
        hello = client.post("/api/sync/hello", headers={"Authorization": f"Bearer {token}"}, json={"hashes": []})
        assert hello.status_code == 200 and hello.json()["holds"]["files"] == 0
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert started_in < 30
