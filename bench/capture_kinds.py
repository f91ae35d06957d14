"""The station on each kind of capture a commune brings: flatbed, sheet feeder, overhead book
scanner (open spreads), phone photo. Per kind a small book is made (register with trangSo, separator
sheets captured the same way as its pages), run through `station process` and measured against its
ground truth, and the same captures go through the floor (decode, resample, one JPEG per page).

    .venv/bin/python -m bench.capture_kinds [--entries 6] [--seed 11] [--kinds flatbed feeder ...]
        [--results bench/results.md]

Figures per kind: pages filed right (every entry's PDF holds exactly its pages in book order),
residual skew of the output pages, side bands (the darkest 5 mm band along a page edge against the
page's paper: a shadow left at a gutter or a table left around a photo shows here), KB per A4 of
paper, CPU seconds per capture (start-up included: small books overstate it), and the station's
wall time against the floor's on the same captures (2 workers each).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner
from sqlalchemy import select

from bench import bound, corpus, photo
from bench.measures import TreeRun, run_floor, run_tree
from pipeline.deskew import measure_skew
from station.catalog.models import Entry, open_catalog
from station.cli import main as cli_main

REPO = Path(__file__).resolve().parent.parent
BOOK = "KS.2017.01"
STATION = [sys.executable, "-c", "from station.cli import main; main()"]
MM_PER_INCH = 25.4
A4_MM2 = 210.0 * 297.0
# A page's worst side band (bench.bound.side_bands: a 5 mm strip along each edge, its median
# brightness against the page's paper) must be at least this.
SIDE_BAND_GOAL = 0.9


@dataclass(frozen=True)
class Made:
    """A kind's batch: the capture folder, what the floor should take each capture's dpi to be,
    and each entry's pages as (capture file, part) in book order."""
    folder: Path
    floor_dpi: int | None  # None: the files' own dpi is right
    expected: dict[int, list[tuple[str, int]]]


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    profile: str
    make: Callable[[Path, list[corpus.EntryInfo], Path, int], Made]
    process_args: tuple[str, ...] = ()


def _from_truths(folder: Path, truths: list[corpus.CaptureTruth], floor_dpi: int | None = None) -> Made:
    expected: dict[int, list[tuple[str, int]]] = {}
    for t in truths:
        if t.kind == "content":
            for number in t.entries:
                expected.setdefault(number, []).append((t.file, 0))
    return Made(folder, floor_dpi, expected)


def make_flatbed(out: Path, entries: list[corpus.EntryInfo], sheets: Path, seed: int) -> Made:
    """A4 sheets on the glass at 300 dpi: skew up to 6°, the lid's dark border, mild blur and noise."""
    truths = corpus.write_captures(out, entries, sheets, seed, dpi_choices=(300,), duplex_blank_rate=0.0,
                                   max_skew=6.0, upside_down_separators=1)
    return _from_truths(out, truths)


def make_feeder(out: Path, entries: list[corpus.EntryInfo], sheets: Path, seed: int) -> Made:
    """A duplex sheet feeder at 200 dpi: every sheet's back scanned too (blank or bleeding through),
    small skews, sometimes a harsh capture."""
    truths = corpus.write_captures(out, entries, sheets, seed, dpi_choices=(200,), duplex_blank_rate=0.8,
                                   max_skew=2.5, upside_down_separators=0)
    return _from_truths(out, truths)


# Phone photos of an A3 register: rendered with A4's proportions (an A3 sheet is the same shape), at a
# resolution the photo does not exceed; --paper A3 gives them their size.
PHOTO_RENDER_DPI = 200
PHOTO_TRUE_DPI = 240  # a 16 MP frame's long side over an A3 sheet filling 86 % of it


