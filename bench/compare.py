"""The station side by side with what an operator would use instead, on the same rendered pages, in one
run: OCRmyPDF, an unpaper + img2pdf script, and the floor (decode + encode only).

    .venv/bin/python -m bench.compare [--quick] [--skip ocrmypdf] [--out bench/results.md] [--work DIR]

`make bench` installs the tools and runs this (~18 min on 2 idle cores, corpus included);
`make bench BENCH_ARGS=--quick` is the short run (<3 min) that CI runs as a smoke test.
Sections: 1 throughput, 2 size at equal legibility, 3 deskew, 4 separators, 5 scaling. Writes the
report (--out), its plots (plots/ beside it) and the raw figures (WORK/results.json). The rendered
corpus is kept in --work and reused while its parameters are the same.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract is ~5x slower with OpenMP threads

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pymupdf  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import capture_kinds, corpus  # noqa: E402
from bench.bench_scanner import unique_jpeg  # noqa: E402
from bench.measures import TreeRun, ocr_text, printed_text_cer, ruled_line_angle, run_floor, run_tree  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BOOK = "KS.2017.01"
SEED = 20251
DPI = 300
MAX_SKEW = 10.0
BIN = Path(sys.executable).parent
STATION = [sys.executable, "-c", "from station.cli import main; main()"]
OCRMYPDF_ARGS = ["--deskew", "--clean-final", "--rotate-pages", "-O", "3"]
PROFILES = {"colour": ["ministry-color"], "grey": ["ministry-grey", "ministry-bilevel"]}
FLOOR_MODES = {"colour": [("color", 200)], "grey": [("grey", 200), ("bilevel", 300)]}
TOOLS = ("ocrmypdf", "unpaper")


@dataclass(frozen=True)
class Plan:
    name: str
    batch: int            # captures in one throughput batch (separators and blank backs included)
    runs: int             # runs per throughput figure (the median is reported)
    ocrmypdf_pages: int   # captures given to OCRmyPDF (it is slow), per colour/grey set
    unpaper_pages: int
    cer_pages: int        # content pages OCRed for the legibility table
    separator_dpis: tuple[int, ...]
    sheets_per_cell: int  # separator sheets per (dpi, damage)
    scaling: tuple[int, ...]


FULL = Plan("full", batch=60, runs=3, ocrmypdf_pages=12, unpaper_pages=12, cer_pages=6,
            separator_dpis=(150, 200, 300, 400), sheets_per_cell=4, scaling=(100, 500, 2000))
QUICK = Plan("quick", batch=20, runs=1, ocrmypdf_pages=3, unpaper_pages=4, cer_pages=2,
             separator_dpis=(150, 300), sheets_per_cell=1, scaling=(20, 60))


def pool() -> ProcessPoolExecutor:
    # Not fork: OpenCV's thread pool, started here by the corpus renderer, hangs in forked children.
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"), initializer=_worker_init)


def tool_env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1", "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}


def station(home: Path, *args: object, log: Path | None = None, progress=None) -> TreeRun:
    return run_tree([*STATION, "--home", str(home), *map(str, args)], env=tool_env(), cwd=REPO, log=log,
                    progress=progress)


# --------------------------------------------------------------------------------------------
# Corpus: 300 dpi register pages with separators and blank backs, colour and grey captures of the
# same sheets, and a long colour batch for scaling (the batch's pages again, each separator new).

@dataclass
class Corpus:
    root: Path
    truth: list[corpus.CaptureTruth]   # the throughput batch, in scan order
    entries: int                       # entries in the book (enough for the scaling batch)

    @property
    def sheets(self) -> Path:
        return self.root / "sheets.pdf"

    def captures(self, shade: str) -> Path:
        return self.root / shade

    def content(self) -> list[corpus.CaptureTruth]:
        return [t for t in self.truth if t.kind == "content"]

    def prefix(self, shade: str, count: int) -> Path:
        """A folder with the batch's first `count` captures (hard links)."""
        folder = self.root / f"{shade}-first-{count}"
        if not folder.is_dir():
            folder.mkdir()
            for t in self.truth[:count]:
                os.link(self.captures(shade) / t.file, folder / t.file)
        return folder

    def scaling_batch(self, count: int) -> Path:
        folder = self.root / f"scaling-{count}"
        if not folder.is_dir():
            folder.mkdir()
            for path in sorted((self.root / "scaling").glob("*.jpg"))[:count]:
                os.link(path, folder / path.name)
        return folder


def _scaling_kinds(base: list[corpus.CaptureTruth], count: int) -> list[tuple[str, int]]:
    """(kind, index into the batch) for `count` captures: the batch, then the batch again and again."""
    return [(base[i % len(base)].kind, i % len(base)) for i in range(count)]


def _render_separator(sheets: str, index: int, target: Path) -> None:
    """Page `index` of the separator sheets, scanned like any page (skew, blur, noise, borders)."""
    rng = np.random.default_rng([SEED, index])
    degradation = dataclasses.replace(corpus.random_degradation(rng, MAX_SKEW), rotation=0)
    page = corpus.render_pdf_page(sheets, index, DPI)
    corpus.save_image(target, corpus.degrade(page, DPI, degradation, SEED + index), DPI)


