"""A small book scanned once uninterrupted: the reference the crash, disk-full and hot-folder tests
compare with."""
import pytest

from bench.crash_campaign import QUICK_BOOK, prepare


@pytest.fixture(scope="session")
def scanned_book(tmp_path_factory):
    """3 entries, 6 captures at 200 dpi (bench/crash_campaign.py: its template home, its processed
    home and the SHA-256 of its export)."""
    return prepare(tmp_path_factory.mktemp("scanned-book"), **QUICK_BOOK)
