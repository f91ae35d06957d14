"""The operator's dashboard under a real book: how long a 120-entry book page takes to show, and how
long a change takes to reach an open page (server-sent events).

    .venv/bin/python -m bench.dashboard [--entries 120] [--work /tmp/bench-dashboard] [--screenshots docs]

A home is built with one book of N entries (register from bench/corpus.py): about 5 % missing, 7 %
doubtful (an unreadable capture in the scan, or scanned twice), the rest done with 1-3 pages each.
Page images are rendered register pages encoded as the station stores them (JPEG, 200 dpi, ~100-200 KB),
each page its own file so that no thumbnail is served from a cache it should not be in. Then
`station run` serves it and headless Chromium (Debian's chromium, through Playwright) measures:

1. Book page, cold (first visit, thumbnails made on the server) and reloaded (browser cache): from navigation
   to the grid drawn with every entry, and to the thumbnails in view loaded; then the thumbnails of
   the whole book after scrolling to the end. Also the book's JSON alone (server time, 5 requests).
2. Live latency: an entry accepted (or its rescan picked) through the API while the book page is
   open; time from the request until the page shows the entry done (correction + SSE tick + refetch +
   redraw). And the raw stream: from sending a correction to its `catalog` event on a plain client.

With --screenshots DIR, PNG screenshots of the book view and of a doubtful entry are written there.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from bench import corpus
from pipeline.encode import encode_page
from pipeline.separator import make_payload
from pipeline.settings import PageSettings
from pipeline.tone import flatten_background
from station.catalog import library
from station.catalog.models import Batch, Capture, Entry, Page, Scan, ScanPage, Verdict, open_catalog, utcnow
from station.catalog.storage import ensure_home, write_atomic
from station.review.entries import write_entry_pdf

REPO = Path(__file__).resolve().parent.parent
BOOK = "KS.2017.01"
DPI = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_images(entries, variants: int, seed: int) -> dict[int, list[bytes]]:
    """A few renderings of an entry's first, second and third page, stored as the station stores
    them (JPEG at 200 dpi, about 100-150 KB)."""
    images: dict[int, list[bytes]] = {}
    for page_in_entry in (1, 2, 3):
        for i in range(variants):
            rgb = corpus.render_register_page(entries[i % len(entries)], page_in_entry, DPI, seed + i)
            flat = flatten_background(rgb, DPI)  # as the pipeline does before encoding
            images.setdefault(page_in_entry, []).append(encode_page(flat, DPI, PageSettings()).data)
    return images


def build_home(work: Path, n: int, seed: int) -> Path:
    """A home holding one N-entry book in the states a day of work leaves it."""
    home = work / "home"
    shutil.rmtree(work, ignore_errors=True)
    ensure_home(home)
    entries = corpus.make_entries("KS", 2017, 1, n, seed=seed)
    corpus.write_register_xlsx(work / "register.xlsx", entries)
    sessions = open_catalog(home)
    rng = random.Random(seed)
    images = page_images(entries, 2, seed)
    with sessions() as session:
        library.add_book(session, home, BOOK, work / "register.xlsx", None)
        batch = Batch(source="bench", profile="ministry-color")
        session.add(batch)
        session.flush()
        seq = 0

        def page(verdict: Verdict, number: int, reason: str | None = None, page_in_entry: int = 1) -> Page:
            nonlocal seq
            seq += 1
            capture = Capture(batch_id=batch.id, seq=seq, source_name=f"{seq:04d}.jpg",
                              stored_file=f"captures/bench/{seq:04d}.jpg", sha256=f"{seq:064x}")
            session.add(capture)
            session.flush()
            if verdict == Verdict.quarantined:
                return Page(capture_id=capture.id, verdict=verdict, reason=reason)
            data = rng.choice(images[page_in_entry]) + seq.to_bytes(4, "big")  # one file per page
            rel = f"pages/bench/{seq:05d}.jpg"
            write_atomic(home / rel, data)
            return Page(capture_id=capture.id, verdict=verdict, image_file=rel, image_format="jpeg",
                        image_bytes=len(data), width=1654, height=2339, dpi=DPI, input_dpi=DPI,
                        skew_deg=round(rng.uniform(-4, 4), 2), rotation=0,
                        separator_text=make_payload(BOOK, (number,)).encode() if verdict == Verdict.separator else None,
                        processed_at=utcnow() - timedelta(minutes=n - number))

        by_number = {e.number: e for e in session.query(Entry).filter_by(book_id=BOOK)}
        numbers = sorted(by_number)
        # Spread through the book, a few in its first rows (what the screenshots show).
        missing = set(numbers[6::19])
        doubtful = set(numbers[11::13]) - missing
        for number in numbers:
            if number in missing:
                continue
            entry = by_number[number]
            for rescan in range(2 if number in doubtful and number % 2 else 1):
                separator = page(Verdict.separator, number)
                session.add(separator)
                session.flush()
                scan = Scan(entry=entry, batch_id=batch.id, separator_page_id=separator.id)
                session.add(scan)
                contents = [page(Verdict.content, number, page_in_entry=k) for k in range(1, rng.randint(1, 3) + 1)]
                if number in doubtful and not number % 2:
                    contents.insert(1, page(Verdict.quarantined, number, "không đọc được ảnh / unreadable"))
                    scan.damaged = True
                session.add_all(contents)
                session.flush()
                for position, content in enumerate(p for p in contents if p.verdict == Verdict.content):
                    scan.pages.append(ScanPage(page_id=content.id, position=position, page=content))
            session.flush()
            write_entry_pdf(session, home, entry)
        batch.finished_at = utcnow()
        session.commit()
    return home


class Station:
    def __init__(self, work: Path, home: Path):
        self.port = free_port()
        config = {"home": str(home), "profiles_dir": str(REPO / "profiles"), "commune": "Xã Cam Thành",
                  "web": {"host": "127.0.0.1", "port": self.port}}
        (work / "config.yaml").write_text(json.dumps(config))
        env = dict(os.environ, STATION_CONFIG=str(work / "config.yaml"))
        env.pop("STATION_HOME", None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "station"), "run", "--workers", "1"],
                                     env=env, start_new_session=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/api/health")
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("station run did not answer")
                time.sleep(0.2)

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as answer:
            return json.loads(answer.read())

    def post(self, path: str, body: dict):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


READY = """n => document.querySelectorAll('#grid .cell').length === n"""
VISIBLE_THUMBS_LOADED = """() => [...document.querySelectorAll('#grid img.thumb')]
  .filter(i => { const r = i.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })
  .every(i => i.complete && i.naturalWidth > 0)"""
ALL_THUMBS_LOADED = """() => [...document.querySelectorAll('#grid img.thumb')].every(i => i.complete && i.naturalWidth > 0)"""


def timed(page, navigate, n: int) -> dict:
    start = time.perf_counter()
    navigate()
    page.wait_for_function(READY, arg=n, polling="raf", timeout=60_000)
    grid = time.perf_counter() - start
    page.wait_for_function(VISIBLE_THUMBS_LOADED, polling="raf", timeout=60_000)
    visible = time.perf_counter() - start
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(ALL_THUMBS_LOADED, polling=50, timeout=120_000)
    everything = time.perf_counter() - start
    page.evaluate("window.scrollTo(0, 0)")
    return {"grid_s": round(grid, 3), "visible_thumbs_s": round(visible, 3), "all_thumbs_s": round(everything, 3)}


def sse_latency(station: Station, samples: int) -> list[float]:
    """From sending a correction (a reorder of a done entry) to its `catalog` event on a plain client."""
    events: list[float] = []
    got = threading.Event()

    def listen():
        with urllib.request.urlopen(station.url + "/api/stream", timeout=60) as stream:
            for raw in stream:
                if raw.startswith(b"event: catalog"):
                    events.append(time.perf_counter())
                    got.set()
                if len(events) >= samples:
                    return

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(1.5)
    detail = station.get(f"/api/books/{BOOK}")
    number = next(e["number"] for e in detail["entries"] if e["status"] == "done" and e["pages"] >= 2)
    latencies = []
    for _ in range(samples):
        entry = station.get(f"/api/books/{BOOK}/entries/{number}")
        order = [p["id"] for s in entry["scans"] if s["counts"] for p in s["pages"]]
        got.clear()
        sent = time.perf_counter()
        station.post(f"/api/books/{BOOK}/entries/{number}/reorder", {"pages": order[::-1], "version": entry["version"]})
        if not got.wait(10):
            raise SystemExit("no catalog event within 10 s")
        latencies.append(events[-1] - sent)
        time.sleep(random.uniform(0.1, 0.9))  # land anywhere in the stream's 1 s tick
    return latencies


def page_latency(station: Station, page, n: int) -> list[float]:
    """From a correction sent through the API (an accept, or the pick of a rescan) to the open book
    page showing the entry done."""
    page.goto(f"{station.url}/#/book/{BOOK}")
    page.wait_for_function(READY, arg=n, polling="raf")
    page.wait_for_function("() => document.getElementById('live').classList.contains('on')")
    doubtful = [e for e in station.get(f"/api/books/{BOOK}")["entries"] if e["status"] == "doubtful"]
    latencies = []
    for cell in doubtful:
        time.sleep(random.uniform(0.1, 0.9))
        entry = station.get(f"/api/books/{BOOK}/entries/{cell['number']}")
        start = time.perf_counter()
        if entry["pdf"] is None and len(entry["scans"]) > 1:
            station.post(f"/api/books/{BOOK}/entries/{cell['number']}/pick",
                         {"scan": entry["scans"][-1]["id"], "version": entry["version"]})
        else:
            station.post(f"/api/books/{BOOK}/entries/{cell['number']}/accept",
                         {"reason": "bench", "version": entry["version"]})
        page.wait_for_function(f"""() => document.querySelector('#grid .cell[data-number="{cell["number"]}"]')
                                    ?.dataset.status === 'done'""", polling="raf", timeout=10_000)
        latencies.append(time.perf_counter() - start)
    return latencies


def screenshots(station: Station, browser, folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 820})
    page.goto(f"{station.url}/#/book/{BOOK}")
    page.wait_for_function(READY, arg=n, polling="raf")
    page.wait_for_function(VISIBLE_THUMBS_LOADED, polling="raf")
    shots = {"dashboard-book.png": None}
    detail = station.get(f"/api/books/{BOOK}")
    doubtful = next(e for e in detail["entries"] if e["status"] == "doubtful" and e["scans"] == 1 and e["pages"] >= 2)
    shots["dashboard-entry.png"] = f"{station.url}/#/book/{BOOK}/entry/{doubtful['number']}"
    for name, url in shots.items():
        if url:
            page.goto(url)
            page.wait_for_selector(".page-card img.large")
            page.wait_for_timeout(800)
        raw = page.screenshot()
        image = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=256)
        image.save(folder / name, optimize=True)
        print(f"wrote {folder / name} ({(folder / name).stat().st_size // 1024} KB)")
    page.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=120)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-dashboard"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    home = build_home(args.work, args.entries, args.seed)
    print(f"home built in {time.perf_counter() - started:.1f} s: {args.work}")
    station = Station(args.work, home)
    results = {"entries": args.entries}
    try:
        json_times = []
        for _ in range(5):
            t = time.perf_counter()
            station.get(f"/api/books/{BOOK}")
            json_times.append(time.perf_counter() - t)
        results["book_json_s"] = {"median": round(statistics.median(json_times), 3), "max": round(max(json_times), 3)}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"))
            if args.screenshots:
                screenshots(station, browser, args.screenshots, args.entries)
                results["note"] = "screenshots taken first: the thumbnails of the top rows were warm"
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            url = f"{station.url}/#/book/{BOOK}"
            results["book_page_cold"] = timed(page, lambda: page.goto(url), args.entries)
            results["book_page_reload"] = [timed(page, page.reload, args.entries) for _ in range(3)]
            results["sse_event_latency_s"] = sse_latency(station, 20)
            results["page_latency_s"] = page_latency(station, page, args.entries)
            browser.close()
    finally:
        station.stop()
    for key in ("sse_event_latency_s", "page_latency_s"):
        values = results[key]
        results[key] = {"n": len(values), "median": round(statistics.median(values), 3),
                        "max": round(max(values), 3), "min": round(min(values), 3)}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
