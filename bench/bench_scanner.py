"""The station behind a simulated document feeder: does it ever make the scanner wait, and does its
memory stay flat however long the batch?

    .venv/bin/python -m bench.bench_scanner [--pages 120] [--ppm 60] [--repeats 3] [--memory] [--quick]

1. Overhead at a fixed scanner speed (default 60 pages/min). `ScheduledScanner` feeds pre-rendered
   captures of a degraded book (bench/corpus.py) through `BatchRunner`, exactly as `station scan` does
   (runner-owned worker pool, default profile): page i (from 1) is ready at t0 + i*60/ppm, t0 being
   the start of the batch. A feeder does not wait: when the station asks late, the next page comes at
   once, and the lateness (request time - schedule) is recorded; it is the time the station made the
   scanner stand still. Two ways of handing over a page: `file` (a stored image, like replay/hot
   folder) and `pixels` (a PIL image, like the SANE driver). One batch at 200 dpi, one at 300 dpi.
   Reported: scanner-alone time N*60/ppm, total time until run() returns (the last PDF written),
   overhead % = (total - scanner)/scanner, max/p95 lateness, and the main process's own time per page
   (from handing a page over to asking for the next one).
2. Memory (--memory): batches of 50 and 2,000 captures (--quick: 50 and 300) as fast as the station
   takes them (no schedule), with a worker pool the bench owns (as the daemon does) so the workers'
   peak RSS (VmHWM) can be read before they exit. Captures cycle through a pool of 60 rendered
   content/blank pages (200 and 300 dpi), each re-written with a unique JPEG comment so that no
   checksum repeats (the station skips captures already filed); every entry gets its own rendered
   separator sheet, so every entry is scanned once and its PDF written, as in a real book.

Each measured batch runs in a fresh child process (its own home, its own peak RSS), one at a time.
The corpus is rendered once into --work (default /tmp/bench-scanner) and reused. Results go to
bench/results-scanner.md (--out) and, raw, to WORK/results.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BOOK = "KS.2017.01"
SEED = 2024
REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# /proc helpers (no psutil needed)

def _status(pid: int | str) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _kb(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def process_tree_memory() -> dict:
    """Peak and current RSS (MB) of this process, its worker processes and helpers."""
    me = _status("self")
    tree = {"main_hwm_mb": _kb(me.get("VmHWM")) / 1024, "main_rss_mb": _kb(me.get("VmRSS")) / 1024,
            "workers": [], "helpers": [], "tools": []}
    # With the forkserver context the workers are forked by the forkserver (and carry its command
    # line); the forkserver and the resource tracker are the main process's own children; below the
    # workers run their tools (tesseract).
    mine = set(_descendants(os.getpid()))
    parent = {pid: _ppid(pid) for pid in mine}
    direct = {pid for pid in mine if parent[pid] == os.getpid()}
    for pid in sorted(mine):
        status = _status(pid)
        if not status:
            continue
        row = {"pid": pid, "hwm_mb": _kb(status.get("VmHWM")) / 1024, "rss_mb": _kb(status.get("VmRSS")) / 1024}
        if pid in direct:
            cmd = _cmdline(pid)
            row["what"] = "forkserver" if "forkserver" in cmd else "tracker" if "tracker" in cmd else cmd[:60]
            tree["helpers"].append(row)
        elif parent[pid] in direct:
            tree["workers"].append(row)
        else:
            row["what"] = status.get("Name", "?")
            tree["tools"].append(row)
    return tree


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


# --------------------------------------------------------------------------------------------
# The simulated scanner

def unique_jpeg(data: bytes, tag: str) -> bytes:
    """The same JPEG with a comment (COM segment) after SOI/APP0: new checksum, same pixels."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos = 2
    if data[2:4] == b"\xff\xe0":  # keep JFIF's APP0 (with the density) right after SOI
        pos = 4 + int.from_bytes(data[4:6], "big")
    comment = tag.encode()
    return data[:pos] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[pos:]