def make_phone(out: Path, entries: list[corpus.EntryInfo], sheets: Path, seed: int) -> Made:
    """An A3 register photographed page by page with a 16 MP phone (72 dpi in EXIF), on a wooden
    table, keystoned, turned, lit unevenly with a soft shadow; the separator sheets photographed the
    same way."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    expected: dict[int, list[tuple[str, int]]] = {}
    shots = 0

    def shoot(sheet: np.ndarray) -> str:
        nonlocal shots
        shots += 1
        name = f"{shots:04d}.jpg"
        shot_seed = int(rng.integers(1 << 31))
        setup = photo.random_setup(shot_seed)
        (out / name).write_bytes(photo.jpeg_bytes(photo.photograph(sheet, setup, shot_seed)))
        return name

    for i, entry in enumerate(entries):
        shoot(corpus.render_pdf_page(sheets, i, 150))
        for page in range(1, int(rng.integers(1, 3)) + 1):
            sheet = corpus.render_register_page(entry, page, PHOTO_RENDER_DPI, seed=int(rng.integers(1 << 31)))
            expected.setdefault(entry.number, []).append((shoot(sheet), 0))
    return Made(out, PHOTO_TRUE_DPI, expected)


OVERHEAD_DPI = 300
MAX_CURL_MM = 40.0


def make_overhead(out: Path, entries: list[corpus.EntryInfo], sheets: Path, seed: int) -> Made:
    """A bound A4 book under an overhead scanner at 300 dpi: each entry's separator sheet shot alone
    on the cradle, then its pages as open spreads, curled up to 40 mm into the spine with the fold's
    shadow, writing up to 10 mm from the spine."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    expected: dict[int, list[tuple[str, int]]] = {}
    shots = 0
    for i, entry in enumerate(entries):
        shots += 1
        sheet = corpus.degrade(corpus.render_pdf_page(sheets, i, OVERHEAD_DPI), OVERHEAD_DPI,
                               corpus.Degradation(skew_deg=float(rng.uniform(-3, 3)), border_mm=20.0,
                                                  blur_sigma=0.8, noise_sigma=5.0, jpeg_quality=75),
                               seed=int(rng.integers(1 << 31)))
        corpus.save_image(out / f"{shots:04d}.jpg", sheet, OVERHEAD_DPI)
        shots += 1
        spread = bound.render_bound_spread(OVERHEAD_DPI, int(rng.integers(1 << 20)),
                                           curl_mm=float(rng.uniform(0, MAX_CURL_MM)),
                                           skew_deg=float(rng.uniform(-2, 2)))
        corpus.save_image(out / f"{shots:04d}.jpg", spread.capture, OVERHEAD_DPI)
        expected[entry.number] = [(f"{shots:04d}.jpg", 0), (f"{shots:04d}.jpg", 1)]
    return Made(out, None, expected)


KINDS: dict[str, Kind] = {
    "flatbed": Kind("flatbed", "Flatbed (A4, 300 dpi)", "ministry-color", make_flatbed),
    "feeder": Kind("feeder", "Sheet feeder (duplex, 200 dpi)", "ministry-color", make_feeder),
    "overhead": Kind("overhead", "Overhead book scanner (open A4 spreads, curl 0–40 mm, 300 dpi)",
                     "overhead-book", make_overhead),
    "phone": Kind("phone", "Phone photos (A3 sheets, 16 MP, 72 dpi in EXIF)", "ministry-color", make_phone,
                  ("--paper", "A3")),
}


@dataclass
class KindResult:
    kind: str
    title: str
    captures: int
    pages_expected: int
    entries: int
    entries_right: int
    pages_filed_right: int
    skew_deg: list[float] = field(default_factory=list)
    keystone: list[float] = field(default_factory=list)  # measured on the capture (rectified above 1 %)
    dpi: list[float] = field(default_factory=list)  # the resolution the station took each capture at
    side_band: list[float] = field(default_factory=list)  # worst side of each page
    kb_per_a4: list[float] = field(default_factory=list)
    station: TreeRun | None = None
    floor: TreeRun | None = None
    notes: list[str] = field(default_factory=list)

    def row(self) -> list[str]:
        def stat(values: list[float], fmt: str, worst: Callable = max) -> str:
            return f"{fmt.format(statistics.mean(values))} / {fmt.format(worst(values))}" if values else "–"
        cpu = self.station.cpu_s / max(1, self.captures) if self.station else float("nan")
        ratio = (self.station.wall_s / self.floor.wall_s) if self.station and self.floor else float("nan")
        bands_ok = sum(b >= SIDE_BAND_GOAL for b in self.side_band)
        keystone = f"{min(self.keystone):.1%}–{max(self.keystone):.1%}" if any(self.keystone) else "–"
        dpi = f"{min(self.dpi):.0f}–{max(self.dpi):.0f}" if self.dpi else "–"
        return [self.title, f"{self.pages_filed_right}/{self.pages_expected}",
                f"{self.entries_right}/{self.entries}", dpi, keystone, stat(self.skew_deg, "{:.3f}°"),
                f"{stat(self.side_band, '{:.2f}', min)} ({bands_ok}/{len(self.side_band)} ≥ {SIDE_BAND_GOAL})",
                stat(self.kb_per_a4, "{:.0f}"), f"{cpu:.2f}", f"{ratio:.1f}×"]


def _station(home: Path, *args: object, log: Path) -> TreeRun:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return run_tree([*STATION, "--home", str(home), *map(str, args)], env=env, cwd=REPO, log=log)


