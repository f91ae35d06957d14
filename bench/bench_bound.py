"""Bound books (bench/bound.py) through the spread branch of process_capture, per curl level: pages
filed right (split within 3 mm of the fold), ruled lines' bow before and after
dewarp, worst side band (median of a 5 mm strip along an edge, share of the paper), seconds a page
for the bound-page step.

    OMP_THREAD_LIMIT=1 python -m bench.bench_bound [--dpi 200] [--seeds 3] [--curls 0,10,25,40]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402

from bench import bound  # noqa: E402
from pipeline import dewarp, geometry, spread, tone  # noqa: E402
from pipeline.settings import PageSettings  # noqa: E402

MAX_FOLD_ERROR_MM = 3.0
# Seeds past the ones the tests and the tuning use.
FIRST_SEED = 100


def fold_error_mm(s: bound.BoundSpread, g: spread.Gutter) -> float:
    h = s.capture.shape[0]
    ys = np.linspace(s.fold[0][1], s.fold[1][1], 9)
    return max(abs(g.x_at(y, h) - s.fold_x(y)) for y in ys) * 25.4 / s.dpi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--curls", default="0,10,25,40")
    parser.add_argument("--text-to-spine-mm", type=float, default=10.0)
    args = parser.parse_args()
    settings = PageSettings(fix_orientation=False)
    print(f"{args.dpi} dpi, writing {args.text_to_spine_mm:.0f} mm from the spine, "
          f"{args.seeds} spreads a curl level")
    print(f"{'curl mm':>8}{'filed right':>13}{'bow before':>12}{'bow after':>11}"
          f"{'band before':>13}{'band after':>12}{'s/page':>8}")
    for curl in (float(c) for c in args.curls.split(",")):
        filed = pages = 0
        bow_before, bow_after, band_before, band_after, seconds = [], [], [], [], []
        for k in range(args.seeds):
            seed = FIRST_SEED + k
            skew = float(np.random.default_rng(seed).uniform(-3, 3))
            s = bound.render_bound_spread(args.dpi, seed, curl_mm=curl, skew_deg=skew,
                                          text_to_spine_mm=args.text_to_spine_mm)
            result = spread.split_spread(s.capture, args.dpi)
            pages += 2
            if result.gutter is None or fold_error_mm(s, result.gutter) > MAX_FOLD_ERROR_MM:
                continue
            filed += 2
            for side, cut in enumerate(result.pages):
                straight = geometry.straighten(cut, args.dpi, settings, rectify_perspective=False)
                done = dewarp.flatten_bound_page(straight.image, args.dpi, side == 0,
                                                 straight.sheet_box.paper_rgb)
                seconds.append(done.seconds)
                flat = (s.left, s.right)[side]
                for image, bows, bands in ((straight.image, bow_before, band_before),
                                           (done.image, bow_after, band_after)):
                    out = tone.flatten_background(image, args.dpi)
                    followed = [b for b in bound.rule_bows(out, flat, s.rules[side], args.dpi,
                                                           side == 0) if b is not None]
                    bows.append(max(followed, default=np.nan))
                    bands.append(min(bound.side_bands(out, args.dpi).values()))
        print(f"{curl:>8.0f}{f'{filed}/{pages}':>13}{np.nanmax(bow_before):>12.2f}"
              f"{np.nanmax(bow_after):>11.2f}{min(band_before):>13.2f}{min(band_after):>12.2f}"
              f"{np.mean(seconds):>8.3f}")
    print("bow: largest distance of a ruled line from its straight fit (mm); band: worst edge "
          "strip's median brightness / paper's")


if __name__ == "__main__":
    main()