class ScheduledScanner:
    """A document feeder of fixed speed over a list of (image file, dpi).

    mode "file": yields CapturedPage(file=...) (replay / hot folder); with `feed_dir`, each capture is
    first re-written there with a unique JPEG comment (and deleted once the next one is asked for).
    mode "pixels": yields CapturedPage(image=PIL image) like the SANE driver; the JPEG is decoded when
    the page is asked for (the scanner's time, not counted as lateness).
    ppm 0: no schedule, pages as fast as they are asked for.
    """

    name = "bench-adf"

    def __init__(self, items: list[tuple[Path, int]], ppm: float, mode: str = "file",
                 feed_dir: Path | None = None):
        if mode not in ("file", "pixels"):
            raise ValueError(mode)
        self.items = items
        self.period = 60.0 / ppm if ppm else 0.0
        self.mode = mode
        self.feed_dir = feed_dir
        self.t0: float | None = None
        self.requested: list[float] = []   # when the station asked for page i (monotonic)
        self.handed: list[float] = []      # when page i was yielded
        self.scheduled: list[float] = []
        self.prepare: list[float] = []     # decode / unique re-write, seconds (scanner side)

    def expected(self) -> int:
        return len(self.items)

    def start(self, t0: float | None = None) -> None:
        self.t0 = time.monotonic() if t0 is None else t0

    def captures(self) -> Iterator:
        from PIL import Image

        from drivers.base import CapturedPage
        if self.t0 is None:
            self.start()
        previous: Path | None = None
        for i, (path, dpi) in enumerate(self.items, 1):
            asked = time.monotonic()
            self.requested.append(asked)
            if previous is not None:
                previous.unlink(missing_ok=True)
                previous = None
            began = time.monotonic()
            if self.mode == "pixels":
                with Image.open(path) as im:
                    image = im.convert("RGB")
                page = CapturedPage(i, self.name, f"adf#{i}", float(dpi), image=image)
            elif self.feed_dir is not None:
                target = self.feed_dir / f"{i:06d}{path.suffix}"
                target.write_bytes(unique_jpeg(path.read_bytes(), f"bench-scanner capture {i}"))
                page = CapturedPage(i, self.name, target.name, float(dpi), file=target)
                previous = target
            else:
                page = CapturedPage(i, self.name, path.name, float(dpi), file=path)
            self.prepare.append(time.monotonic() - began)
            due = self.t0 + i * self.period if self.period else asked
            self.scheduled.append(due)
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.handed.append(time.monotonic())
            yield page
        self.requested.append(time.monotonic())  # the request that found the feeder empty
        if previous is not None:
            previous.unlink(missing_ok=True)

    def lateness(self) -> list[float]:
        """Seconds each page was asked for after it was ready (0 when asked in time)."""
        return [max(0.0, asked - due) for asked, due in zip(self.requested, self.scheduled)]

    def station_time(self) -> list[float]:
        """Main-process time per page: from handing page i over to asking for page i+1."""
        return [nxt - handed for handed, nxt in zip(self.handed, self.requested[1:])]


# --------------------------------------------------------------------------------------------
# Corpus (rendered once, cached in the work folder)

def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def _sheets(entries) -> bytes:
    from pipeline.separator import make_payload
    from station.export.sheets import SheetSpec, render_sheets
    return render_sheets([SheetSpec(make_payload(BOOK, [e.number]), "Khai sinh", e.year, e.volume, (e.reg_date,))
                          for e in entries])


def book_corpus(work: Path, dpi: int, captures: int, seed: int = SEED) -> Path:
    """A degraded book at one dpi with at least `captures` captures (the bench uses the first ones)."""
    from bench import corpus
    folder = work / f"book-{dpi}dpi-{captures}-s{seed}"
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = max(2, math.ceil(captures / 3.0) + 2)   # ~3.6 captures per entry on average
    while True:
        _log(f"rendering a {count}-entry book at {dpi} dpi into {folder}")
        entries = corpus.make_entries("KS", 2017, 1, count, seed=seed)
        corpus.write_register_xlsx(folder / "register.xlsx", entries)
        (folder / "sheets.pdf").write_bytes(_sheets(entries))
        shutil.rmtree(folder / "captures", ignore_errors=True)
        truths = corpus.write_captures(folder / "captures", entries, folder / "sheets.pdf", seed=seed,
                                       dpi_choices=(dpi,), upside_down_separators=1)
        if len(truths) >= captures:
            break
        count += math.ceil((captures - len(truths)) / 3.0) + 1
    (folder / "done").write_text(str(len(truths)))
    return folder


