"""Same picture or the next page? pipeline.likeness on pages as the station compares them.

Same-page pairs: one rendered page captured twice (bench.corpus.degrade with two seeds: shift, skew,
blur, noise, JPEG, exposure; one of the two also under an uneven light, a 0.8 % scale error as from
a measured dpi, and on every other page a harsh scan), each capture straightened by the pipeline
(pipeline.geometry.straighten: sheet crop, deskew, orientation, the page process_page works on). Different-page pairs: consecutive pages of one book (same layout, same book
style, consecutive registration numbers, written by one clerk: one hand font, size and ink through
the book), captured independently; each page against the next, both ways round.

Tuned on layout d (ruled ledger, 2-5 registrations a page: the bound-book case); reported on a, c, e
and f, and on the real scans in /work/shared/realscans when present (same: each scan captured
three times, mild, hard and harsh; different: every pair of scans, most refused by their size, and
the two halves of one typewritten sheet, the same size and style of writing). Results: section 8
of bench/results.md.

    python -m bench.likeness [--dpi 200] [--pages 8] [--layouts d,a,c,e,f] [--real DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import random
import statistics
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from bench import corpus, layouts
from pipeline import likeness
from pipeline.geometry import straighten
from pipeline.settings import PageSettings

SETTINGS = PageSettings()
# Tuning books of layout d: A4 and A3 ledgers, printed and handwritten row numbers.
TUNING = {"d": (2000, 2009, 2005, 2003, 2011, 2006)}
# Held out, a fresh book per round of changes: 2014 ran on an early version (layout f showed the
# coarse maps of A3 sheets matching only cell for cell: fixed, MIN_MATCH_CELLS), 2016 on the next
# (two same pairs of layout c missed on their dotted leaders: fixed, _dotted), 2018 on the next
# (all right; the leaders then were tightened again on a 150 dpi case of c 2016), 2020 only on the
# final version.
HELD_OUT = {key: (2014, 2016, 2018, 2020) for key in ("a", "c", "e", "f")}
SEEN = {2014: "seen: round 1", 2016: "seen: round 2", 2018: "seen: round 3"}
REAL = Path("/work/shared/realscans")


@contextlib.contextmanager
def one_clerk(book: tuple) -> Iterator[None]:
    """Every page rendered inside is written by one clerk: the hand font, its size and the inks are
    the book's, not each page's (bench.layouts draws them per page, which makes pages easier to
    tell apart than a real book's)."""
    rr = random.Random(repr(("clerk", *book)))
    hand = dict(hand_font=rr.choice(corpus._HAND_FONTS), hand_pt=rr.uniform(11.5, 13.5),
                blue=rr.choice(corpus._BLUE_INKS), black=tuple(rr.randint(15, 45) for _ in range(3)))
    plain = layouts._Pen

    class ClerkPen(plain):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, value in hand.items():
                setattr(self, name, value)

    layouts._Pen = ClerkPen
    try:
        yield
    finally:
        layouts._Pen = plain


def capture(image: np.ndarray, dpi: int, seed: int, *, hard: bool, harsh: bool) -> np.ndarray:
    """One scan of the page, straightened by the pipeline, the operator having stated its paper.
    `hard`: also a 0.8 % scale error and light falling unevenly on the sheet (25 % darker on one
    side than the other); `harsh`: bench.corpus's harsh scan, fed upright."""
    h, w = image.shape[:2]
    settings = SETTINGS.model_copy(update=dict(paper=f"{w / dpi * 25.4:.1f}x{h / dpi * 25.4:.1f}mm"))
    rng = np.random.default_rng(seed)
    if hard:
        a = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        light = 0.875 - 0.25 * ((xx / w - 0.5) * np.cos(a) + (yy / h - 0.5) * np.sin(a))
        image = np.clip(image * light[..., None], 0, 255).astype(np.uint8)
        s = 1 + float(rng.choice([-1, 1])) * 0.008
        image = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
    d = corpus.random_degradation(rng, max_skew=3.0, harsh=harsh)
    if harsh:
        d = dataclasses.replace(d, rotation=0)
    shot = corpus.degrade(image, dpi, d, seed=int(rng.integers(1 << 30)))
    return straighten(shot, dpi, settings).image


@dataclass
class Pairs:
    name: str
    same: list[likeness.Likeness] = dataclasses.field(default_factory=list)
    different: list[likeness.Likeness] = dataclasses.field(default_factory=list)
    sign_s: list[float] = dataclasses.field(default_factory=list)
    compare_s: list[float] = dataclasses.field(default_factory=list)
    json_bytes: list[int] = dataclasses.field(default_factory=list)

    def sign(self, image: np.ndarray, dpi: float) -> likeness.Signature:
        t = time.perf_counter()
        sig = likeness.signature(image, dpi)
        self.sign_s.append(time.perf_counter() - t)
        self.json_bytes.append(len(sig.to_json()))
        return sig

    def compare(self, a: likeness.Signature, b: likeness.Signature, same: bool) -> None:
        t = time.perf_counter()
        r = likeness.same_picture(a, b)
        self.compare_s.append(time.perf_counter() - t)
        (self.same if same else self.different).append(r)


def book_pairs(key: str, year: int, pages: int, dpi: int, pairs: Pairs, seed: int = 7) -> None:
    entries = corpus.make_entries("KS", year, 1, 400, seed=seed)
    start, sigs = 0, []
    with one_clerk(("KS", year, 1, key)):
        for k in range(pages + 1):
            page_entries = layouts.page_entries(key, entries, start, seed)
            start += len(page_entries)
            page = layouts.render_layout_page(key, page_entries, dpi, seed=1000 * year + k)
            base = zlib.crc32(f"{key} {year} {k}".encode())
            caps = (capture(page.image, dpi, base, hard=False, harsh=False),
                    capture(page.image, dpi, base + 1, hard=True, harsh=k % 2 == 1))
            sigs.append(tuple(pairs.sign(c, dpi) for c in caps))
    for k in range(pages):
        pairs.compare(sigs[k][0], sigs[k][1], True)
        pairs.compare(sigs[k][0], sigs[k + 1][1], False)
        pairs.compare(sigs[k][1], sigs[k + 1][0], False)


def real_pages(folder: Path) -> list[tuple[str, np.ndarray, int]]:
    """(name, RGB page, dpi) of the real scans that are there."""
    out = []
    linn = folder / "linn.png"
    if linn.exists():
        out.append(("linn", cv2.cvtColor(cv2.imread(str(linn)), cv2.COLOR_BGR2RGB), 300))
    book = folder / "c02-22.pdf"
    if book.exists():
        out.append(("c02-22", corpus.render_pdf_page(book, 0, 150), 150))
    typed = folder / "typewriter.png"
    if typed.exists():
        sheet = cv2.cvtColor(cv2.imread(str(typed)), cv2.COLOR_BGR2RGB)
        half = sheet.shape[1] // 2
        # The typewritten sheet's halves: two pages of one size and one hand (its dpi is unknown:
        # 300 makes each half about 170×240 mm).
        out += [("typewriter-left", np.ascontiguousarray(sheet[:, :half]), 300),
                ("typewriter-right", np.ascontiguousarray(sheet[:, half:2 * half]), 300)]
    return out


def real_pairs(folder: Path, pairs: Pairs, captures: int = 3) -> None:
    pages = real_pages(folder)
    sigs = {}
    for i, (name, image, dpi) in enumerate(pages):
        sigs[name] = [pairs.sign(capture(image, dpi, 100 * i + s, hard=s > 0, harsh=s == 2), dpi)
                      for s in range(captures)]
        for s in range(1, captures):
            pairs.compare(sigs[name][0], sigs[name][s], True)
    names = list(sigs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for s in range(captures):
                pairs.compare(sigs[a][s], sigs[b][(s + 1) % captures], False)


def _ms(values: Sequence[float]) -> str:
    if not values:
        return "–"
    return f"{1000 * statistics.median(values):.0f} ({1000 * max(values):.0f})"


def summary(p: Pairs) -> dict[str, str]:
    """One row: verdicts, the closest scores of each kind (score ≤ 1: the same picture) and the
    margin as factors: 1/worst same score, closest different score."""
    same_ok = sum(r.same for r in p.same)
    diff_ok = sum(not r.same for r in p.different)
    compared = [r for r in p.different if r.reason is None]
    worst = max(p.same, key=lambda r: r.score, default=None)
    closest = min(compared, key=lambda r: r.score, default=None)
    refused = len(p.different) - len(compared)

    def shares(r: likeness.Likeness | None) -> str:
        if r is None:
            return "–"
        if r.reason:
            return f"not compared ({r.reason})"
        return f"{r.score:.2f} ({min(r.unmatched):.3f} / {max(r.unmatched):.3f})"

    return {
        "pages": p.name,
        "same called same": f"{same_ok}/{len(p.same)}",
        "different called different": f"{diff_ok}/{len(p.different)}"
                                      + (f" ({refused} by size)" if refused else ""),
        "same: worst score (unmatched shares)": shares(worst),
        "different: closest score (unmatched shares)": shares(closest),
        "margin ×": (f"{1 / max(worst.score, 1e-4):.1f} / {closest.score:.1f}"
                     if worst is not None and closest is not None and worst.reason is None else "–"),
        "ms a signature": _ms(p.sign_s),
        "ms a comparison": _ms(p.compare_s),
        "JSON bytes": f"{int(statistics.median(p.json_bytes))} ({max(p.json_bytes)})" if p.json_bytes else "–",
    }


def table(rows: list[dict[str, str]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="pipeline.likeness: same page captured twice vs the next page")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--pages", type=int, default=8, help="pages per book (each with its next page)")
    ap.add_argument("--layouts", default="d,a,c,e,f")
    ap.add_argument("--real", type=Path, default=REAL)
    ap.add_argument("--verbose", action="store_true", help="every score")
    a = ap.parse_args(argv)
    rows = []

    def report(p: Pairs) -> None:
        rows.append(summary(p))
        print(table([rows[-1]]), flush=True)
        if a.verbose:
            print("  same:", sorted(r.score for r in p.same))
            print("  different:", sorted(r.score for r in p.different))
            print("  same, worst:", max(p.same, key=lambda r: r.score))
            print("  different, closest:", min(p.different, key=lambda r: r.score))

    for key in a.layouts.split(","):
        if key in TUNING:
            p = Pairs(f"{key} (tuning, {len(TUNING[key])} books)")
            for year in TUNING[key]:
                book_pairs(key, year, a.pages, a.dpi, p)
            report(p)
            continue
        for year in HELD_OUT.get(key, (2016,)):
            p = Pairs(f"{key} (held out, book {year}{', ' + SEEN[year] if year in SEEN else ''})")
            book_pairs(key, year, a.pages, a.dpi, p)
            report(p)
    if a.real.is_dir():
        p = Pairs("real scans (held out, seen: rounds 1-3)")
        real_pairs(a.real, p)
        report(p)
    print()
    print(f"{a.dpi} dpi captures. Unmatched share: a capture's content ink with no ink of the other within "
          f"{likeness.MATCH_MM} mm once laid on it. Same picture: the better-matching capture ≤ "
          f"{likeness.SAME_MAX_UNMATCHED:.1%}, the other ≤ {likeness.OTHER_MAX_UNMATCHED:.0%}; score = the larger "
          "of the two shares over its threshold (≤ 1: same). Margin: 1/worst same score, closest different "
          "score. ms: median (max).")
    print(table(rows))


if __name__ == "__main__":
    main()
