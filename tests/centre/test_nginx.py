"""deploy/nginx-centre.conf, the example TLS proxy in front of the centre, run as it is written (only its
ports, certificate and log paths swapped for the test's) by Debian's nginx, with a certificate made for the
test: plain HTTP is sent to HTTPS, a request without a token is still refused by the centre behind it, a
file of several MB passes, and `station sync` to an https:// centre lands the book."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.centre.conftest import free_port
from tests.centre.fake_station import FakeStation
from tests.centre.test_sync import REPO, centre_status, sync

EXAMPLE = REPO / "deploy" / "nginx-centre.conf"


def served_example(folder: Path, centre_port: int, http_port: int, https_port: int) -> Path:
    """The example with this test's ports and paths; each line swapped must be in it, so the test follows the
    file instead of passing on a copy of it."""
    text = EXAMPLE.read_text()
    swaps = {
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https_port} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/ssl/sohotich-centre/fullchain.pem": str(folder / "cert.pem"),
        "/etc/ssl/sohotich-centre/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/sohotich-centre.access.log": str(folder / "access.log"),
        "http://127.0.0.1:8780;": f"http://127.0.0.1:{centre_port};",
    }
    for old, new in swaps.items():
        assert old in text, f"{EXAMPLE.name} no longer has {old.strip()!r}: change this test with it"
        text = text.replace(old, new)
    (folder / "centre.conf").write_text(text)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                            "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
                    f"daemon off;\nevents {{}}\nhttp {{\n{temp}\n    include {folder / 'centre.conf'};\n}}\n")
    return main


@pytest.fixture
def nginx_in_front(running_centre, tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.access(nginx, os.X_OK), "Debian's nginx is missing: `make system` installs it (apt-get install nginx)"
    folder = tmp_path / "nginx"
    folder.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    centre_port = int(running_centre.url.rsplit(":", 1)[1])
    http_port, https_port = free_port(), free_port()
    config = served_example(folder, centre_port, http_port, https_port)
    checked = subprocess.run([nginx, "-t", "-p", str(folder), "-c", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen([nginx, "-p", str(folder), "-c", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, (folder / "error.log").read_text()
            time.sleep(0.05)
    try:
        yield f"https://localhost:{https_port}", f"http://127.0.0.1:{http_port}", folder / "cert.pem"
    finally:
        server.terminate()
        server.wait(10)


def test_the_example_proxy_holds_tls_and_the_centre_still_asks_for_a_token(nginx_in_front, running_centre,
                                                                        centre_url, tmp_path, monkeypatch):
    https_url, http_url, certificate = nginx_in_front
    with httpx.Client() as plain:
        moved = plain.get(f"{http_url}/api/whoami")
        assert moved.status_code == 301 and moved.headers["location"].startswith("https://")
    token = running_centre.tokens["xa-a"]
    with httpx.Client(base_url=https_url, verify=ssl.create_default_context(cafile=certificate)) as client:
        assert client.get("/api/whoami").status_code == 401
        assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).json()["station"] == "xa-a"
        assert client.get("/api/whoami").headers["strict-transport-security"].startswith("max-age=")
        # A scan's file of several MB streams through (nginx's default would refuse over 1 MB).
        data = os.urandom(6 << 20)
        sha = hashlib.sha256(data).hexdigest()
        stored = client.put(f"/api/blobs/{sha}?kind=page", content=data, headers={"Authorization": f"Bearer {token}"})
        assert stored.status_code == 200, stored.text
    assert running_centre.store.get(sha) == data
    # A station syncs over HTTPS, trusting the centre's certificate (SSL_CERT_FILE, as OpenSSL reads it).
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    (tmp_path / "a").mkdir()
    station = FakeStation(tmp_path / "a" / "home")
    station.scan(range(1, 11))
    sync(station, running_centre, "xa-a", url=https_url)
    [book] = centre_status(centre_url)["books"]
    assert (book["expected"], book["done"]) == (10, 10)
    assert "/api/sync" in (tmp_path / "nginx" / "access.log").read_text()
