"""Write the sample book (register + captured images of a degraded scan) from the corpus.

`make run` calls it once; the same seed gives the same book on every machine, so the sample is bundled
as code instead of 20 MB of images.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench import corpus
from pipeline.separator import make_payload
from station.export.sheets import SheetSpec, render_sheets


def make_sample(out: Path, entries_count: int, seed: int) -> None:
    entries = corpus.make_entries("KS", 2017, 1, entries_count, seed=seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    corpus.write_register_xlsx(out / "register.xlsx", entries, with_stt=True)
    specs = [SheetSpec(make_payload("KS.2017.01", [e.number]), "Khai sinh", e.year, e.volume, (e.reg_date,))
             for e in entries]
    with tempfile.TemporaryDirectory() as tmp:
        sheets = Path(tmp) / "sheets.pdf"
        sheets.write_bytes(render_sheets(specs))
        corpus.write_captures(out / "captures", entries, sheets, seed=seed, dpi_choices=(200,),
                              upside_down_separators=1)
    (out / "captures" / "truth.json").rename(out / "truth.json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/sample-book/KS.2017.01"))
    parser.add_argument("--entries", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    make_sample(args.out, args.entries, args.seed)
