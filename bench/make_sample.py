"""Write the bundled sample book `samples/KS.2017.01/` (register + captured images) from the corpus.

Run once by a developer: `.venv/bin/python -m bench.make_sample`. The result is committed so that
`make run` has real files to process; regenerate it when the corpus changes.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench import corpus
from pipeline.separator import make_payload
from station.sheets import SheetSpec, render_sheets


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
    parser.add_argument("--out", type=Path, default=Path("samples/KS.2017.01"))
    parser.add_argument("--entries", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    make_sample(args.out, args.entries, args.seed)