def build_corpus(work: Path, plan: Plan) -> Corpus:
    params = {"seed": SEED, "dpi": DPI, "max_skew": MAX_SKEW, "batch": plan.batch, "version": 1}
    # A corpus rendered earlier serves while its scaling batch is long enough.
    for marker in sorted(work.glob(f"corpus-{plan.batch}-*/params.json")):
        kept = json.loads(marker.read_text())
        if kept.pop("scaling") >= max(plan.scaling) and kept == params:
            meta = json.loads((marker.parent / "corpus.json").read_text())
            return Corpus(marker.parent, corpus.load_truth(marker.parent / "colour"), meta["entries"])
    params["scaling"] = max(plan.scaling)
    root = work / f"corpus-{plan.batch}-{max(plan.scaling)}"
    marker = root / "params.json"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    staging = root / "staging"
    sample_home = root / "home"
    # Entries give ~3.6 captures each: render a few more than the batch needs, keep its first captures.
    batch_entries = math.ceil(plan.batch / 3) + 1
    while True:
        shutil.rmtree(sample_home, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        station(sample_home, "book", "add", BOOK, "--entries", f"1-{batch_entries}")
        station(sample_home, "separators", BOOK, "-o", staging.with_suffix(".pdf"))
        entries = corpus.make_entries("KS", 2017, 1, batch_entries, seed=SEED)
        truth = corpus.write_captures(staging / "colour", entries, staging.with_suffix(".pdf"), SEED,
                                      dpi_choices=(DPI,), max_skew=MAX_SKEW, grey_copy_dir=staging / "grey")
        if len(truth) >= plan.batch:
            truth = truth[:plan.batch]
            break
        batch_entries += 2
    # The book must hold every entry of the scaling batch: count its separators.
    kinds = _scaling_kinds(truth, max(plan.scaling))
    batch_separators = sum(1 for t in truth if t.kind == "separator")
    extra_separators = sum(1 for kind, _ in kinds[plan.batch:] if kind == "separator")
    total_entries = batch_separators + extra_separators
    shutil.rmtree(sample_home)
    station(sample_home, "book", "add", BOOK, "--entries", f"1-{total_entries}")
    station(sample_home, "separators", BOOK, "-o", root / "sheets.pdf")
    shutil.rmtree(sample_home)
    for shade in ("colour", "grey"):
        (root / shade).mkdir()
        for t in truth:
            (staging / shade / t.file).rename(root / shade / t.file)
        with open(root / shade / "truth.json", "w", encoding="utf-8") as f:
            json.dump([t.to_dict() for t in truth], f, ensure_ascii=False, indent=1)
    shutil.rmtree(staging)
    staging.with_suffix(".pdf").unlink()

    scaling = root / "scaling"
    scaling.mkdir()
    # The batch, then the batch again: every content page and blank back a new file (unique JPEG
    # comment, same pixels), every separator a newly rendered sheet for the next entry.
    separators = []
    for n, (kind, index) in enumerate(kinds):
        target = scaling / f"{n + 1:05d}.jpg"
        source = root / "colour" / truth[index].file
        if n < plan.batch:
            os.link(source, target)
        elif kind == "separator":
            separators.append(target)
        else:
            target.write_bytes(unique_jpeg(source.read_bytes(), f"copy {n}"))
    with pool() as workers:
        list(workers.map(_render_separator, [str(root / "sheets.pdf")] * len(separators),
                      range(batch_separators, total_entries), separators))
    (root / "corpus.json").write_text(json.dumps({"entries": total_entries}))
    marker.write_text(json.dumps(params))
    return Corpus(root, truth, total_entries)


# --------------------------------------------------------------------------------------------
# 1. Throughput: whole batches, each tool as an operator would run it

@dataclass
class Measured:
    tool: str
    shade: str             # captures fed: "colour" or "grey"
    pages: int
    runs: list[TreeRun]
    output: Path           # the first run's output: a station home, or a folder
    kind: str              # "station" | "floor" | "unpaper" | "ocrmypdf"

    def median(self, field: str) -> float:
        return statistics.median(getattr(run, field) for run in self.runs)

    @property
    def pages_per_min(self) -> float:
        return self.pages / self.median("wall_s") * 60

    @property
    def cpu_per_page(self) -> float:
        return self.median("cpu_s") / self.pages


def _prefix_with_content(c: Corpus, minimum: int, content_pages: int) -> int:
    """Captures from the start of the batch: at least `minimum`, and enough to hold `content_pages`
    content pages (the pages every tool must have for the legibility table)."""
    seen = 0
    for n, t in enumerate(c.truth, 1):
        seen += t.kind == "content"
        if seen >= content_pages:
            return min(len(c.truth), max(minimum, n))
    return len(c.truth)


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_station(c: Corpus, folder: Path, profile: str, home: Path, progress=None) -> TreeRun:
    """`station process` on a fresh home holding the book (adding it is not timed)."""
    _fresh(home)
    log = home.with_suffix(".log")
    station(home, "book", "add", BOOK, "--entries", f"1-{c.entries}", log=log)
    return station(home, "process", folder, "--profile", profile, "--workers", 2, log=log, progress=progress)


def throughput(c: Corpus, plan: Plan, work: Path, skip: set[str]) -> list[Measured]:
    runs_dir = work / "runs"
    measured = []
    for shade in ("colour", "grey"):
        batch = c.prefix(shade, plan.batch)
        for profile in PROFILES[shade]:
            runs = [run_station(c, batch, profile, runs_dir / f"station-{profile}-{i}")
                    for i in range(plan.runs)]
            measured.append(Measured(f"station {profile}", shade, plan.batch, runs,
                                     runs_dir / f"station-{profile}-0", "station"))
            print(f"  station {profile}: {measured[-1].pages_per_min:.0f} pages/min", flush=True)
        for mode, dpi in FLOOR_MODES[shade]:
            runs = []
            for i in range(plan.runs):
                out = _fresh(runs_dir / f"floor-{mode}-{i}")
                runs.append(run_floor(batch, out, mode, dpi))
            label = f"floor: decode + {'CCITT G4' if mode == 'bilevel' else 'JPEG'} {dpi} dpi {mode}"
            measured.append(Measured(label, shade, plan.batch, runs, runs_dir / f"floor-{mode}-0", "floor"))
        if "unpaper" not in skip:
            count = _prefix_with_content(c, plan.unpaper_pages, plan.cer_pages)
            out = _fresh(runs_dir / f"unpaper-{shade}")
            run = run_tree(["bash", str(REPO / "bench" / "unpaper_img2pdf.sh"), str(c.prefix(shade, count)),
                            str(out), str(DPI)], env=tool_env(), log=runs_dir / f"unpaper-{shade}.log")
            measured.append(Measured("unpaper + img2pdf script", shade, count, [run], out, "unpaper"))
            print(f"  unpaper: {measured[-1].pages_per_min:.1f} pages/min", flush=True)
        if "ocrmypdf" not in skip:
            count = _prefix_with_content(c, plan.ocrmypdf_pages, plan.cer_pages)
            out = _fresh(runs_dir / f"ocrmypdf-{shade}")
            out.mkdir()
            subset = c.prefix(shade, count)
            # What the operator types: bind the captures (img2pdf), then OCRmyPDF on the PDF.
            script = (f'img2pdf -o "{out}/in.pdf" "{subset}"/*.jpg && '
                      f'ocrmypdf {" ".join(OCRMYPDF_ARGS)} -l vie -j 2 "{out}/in.pdf" "{out}/out.pdf"')
            run = run_tree(["bash", "-c", script], env=tool_env(), log=runs_dir / f"ocrmypdf-{shade}.log")
            measured.append(Measured("OCRmyPDF " + " ".join(OCRMYPDF_ARGS), shade, count, [run], out, "ocrmypdf"))
            print(f"  OCRmyPDF: {measured[-1].pages_per_min:.1f} pages/min", flush=True)
    return measured


# --------------------------------------------------------------------------------------------
# Output pages of each tool, by capture: where to read them and how many bytes they cost

@dataclass(frozen=True)
class OutputPage:
    source: tuple          # how a worker loads it: ("image", path, dpi) | ("pdf", path, index) | ("reference", path, angle)
    image_bytes: int | None


def _pdf_page_bytes(doc: pymupdf.Document, page: pymupdf.Page) -> int:
    """The page's own streams: its images and its content (text layer included)."""
    xrefs = {image[0] for image in page.get_images(full=True)} | set(page.get_contents())
    return sum(len(doc.xref_stream_raw(x)) for x in xrefs)


def output_pages(m: Measured, c: Corpus) -> dict[str, OutputPage]:
    """Capture file name -> the tool's output page, for content captures."""
    content = {t.file for t in c.content()}
    if m.kind == "station":
        from station.catalog.models import Capture, Page, open_catalog
        sessions = open_catalog(m.output)
        with sessions() as session:
            rows = session.execute(select(Capture.source_name, Page)
                                   .join(Page, Page.capture_id == Capture.id)).all()
        return {name: OutputPage(("image", str(m.output / page.image_file), page.dpi), page.image_bytes)
                for name, page in rows if name in content and page.verdict.value == "content"}
    if m.kind == "unpaper":
        return {t.file: OutputPage(("image", str(m.output / "pages" / t.file), DPI),
                                   (m.output / "pages" / t.file).stat().st_size)
                for t in c.truth[:m.pages] if t.file in content}
    if m.kind == "ocrmypdf":
        with pymupdf.open(m.output / "out.pdf") as doc:
            return {t.file: OutputPage(("pdf", str(m.output / "out.pdf"), i), _pdf_page_bytes(doc, doc[i]))
                    for i, t in enumerate(c.truth[:m.pages]) if t.file in content}
    return {}


def whole_pdf_kb_per_page(m: Measured) -> float | None:
    if m.kind == "station":
        from station.catalog.models import Pdf, open_catalog
        with open_catalog(m.output)() as session:
            pdfs = session.scalars(select(Pdf)).all()
        return sum(p.bytes for p in pdfs) / 1024 / max(1, sum(p.pages for p in pdfs))
    if m.kind in ("unpaper", "ocrmypdf"):
        path = m.output / "out.pdf"
        with pymupdf.open(path) as doc:
            return path.stat().st_size / 1024 / doc.page_count
    return None


def load_grey(source: tuple) -> tuple[np.ndarray, float]:
    kind, path, arg = source
    if kind == "image":
        with Image.open(path) as image:
            return np.asarray(image.convert("L")), float(arg)
    if kind == "pdf":
        with pymupdf.open(path) as doc:
            pix = doc[arg].get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY, alpha=False)
        return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, :pix.width].copy(), DPI
    # The ideal: the capture itself turned back by the angle it was skewed by, nothing lost.
    grey = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    h, w = grey.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), -arg, 1.0)
    return cv2.warpAffine(grey, turn, (w, h), flags=cv2.INTER_CUBIC, borderValue=255), DPI