def book_items(folder: Path, n: int) -> list[tuple[Path, int]]:
    from bench import corpus
    return [(folder / "captures" / t.file, t.dpi) for t in corpus.load_truth(folder / "captures")[:n]]


def memory_corpus(work: Path, pages: int, pool_books: list[Path], pool_size: int = 60,
                  seed: int = SEED) -> tuple[Path, list[tuple[str, int]]]:
    """A book of `pages` captures: per entry its own rendered separator, then 1-3 content pages (and
    the blank backs met on the way) cycled from a pool of rendered captures. Returns the folder and
    the plan [(file relative to the folder, dpi)]; the same seed gives the same plan's prefix."""
    from bench import corpus
    per_book = pool_size // len(pool_books)
    lists = [[(book / "captures" / t.file, t.dpi, t.kind)
              for t in corpus.load_truth(book / "captures") if t.kind != "separator"][:per_book]
             for book in pool_books]
    # Interleaved, so that 200 and 300 dpi pages alternate along the batch.
    pool = [rows[i] for i in range(per_book) for rows in lists if i < len(rows)]
    if not any(kind == "content" for _, _, kind in pool):
        raise ValueError("no content pages in the pool")
    rr = random.Random(f"memory-plan:{seed}")
    plan: list[tuple[str, int, int]] = []   # (kind, entry or pool index, dpi)
    cursor, entry = 0, 0
    while len(plan) < pages:
        entry += 1
        plan.append(("separator", entry, int(rr.choice((200, 300)))))
        want = rr.randint(1, 3)
        while want:
            _path, dpi, kind = pool[cursor % len(pool)]
            plan.append((kind, cursor % len(pool), dpi))
            cursor += 1
            want -= kind == "content"
    entries_count = entry
    folder = work / f"membook-{entries_count}-s{seed}"
    seps = folder / "separators"
    seps.mkdir(parents=True, exist_ok=True)
    if not (folder / "register.xlsx").exists():
        entries = corpus.make_entries("KS", 2017, 1, entries_count, seed=seed)
        corpus.write_register_xlsx(folder / "register.xlsx", entries)
        (folder / "sheets.pdf").write_bytes(_sheets(entries))
    import pymupdf
    missing = [(e, dpi) for kind, e, dpi in plan if kind == "separator" and not (seps / f"{e:05d}.jpg").exists()]
    if missing:
        _log(f"rendering {len(missing)} separator captures into {seps}")
        with pymupdf.open(str(folder / "sheets.pdf")) as doc:
            for e, dpi in missing:
                rng = corpus.seeded_rng(seed, "memory-separator", e)
                deg = corpus.random_degradation(rng)
                scanned, _ = corpus.degrade_ex(corpus.raster(doc[e - 1], dpi), dpi, deg, int(rng.integers(1 << 31)))
                tmp = seps / f".{e:05d}.jpg"
                corpus.save_image(tmp, scanned, dpi)
                tmp.rename(seps / f"{e:05d}.jpg")
    items = []
    for kind, ref, dpi in plan[:pages]:
        if kind == "separator":
            items.append((str(seps / f"{ref:05d}.jpg"), dpi))
        else:
            items.append((str(pool[ref][0]), dpi))
    return folder, items


# --------------------------------------------------------------------------------------------
# One measured batch (child process)

def _station(home: Path, register: Path):
    from station.catalog.library import add_book
    from station.catalog.models import open_catalog
    from station.catalog.storage import ensure_home
    from station.config import load_config
    cfg = load_config(REPO / "config.yaml", home=home)
    ensure_home(home)
    sessions = open_catalog(home)
    with sessions() as session:
        add_book(session, home, BOOK, register, None)
    return cfg, sessions


