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


def _imported_modules(path: Path, top_level_only: bool = False) -> set[str]:
    """Full module names imported (`from station import centre` counts as station.centre); with
    `top_level_only`, only the imports run when the module loads, not those inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    modules = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _centre(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == "station.centre" or m.startswith("station.centre."))


def test_the_station_never_imports_the_centre():
    """The centre (station/centre) uses the station's catalog; no part of the station uses the centre, so
    a station runs without PostgreSQL. Only the CLI's centre commands load it, inside their functions."""
    station = REPO / "station"
    wrong = {str(f.relative_to(REPO)): _centre(_imported_modules(f)) for f in sorted(station.rglob("*.py"))
             if (station / "centre") not in f.parents and f != station / "cli.py"}
    assert not {f: m for f, m in wrong.items() if m}
    assert not _centre(_imported_modules(station / "cli.py", top_level_only=True))


def test_the_centre_processes_no_pages():
    """The centre keeps what stations made; it drives no scanner and processes no page."""
    files = sorted((REPO / "station" / "centre").rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(REPO)): sorted(_imported_parts(f) & {"drivers", "pipeline"}) for f in files}
    assert not {f: p for f, p in wrong.items() if p}


def test_the_sync_speaks_to_the_centre_only_through_its_protocol():
    """station/sync (the station's side) never imports the centre; the centre takes only the wire format
    from it (station/sync/protocol.py), never the station's client or its catalog reading."""
    sync = REPO / "station" / "sync"
    files = sorted(sync.rglob("*.py"))
    assert files
    assert not {str(f.relative_to(REPO)): _centre(_imported_modules(f)) for f in files if _centre(_imported_modules(f))}
    centre_uses = {m for f in (REPO / "station" / "centre").rglob("*.py") for m in _imported_modules(f)
                   if m.startswith("station.sync")}
    assert centre_uses and all(m == "station.sync.protocol" or m.startswith("station.sync.protocol.")
                               for m in centre_uses), centre_uses