def cer_job(source: tuple, printed: tuple[str, ...]) -> float:
    grey, dpi = load_grey(source)
    return printed_text_cer(printed, ocr_text(grey, dpi))


def angle_job(source: tuple) -> float | None:
    grey, dpi = load_grey(source)
    return ruled_line_angle(grey, dpi)


def _worker_init() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)


# --------------------------------------------------------------------------------------------
# 2. Size at equal legibility, 3. deskew

@dataclass
class Variant:
    label: str
    shade: str
    pages: dict[str, OutputPage]
    whole_pdf_kb: float | None = None
    cer: dict[str, float] = dataclasses.field(default_factory=dict)
    angle: dict[str, float | None] = dataclasses.field(default_factory=dict)


def variants(measured: list[Measured], c: Corpus) -> list[Variant]:
    out = []
    for shade in ("colour", "grey"):
        folder = c.captures(shade)
        out.append(Variant(f"reference: capture turned by its true angle, uncompressed ({shade})", shade,
                           {t.file: OutputPage(("reference", str(folder / t.file), t.degradation.skew_deg), None)
                            for t in c.content()}))
        out.append(Variant(f"raw capture, JPEG q90 ({shade})", shade,
                           {t.file: OutputPage(("image", str(folder / t.file), DPI), (folder / t.file).stat().st_size)
                            for t in c.content()}))
    for m in measured:
        if m.kind != "floor":
            out.append(Variant(f"{m.tool} ({m.shade})", m.shade, output_pages(m, c), whole_pdf_kb_per_page(m)))
    return out


