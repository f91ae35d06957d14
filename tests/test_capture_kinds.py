"""Smoke test of bench/capture_kinds.py: a one-entry book per kind through `station process` and the
floor, every page filed right, and its section put into a results file (replaced, not repeated).
No timing is asserted."""
from bench import capture_kinds


def test_every_capture_kind_files_its_pages_and_writes_its_section(tmp_path):
    results = tmp_path / "results.md"
    results.write_text("# Benchmarks\n\n## 5. Scaling\n\ntable\n")
    capture_kinds.main(["--entries", "1", "--work", str(tmp_path / "work"), "--results", str(results)])
    capture_kinds.write_section(results, capture_kinds.section(results))  # a second run replaces it
    text = results.read_text()
    assert text.startswith("# Benchmarks\n\n## 5. Scaling\n\ntable\n") and text.count(capture_kinds.HEADING) == 1
    rows = [line for line in text.splitlines() if line.startswith("| ") and "capture kind" not in line]
    assert len(rows) == len(capture_kinds.KINDS)
    for row in rows:
        filed = row.split(" | ")[1]
        done, expected = filed.split("/")
        assert done == expected and int(done) > 0, row
