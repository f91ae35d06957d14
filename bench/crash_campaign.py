"""Crash campaign: kill -9 the station at named points and at random moments, start it again, and
check that nothing was lost or doubled and that the export is the very one an uninterrupted run gives.

    python -m bench.crash_campaign                # long form (`make soak`)
    python -m bench.crash_campaign --quick        # a handful of trials, as CI runs them

Every trial starts from a fresh home holding the book, and one of:
- `process`: `station process FOLDER` killed, then run again on the same folder;
- `daemon`: `station run` killed with the captures in its hot folder, then started again and stopped
  with SIGTERM once every file is taken;
- `export`: `station export` of a processed book killed, then run again.
The kill comes from `STATION_CRASH_AT=POINT:N` (station/faults.py: the Nth pass of POINT; the whole
process group dies, worker processes too) or from SIGKILL to the group after a random delay. After
the restart `check_home` looks at everything (see there), then the book is exported and the zip and
the workbook are compared by SHA-256 with the uninterrupted run's, and `station verify` checks the zip.
A point trial whose run ends without reaching its Nth pass closes that point's series: the trials of a
point run N = 1, 2, … (or every `stride`-th N) until then, so every pass of it is tried.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf
from click.testing import CliRunner, Result
from sqlalchemy import select

from bench import corpus
from station.catalog.models import Batch, Book as BookRow, Capture, Page, open_catalog
from station.catalog.storage import sha256_file
from station.cli import main as station_cli
from station.errors import DiskFullError
from station.review.entries import entry_state

REPO = Path(__file__).resolve().parent.parent
STATION = Path(sys.executable).parent / "station"
BOOK_ID = "KS.2017.01"
DPI = 200
TIMEOUT = 600


# --- the book every trial scans --------------------------------------------------------------
@dataclass
class Book:
    root: Path
    captures: Path                  # the scanned images; name order = scan order
    names: list[str]
    pages: dict[int, int]           # entry number -> content pages it must have
    template: Path                  # a home holding the book, nothing scanned
    processed: Path | None = None   # a home after an uninterrupted batch
    export: dict[str, str] = field(default_factory=dict)  # file -> sha256 of the uninterrupted export
    batch_seconds: float = 0.0      # how long the uninterrupted batch took


def prepare(root: Path, entries: int = 3, seed: int = 5, pages_per_entry: tuple[int, int] = (1, 2)) -> Book:
    """Render the book into `root` (emptied first), add it to a template home, and run it once
    uninterrupted (the reference)."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rows = corpus.make_entries("KS", 2017, 1, entries, seed=seed)
    corpus.write_register_xlsx(root / "register.xlsx", rows)
    template = root / "template-home"
    station(["book", "add", BOOK_ID, "--register", root / "register.xlsx"], env_for(template))
    station(["separators", BOOK_ID, "-o", root / "sheets.pdf"], env_for(template))
    truths = corpus.write_captures(root / "captures", rows, root / "sheets.pdf", seed=seed, dpi_choices=(DPI,),
                                   pages_per_entry=pages_per_entry)
    (root / "captures" / "truth.json").unlink()
    pages = {row.number: sum(1 for t in truths if t.kind == "content" and row.number in t.entries) for row in rows}
    book = Book(root, root / "captures", [t.file for t in truths], pages, template)

    book.processed = fresh_home(book, root / "reference")
    started = time.monotonic()
    station(["process", book.captures], env_for(book.processed))
    book.batch_seconds = time.monotonic() - started
    problems = check_home(book, book.processed)
    out = root / "reference" / "export"
    exported = cli(book.processed, "export", BOOK_ID, "-o", out)
    if exported.exit_code != 0:
        raise AssertionError(f"the uninterrupted run's export failed: {exported.output}")
    book.export = {path.name: sha256_file(path) for path in sorted(out.iterdir())}
    if problems:
        raise AssertionError(f"the uninterrupted run itself is wrong: {problems}")
    return book


