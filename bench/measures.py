"""Yardsticks applied the same way to every tool's output: printed-text error rate, residual skew of
the ruled lines, and the time, CPU and memory of a command's whole process tree.

None of them uses the station's own code, so the station is not graded by its own measures.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytesseract

# --------------------------------------------------------------------------------------------
# Legibility: Tesseract (vie) character error rate on the printed text


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def substring_distance(pattern: str, text: str) -> int:
    """Levenshtein distance from `pattern` to the substring of `text` closest to it (Sellers'
    algorithm, one numpy row per pattern character)."""
    t = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    columns = np.arange(t.size + 1, dtype=np.int32)
    previous = np.zeros(t.size + 1, np.int32)  # a match may start anywhere in the text
    for i, char in enumerate(pattern, 1):
        row = np.empty_like(previous)
        row[0] = i
        row[1:] = np.minimum(previous[:-1] + (t != ord(char)), previous[1:] + 1)
        # Insertions within the row: row[j] = min over k <= j of row[k] + (j - k).
        previous = np.minimum.accumulate(row - columns) + columns
    return int(previous.min())


def printed_text_cer(printed: list[str] | tuple[str, ...], ocr_text: str) -> float:
    """Share of the printed characters Tesseract got wrong. Each printed string is matched against the
    closest stretch of the OCR output, so reading order and the handwriting between labels do not
    count; a string not found at all counts in full."""
    text = _normalise(ocr_text)
    lines = [_normalise(s) for s in printed if _normalise(s)]
    total = sum(len(s) for s in lines)
    return sum(substring_distance(s, text) for s in lines) / total


def ocr_text(grey: np.ndarray, dpi: float) -> str:
    # --psm 11 (sparse text): reads the labels inside the form's table as well; the default layout
    # analysis sometimes drops the whole table, which would measure Tesseract, not the image.
    return pytesseract.image_to_string(grey, lang="vie", config=f"--dpi {round(dpi)} --psm 11")


# --------------------------------------------------------------------------------------------
# Residual skew: the angle of the form's ruled lines, which the renderer draws exactly level

RULED_WORK_DPI = 200
RULED_RANGE_DEG = 12.0


def ruled_line_angle(grey: np.ndarray, dpi: float) -> float | None:
    """Angle (degrees, counter-clockwise positive, as the corpus records skew) of the long ruled lines
    on a register page; None when the page has none. Long lines are the connected components at least
    40 % of the page wide (the form's grid, the note lines); their pixels' projection profile is
    sharpest at their angle."""
    scale = min(1.0, RULED_WORK_DPI / dpi)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    block = int(round(dpi * scale * 4 / 25.4)) | 1
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 20)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    long_ones = np.flatnonzero(stats[1:, cv2.CC_STAT_WIDTH] >= 0.4 * w) + 1
    if long_ones.size == 0:
        return None
    ys, xs = np.nonzero(np.isin(labels, long_ones))
    ys = ys - h / 2.0
    xs = xs - w / 2.0

    def sharpness(deg: float) -> float:
        t = math.radians(deg)
        rows = np.bincount(np.round(ys * math.cos(t) - xs * math.sin(t) + h + w).astype(np.int64))
        return float(np.dot(rows, rows))

    coarse = np.arange(-RULED_RANGE_DEG, RULED_RANGE_DEG + 1e-9, 0.25)
    best = float(coarse[int(np.argmax([sharpness(a) for a in coarse]))])
    step = 0.01
    fine = best + np.arange(-30, 31) * step
    scores = np.array([sharpness(a) for a in fine])
    i = int(np.argmax(scores))
    angle = float(fine[i])
    if 0 < i < len(fine) - 1:
        a, b, c = scores[i - 1], scores[i], scores[i + 1]
        if a - 2 * b + c < 0:
            angle += 0.5 * (a - c) / (a - 2 * b + c) * step
    # Image rows grow downwards: a line rising to the right has a negative slope here.
    return -angle


# --------------------------------------------------------------------------------------------
# Process tree: wall time, CPU time and peak memory of a command and everything it starts

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class TreeRun:
    wall_s: float
    cpu_s: float          # user + system of the whole tree
    peak_rss_mb: float    # largest sum of the tree's resident memory seen
    load_before: float    # 1-minute load average: the machine is shared
    load_after: float
    # With a progress counter: one (seconds since start, progress, CPU s so far, tree RSS MB) per sample.
    timeline: tuple[tuple[float, int, float, float], ...] = ()


def _process_table() -> dict[int, tuple[int, float, int]]:
    """pid -> (parent pid, CPU seconds, resident KB) for every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            resident = int(Path(f"/proc/{entry.name}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS,
                                  resident * PAGE_KB)
    return table


def _tree(root: int, table: dict[int, tuple[int, float, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def run_tree(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
             log: Path | None = None, progress: Callable[[], int] | None = None) -> TreeRun:
    """Run `command` to completion, sampling its process tree every SAMPLE_SECONDS. CPU time is the
    larger of what the sampling saw and what wait4 reports (children reaped inside the tree).
    `progress`, when given, is read at every sample into the run's timeline."""
    load_before = os.getloadavg()[0]
    out = open(log, "ab") if log else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
    cpu_seen: dict[int, float] = {}
    peak_kb = 0
    timeline = []
    status = None
    try:
        while True:
            waited, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if waited:
                break
            table = _process_table()
            pids = _tree(proc.pid, table)
            resident_kb = sum(table[p][2] for p in pids)
            peak_kb = max(peak_kb, resident_kb)
            for pid in pids:
                cpu_seen[pid] = table[pid][1]
            if progress is not None:
                timeline.append((time.perf_counter() - started, progress(), sum(cpu_seen.values()),
                                 resident_kb / 1024))
            time.sleep(SAMPLE_SECONDS)
    finally:
        if log:
            out.close()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… exited {proc.returncode}"
                           + (f"; see {log}" if log else ""))
    reaped = usage.ru_utime + usage.ru_stime
    return TreeRun(wall, max(reaped, sum(cpu_seen.values())), peak_kb / 1024, load_before, os.getloadavg()[0],
                   tuple(timeline))


def run_floor(captures: Path, out: Path, mode: str, dpi: int = 200, capture_dpi: int | None = None) -> TreeRun:
    """The floor (bench/floor.py: decode each capture, encode one page image, 2 processes) on a folder
    of captures, as its own timed process tree."""
    extra = ["--capture-dpi", str(capture_dpi)] if capture_dpi else []
    return run_tree([sys.executable, "-m", "bench.floor", str(captures), str(out), "--mode", mode,
                     "--dpi", str(dpi), *extra],
                    env={**os.environ, "OMP_THREAD_LIMIT": "1"}, cwd=Path(__file__).resolve().parent.parent)


