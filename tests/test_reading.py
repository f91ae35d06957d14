"""OCR in the page worker: the registration number read after the image work (with its evidence), a
timed-out or failed OCR that still files the page, and the searchable text layer under an image
that stays byte for byte the encoder's."""
from __future__ import annotations

import json
import os
from functools import lru_cache

import cv2
import numpy as np
import pymupdf
import pytest
import yaml

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


from bench import corpus, layouts
from pipeline import ocr
from pipeline.page import process_page
from pipeline.pdf import assemble_pdf
from pipeline.settings import PageSettings
from station.catalog.models import Page, open_catalog
from station.config import REPO_ROOT
from tests.helpers import run_cli, without_language_data

READ = PageSettings(read_entry_number=True)
ENTRY = corpus.make_entries("KS", 2017, 1, 60, seed=17)[41]


@lru_cache(maxsize=None)
def capture(dpi: int, page_in_entry: int = 1) -> np.ndarray:
    image = corpus.render_register_page(ENTRY, page_in_entry, dpi, seed=dpi)
    return corpus.degrade(image, dpi, corpus.Degradation(skew_deg=-2.5, noise_sigma=6.0, blur_sigma=0.8,
                                                         border_mm=6.0), seed=dpi)


@pytest.mark.parametrize("dpi", [200, 300])
def test_number_read_after_the_image_work(dpi):
    result = process_page(capture(dpi), dpi, READ)
    reading = result.reading
    assert result.verdict == "content" and reading.error is None
    assert (reading.number, reading.volume, reading.year) == (ENTRY.number, "01", 2017)
    assert reading.numbers == (ENTRY.number,)
    assert reading.confidence >= ocr.MIN_CONFIDENCE and result.seconds["read_number"] > 0
    # The box is in the encoded page's pixels (300 dpi captures are encoded at the profile's 200).
    x0, y0, x1, y1 = reading.box
    assert 0 <= x0 < x1 <= result.image.width and 0 <= y0 < y1 <= result.image.height
    page = cv2.imdecode(np.frombuffer(result.image.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert page[y0:y1, x0:x1].min() < 100  # ink: the words are inside the box
    evidence = cv2.imdecode(np.frombuffer(reading.evidence, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert evidence.shape[1] > evidence.shape[0] and len(reading.evidence) < 20_000


def test_continuation_page_reads_no_number():
    result = process_page(capture(200, 2), 200, READ)
    assert result.reading.number is None and result.reading.evidence is None and result.reading.numbers == ()


def test_ledger_page_gives_every_number_and_no_single_one():
    entries = corpus.make_entries("KS", 2011, 2, 40, seed=3)[20:24]
    page = layouts.render_layout_page("d", entries, 200, seed=4)
    result = process_page(corpus.degrade(page.image, 200, corpus.Degradation(skew_deg=1.5, noise_sigma=6.0,
                                                                             border_mm=6.0), seed=4), 200, READ)
    assert result.reading.numbers == page.numbers == tuple(e.number for e in entries)
    assert result.reading.number is None and result.reading.evidence is None


def test_reading_is_off_unless_the_profile_asks():
    result = process_page(capture(200), 200, PageSettings())
    assert result.reading is None and result.text_layer is None and "read_number" not in result.seconds


def test_ocr_timeout_files_the_page_all_the_same():
    result = process_page(capture(200), 200, READ.model_copy(update={"ocr_timeout_s": 0.01}))
    assert result.verdict == "content" and result.image.data
    assert result.reading.number is None and "timeout" in result.reading.error.lower()


def test_ocr_failure_files_the_page_all_the_same(monkeypatch, tmp_path):
    result = without_language_data(monkeypatch, tmp_path, process_page, capture(200), 200,
                                   READ.model_copy(update={"text_layer": True}))
    assert result.verdict == "content" and result.image.data
    assert result.reading.number is None and "vie" in result.reading.error
    assert result.text_layer is None and "vie" in result.text_layer_error


@pytest.fixture(scope="module")
def layered():
    """The same page encoded in colour (JPEG) and bilevel (CCITT G4), each with its text layer."""
    colour = process_page(capture(200), 200, PageSettings(text_layer=True))
    bilevel = process_page(capture(200), 200, PageSettings(text_layer=True, mode="bilevel", dpi=300))
    return colour, bilevel


def test_text_layer_is_searchable_with_diacritics(layered):
    colour, _ = layered
    assert colour.text_layer and colour.text_layer_error is None
    with pymupdf.open(stream=assemble_pdf([colour.image.data], "t", [colour.text_layer])) as doc:
        page = doc[0]
        for words in ("Quốc tịch", "Hạnh phúc", "Quyển số", "GIẤY KHAI SINH"):
            assert page.search_for(words), words
        # Invisible: rendered without the image, the page is blank.
        page.delete_image(page.get_images()[0][0])
        assert page.get_pixmap(dpi=30).samples == bytes([255]) * len(page.get_pixmap(dpi=30).samples)


def test_image_stays_byte_identical_under_the_text(layered):
    colour, bilevel = layered
    with pymupdf.open(stream=assemble_pdf([colour.image.data], "t", [colour.text_layer])) as doc:
        assert doc.xref_stream_raw(doc[0].get_images()[0][0]) == colour.image.data  # the JPEG itself
    plain = assemble_pdf([bilevel.image.data], "t")
    with pymupdf.open(stream=plain) as without, \
            pymupdf.open(stream=assemble_pdf([bilevel.image.data], "t", [bilevel.text_layer])) as layered_doc:
        g4 = without.xref_stream_raw(without[0].get_images()[0][0])
        assert layered_doc.xref_stream_raw(layered_doc[0].get_images()[0][0]) == g4
        assert layered_doc[0].rect == without[0].rect


def test_station_merges_the_text_layer_into_the_entry_pdf(tmp_path):
    """A profile with text_layer: true, through `station process`: the entry's PDF is searchable."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    profile = yaml.safe_load((REPO_ROOT / "profiles" / "ministry-color.yaml").read_text(encoding="utf-8"))
    profile["page"]["text_layer"] = True
    (profiles / "searchable.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"home": str(tmp_path / "home"), "profiles_dir": str(profiles),
                                  "default_profile": "searchable"}), encoding="utf-8")
    home = tmp_path / "home"
    run_cli(home, "--config", config, "book", "add", "KS.2017.01", "--entries", str(ENTRY.number))
    run_cli(home, "--config", config, "separators", "KS.2017.01", "-o", tmp_path / "s.pdf")
    captures = tmp_path / "captures"
    captures.mkdir()
    corpus.save_image(captures / "0001.jpg", corpus.render_pdf_page(tmp_path / "s.pdf", 0, 200), 200)
    corpus.save_image(captures / "0002.jpg", capture(200), 200)
    run_cli(home, "--config", config, "process", captures)
    with open_catalog(home)() as session:
        page = session.query(Page).filter(Page.text_layer_file.is_not(None)).one()
        assert page.read_number == ENTRY.number
        image = (home / page.image_file).read_bytes()
    (entry_pdf,) = (home / "pdfs").rglob("*.pdf")
    with pymupdf.open(entry_pdf) as doc:
        assert doc[0].search_for("Quốc tịch")
        assert doc.xref_stream_raw(doc[0].get_images()[0][0]) == image
