"""A dense real page that no encoding brings under the size cap is exported with a warning, never
held back as doubtful: no rescan would make it smaller (the real 300 dpi brochure scan linn.png,
letter size, no DPI in the file, taken from cardinal.pdf in tests/data/realscans)."""
import io
import json
import zipfile
from pathlib import Path

import pymupdf
from fastapi.testclient import TestClient
from PIL import Image

from bench import corpus
from station.capture.daemon import Station
from station.catalog.models import open_catalog
from station.config import load_config
from station.web.app import create_app
from tests.helpers import add_rendered_book, run_cli

DATA = Path(__file__).parent / "data"

BOOK = "KS.2017.01"


def test_dense_real_page_is_exported_with_a_size_warning(tmp_path):
    home = tmp_path / "home"
    add_rendered_book(home, tmp_path, 1, seed=5)
    captures = tmp_path / "captures"
    captures.mkdir()
    corpus.save_image(captures / "0001.png", corpus.render_pdf_page(tmp_path / "sheets.pdf", 0, 300), 300)
    with pymupdf.open(DATA / "realscans" / "cardinal.pdf") as doc:
        (xref, *_), = doc[0].get_images(full=True)
        scan = Image.open(io.BytesIO(doc.extract_image(xref)["image"]))
    scan.save(captures / "0002.png")  # 2550×3300, saved without a DPI, as it was published
    # A profile whose cap is under what this page needs at its floors.
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "tight.yaml").write_text(
        "page:\n  mode: color\n  dpi: 200\n  min_dpi: 200\n  page_target_kb: 60\n  page_max_kb: 90\n"
        "  jpeg_quality_min: 30\n  read_entry_number: true\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"profiles_dir: {profiles}\ndefault_profile: tight\n")
    out = run_cli(home, "--config", config, "process", captures).output
    assert "1 trang nội dung" in out or "content" in out
    report = json.loads(run_cli(home, "--config", config, "status", BOOK, "--json").output)["books"][0]
    (entry,) = report["entries"]
    assert entry["status"] == "done" and not entry["reasons"], json.dumps(entry, ensure_ascii=False)
    assert entry["warnings"] and "cap" in entry["warnings"][0]
    assert any("size cap" in note for note in report["notes"])
    # The page reads no "Số: N": the book says its cross-check could not work, it does not stay silent.
    assert any("cross-check inactive" in note for note in report["notes"])
    exported = run_cli(home, "--config", config, "export", BOOK, "-o", tmp_path / "out")
    assert "size cap" in exported.output or "size cap" in (exported.stderr or "")
    with zipfile.ZipFile(tmp_path / "out" / f"{BOOK}.zip") as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 1
    verified = json.loads(run_cli(home, "--config", config, "verify", tmp_path / "out" / f"{BOOK}.zip",
                                  "--json").output)
    assert verified["ok"] and verified["warnings"]
    # The dashboard's API says the same: the book's notes, the entry's warning.
    client = TestClient(create_app(Station(load_config(config, home=home), open_catalog(home)), token=None),
                        base_url="http://127.0.0.1")
    book = client.get(f"/api/books/{BOOK}").json()
    assert any("size cap" in note for note in book["notes"]) and book["entries"][0]["warnings"]
    listed = client.get("/api/books").json()["books"][0]
    assert listed["notes"] == book["notes"]