def fresh_home(book: Book, folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copytree(book.template, folder / "home")
    return folder / "home"


# --- running the station ---------------------------------------------------------------------
def env_for(home: Path | None = None, config: Path | None = None, crash: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("STATION_HOME", "STATION_CONFIG", "STATION_CRASH_AT")}
    env["OMP_THREAD_LIMIT"] = "1"
    if home:
        env["STATION_HOME"] = str(home)
    if config:
        env["STATION_CONFIG"] = str(config)
    if crash:
        env["STATION_CRASH_AT"] = crash
    return env


def station(args: list, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(STATION), *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"station {' '.join(map(str, args))}: exit {done.returncode}: {done.stderr[-2000:]}")
    return done


def start(args: list, env: dict, log: Path) -> subprocess.Popen:
    # Its own process group: a kill reaches the station and its workers at once, as a power cut does.
    with open(log, "ab") as stderr:
        return subprocess.Popen([str(STATION), *map(str, args)], env=env, start_new_session=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def end_in(proc: subprocess.Popen, delay: float | None) -> int:
    """The exit code of `proc`; with `delay`, SIGKILL its group if still running after that long."""
    try:
        code = proc.wait(timeout=delay if delay is not None else TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    kill_group(proc)  # the whole group: workers of a station that killed only itself, or a kill at random
    return proc.returncode if code is None else code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """`station run` with one hot folder, for the daemon trials and the reliability tests."""

    def __init__(self, root: Path, home: Path, settle_seconds: float = 0.3, poll: bool = False):
        self.root, self.home, self.port = root, home, free_port()
        self.hot = root / "hot"
        self.hot.mkdir(parents=True, exist_ok=True)
        self.config = root / "config.yaml"
        config = {"home": str(home), "profiles_dir": str(REPO / "profiles"),
                  "web": {"host": "127.0.0.1", "port": self.port},
                  "hotfolders": [{"folder": str(self.hot), "settle_seconds": settle_seconds, "poll": poll}]}
        self.config.write_text(json.dumps(config))  # JSON is YAML
        self.proc: subprocess.Popen | None = None

    def start(self, crash: str | None = None, wait: bool = True) -> None:
        self.proc = start(["run"], env_for(config=self.config, crash=crash), self.root / "daemon.log")
        if wait:
            self.until(self.answers, timeout=120)

    def answers(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"station run ended ({self.proc.returncode}): "
                                 f"{(self.root / 'daemon.log').read_text()[-2000:]}")
        try:
            return self.get("/api/health")["ok"]
        except OSError:
            return False

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as answer:
            return json.loads(answer.read())

    def waiting_files(self) -> list[str]:
        return sorted(p.name for p in self.hot.iterdir() if p.is_file())

    def done_files(self) -> list[str]:
        done = self.hot / "done"
        return sorted(p.name for p in done.iterdir() if p.is_file()) if done.is_dir() else []

    def book_done(self, book: Book) -> bool:
        report = self.get(f"/api/books/{BOOK_ID}")
        return report["done"] == len(book.pages) and not self.waiting_files()

    def stop(self) -> int:
        """SIGTERM, as systemd stops it: the station closes its batches and exits."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=180)
        finally:
            kill_group(self.proc)

    @staticmethod
    def until(check, timeout: float = TIMEOUT, every: float = 0.3):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := check():
                return value
            time.sleep(every)
        raise TimeoutError(f"gave up waiting after {timeout:.0f} s")


# --- what must hold after any crash and restart ---------------------------------------------
def check_home(book: Book, home: Path) -> list[str]:
    """Every capture filed exactly once and processed, every batch closed, nothing held, every entry
    done with a PDF that opens, matches its checksum and holds exactly the entry's page images in
    order, the catalog intact, and no temp file or unreferenced file left in the home."""
    problems = []
    with sqlite3.connect(home / "catalog.sqlite") as db:
        integrity = db.execute("pragma integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"catalog integrity: {integrity}")
    sessions = open_catalog(home)
    referenced: set[str] = set()
    try:
        with sessions() as session:
            captures = list(session.scalars(select(Capture)))
            filed = Counter(c.source_name for c in captures)
            problems += [f"capture {name} filed {filed[name]} times" for name in book.names if filed[name] != 1]
            problems += [f"capture {name} filed but never scanned" for name in set(filed) - set(book.names)]
            problems += [f"batch {b.id} left open" for b in session.scalars(select(Batch).where(Batch.finished_at.is_(None)))]
            for capture in captures:
                referenced.add(capture.stored_file)
                if not capture.pages:
                    problems.append(f"capture {capture.source_name} never processed")
                for page in capture.pages:
                    referenced.update(name for name in (page.image_file, page.text_layer_file,
                                                        page.number_evidence_file) if name)
                    if page.held_reason:
                        problems.append(f"page of {capture.source_name} held: {page.held_reason}")
            for entry in session.get(BookRow, BOOK_ID).entries:
                state = entry_state(entry)
                if state.status != "done" or entry.pdf is None:
                    problems.append(f"entry {entry.number} {state.status}: {state.reasons}")
                    continue
                referenced.add(entry.pdf.file)
                problems += _pdf_problems(home, entry, state.pages, book.pages[entry.number])
    finally:
        sessions.kw["bind"].dispose()
    for path in home.rglob("*"):
        if path.name.endswith(".tmp"):
            problems.append(f"temp file left: {path.relative_to(home)}")
        elif path.is_file() and path.relative_to(home).parts[0] in ("captures", "pages", "pdfs") \
                and str(path.relative_to(home)) not in referenced:
            problems.append(f"file no catalog row names: {path.relative_to(home)}")
    return problems


def _pdf_problems(home: Path, entry, pages: list[Page], expected: int) -> list[str]:
    path = home / entry.pdf.file
    if not path.is_file():
        return [f"entry {entry.number}: PDF {entry.pdf.file} missing"]
    if sha256_file(path) != entry.pdf.sha256:
        return [f"entry {entry.number}: PDF {entry.pdf.file} does not match its checksum"]
    try:
        with pymupdf.open(path) as doc:
            embedded = [doc.extract_image(page.get_images()[0][0])["image"] for page in doc]
    except Exception as exc:  # a PDF that does not open is the finding, whatever the library says
        return [f"entry {entry.number}: PDF does not open: {exc}"]
    problems = []
    if len(embedded) != expected or entry.pdf.pages != expected:
        problems.append(f"entry {entry.number}: PDF has {len(embedded)} pages (catalog {entry.pdf.pages}), "
                        f"the entry {expected}")
    if embedded != [(home / page.image_file).read_bytes() for page in pages]:
        problems.append(f"entry {entry.number}: PDF pages are not the entry's page images in order")
    return problems


def cli(home: Path, *args) -> Result:
    """The CLI in this process (`station --home HOME ARGS…`), for the commands not under test here
    (export and verify after a recovery): no process start each."""
    return CliRunner().invoke(station_cli, ["--home", str(home), *map(str, args)])


def export_problems(book: Book, home: Path, out: Path) -> list[str]:
    """Export (again) and compare with the uninterrupted run's export; `station verify` the zip."""
    done = cli(home, "export", BOOK_ID, "-o", out)
    if done.exit_code != 0:
        return [f"export failed ({done.exit_code}): {done.output.strip()[-500:]}"]
    problems = [f"temp file left beside the export: {p.name}" for p in out.iterdir() if p.name.endswith(".tmp")]
    got = {path.name: sha256_file(path) for path in sorted(out.iterdir()) if not path.name.endswith(".tmp")}
    problems += [f"export {name} differs from the uninterrupted run's" for name in book.export
                 if got.get(name) != book.export[name]]
    verify = cli(home, "verify", out / f"{BOOK_ID}.zip")
    if verify.exit_code != 0:
        problems.append(f"station verify: {verify.output.strip()[-500:]}")
    return problems


# --- trials ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trial:
    mode: str                  # process, daemon, export
    point: str | None = None   # STATION_CRASH_AT point; None: killed after `delay`
    hit: int = 1
    delay: float = 0.0

    @property
    def label(self) -> str:
        how = f"{self.point}:{self.hit}" if self.point else f"random {self.delay:.1f}s"
        return f"{self.mode} {how}"


@dataclass
class Outcome:
    trial: Trial
    killed: bool               # the kill happened (False: the point was never reached, or it ended first)
    problems: list[str]
    seconds: float

    @property
    def survived(self) -> bool:
        return self.killed and not self.problems


def run_trial(book: Book, trial: Trial, work: Path) -> Outcome:
    started = time.monotonic()
    folder = work / trial.label.replace(" ", "-").replace(":", "-")
    runner = {"process": _process_trial, "daemon": _daemon_trial, "export": _export_trial}[trial.mode]
    killed, problems = runner(book, trial, folder)
    outcome = Outcome(trial, killed, problems, time.monotonic() - started)
    if outcome.survived or not killed:
        shutil.rmtree(folder, ignore_errors=True)  # kept when something is wrong, for a look
    return outcome


def _crash(trial: Trial) -> str | None:
    return f"{trial.point}:{trial.hit}" if trial.point else None


def _process_trial(book: Book, trial: Trial, folder: Path) -> tuple[bool, list[str]]:
    home = fresh_home(book, folder)
    proc = start(["process", book.captures], env_for(home, crash=_crash(trial)), folder / "first.log")
    code = end_in(proc, trial.delay if trial.point is None else None)
    if code != -signal.SIGKILL:
        return False, ([] if code == 0 else [f"first run failed ({code})"])
    again = station(["process", book.captures], env_for(home), check=False)
    if again.returncode != 0:
        return True, [f"rerun failed ({again.returncode}): {again.stderr.strip()[-500:]}"]
    return True, check_home(book, home) + export_problems(book, home, folder / "export")


def _export_trial(book: Book, trial: Trial, folder: Path) -> tuple[bool, list[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    shutil.copytree(book.processed, home)
    out = folder / "export"
    proc = start(["export", BOOK_ID, "-o", out], env_for(home, crash=_crash(trial)), folder / "first.log")
    code = end_in(proc, trial.delay if trial.point is None else None)
    if code != -signal.SIGKILL:
        return False, ([] if code == 0 else [f"first export failed ({code})"])
    return True, export_problems(book, home, out) + check_home(book, home)


def _daemon_trial(book: Book, trial: Trial, folder: Path) -> tuple[bool, list[str]]:
    home = fresh_home(book, folder)
    daemon = Daemon(folder, home)
    for name in book.names:  # the scanner has written them all before the station starts
        shutil.copy2(book.captures / name, daemon.hot / name)
    daemon.start(crash=_crash(trial), wait=False)
    if trial.point is None:
        code = end_in(daemon.proc, trial.delay)
    else:
        # Reached, the point kills the station; never reached, the station takes the whole book.
        def settled():
            if daemon.proc.poll() is not None:
                return True
            try:
                return daemon.book_done(book)
            except OSError:
                return False
        daemon.until(settled)
        if daemon.proc.poll() is None:
            daemon.stop()
            return False, []
        code = end_in(daemon.proc, None)
    if code != -signal.SIGKILL:
        kill_group(daemon.proc)
        return False, [] if code in (0, None) else [f"first run failed ({code})"]
    problems = []
    daemon.start()
    try:
        daemon.until(lambda: daemon.book_done(book))
    except TimeoutError:
        problems.append(f"restarted station did not finish the book; waiting in the hot folder: {daemon.waiting_files()}")
    code = daemon.stop()
    if code not in (0, -signal.SIGTERM):
        problems.append(f"station run stopped with {code}")
    if daemon.done_files() != sorted(book.names):
        problems.append(f"hot folder done/ holds {daemon.done_files()}")
    return True, problems + check_home(book, home) + export_problems(book, home, folder / "export")


# --- disk full -------------------------------------------------------------------------------
@contextmanager
def small_disk(folder: Path, size_mb: int = 20):
    """A tmpfs of `size_mb` mounted at `folder` (needs root); PermissionError if mounting is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise PermissionError(f"cannot mount a tmpfs at {folder}: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill_disk(disk: Path, book: Book, leave: int) -> Path:
    """A home holding the book on `disk`, and a ballast file leaving `leave` bytes free."""
    home = disk / "home"
    shutil.copytree(book.template, home)
    with open(disk / "ballast", "wb") as ballast:
        ballast.write(b"\0" * max(0, shutil.disk_usage(disk).free - leave))
    return home


def taken_captures(home: Path) -> dict[str, str]:
    """Source name -> stored file of every capture in the catalog (a reader needs a little space for
    SQLite's shared-memory file)."""
    with closing(sqlite3.connect(home / "catalog.sqlite")) as db:
        return dict(db.execute("select source_name, stored_file from captures"))


@dataclass
class DiskFullOutcome:
    leave: int                 # bytes free when the batch started
    code: int                  # exit code of that batch: 13 (disk full) or 0 (it fitted)
    taken: int                 # captures in the catalog when it stopped
    problems: list[str]


def disk_full_trial(book: Book, disk: Path, leave: int, out: Path) -> DiskFullOutcome:
    """`station process` on a disk with `leave` bytes free: it stops with exit code 13 and one line (or
    fits), every capture it took is whole; then the space is freed, the same command finishes the book
    and the export is the uninterrupted run's."""
    home = fill_disk(disk, book, leave)
    full = station(["process", book.captures], env_for(home), check=False)
    (disk / "ballast").unlink()  # nothing else changes until the same command runs again below
    captures = taken_captures(home)
    problems = []
    if full.returncode not in (0, DiskFullError.exit_code):
        problems.append(f"exit {full.returncode}, not {DiskFullError.exit_code}: {full.stderr.strip()[-500:]}")
    elif full.returncode and ("Traceback" in full.stderr or "Ổ đĩa đầy" not in full.stderr):
        problems.append(f"unclear message: {full.stderr.strip()[-500:]}")
    problems += [f"capture {name} taken but not whole on disk" for name, stored in captures.items()
                 if not (home / stored).is_file() or sha256_file(home / stored) != sha256_file(book.captures / name)]
    problems += [f"temp file left: {p.relative_to(home)}" for p in home.rglob("*.tmp")]
    again = station(["process", book.captures], env_for(home), check=False)
    if again.returncode != 0:
        problems.append(f"rerun after freeing space failed ({again.returncode}): {again.stderr.strip()[-500:]}")
    else:
        problems += check_home(book, home) + export_problems(book, home, out)
    shutil.rmtree(home)
    shutil.rmtree(out, ignore_errors=True)
    return DiskFullOutcome(leave, full.returncode, len(captures), problems)


# --- campaigns -------------------------------------------------------------------------------
PROCESS_POINTS = ("write:captures", "write:pages", "write:pdfs", "commit", "committed")
DAEMON_POINTS = ("write:captures", "write:pages", "write:pdfs", "commit", "committed")
EXPORT_POINTS = ("write:zip", "write:xlsx")
# CI's handful, on the quick book (3 entries, seed 5: 6 captures, 3 content pages): each point in the
# middle of its passes. A trial that does not reach its point fails, so the book cannot silently
# become too short for them.
QUICK_BOOK = {"entries": 3, "seed": 5, "pages_per_entry": (1, 2)}
QUICK_TRIALS = [
    Trial("process", "write:captures", 4),   # a capture stored under its temp name, not renamed yet
    Trial("process", "write:pages", 3),      # a page image being written
    Trial("process", "write:pdfs", 2),       # an entry's PDF assembled, not yet in place
    Trial("process", "commit", 6),           # a catalog transaction about to commit
    Trial("process", "committed", 9),        # one just committed, nothing after it done yet
    Trial("export", "write:zip"),            # `station export` writing the zip
    Trial("export", "write:xlsx"),           # … and the workbook
    Trial("daemon", "commit", 6),            # `station run` taking its hot folder
]


def random_trial(book: Book, mode: str, rng: random.Random, low: float = 0.2, high: float = 1.0) -> Trial:
    """A kill after a random share of the uninterrupted batch's time (a daemon never ends by itself:
    it is always killed, its startup then counting as part of the time)."""
    return Trial(mode, delay=rng.uniform(low, high) * book.batch_seconds)


def series(book: Book, work: Path, mode: str, point: str, stride: int, report) -> list[Outcome]:
    """N = 1, 1 + stride, … until a run ends without reaching its Nth pass of `point`."""
    outcomes, hit = [], 1
    while True:
        outcome = run_trial(book, Trial(mode, point, hit), work)
        report(outcome)
        outcomes.append(outcome)
        if not outcome.killed:
            return outcomes
        hit += stride


def long_campaign(book: Book, work: Path, rng: random.Random, stride: int, randoms: int,
                  daemon_stride: int, report) -> list[Outcome]:
    outcomes = []
    for point in PROCESS_POINTS:
        outcomes += series(book, work, "process", point, stride if point.startswith("commit") else 1, report)
    for point in EXPORT_POINTS:
        outcomes += series(book, work, "export", point, 1, report)
    for point in DAEMON_POINTS:
        outcomes += series(book, work, "daemon", point, daemon_stride, report)
    for mode in ("process", "daemon", "export"):
        for _ in range(randoms if mode != "export" else randoms // 3):
            outcome = run_trial(book, random_trial(book, mode, rng) if mode != "export"
                                else Trial("export", delay=rng.uniform(1.0, 4.0)), work)
            report(outcome)
            outcomes.append(outcome)
    return outcomes


def summarize(outcomes: list[Outcome]) -> dict:
    """Trials whose kill happened count as tried; the others (a point passed fewer times than N, a
    run done before its random kill) are counted apart."""
    not_reached = sum(not o.killed for o in outcomes)
    outcomes = [o for o in outcomes if o.killed]
    by_point: dict[str, dict] = {}
    for o in outcomes:
        key = f"{o.trial.mode} {o.trial.point or 'random'}"
        row = by_point.setdefault(key, {"tried": 0, "survived": 0})
        row["tried"] += 1
        row["survived"] += o.survived
    return {"tried": len(outcomes), "survived": sum(o.survived for o in outcomes), "not_reached": not_reached,
            "by_point": by_point,
            "failures": [{"trial": o.trial.label, "problems": o.problems} for o in outcomes if not o.survived]}


def disk_full_sweep(book: Book, work: Path, steps: int, report) -> dict:
    """`station process` started with 0 … (what the whole batch needs) bytes free, in `steps` steps."""
    need = sum(p.stat().st_size for p in book.processed.rglob("*") if p.is_file())
    outcomes = []
    try:
        with small_disk(work / "disk", size_mb=max(20, 4 * need >> 20)) as disk:
            for step in range(steps):
                outcome = disk_full_trial(book, disk, need * step // (steps - 1), work / "export")
                report(outcome)
                outcomes.append(outcome)
    except PermissionError as exc:
        return {"skipped": str(exc)}
    return {"trials": len(outcomes), "stopped": sum(o.code == DiskFullError.exit_code for o in outcomes),
            "fitted": sum(o.code == 0 for o in outcomes), "survived": sum(not o.problems for o in outcomes),
            "batch_bytes": need,
            "failures": [{"leave": o.leave, "problems": o.problems} for o in outcomes if o.problems]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("out/crash-campaign"))
    parser.add_argument("--quick", action="store_true", help="CI's handful of trials only, on CI's book")
    parser.add_argument("--entries", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stride", type=int, default=2, help="every Nth pass of commit/committed (process)")
    parser.add_argument("--daemon-stride", type=int, default=3, help="every Nth pass of each point (daemon)")
    parser.add_argument("--random", type=int, default=15, help="random-time kills, per mode")
    parser.add_argument("--disk-full-steps", type=int, default=12, help="disk-full trials (root only; 0: none)")
    parser.add_argument("--out", type=Path, help="write the summary here (JSON)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    shape = QUICK_BOOK if args.quick else {"entries": args.entries, "seed": args.seed, "pages_per_entry": (1, 3)}
    book = prepare(args.work / "book", **shape)
    print(f"book: {len(book.names)} captures, {len(book.pages)} entries; uninterrupted batch "
          f"{book.batch_seconds:.1f} s", flush=True)

    def report(outcome) -> None:
        if isinstance(outcome, DiskFullOutcome):
            mark = "FAIL" if outcome.problems else "ok  "
            print(f"{mark} disk full, {outcome.leave:>9} bytes free: exit {outcome.code}, "
                  f"{outcome.taken} captures taken  {'; '.join(outcome.problems)}", flush=True)
            return
        mark = "ok  " if outcome.survived else ("--  " if not outcome.killed else "FAIL")
        print(f"{mark} {outcome.trial.label:32s} {outcome.seconds:5.1f} s  {'; '.join(outcome.problems)}", flush=True)

    if args.quick:
        outcomes = []
        for trial in QUICK_TRIALS + [random_trial(book, "process", rng, 0.3, 0.6), random_trial(book, "daemon", rng)]:
            outcomes.append(run_trial(book, trial, args.work / "trials"))
            report(outcomes[-1])
    else:
        outcomes = long_campaign(book, args.work / "trials", rng, args.stride, args.random, args.daemon_stride, report)
    summary = summarize(outcomes)
    if args.disk_full_steps > 1 and not args.quick:
        summary["disk_full"] = disk_full_sweep(book, args.work, args.disk_full_steps, report)
    summary.update(captures=len(book.names), entries=len(book.pages), batch_seconds=round(book.batch_seconds, 1),
                   minutes=round((time.monotonic() - started) / 60, 1))
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    disk_ok = not summary.get("disk_full", {}).get("failures")
    return 0 if summary["tried"] and summary["tried"] == summary["survived"] and disk_ok else 1


if __name__ == "__main__":
    sys.exit(main())
