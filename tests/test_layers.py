"""Data flows one way: drivers → pipeline → station. Each part imports only what lies upstream of it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Top-level parts of the project each part must not import.
FORBIDDEN = {
    "capturefile.py": {"drivers", "pipeline", "station"},
    "drivers": {"pipeline", "station"},      # no books, no page processing
    "pipeline": {"drivers", "station"},      # a page in, a clean page and a verdict out
}


def _imported_parts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            parts.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts.add(node.module.split(".")[0])
    return parts


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_part_imports_nothing_downstream(part):
    root = REPO / part
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files, f"{part} has no Python files"
    wrong = {str(f.relative_to(REPO)): sorted(_imported_parts(f) & FORBIDDEN[part]) for f in files}
    assert not {f: p for f, p in wrong.items() if p}
