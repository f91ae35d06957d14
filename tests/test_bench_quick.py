"""Smoke test of `make bench`: the quick benchmark writes a report with every section and its plots.
No timing is asserted. OCRmyPDF (installed by `make bench`, not `make test`) is left out unless its
test is selected: `pytest -m ocrmypdf tests/test_bench_quick.py`."""
import sys
from pathlib import Path

import pytest

from bench import compare

SECTIONS = ["## Machine", "## Headline", "## 1. Throughput", "## 2. Size at equal legibility", "## 3. Deskew",
            "## 4. Separators", "## 5. Scaling"]


def run_quick(tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "results.md"
    compare.main(["--quick", "--work", str(tmp_path / "work"), "--out", str(out), *extra])
    for name in ("throughput.png", "size_vs_cer.png", "scaling.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 0
    return out.read_text(encoding="utf-8")


def test_quick_report_has_every_section(tmp_path):
    text = run_quick(tmp_path, "--skip", "ocrmypdf")
    assert [s for s in SECTIONS if s not in text] == []
    for row in ("| station ministry-color | colour | 20 |", "| unpaper + img2pdf script | colour |",
                "| floor: decode + JPEG 200 dpi color | colour | 20 |", "| station ministry-bilevel | grey | 20 |"):
        assert row in text
    assert "OCRmyPDF --deskew" not in text


@pytest.mark.ocrmypdf
@pytest.mark.skipif(not (Path(sys.executable).parent / "ocrmypdf").exists(),
                    reason="OCRmyPDF is installed by `make bench`")
def test_quick_report_with_ocrmypdf(tmp_path, request):
    if request.config.getoption("markexpr") != "ocrmypdf":
        pytest.skip("select with -m ocrmypdf")
    text = run_quick(tmp_path)
    assert "| OCRmyPDF --deskew --clean-final --rotate-pages -O 3 | colour |" in text
