"""A real PostgreSQL for the centre's tests: one throwaway cluster for the session, in a temporary
folder, started from Debian's `postgresql` package (the Makefile installs it like every other tool).

initdb refuses to run as root, so as root the cluster's folder belongs to `postgres` and its programs run
as that user (runuser, else su); otherwise they run as the current user. The server listens on a unix
socket inside the folder and on a free TCP port of 127.0.0.1 with a password (scram-sha-256), so the
centre connects the way it would in production. Durability is off (fsync): the cluster dies with the
session. Each test gets a database of its own (`centre_url`).
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "postgres"


def postgres_bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres are: pg_config's bindir, the PATH, or Debian's versioned folder
    (/usr/lib/postgresql/N/bin, the newest), the first that has all three."""
    candidates = []
    if shutil.which("pg_config"):
        try:
            candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                             check=True).stdout.strip())
        except subprocess.CalledProcessError:
            pass
    if shutil.which("initdb"):
        candidates.append(os.path.dirname(shutil.which("initdb")))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                         reverse=True)
    for folder in candidates:
        if folder and all(os.access(Path(folder) / name, os.X_OK) for name in SERVER_PROGRAMS):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    bindir: Path
    port: int
    password: str
    as_user: list[str]           # the prefix that runs a program as the cluster's owner

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # cwd: the caller's folder may be closed to the postgres user.
        return subprocess.run([*self.as_user, str(self.bindir / program), *args], cwd=self.folder,
                              capture_output=True, text=True, check=check)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self.run("createdb", "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, name)
        return self.url(name)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _as_owner() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs the cluster's programs, and the uid/gid its folder must belong to."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        owner = pwd.getpwnam(SUPERUSER)
    except KeyError:
        pytest.fail("Chạy kiểm thử bằng root cần người dùng 'postgres' (gói postgresql tạo ra) / as root the "
                    "tests need the 'postgres' user, made by Debian's postgresql package: apt-get install postgresql")
    if shutil.which("runuser"):
        return ["runuser", "-u", SUPERUSER, "--"], owner.pw_uid, owner.pw_gid
    # su hands what follows `--` to the shell as $0 $@: the program and its arguments, unquoted by nothing.
    return ["su", "-s", "/bin/sh", "-c", 'exec "$0" "$@"', SUPERUSER, "--"], owner.pw_uid, owner.pw_gid


def start_cluster() -> Cluster:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL không có trên máy này / PostgreSQL server programs (initdb, pg_ctl) not found: "
                    "install Debian's postgresql package (make setup does, it is in the Makefile's APT_PACKAGES)")
    as_user, uid, gid = _as_owner()
    # /tmp, not pytest's tmp_path: that one is 0700 to root and the postgres user could not reach it.
    folder = Path(tempfile.mkdtemp(prefix="station-centre-pg-"))
    (folder / "socket").mkdir()
    password = secrets.token_urlsafe(16)
    (folder / "password").write_text(password + "\n")
    if uid is not None:
        for path in (folder, folder / "socket", folder / "password"):
            os.chown(path, uid, gid)
    cluster = Cluster(folder, bindir, 0, password, as_user)
    try:
        initdb = cluster.run("initdb", "-D", str(cluster.data), "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
                             "--auth-local=trust", "--auth-host=scram-sha-256",
                             f"--pwfile={folder / 'password'}", "--no-sync", check=False)
        if initdb.returncode:
            raise RuntimeError(f"initdb failed: {initdb.stderr or initdb.stdout}")
        for attempt in range(3):   # the free port may be taken between the probe and the start
            cluster.port = free_port()
            options = (f"-k {cluster.socket_dir} -p {cluster.port} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")
            started = cluster.run("pg_ctl", "start", "-w", "-t", "60", "-D", str(cluster.data),
                                  "-l", str(folder / "server.log"), "-o", options, check=False)
            if started.returncode == 0:
                return cluster
        raise RuntimeError(f"pg_ctl start failed: {started.stderr or started.stdout}\n{cluster.log()[-2000:]}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def stop_cluster(cluster: Cluster) -> None:
    cluster.run("pg_ctl", "stop", "-D", str(cluster.data), "-m", "immediate", "-w", check=False)
    shutil.rmtree(cluster.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """One PostgreSQL server for the whole session, stopped and removed at its end."""
    began = time.monotonic()
    cluster = start_cluster()
    cluster.started_in = time.monotonic() - began
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster) -> str:
    """A database of the session's cluster, as a SQLAlchemy URL (postgresql+psycopg://…)."""
    return postgres_cluster.create_database("centre")


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def centre_url(postgres_cluster) -> str:
    """An empty database of its own for one test."""
    return postgres_cluster.create_database(f"centre_{next(_databases)}")


@contextmanager
def served_in_thread(app):
    """`app` served by uvicorn in a thread of this process on a free port of 127.0.0.1: its URL."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the centre did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def running_centre(centre_url, tmp_path):
    """The centre's app served by uvicorn in a thread of this process, on a free port, with stations a and
    b registered: (url, sessions, store, tokens)."""
    from station.centre import stations
    from station.centre.app import create_app
    from station.centre.catalog import open_centre
    from station.centre.store import DiskStore

    sessions = open_centre(centre_url)
    with sessions() as session:
        tokens = {name: stations.register(session, name) for name in ("xa-a", "xa-b")}
    store = DiskStore(tmp_path / "centre-store")
    try:
        with served_in_thread(create_app(sessions, store)) as url:
            yield RunningCentre(url, sessions, store, tokens)
    finally:
        sessions.kw["bind"].dispose()


@dataclass
class RunningCentre:
    url: str
    sessions: object
    store: object
    tokens: dict