def run_kind(kind: Kind, work: Path, entries_count: int, seed: int) -> KindResult:
    root = work / kind.name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    home, log = root / "home", root / "station.log"
    entries = corpus.make_entries("KS", 2017, 1, entries_count, seed=seed)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    _station(home, "book", "add", BOOK, "--register", root / "register.xlsx", log=log)
    _station(home, "separators", BOOK, "-o", root / "sheets.pdf", log=log)
    made = kind.make(root / "captures", entries, root / "sheets.pdf", seed)
    captures = len([p for p in made.folder.iterdir() if p.suffix.lower() in (".jpg", ".png", ".tif")])
    station = _station(home, "process", made.folder, "--profile", kind.profile, "--workers", 2,
                       *kind.process_args, log=log)
    floor = run_floor(made.folder, root / "floor", "color", 200, made.floor_dpi)
    pages_expected = sum(len(pages) for pages in made.expected.values())
    result = KindResult(kind.name, kind.title, captures, pages_expected, len(made.expected), 0, 0,
                        station=station, floor=floor)
    with open_catalog(home)() as session:
        for entry in session.scalars(select(Entry)):
            want = made.expected.get(entry.number, [])
            scans = [s for s in entry.scans if s.chosen is not False]
            got = [(sp.page.capture.source_name, sp.page.part) for sp in scans[0].pages] if len(scans) == 1 else []
            result.entries_right += got == want
            result.pages_filed_right += sum(1 for a, b in zip(got, want) if a == b)
            for sp in scans[0].pages if len(scans) == 1 else []:
                page = sp.page
                grey = cv2.imdecode(np.frombuffer((home / page.image_file).read_bytes(), np.uint8),
                                    cv2.IMREAD_GRAYSCALE)
                if grey is None:
                    continue
                result.skew_deg.append(abs(measure_skew(grey, page.dpi).angle_deg))
                result.keystone.append(abs((page.measures or {}).get("keystone") or 0.0))
                result.dpi.append(page.input_dpi or 0.0)
                result.side_band.append(min(bound.side_bands(grey, page.dpi).values()))
                area = (page.width / page.dpi * MM_PER_INCH) * (page.height / page.dpi * MM_PER_INCH)
                result.kb_per_a4.append(page.image_bytes / 1024 / (area / A4_MM2))
    status = json.loads(_status(home))
    result.notes = status["books"][0].get("notes", [])
    return result


def _status(home: Path) -> str:
    return CliRunner().invoke(cli_main, ["--home", str(home), "status", BOOK, "--json"]).output


HEADER = ["capture kind", "pages filed right", "entries exact", "dpi taken",
          "keystone measured (rectified over 1 %)", "residual skew mean / worst",
          "side band mean / worst", "KB per A4 mean / max", "CPU s a capture", "time vs floor"]


# bench/results.md's section for these figures; bench.compare keeps it (and the sections after it)
# when it rewrites the rest.
HEADING = "## 6. Capture kinds"


def section(results_md: Path) -> str:
    """This bench's section of a results file as it stands ("" when it has none)."""
    text = results_md.read_text(encoding="utf-8") if results_md.is_file() else ""
    start = text.find(HEADING)
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(HEADING))
    return text[start:] if end < 0 else text[start:end + 1]


def sections_from_here(results_md: Path) -> str:
    """This bench's section and those after it (other benches' figures: bench_bound's bow), as they
    stand: what bench.compare keeps when it rewrites the sections before."""
    text = results_md.read_text(encoding="utf-8") if results_md.is_file() else ""
    start = text.find(HEADING)
    return text[start:] if start >= 0 else ""


def write_section(results_md: Path, new: str) -> None:
    text = results_md.read_text(encoding="utf-8") if results_md.is_file() else ""
    old = section(results_md)
    # Keep the blank line that parts this section from the next one.
    spaced = new.rstrip("\n") + ("\n\n" if old.endswith("\n\n") else "\n")
    text = text.replace(old, spaced) if old else text.rstrip("\n") + "\n\n" + new
    results_md.write_text(text, encoding="utf-8")


def report(results: list[KindResult], entries: int, seed: int, command: str) -> str:
    lines = [HEADING, "",
             f"`{command}`: a book of {entries} entries per kind (seed {seed}), its separator sheets captured the "
             f"same way as its pages; 1-minute load {os.getloadavg()[0]:.1f} at the end. Pages filed right: "
             "each entry's PDF holds exactly its pages in book order. Side band: the darkest 5 mm band along a "
             f"page edge over the page's paper (goal ≥ {SIDE_BAND_GOAL}). KB per A4 of paper; CPU of the whole "
             "`station process` tree per capture, start-up included; time vs floor: the station's wall time "
             "over the floor's (decode, resample, one JPEG a page, 2 processes) on the same captures.", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.row()) + " |" for r in results]
    for r in results:
        for note in r.notes:
            lines.append(f"- {r.title}: {note}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=6)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=list(KINDS))
    ap.add_argument("--work", type=Path, help="Keep the books here (default: a temporary folder).")
    ap.add_argument("--results", type=Path, help=f"Put the section ({HEADING}) into this results file, "
                    "e.g. bench/results.md, replacing the one it has.")
    args = ap.parse_args(argv)
    command = "python -m bench.capture_kinds " + " ".join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        results = []
        for name in args.kinds:
            results.append(run_kind(KINDS[name], work, args.entries, args.seed))
            print(" | ".join(results[-1].row()), flush=True)
    text = report(results, args.entries, args.seed, command.strip())
    print(text)
    if args.results:
        write_section(args.results, text)


if __name__ == "__main__":
    main()