def _outcome(home: Path, sessions, summary) -> dict:
    from sqlalchemy import func, select

    from station.catalog.models import Page, Pdf
    with sessions() as session:
        pdfs = session.scalar(select(func.count()).select_from(Pdf))
        pdf_pages = session.scalar(select(func.sum(Pdf.pages))) or 0
        # Worker wall time per capture (the pipeline's own step clock), to compare with the feeder's period.
        steps = [sum((m or {}).get("seconds", {}).values()) for m in session.scalars(select(Page.measures))]
    return {"captures": summary.captures, "skipped": summary.skipped, "verdicts": dict(summary.verdicts),
            "held": sum(summary.held.values()), "pdfs": pdfs, "pdf_pages": pdf_pages,
            "quarantined": len(summary.quarantined),
            "worker_s_per_capture": statistics.mean(steps) if steps else None}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def child_overhead(spec: dict) -> dict:
    from station.capture.batch import BatchRunner
    home = Path(spec["home"])
    cfg, sessions = _station(home, Path(spec["register"]))
    profile = cfg.profile(spec.get("profile"))
    items = [(Path(p), d) for p, d in spec["items"]]
    scanner = ScheduledScanner(items, spec["ppm"], spec["mode"])
    runner = BatchRunner(cfg, profile, sessions)   # runner-owned pool, as `station scan`
    profiler = None
    if spec.get("cprofile"):
        import cProfile
        profiler = cProfile.Profile()
    load_before = os.getloadavg()
    t0 = time.monotonic()
    scanner.start(t0)
    if profiler:
        profiler.enable()
    summary = runner.run(scanner, "bench:adf")
    if profiler:
        profiler.disable()
    total = time.monotonic() - t0
    if profiler:
        profiler.dump_stats(spec["cprofile"])
    late = scanner.lateness()
    busy = scanner.station_time()
    scanner_alone = len(items) * scanner.period
    return {
        "part": "overhead", "mode": spec["mode"], "dpi": spec["dpi"], "ppm": spec["ppm"], "pages": len(items),
        "profile": profile.name, "workers": runner.workers,
        "scanner_s": scanner_alone, "total_s": total,
        "overhead_pct": 100 * (total - scanner_alone) / scanner_alone if scanner_alone else None,
        "tail_s": total - (scanner.handed[-1] - t0),
        "late_max_s": max(late), "late_p95_s": _pct(late, 95), "late_p50_s": _pct(late, 50),
        "late_count_10ms": sum(v > 0.010 for v in late), "late_sum_s": sum(late),
        "station_p50_s": _pct(busy, 50), "station_p95_s": _pct(busy, 95), "station_max_s": max(busy),
        "prepare_p50_s": _pct(scanner.prepare, 50),
        "load_before": load_before, "load_after": os.getloadavg(),
        "main_hwm_mb": process_tree_memory()["main_hwm_mb"],
        "outcome": _outcome(home, sessions, summary),
        "series": {"late": late, "station": busy},
    }


