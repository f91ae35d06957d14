"""The floor: the least any tool must do per page — decode the capture, bring it to the output
resolution, encode one page image (JPEG, or CCITT G4 for bilevel). No PDF, no analysis.

    .venv/bin/python -m bench.floor CAPTURES_DIR OUT_DIR --mode color|grey|bilevel [--dpi 200] [--workers 2]
        [--capture-dpi N]   (the captures' true resolution, where their files say 72 or nothing)

Two worker processes, as the station runs on this 2-core machine.
"""
from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

JPEG_QUALITY = 60  # the encoding time hardly depends on it


def encode_one(source: Path, target_dir: Path, mode: str, dpi: int, true_dpi: int | None = None) -> int:
    with Image.open(source) as image:
        capture_dpi = true_dpi or image.info.get("dpi", (300, 300))[0]
        image = image.convert("RGB" if mode == "color" else "L")
    if capture_dpi != dpi:
        pixels = cv2.resize(np.asarray(image), None, fx=dpi / capture_dpi, fy=dpi / capture_dpi,
                            interpolation=cv2.INTER_AREA)
        image = Image.fromarray(pixels)
    if mode == "bilevel":
        grey = np.asarray(image)
        _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        target = target_dir / f"{source.stem}.tif"
        Image.fromarray(binary).convert("1").save(target, compression="group4", dpi=(dpi, dpi))
    else:
        target = target_dir / f"{source.stem}.jpg"
        image.save(target, quality=JPEG_QUALITY, dpi=(dpi, dpi))
    return target.stat().st_size


def _one_thread() -> None:
    cv2.setNumThreads(1)  # two processes on two cores, as the station's workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--mode", choices=("color", "grey", "bilevel"), required=True)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--capture-dpi", type=int, help="Take every capture to be at this resolution.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sources = sorted(args.captures.glob("*.jpg"))
    with ProcessPoolExecutor(args.workers, initializer=_one_thread) as pool:
        list(pool.map(encode_one, sources, [args.out] * len(sources), [args.mode] * len(sources),
                      [args.dpi] * len(sources), [args.capture_dpi] * len(sources)))


if __name__ == "__main__":
    main()
