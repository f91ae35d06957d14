"""An overhead book scanner: separator sheets shot alone, the open book shot as spreads split at the gutter."""
import json

from bench import corpus
from tests.helpers import run_cli
from tests.test_spread import render_spread

BOOK = "KS.2017.01"
DPI = 200


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code).output


def test_spread_pages_join_their_entry_in_order(tmp_path):
    home = tmp_path / "home"
    cli(home, "book", "add", BOOK, "--entries", "3-4")
    # The spread's left page is entry 4's first page ("Số: 4" is read and checked): its separator.
    cli(home, "separators", BOOK, "--entries", "4", "-o", tmp_path / "s.pdf")
    caps = tmp_path / "caps"
    caps.mkdir()
    corpus.save_image(caps / "0001.jpg", corpus.render_pdf_page(tmp_path / "s.pdf", 0, DPI), DPI)
    corpus.save_image(caps / "0002.jpg", render_spread(DPI, 3, skew_deg=1.5).capture, DPI)
    cli(home, "process", caps, "--profile", "overhead-book")
    entry = json.loads(cli(home, "status", BOOK, "--json"))["books"][0]["entries"][1]
    assert entry["number"] == 4 and entry["status"] == "done" and entry["pages"] == 2, entry