def legibility_and_skew(vs: list[Variant], c: Corpus, plan: Plan) -> None:
    """OCR the first `cer_pages` content pages of every variant; measure every content page's angle."""
    printed = {t.file: t.printed for t in c.content()}
    cer_files = [t.file for t in c.content()][:plan.cer_pages]
    with pool() as workers:
        cer_jobs = {(i, f): workers.submit(cer_job, v.pages[f].source, printed[f])
                    for i, v in enumerate(vs) for f in cer_files if f in v.pages}
        angle_jobs = {(i, f): workers.submit(angle_job, page.source)
                      for i, v in enumerate(vs) for f, page in v.pages.items()}
        for (i, f), job in cer_jobs.items():
            vs[i].cer[f] = job.result()
        for (i, f), job in angle_jobs.items():
            vs[i].angle[f] = job.result()


# --------------------------------------------------------------------------------------------
# 4. Separators: which barcode reader, at which dpi, through which damage

# Damage name -> (scan degradation, blur in px at 300 dpi (scaled with the dpi), print contrast).
SEPARATOR_DAMAGE = {
    "clean": (corpus.Degradation(), 0.0, 1.0),
    "skew 8°, dark border": (corpus.Degradation(skew_deg=8.0, border_mm=10.0), 0.0, 1.0),
    "blur σ 0.35 mm": (corpus.Degradation(noise_sigma=3.0), 4.0, 1.0),
    "faded print (25 % contrast), noise σ 8": (corpus.Degradation(noise_sigma=8.0), 0.8, 0.25),
    "noise σ 25, JPEG q15": (corpus.Degradation(noise_sigma=25.0, jpeg_quality=15), 0.0, 1.0),
    "upside down, harsh": (corpus.Degradation(skew_deg=-5.0, rotation=180, noise_sigma=12.0, jpeg_quality=25,
                                              border_mm=8.0, brightness=0.8), 2.0, 0.6),
}


def _read_zxing(grey: np.ndarray, dpi: float) -> list[str]:
    import zxingcpp
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    return [b.text for b in zxingcpp.read_barcodes(grey, formats=formats) if b.valid]


def _read_pyzbar(grey: np.ndarray, dpi: float) -> list[str]:
    from pyzbar import pyzbar
    symbols = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128]
    return [s.data.decode("latin-1") for s in pyzbar.decode(grey, symbols=symbols)]


def _read_opencv(grey: np.ndarray, dpi: float) -> list[str]:
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(grey)
    return [text] if text else []


def _read_station(grey: np.ndarray, dpi: float) -> list[str]:
    from pipeline.separator import read_separator
    found = read_separator(grey, dpi)
    return [found.payload.encode()] if found.payload else []


READERS = {"zxing-cpp": _read_zxing, "pyzbar (zbar)": _read_pyzbar, "OpenCV QRCodeDetector": _read_opencv,
           "station (pipeline/separator.py)": _read_station}


def separator_job(sheets: str, index: int, dpi: int, damage: str, expected: str) -> dict[str, tuple[bool, float]]:
    """Render sheet `index` at `dpi` with `damage`, and time every reader on it (grey, as captured)."""
    degradation, blur_at_300, contrast = SEPARATOR_DAMAGE[damage]
    degradation = dataclasses.replace(degradation, blur_sigma=blur_at_300 * dpi / 300)  # same blur in mm
    page = corpus.render_pdf_page(sheets, index, dpi)
    if contrast != 1.0:  # a worn toner cartridge: ink lighter, paper unchanged
        page = (255 - (255 - page.astype(np.float32)) * contrast).astype(np.uint8)
    rgb = corpus.degrade(page, dpi, degradation, seed=SEED + index)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    results = {}
    for name, read in READERS.items():
        started = time.perf_counter()
        texts = read(grey, dpi)
        results[name] = (expected in texts, (time.perf_counter() - started) * 1000)
    return results


