"""What several test modules share: the real CLI, called in-process, a rendered book in a home, and
Tesseract without its language data."""
from click.testing import CliRunner

from bench import corpus
from station.cli import main


def run_cli(home, *args, code=0, operator=None):
    """Run `station --home HOME ARGS…`, assert its exit code, return the click Result."""
    prefix = ["--home", str(home)] + (["--operator", operator] if operator else [])
    result = CliRunner().invoke(main, [*prefix, *map(str, args)])
    assert result.exit_code == code, result.output
    return result


def add_rendered_book(home, root, count: int, seed: int, book: str = "KS.2017.01") -> list[corpus.EntryInfo]:
    """`count` rendered entries: their register (root/register.xlsx) added as `book` to the home, and
    their separator sheets printed to root/sheets.pdf."""
    book_type, year, volume = book.split(".")
    entries = corpus.make_entries(book_type, int(year), int(volume), count, seed=seed)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    run_cli(home, "book", "add", book, "--register", root / "register.xlsx")
    run_cli(home, "separators", book, "-o", root / "sheets.pdf")
    return entries


def without_language_data(monkeypatch, empty_folder, fn, *args):
    """`fn(*args)` where Tesseract finds no language data (TESSDATA_PREFIX = an empty folder), in a
    thread of its own, which has no engine loaded yet; the cached data folder is forgotten after."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline import tesseract
    monkeypatch.setenv("TESSDATA_PREFIX", str(empty_folder))
    tesseract.tessdata_dir.cache_clear()
    try:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(fn, *args).result()
    finally:
        tesseract.tessdata_dir.cache_clear()


def assert_states_current(home):
    """Every book's stored states (station.review.states) are what entry_state says of it today."""
    from station.catalog.models import open_catalog
    from station.review.states import drifted
    maker = open_catalog(home)
    try:
        with maker() as session:
            drift = drifted(session.connection())
    finally:
        maker.kw["bind"].dispose()
    assert drift.checked and drift.differ == [], drift
