"""Grouping rules through the real CLI: rescans, shared pages, held pages, unknown books, multi-page TIFF."""
import json
import zipfile

import numpy as np
import pymupdf
import pytest
from PIL import Image

from bench import corpus
from tests.helpers import assert_states_current, run_cli

BOOK = "KS.2017.01"
DPI = 200


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code).output


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("entries")
    entries = corpus.make_entries("KS", 2017, 1, 4, seed=5)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    pages = {(e.number, p): corpus.render_register_page(e, p, DPI, seed=e.number * 10 + p)
             for e in entries for p in (1, 2)}
    return root, entries, pages


def sheet(home, root, *args):
    out = root / f"sheet-{'-'.join(map(str, args))}.pdf"
    cli(home, "separators", BOOK, *args, "-o", out)
    return corpus.render_pdf_page(out, 0, DPI)


def write_batch(folder, images):
    folder.mkdir(parents=True)
    for i, img in enumerate(images, 1):
        corpus.save_image(folder / f"{i:04d}.jpg", img, DPI)


def rescanned(img):
    """The same sheet through the scanner again: never the same bytes twice."""
    noise = np.random.default_rng(img.size).normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def status(home):
    return {e["number"]: e for e in json.loads(cli(home, "status", BOOK, "--json"))["books"][0]["entries"]}


def test_rescan_is_kept_flagged_then_picked(setup, tmp_path):
    root, entries, pages = setup
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    s1, s2 = sheet(home, root, "--entries", "1"), sheet(home, root, "--entries", "2")
    write_batch(tmp_path / "b1", [s1, pages[1, 1], s2, pages[2, 1]])
    cli(home, "process", tmp_path / "b1")
    assert status(home)[1]["status"] == "done"
    # Entry 1 again, now with both its pages: a rescan, never a silent overwrite.
    write_batch(tmp_path / "b2", [rescanned(s1), rescanned(pages[1, 1]), pages[1, 2]])
    cli(home, "process", tmp_path / "b2")
    state = status(home)[1]
    assert state["status"] == "doubtful" and "2" in state["reasons"][0]
    assert_states_current(home)
    shown = cli(home, "entry", "show", BOOK, "1")
    assert "chưa chọn" in shown
    cli(home, "export", BOOK, "-o", tmp_path / "out", code=8)
    scans = [line.split()[2] for line in shown.splitlines() if "lượt quét" in line and "trang" in line]
    cli(home, "entry", "pick", BOOK, "1", scans[-1].rstrip(":"))
    state = status(home)[1]
    assert state["status"] == "done" and state["pages"] == 2
    assert_states_current(home)
    cli(home, "entry", "pick", BOOK, "1", "999", code=12)


def test_shared_page_goes_into_both_pdfs(setup, tmp_path):
    root, entries, pages = setup
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    write_batch(tmp_path / "b", [
        sheet(home, root, "--entries", "1"), pages[1, 1],
        sheet(home, root, "--shared", "2-3"), pages[2, 1],
        sheet(home, root, "--entries", "4"), pages[4, 1], pages[4, 2]])
    cli(home, "process", tmp_path / "b")
    state = status(home)
    assert all(state[n]["status"] == "done" for n in (1, 2, 3, 4))
    assert [state[n]["pages"] for n in (1, 2, 3, 4)] == [1, 1, 1, 2]
    cli(home, "export", BOOK, "-o", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / f"{BOOK}.zip") as archive:
        pdfs = {n.split(".")[-2]: archive.read(n) for n in archive.namelist() if n.endswith(".pdf")}
    shared_2 = pymupdf.open(stream=pdfs["02"])
    shared_3 = pymupdf.open(stream=pdfs["03"])
    assert shared_2.xref_stream_raw(shared_2[0].get_images()[0][0]) == \
        shared_3.xref_stream_raw(shared_3[0].get_images()[0][0])


def test_pages_before_any_separator_and_unknown_book_are_held(setup, tmp_path):
    root, entries, pages = setup
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    other_home = tmp_path / "other"
    cli(other_home, "book", "add", "KT.2018.02", "--entries", "1-3")
    out = tmp_path / "kt.pdf"
    cli(other_home, "separators", "KT.2018.02", "--entries", "1", "-o", out)
    foreign = corpus.render_pdf_page(out, 0, DPI)
    write_batch(tmp_path / "b", [pages[1, 1], sheet(home, root, "--entries", "2"), pages[2, 1],
                                 foreign, pages[3, 1]])
    output = cli(home, "process", tmp_path / "b")
    assert "trước tờ phân cách" in output and "KT.2018.02" in output
    data = json.loads(cli(home, "status", "--json"))
    assert data["held_pages"] == 3  # page before any sheet, the foreign sheet and the page after it
    state = status(home)
    assert state[2]["status"] == "done" and state[2]["pages"] == 1
    assert state[1]["status"] == "missing" and state[3]["status"] == "missing"


def test_multipage_tiff_is_one_capture_per_frame(setup, tmp_path):
    root, entries, pages = setup
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    frames = [Image.fromarray(img) for img in
              (sheet(home, root, "--entries", "3"), pages[3, 1], pages[3, 2])]
    (tmp_path / "b").mkdir()
    frames[0].save(tmp_path / "b" / "scan.tif", save_all=True, append_images=frames[1:],
                   dpi=(DPI, DPI), compression="tiff_lzw")
    cli(home, "process", tmp_path / "b")
    assert status(home)[3]["pages"] == 2


def test_content_scanned_below_the_profile_dpi_flags_its_entry(setup, tmp_path):
    root, entries, pages = setup
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    low = corpus.render_register_page(entries[0], 1, 150, seed=1)
    (tmp_path / "b").mkdir()
    corpus.save_image(tmp_path / "b" / "0001.jpg", sheet(home, root, "--entries", "1"), DPI)
    corpus.save_image(tmp_path / "b" / "0002.jpg", low, 150)
    cli(home, "process", tmp_path / "b")
    state = status(home)[1]
    assert state["status"] == "doubtful" and "150 dpi" in state["reasons"][0]


def test_same_folder_again_is_recognised_not_taken_for_a_rescan(setup, tmp_path):
    root, entries, pages = setup
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    write_batch(tmp_path / "b", [sheet(home, root, "--entries", "1"), pages[1, 1]])
    cli(home, "process", tmp_path / "b")
    output = cli(home, "process", tmp_path / "b")
    assert "2 ảnh đã có" in output
    state = status(home)[1]
    assert state["status"] == "done" and state["pages"] == 1