def separators(c: Corpus, plan: Plan) -> dict[tuple[int, str], dict[str, list[tuple[bool, float]]]]:
    from pipeline.separator import make_payload
    cells: dict[tuple[int, str], dict[str, list[tuple[bool, float]]]] = {}
    jobs = []
    with pool() as workers:
        for dpi in plan.separator_dpis:
            for damage in SEPARATOR_DAMAGE:
                for k in range(plan.sheets_per_cell):
                    index = (len(jobs) * 7) % c.entries
                    expected = make_payload(BOOK, [index + 1]).encode()
                    jobs.append(((dpi, damage), workers.submit(separator_job, str(c.sheets), index, dpi, damage,
                                                            expected)))
        for key, job in jobs:
            for name, outcome in job.result().items():
                cells.setdefault(key, {}).setdefault(name, []).append(outcome)
    return cells


# --------------------------------------------------------------------------------------------
# 5. Scaling

# A page image the station filed (not an evidence crop or a text layer beside it).
_PAGE_FILE = re.compile(r"^\d+(-\d+)?\.(jpg|tif)$")


@dataclass(frozen=True)
class ScalePoint:
    captures: int          # captures filed when the point was taken
    seconds: float         # since the batch started; the last point: until its last PDF was written
    cpu_s: float           # of the process tree, so far
    peak_rss_mb: float     # largest summed resident memory of the process tree, so far
    stretch_s: float       # wall seconds per capture since the previous point


def _pages_filed(home: Path) -> int:
    return sum(1 for p in home.glob("pages/batch-*/*") if _PAGE_FILE.match(p.name))


def scaling(c: Corpus, plan: Plan, work: Path) -> tuple[TreeRun, list[ScalePoint]]:
    """One batch of the longest size, read off as it passes each size: the time per capture and the
    memory of a 2,000-capture batch at its 100th, 500th and last capture. One long run instead of
    one per size: the same question (does a longer batch cost more per page, or more memory?) in
    the time of the longest run alone."""
    longest = max(plan.scaling)
    home = work / "runs" / f"scaling-{longest}"
    run = run_station(c, c.scaling_batch(longest), "ministry-color", home, progress=lambda: _pages_filed(home))
    shutil.rmtree(home)
    points: list[ScalePoint] = []
    done, since = 0, 0.0
    for n in sorted(plan.scaling):
        reached = next((i for i, s in enumerate(run.timeline) if s[1] >= n), None)
        if n >= longest or reached is None:
            seconds, cpu, peak = run.wall_s, run.cpu_s, run.peak_rss_mb
        else:
            seconds, _, cpu, _ = run.timeline[reached]
            peak = max(s[3] for s in run.timeline[:reached + 1])
        points.append(ScalePoint(n, seconds, cpu, peak, (seconds - since) / (n - done)))
        done, since = n, seconds
        print(f"  {n} captures: {points[-1].stretch_s:.2f} s/capture since the last point, {peak:.0f} MB",
              flush=True)
    return run, points


# --------------------------------------------------------------------------------------------
# The machine and the versions

def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "not installed"


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    packages = ["numpy", "opencv-python-headless", "Pillow", "pymupdf", "img2pdf", "pikepdf", "pyzbar", "zxing-cpp",
                "pytesseract", "SQLAlchemy", "ocrmypdf", "matplotlib"]
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    commit = _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = _first_line(["git", "-C", str(REPO), "status", "--porcelain", "--", "pipeline", "station", "profiles"])
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem_kb / 1024 / 1024:.0f} GB",
        "system": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "code": commit + (" with uncommitted changes in pipeline/, station/ or profiles/"
                          if dirty != "not installed" else ""),
        "Python packages": ", ".join(versions),
        "tools": "; ".join([_first_line(["tesseract", "--version"]), "unpaper " + _first_line(["unpaper", "--version"]),
                            "ghostscript " + _first_line(["gs", "--version"]),
                            "pngquant " + _first_line(["pngquant", "--version"]),
                            "jbig2enc: " + ("installed" if shutil.which("jbig2") else "not installed (optional)"),
                            _first_line(["djpeg", "-version"])]),
    }


# --------------------------------------------------------------------------------------------
# Report