def child_memory(spec: dict) -> dict:
    from station.capture.batch import BatchRunner, make_pool
    home = Path(spec["home"])
    cfg, sessions = _station(home, Path(spec["register"]))
    profile = cfg.profile(spec.get("profile"))
    # The recycled pool's pages carry the numbers of the entries they were rendered for: read, they
    # make later entries doubtful (rightly: a misplaced separator) and leave them without a PDF.
    # Number reading off, every entry is filed and its PDF written, as in a real book.
    profile = profile.model_copy(update={"page": profile.page.model_copy(update={"read_entry_number": False})})
    items = [(Path(p), d) for p, d in spec["items"]]
    mode = spec.get("mode", "file")
    feed = home.parent / "feed"
    feed.mkdir(exist_ok=True)
    # Pixels are stored whatever they are (no "already filed" check), so no need to make them unique.
    scanner = ScheduledScanner(items, 0, mode, feed_dir=feed if mode == "file" else None)
    workers = cfg.settings.workers or os.cpu_count() or 1
    pool = make_pool(workers)   # bench-owned (as the daemon's), so the workers can be read before exit
    samples: list[dict] = []
    done = [0]
    every = max(1, len(items) // 40)
    t0 = time.monotonic()

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % every == 0:
            tree = process_tree_memory()
            samples.append({"pages": done[0], "t": round(time.monotonic() - t0, 2),
                            "main_rss_mb": round(tree["main_rss_mb"], 1),
                            "workers_rss_mb": [round(w["rss_mb"], 1) for w in tree["workers"]],
                            "tools_rss_mb": [round(w["rss_mb"], 1) for w in tree["tools"]]})

    baseline = process_tree_memory()["main_rss_mb"]
    load_before = os.getloadavg()
    t0 = time.monotonic()
    try:
        summary = BatchRunner(cfg, profile, sessions, pool=pool).run(scanner, "bench:memory", progress)
        total = time.monotonic() - t0
        tree = process_tree_memory()
    finally:
        pool.shutdown(wait=True)
    busy = scanner.station_time()
    return {
        "part": "memory", "mode": mode, "pages": len(items), "workers": workers, "profile": profile.name,
        "total_s": total, "s_per_page": total / len(items),
        "main_baseline_mb": baseline, "main_hwm_mb": tree["main_hwm_mb"], "main_rss_end_mb": tree["main_rss_mb"],
        "worker_hwm_mb": [w["hwm_mb"] for w in tree["workers"]],
        "worker_rss_end_mb": [w["rss_mb"] for w in tree["workers"]],
        "helpers": tree["helpers"],
        "station_p50_s": _pct(busy, 50), "station_p95_s": _pct(busy, 95), "station_max_s": max(busy),
        "prepare_p50_s": _pct(scanner.prepare, 50),
        "load_before": load_before, "load_after": os.getloadavg(),
        "outcome": _outcome(home, sessions, summary), "samples": samples,
        "series": {"station": busy, "prepare": scanner.prepare,
                   "requested": [t - t0 for t in scanner.requested], "handed": [t - t0 for t in scanner.handed]},
    }


def run_child(spec: dict, work: Path, keep: bool = False) -> dict:
    """One batch in a fresh interpreter (its own home, its own VmHWM)."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{spec['part']}-", dir=work))
    spec = dict(spec, home=str(run_dir / "home"))
    (run_dir / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        subprocess.run([sys.executable, "-m", "bench.bench_scanner", "--child", str(run_dir / "spec.json")],
                       cwd=REPO, env=env, check=True)
        return json.loads((run_dir / "result.json").read_text())
    finally:
        if not keep:
            shutil.rmtree(run_dir, ignore_errors=True)


def code_fingerprint() -> str:
    import hashlib
    return hashlib.sha256((REPO / "station" / "capture" / "batch.py").read_bytes()).hexdigest()[:12]


def child_main(spec_path: Path) -> None:
    import logging
    logging.basicConfig(level=logging.ERROR)
    spec = json.loads(spec_path.read_text())
    code = code_fingerprint()
    result = child_overhead(spec) if spec["part"] == "overhead" else child_memory(spec)
    result["batch_py"] = code
    (spec_path.parent / "result.json").write_text(json.dumps(result))


# --------------------------------------------------------------------------------------------
# Report

def _sh(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info() -> dict:
    lscpu = {}
    for line in _sh(["lscpu"]).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            lscpu[key.strip()] = value.strip()
    free = _sh(["free", "-g"]).splitlines()
    mem = free[1].split()[1] if len(free) > 1 else "?"
    versions = {"python": platform.python_version()}
    for module, label in (("numpy", "numpy"), ("cv2", "opencv"), ("PIL", "pillow"), ("sqlalchemy", "sqlalchemy"),
                          ("pymupdf", "pymupdf"), ("pikepdf", "pikepdf"), ("img2pdf", "img2pdf")):
        try:
            versions[label] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - a missing library only leaves a blank in the table
            versions[label] = "?"
    import hashlib
    code = {}
    for rel in ("station/capture/batch.py", "station/capture/assign.py", "station/review/entries.py",
                "pipeline/page.py", "drivers/base.py"):
        path = REPO / rel
        if path.exists():
            code[rel] = (hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                         + time.strftime(" (%Y-%m-%d %H:%M)", time.localtime(path.stat().st_mtime)))
    return {"code": code, "cpu": lscpu.get("Model name", platform.processor() or "?"), "cpus": lscpu.get("CPU(s)", "?"),
            # CPUs this process may use; not `nproc`, which obeys OMP_THREAD_LIMIT=1 and says 1.
            "threads_per_core": lscpu.get("Thread(s) per core", "?"), "nproc": str(len(os.sched_getaffinity(0))),
            "mem_gb": mem, "kernel": platform.release(), "versions": versions,
            "tesseract": (_sh(["tesseract", "--version"]).splitlines() or ["?"])[0]}


def _load(row: dict) -> str:
    return f"{row['load_before'][0]:.2f}→{row['load_after'][0]:.2f}"


def _worker_s(row: dict) -> str:
    value = row["outcome"].get("worker_s_per_capture")
    return "–" if value is None else f"{value:.2f}"


def _ms(s: float) -> str:
    return f"{s * 1000:.0f}"


def write_report(path: Path, info: dict, args, overhead: list[dict], memory: list[dict]) -> None:
    lines = ["# Scanner overhead and memory (bench/bench_scanner.py)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')} with `.venv/bin/python -m bench.bench_scanner "
             + " ".join(args.argv) + "`.", "",
             "| machine | |", "|---|---|",
             (f"| CPU | {info['cpu']} ({info['cpus']} CPUs, {info['threads_per_core']} thread(s)/core, nproc "
             f"{info['nproc']}) |"),
             f"| memory | {info['mem_gb']} GB (`free -g`) |",
             f"| kernel | {info['kernel']} |",
             "| versions | " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + f", {info['tesseract']} |",
             "| code measured | " + ", ".join(f"`{k}` {v}" for k, v in info.get("code", {}).items()) + " |",
             ("| note | the machine's 2 cores are shared with other work; the 1-min load average is given "
             "beside every figure (before→after the batch) |"), ""]
    if overhead:
        ppm = overhead[0]["ppm"]
        lines += [f"## 1. Overhead behind a {ppm:g} pages/min feeder", "",
                  (f"{overhead[0]['pages']} captures per batch, profile `{overhead[0]['profile']}`, "
                  f"{overhead[0]['workers']} workers (runner-owned pool, as `station scan`). Page i is ready at "
                  f"t0 + i·{60 / ppm:g} s; scanner alone = pages × {60 / ppm:g} s; total = until `run()` returns "
                  "(last PDF written). Lateness = how long after its ready time the station asked for a page "
                  "(the scanner stood still that long). Station time = main process, from handing a page over "
                  "to asking for the next."), "",
                  ("| mode | dpi | run | scanner s | total s | after last page s | overhead % | late max ms "
                  "| late p95 ms | pages asked >10 ms late | station p50 / p95 / max ms | PDFs (pages) | load |"),
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        groups: dict[tuple, list[dict]] = {}
        for row in overhead:
            groups.setdefault((row["mode"], row["dpi"]), []).append(row)
        for (mode, dpi), rows in groups.items():
            for k, row in enumerate(rows, 1):
                o = row["outcome"]
                lines.append(f"| {mode} | {dpi} | {k} | {row['scanner_s']:.0f} | {row['total_s']:.1f} | "
                             f"{row['tail_s']:.1f} | {row['overhead_pct']:.1f} | {_ms(row['late_max_s'])} | {_ms(row['late_p95_s'])} | "
                             f"{row['late_count_10ms']}/{row['pages']} | {_ms(row['station_p50_s'])} / "
                             f"{_ms(row['station_p95_s'])} / {_ms(row['station_max_s'])} | {o['pdfs']} "
                             f"({o['pdf_pages']}) | {_load(row)} |")
            if len(rows) > 1:
                med = statistics.median
                lines.append(f"| **{mode}** | **{dpi}** | **median of {len(rows)}** | {rows[0]['scanner_s']:.0f} | "
                             f"**{med(r['total_s'] for r in rows):.1f}** | {med(r['tail_s'] for r in rows):.1f} | "
                             f"**{med(r['overhead_pct'] for r in rows):.1f}** | "
                             f"**{_ms(med(r['late_max_s'] for r in rows))}** | "
                             f"**{_ms(med(r['late_p95_s'] for r in rows))}** | | "
                             f"{_ms(med(r['station_p50_s'] for r in rows))} / "
                             f"{_ms(med(r['station_p95_s'] for r in rows))} / "
                             f"{_ms(med(r['station_max_s'] for r in rows))} | | |")
        lines.append("")
    if memory:
        lines += ["## 2. Memory over the length of a batch", "",
                  ("Captures as fast as the station takes them (no schedule), bench-owned pool "
                  f"of {memory[0]['workers']} workers, registration-number reading off (the recycled pages carry other "
                  "entries' numbers); content/blank pages cycled from a pool of 60 rendered "
                  "captures (200 and 300 dpi; for the file hand-over each re-written with a unique JPEG comment), "
                  "one rendered separator "
                  "per entry. Peak = VmHWM read from /proc just before the pool shuts down."), "",
                  ("| hand-over | captures | main peak MB | main at start / end MB | worker peaks MB | s/page | total s "
                  "| worker s/capture | station p50 / p95 / max ms | PDFs (pages) | load |"),
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in memory:
            o = row["outcome"]
            lines.append(f"| {row.get('mode', 'file')} | {row['pages']} | {row['main_hwm_mb']:.0f} | {row['main_baseline_mb']:.0f} / "
                         f"{row['main_rss_end_mb']:.0f} | "
                         + ", ".join(f"{v:.0f}" for v in row["worker_hwm_mb"])
                         + f" | {row['s_per_page']:.2f} | {row['total_s']:.0f} | {_worker_s(row)} | "
                         f"{_ms(row['station_p50_s'])} / "
                         f"{_ms(row['station_p95_s'])} / {_ms(row['station_max_s'])} | {o['pdfs']} ({o['pdf_pages']}) "
                         f"| {_load(row)} |")
        longest = max(memory, key=lambda r: (r["pages"], r.get("mode", "file") == "file"))
        if longest["samples"]:
            picks = longest["samples"][:: max(1, len(longest["samples"]) // 8)] + longest["samples"][-1:]
            lines += ["", f"Main-process RSS along the {longest['pages']}-capture batch (MB): "
                      + ", ".join(f"{s['main_rss_mb']:.0f} @{s['pages']}" for s in picks) + "; workers: "
                      + ", ".join("/".join(f"{v:.0f}" for v in s["workers_rss_mb"]) + f" @{s['pages']}"
                                  for s in picks) + "."]
        lines.append("")
    if getattr(args, "notes", None):
        lines += ["## Notes", "", Path(args.notes).read_text().strip(), ""]
    path.write_text("\n".join(lines))


# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_main(Path(argv[1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--pages", type=int, default=120, help="captures per overhead batch (default 120)")
    parser.add_argument("--ppm", type=float, default=60, help="scanner pages per minute (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="overhead batches per mode and dpi (median)")
    parser.add_argument("--modes", default="file,pixels", help="hand-over modes: file, pixels")
    parser.add_argument("--dpis", default="200,300")
    parser.add_argument("--profile", default=None, help="station profile (default from config.yaml)")
    parser.add_argument("--memory", action="store_true", help="also measure memory at 50 and 2,000 captures")
    parser.add_argument("--memory-pages", default=None, help="comma list (default 50,2000; --quick 50,300)")
    parser.add_argument("--memory-modes", default="file",
                        help="hand-over modes for the memory part: file, pixels (pixels stores an uncompressed "
                             "capture each time: ~20-36 MB of disk per page, so it uses --pixel-memory-pages)")
    parser.add_argument("--pixel-memory-pages", default="50,300")
    parser.add_argument("--no-overhead", action="store_true", help="memory part only")
    parser.add_argument("--quick", action="store_true", help="30-page overhead batches, 1 run; memory 50 vs 300")
    parser.add_argument("--cprofile", type=Path, help="cProfile the main process of the first overhead batch")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-scanner")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results-scanner.md")
    parser.add_argument("--notes", type=Path, help="markdown appended to the report under 'Notes'")
    parser.add_argument("--keep", action="store_true", help="keep each run's home")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite --out from WORK/results.json (e.g. with --notes) without running anything")
    args = parser.parse_args(argv)
    args.argv = argv
    if args.report_only:
        saved = json.loads((args.work / "results.json").read_text())
        args.argv = saved.get("argv", argv)
        write_report(args.out, saved["machine"], args, saved["overhead"], saved["memory"])
        print(args.out.read_text())
        return
    if args.quick:
        args.pages, args.repeats = min(args.pages, 30), 1
    memory_pages = [int(v) for v in (args.memory_pages or ("50,300" if args.quick else "50,2000")).split(",")]
    pixel_pages = [int(v) for v in args.pixel_memory_pages.split(",")]
    memory_modes = [m.strip() for m in args.memory_modes.split(",") if m.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    dpis = [int(v) for v in args.dpis.split(",")]
    overhead: list[dict] = []
    memory: list[dict] = []
    results_json = args.work / "results.json"

    def save() -> None:
        results_json.write_text(json.dumps({"machine": info, "argv": argv, "overhead": overhead, "memory": memory},
                                           indent=1))
        write_report(args.out, info, args, overhead, memory)

    books = {dpi: book_corpus(args.work, dpi, max(args.pages, 60)) for dpi in sorted(set(dpis) | {200, 300})}
    if not args.no_overhead:
        for repeat in range(args.repeats):
            for mode in modes:
                for dpi in dpis:
                    spec = {"part": "overhead", "mode": mode, "dpi": dpi, "ppm": args.ppm,
                            "profile": args.profile, "register": str(books[dpi] / "register.xlsx"),
                            "items": [(str(p), d) for p, d in book_items(books[dpi], args.pages)]}
                    if args.cprofile and not overhead:
                        spec["cprofile"] = str(args.cprofile.resolve())
                    _log(f"overhead: {mode} {dpi} dpi, run {repeat + 1}/{args.repeats}")
                    row = run_child(spec, args.work, args.keep)
                    overhead.append(row)
                    _log(f"  overhead {row['overhead_pct']:.1f} %, late max {row['late_max_s'] * 1000:.0f} ms, "
                         f"p95 {row['late_p95_s'] * 1000:.0f} ms, station p95 {row['station_p95_s'] * 1000:.0f} ms")
                    save()
    overhead.sort(key=lambda r: (modes.index(r["mode"]), dpis.index(r["dpi"])))
    if args.memory or args.no_overhead:
        runs = [(mode, pages) for mode in memory_modes
                for pages in (memory_pages if mode == "file" else pixel_pages)]
        folder, plan = memory_corpus(args.work, max(pages for _, pages in runs), [books[200], books[300]])
        for mode, pages in runs:
            spec = {"part": "memory", "mode": mode, "profile": args.profile,
                    "register": str(folder / "register.xlsx"), "items": plan[:pages]}
            _log(f"memory: {pages} captures, {mode}")
            row = run_child(spec, args.work, args.keep)
            memory.append(row)
            _log(f"  main peak {row['main_hwm_mb']:.0f} MB, worker peaks "
                 f"{', '.join(f'{v:.0f}' for v in row['worker_hwm_mb'])} MB, {row['s_per_page']:.2f} s/page")
            save()
    save()
    print(args.out.read_text())


if __name__ == "__main__":
    main()
