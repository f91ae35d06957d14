"""What several test modules share: the real CLI, called in-process, and a rendered book in a home."""
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