def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    def cell(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
           ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "–" if value is None else pattern.format(value)


def _find(measured: list[Measured], kind: str, shade: str, tool_part: str = "") -> Measured | None:
    return next((m for m in measured if m.kind == kind and m.shade == shade and tool_part in m.tool), None)


def goals(measured: list[Measured]) -> list[list[object]]:
    rows = []
    for shade, profile, floor_mode in (("colour", "ministry-color", "color"), ("grey", "ministry-grey", "grey"),
                                       ("grey", "ministry-bilevel", "bilevel")):
        s = _find(measured, "station", shade, profile)
        floor = _find(measured, "floor", shade, f" {floor_mode}")
        ocr = _find(measured, "ocrmypdf", shade)
        if s is None:
            continue
        vs_ocr = s.pages_per_min / ocr.pages_per_min if ocr else None
        vs_floor = floor.pages_per_min / s.pages_per_min if floor else None
        rows.append([f"{profile} ({shade} captures)", f"{s.pages_per_min:.0f}",
                     "–" if vs_ocr is None else f"{vs_ocr:.1f}× {'✔' if vs_ocr >= 10 else '✘'}",
                     "–" if vs_floor is None else f"{vs_floor:.1f}× {'✔' if vs_floor <= 3 else '✘'}",
                     "✔" if s.pages_per_min > 200 else "✘"])
    return rows


def _short(label: str) -> str:
    return label.replace("OCRmyPDF " + " ".join(OCRMYPDF_ARGS), "OCRmyPDF -O 3")


def plot_all(plots: Path, measured: list[Measured], vs: list[Variant], scaled: tuple[TreeRun, list[ScalePoint]]
             ) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plots.mkdir(parents=True, exist_ok=True)
    names = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels = [f"{_short(m.tool)} ({m.shade})" for m in measured]
    ax.barh(labels, [m.pages_per_min for m in measured],
            color=["#c0392b" if m.kind == "station" else "#7f8c8d" for m in measured])
    ax.axvline(200, ls="--", color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("pages per minute (log scale; dashed: 200 pages/min)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(plots / "throughput.png", dpi=110)
    plt.close(fig)
    names.append("throughput.png")

    fig, ax = plt.subplots(figsize=(8, 5))
    for shade, marker, offset in (("colour", "o", (4, 4)), ("grey", "s", (4, -10))):
        reference = next(v for v in vs if v.label.startswith("reference") and v.shade == shade)
        ref_cer = _mean(reference.cer.values())
        if ref_cer is not None:
            ax.axhspan(ref_cer * 100, ref_cer * 100 + 1, color="#2ecc71" if shade == "colour" else "#95a5a6",
                       alpha=0.15, label=f"within 1 pt of the reference ({shade})")
        for v in vs:
            if v.shade != shade or not v.cer or v.label.startswith("reference"):
                continue
            kb = _mean(v.pages[f].image_bytes / 1024 for f in v.cer)
            ax.scatter([kb], [_mean(v.cer.values()) * 100], marker=marker, s=50)
            ax.annotate(_short(v.label), (kb, _mean(v.cer.values()) * 100), fontsize=7, xytext=offset,
                        textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("KB per content page (log scale)")
    ax.set_ylabel("character error rate on printed text, %")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(plots / "size_vs_cer.png", dpi=110)
    plt.close(fig)
    names.append("size_vs_cer.png")

    run, points = scaled
    counts = [p.captures for p in points]
    per_page = [p.stretch_s for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(counts, per_page, "o-")
    left.set_xscale("log")
    left.set_ylim(0, max(per_page) * 1.3)
    left.set_xlabel("captures filed")
    left.set_ylabel("seconds per capture since the last point")
    right.plot([s[1] for s in run.timeline], [s[3] for s in run.timeline], "-", color="#c0392b", lw=0.8,
               label="process tree RSS")
    right.plot(counts, [p.peak_rss_mb for p in points], "o", color="#c0392b", label="peak so far")
    right.set_ylim(0, max(p.peak_rss_mb for p in points) * 1.3)
    right.set_xlabel("captures filed")
    right.set_ylabel("MB")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(plots / "scaling.png", dpi=110)
    plt.close(fig)
    names.append("scaling.png")
    return names


def report(out: Path, plan: Plan, c: Corpus, info: dict[str, str], measured: list[Measured], vs: list[Variant],
           seps: dict, scaled: tuple[TreeRun, list[ScalePoint]], skip: set[str], timings: dict[str, float],
           started: datetime.datetime, command: str) -> str:
    plots = out.parent / "plots"
    plot_names = plot_all(plots, measured, vs, scaled)
    rel = os.path.relpath(plots, out.parent)
    total = sum(timings.values())
    lines = ["# Benchmarks: the station against what an operator would use instead", "",
             f"Run {started:%Y-%m-%d %H:%M} UTC as `{command}` (plan {plan.name}: {plan.batch}-capture batches, "
             f"{plan.runs} run(s) each, scaling {', '.join(map(str, plan.scaling))}), {total / 60:.1f} min in all "
             f"({', '.join(f'{k} {v / 60:.1f}' for k, v in timings.items())} min). "
             f"Same rendered pages for every tool: A4 register pages from `bench/corpus.py` (seed {SEED}), "
             f"scanned at {DPI} dpi with skew up to ±{MAX_SKEW:.0f}°, blur, noise, JPEG artefacts, dark borders, "
             "duplex blank backs and one separator sheet fed upside down; the grey set is the same captures "
             "in greyscale.", ""]
    if skip:
        lines += [f"Skipped: {', '.join(sorted(skip))} (`--skip`); `make bench` runs everything.", ""]
    lines += ["## Machine", ""] + _table(["", ""], [[k, v] for k, v in info.items()]) + [
        "", "The machine is shared with other work: every timed run gives the 1-minute load average before → "
        "after it. CPU seconds per page (the whole process tree, user + system) are less sensitive to that "
        "load than wall time.", ""]

    lines += ["## Headline", ""] + _table(
        ["station profile", "pages/min", "vs OCRmyPDF (goal ≥ 10×)", "floor is faster by (goal ≤ 3×)",
         "> 200 pages/min"], goals(measured)) + [""]

    lines += ["## 1. Throughput", "",
              f"A whole batch per tool, the station as `station process FOLDER --profile P --workers 2` "
              f"({plan.batch} captures: separators, register pages, blank backs); runs per figure: "
              f"{plan.runs} for the station and the floor (median), 1 for unpaper and OCRmyPDF, which get "
              "the batch's first captures only (they are slow; their pages/min are per page all the same). "
              "OCRmyPDF gets `-l vie -j 2` besides the flags shown, after `img2pdf` binds the captures; "
              "the unpaper script is `bench/unpaper_img2pdf.sh` (djpeg → unpaper → cjpeg → img2pdf, "
              "two pages at a time). The floor (`bench/floor.py`) decodes each capture and encodes one "
              "page image at the output resolution, nothing else, in two processes.", ""]
    rows = []
    for m in measured:
        loads = ", ".join(f"{r.load_before:.1f}→{r.load_after:.1f}" for r in m.runs)
        rows.append([m.tool, m.shade, m.pages, len(m.runs), f"{m.median('wall_s'):.1f}", f"{m.pages_per_min:.1f}",
                     f"{m.cpu_per_page:.2f}", f"{m.median('peak_rss_mb'):.0f}", loads])
    lines += _table(["tool", "captures", "pages", "runs", "wall s (median)", "pages/min", "CPU s/page",
                     "peak RSS MB", "load"], rows)
    lines += ["", f"![throughput]({rel}/throughput.png)", ""]

    lines += ["## 2. Size at equal legibility", "",
              "Legibility: Tesseract 5 (`vie`, `--psm 11`) on each output page; the character error rate "
              "counts, for every printed string on the page (form labels, headings; the corpus records them), "
              "the edits to the closest stretch of the OCR text, so reading order and the handwriting between "
              "the labels do not count. Reference: the capture itself turned back by its true angle, kept "
              "uncompressed. Size: the bytes of each content page's image (and, for OCRmyPDF, its text "
              "layer), the same pages for every row; whole PDF KB/page includes what each tool puts in its "
              "PDF (OCRmyPDF and unpaper also carry the separator sheets and blank backs).", ""]
    rows = []
    for shade in ("colour", "grey"):
        reference = next(v for v in vs if v.label.startswith("reference") and v.shade == shade)
        ref_cer = _mean(reference.cer.values())
        for v in vs:
            if v.shade != shade:
                continue
            sizes = [p.image_bytes / 1024 for p in v.pages.values() if p.image_bytes is not None]
            cer = _mean(v.cer.values())
            delta = None if cer is None or ref_cer is None else (cer - ref_cer) * 100
            rows.append([v.label, len(sizes) or "–", _fmt(_mean(sizes), "{:.0f}"),
                         _fmt(max(sizes) if sizes else None, "{:.0f}"), _fmt(v.whole_pdf_kb, "{:.0f}"),
                         len(v.cer), _fmt(None if cer is None else cer * 100),
                         "–" if delta is None or v is reference else f"{delta:+.2f} {'✔' if delta <= 1 else '✘'}"])
    lines += _table(["output", "pages", "KB/page mean", "KB/page max", "whole PDF KB/page", "pages OCRed",
                     "CER %", "Δ CER vs reference, points (goal ≤ 1)"], rows)
    lines += ["", f"![size vs CER]({rel}/size_vs_cer.png)", ""]

    lines += ["## 3. Deskew", "",
              "Residual angle of every content page a tool wrote, measured one way for all "
              "(`bench/measures.py`: projection profile of the form's long ruled lines, which the renderer "
              "draws level; not the station's own skew measure). The first row checks the yardstick itself: "
              "the angle it reads on the raw captures against the angle the corpus applied.", ""]
    rows = []
    truth = {t.file: t.degradation.skew_deg for t in c.content()}
    raw = next(v for v in vs if v.label.startswith("raw") and v.shade == "colour")
    errors = [abs(raw.angle[f] - truth[f]) for f in raw.angle if raw.angle[f] is not None]
    rows.append(["yardstick: measured on raw captures − applied angle", len(errors), _fmt(_mean(errors), "{:.3f}"),
                 _fmt(max(errors) if errors else None, "{:.3f}"), 0])
    fed = [abs(a) for a in truth.values()]
    rows.append(["captures as fed (applied angle)", len(fed), f"{_mean(fed):.3f}", f"{max(fed):.3f}", 0])
    for v in vs:
        if v.label.startswith(("raw", "reference")):
            continue
        angles = [abs(a) for a in v.angle.values() if a is not None]
        rows.append([v.label, len(angles), _fmt(_mean(angles), "{:.3f}"), _fmt(max(angles) if angles else None, "{:.3f}"),
                     sum(a is None for a in v.angle.values())])
    lines += _table(["output", "pages", "mean |residual| °", "worst |residual| °", "no ruled lines found"], rows)
    lines += [""]

    lines += ["## 4. Separators", "",
              f"The station's separator sheets (`station separators`: QR code and Code 128 of the same payload), "
              f"rendered at each dpi with each damage, {plan.sheets_per_cell} sheet(s) per cell, given to each "
              "reader as a grey capture at full resolution with no preprocessing, looking for QR and Code 128 "
              "only (OpenCV: QR only); the station's reader (which "
              "downsamples to 150 dpi, tries zxing-cpp then pyzbar on a binarised copy) is the last column. "
              "A read counts only if it yields the exact payload. Cells: read rate, median ms per page.", ""]
    readers = list(READERS)
    rows = []
    for (dpi, damage), by_reader in seps.items():
        rows.append([dpi, damage] + [f"{100 * sum(ok for ok, _ in by_reader[r]) / len(by_reader[r]):.0f} % · "
                                     f"{statistics.median(ms for _, ms in by_reader[r]):.0f} ms" for r in readers])
    overall = []
    for r in readers:
        outcomes = [o for by_reader in seps.values() for o in by_reader[r]]
        overall.append(f"**{100 * sum(ok for ok, _ in outcomes) / len(outcomes):.0f} % · "
                       f"{statistics.median(ms for _, ms in outcomes):.0f} ms**")
    rows.append(["all", ""] + overall)
    lines += _table(["dpi", "damage"] + readers, rows) + [""]

    run, points = scaled
    longest = max(p.captures for p in points)
    lines += ["## 5. Scaling", "",
              f"One `station process` run on a colour batch of {longest} captures (the throughput batch again "
              "and again, every separator a new sheet for the next entry, every other page a new file), read "
              "off as it passes each size: sampled every 0.2 s, the time and CPU when that many captures were "
              "filed, and the peak so far of the process tree's summed resident memory (main process, "
              "workers, Tesseract). The last row is the whole batch, until its last PDF is written. Flat "
              "means the seconds per capture of each stretch and the memory do not grow with the batch. "
              f"Load {run.load_before:.1f} → {run.load_after:.1f}.", ""]
    rows, done = [], 0
    for p in points:
        rows.append([p.captures, f"{p.seconds:.0f}", f"{p.captures - done}", f"{p.stretch_s:.2f}",
                     f"{60 / p.stretch_s:.0f}", f"{p.cpu_s / p.captures:.2f}", f"{p.peak_rss_mb:.0f}"])
        done = p.captures
    lines += _table(["captures filed", "wall s so far", "captures in the stretch", "s/capture in the stretch",
                     "pages/min in the stretch", "CPU s/capture so far", "peak RSS MB so far"], rows)
    lines += ["", f"![scaling]({rel}/scaling.png)", ""]
    missing = [name for name in plot_names if not (plots / name).is_file()]
    if missing:
        raise RuntimeError(f"plots not written: {missing}")
    # The capture kinds' section and the ones after it come from benches run on their own: kept.
    text = "\n".join(lines) + ("\n" + kept if (kept := capture_kinds.sections_from_here(out)) else "")
    out.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20-capture batches, one run each (about 3 min)")
    parser.add_argument("--skip", action="append", choices=TOOLS, default=[], help="leave a tool out (repeatable)")
    parser.add_argument("--batch", type=int, help="captures in a throughput batch")
    parser.add_argument("--runs", type=int, help="runs per station and floor throughput figure")
    parser.add_argument("--subset", type=int, help="captures given to OCRmyPDF and to the unpaper script")
    parser.add_argument("--scaling", help="batch sizes for the scaling section, e.g. 100,500,2000")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.md")
    parser.add_argument("--work", type=Path, default=REPO / "out" / "bench")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    overrides = {"batch": args.batch, "runs": args.runs, "ocrmypdf_pages": args.subset, "unpaper_pages": args.subset,
                 "scaling": tuple(int(n) for n in args.scaling.split(",")) if args.scaling else None}
    plan = dataclasses.replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    skip = set(args.skip)
    if "ocrmypdf" not in skip and not (BIN / "ocrmypdf").exists():
        parser.error("OCRmyPDF is not installed: run `make bench`, or pass --skip ocrmypdf")
    if "unpaper" not in skip and not all(shutil.which(t) for t in ("unpaper", "djpeg", "cjpeg")):
        parser.error("unpaper, djpeg or cjpeg missing: run `make bench`, or pass --skip unpaper")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    timings: dict[str, float] = {}

    def step(name: str, fn, *fn_args):
        print(f"{name}…", flush=True)
        t0 = time.perf_counter()
        result = fn(*fn_args)
        timings[name] = time.perf_counter() - t0
        return result

    c = step("corpus", build_corpus, args.work, plan)
    measured = step("throughput", throughput, c, plan, args.work, skip)
    vs = variants(measured, c)
    step("legibility and deskew", legibility_and_skew, vs, c, plan)
    seps = step("separators", separators, c, plan)
    scaled = step("scaling", scaling, c, plan, args.work)
    command = " ".join(["python -m bench.compare", *(argv if argv is not None else sys.argv[1:])])
    report(args.out, plan, c, machine(), measured, vs, seps, scaled, skip, timings, started, command)
    raw = {"plan": dataclasses.asdict(plan), "timings": timings,
           "throughput": [{"tool": m.tool, "shade": m.shade, "pages": m.pages,
                           "runs": [dataclasses.asdict(r) for r in m.runs]} for m in measured],
           "variants": [{"label": v.label, "cer": v.cer, "angle": v.angle,
                         "image_bytes": {f: p.image_bytes for f, p in v.pages.items()}} for v in vs],
           "scaling": {"run": dataclasses.asdict(scaled[0]), "points": [dataclasses.asdict(p) for p in scaled[1]]}}
    (args.work / "results.json").write_text(json.dumps(raw, indent=1))
    print(f"{args.out} written ({sum(timings.values()) / 60:.1f} min)")


if __name__ == "__main__":
    main()
