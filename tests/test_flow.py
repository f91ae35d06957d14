"""The whole flow on a rendered, degraded book: book add → separators → process → status → export."""
import json
import zipfile

import cv2
import numpy as np
import pymupdf
import pytest
from sqlalchemy import select

from bench import corpus
from pipeline.deskew import measure_skew
from station.catalog.models import Capture, Entry, Page, Verdict, open_catalog
from tests.helpers import run_cli

BOOK = "KS.2017.01"


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code).output


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow")
    home = root / "home"
    entries = corpus.make_entries("KS", 2017, 1, 8, seed=11)
    corpus.write_register_xlsx(root / "register.xlsx", entries, with_stt=True)
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    cli(home, "separators", BOOK, "-o", root / "sheets.pdf")
    truths = corpus.write_captures(root / "captures", entries, root / "sheets.pdf", seed=11,
                                   upside_down_separators=1)
    output = cli(home, "process", root / "captures")
    return dict(root=root, home=home, entries=entries, truths=truths, process_output=output)


def test_process_summary_names_the_book(book):
    assert f"Sổ {BOOK}: 8/8 xong" in book["process_output"]


def test_every_capture_gets_its_true_verdict(book):
    sessions = open_catalog(book["home"])
    with sessions() as session:
        rows = session.execute(select(Capture.source_name, Page.verdict)
                               .join(Page, Page.capture_id == Capture.id)).all()
    got = {name: verdict.value for name, verdict in rows}
    want = {t.file: t.kind for t in book["truths"]}
    assert got == want


def test_status_json_counts(book):
    data = json.loads(cli(book["home"], "status", BOOK, "--json"))
    report = data["books"][0]
    assert (report["expected"], report["done"], report["missing"], report["doubtful"]) == (8, 8, 0, 0)
    assert data["held_pages"] == 0


def test_export_writes_one_correct_pdf_per_entry(book):
    out = book["root"] / "export"
    cli(book["home"], "export", BOOK, "-o", out)
    content = [t for t in book["truths"] if t.kind == "content"]
    with zipfile.ZipFile(out / f"{BOOK}.zip") as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".pdf"))
        expected_names = sorted(f"KS.2017.01.{e.reg_date:%Y-%m-%d}.{e.number:02d}.pdf" for e in book["entries"])
        assert names == expected_names
        manifest = json.loads(archive.read("manifest.json"))
        for entry in book["entries"]:
            name = f"KS.2017.01.{entry.reg_date:%Y-%m-%d}.{entry.number:02d}.pdf"
            doc = pymupdf.open(stream=archive.read(name))
            want_pages = sum(1 for t in content if t.entries == (entry.number,))
            assert doc.page_count == want_pages, name
            assert "Nguy" not in (doc.metadata.get("title") or "")  # book and entry only
            for page in doc:
                info = page.get_images()[0]
                width_in = page.rect.width / 72
                assert info[2] / width_in >= 199, "under 200 dpi"
                assert abs(page.rect.width - 595) < 12 and abs(page.rect.height - 842) < 12, "not A4"
            assert len(archive.read(name)) <= 200_000 * doc.page_count
        assert {f["file"] for f in manifest["files"]} == set(names)


def test_pdf_pages_are_the_entry_pages_in_book_order(book):
    sessions = open_catalog(book["home"])
    truth_by_file = {t.file: t for t in book["truths"]}
    with sessions() as session:
        for entry in session.scalars(select(Entry)):
            scan = entry.scans[0]
            files = [sp.page.capture.source_name for sp in scan.pages]
            assert [truth_by_file[f].page_in_entry for f in files] == list(range(1, len(files) + 1))
            assert all(truth_by_file[f].entries == (entry.number,) for f in files)
            doc = pymupdf.open(book["home"] / entry.pdf.file)
            for page, scan_page in zip(doc, scan.pages):
                xref = page.get_images()[0][0]
                embedded = doc.xref_stream_raw(xref)
                assert embedded == (book["home"] / scan_page.page.image_file).read_bytes()


def test_output_pages_are_straight_and_have_no_dark_frame(book):
    sessions = open_catalog(book["home"])
    with sessions() as session:
        pages = session.scalars(select(Page).where(Page.verdict == Verdict.content)).all()
        for page in pages:
            data = np.frombuffer((book["home"] / page.image_file).read_bytes(), np.uint8)
            grey = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
            skew = measure_skew(grey, page.dpi)
            assert abs(skew.angle_deg) <= 0.5, (page.capture.source_name, skew)
            band = max(4, grey.shape[1] // 60)
            for strip in (grey[:band], grey[-band:], grey[:, :band], grey[:, -band:]):
                assert strip.mean() > 200, ("dark frame", page.capture.source_name)
