"""What several test modules share: the real CLI, called in-process."""
from click.testing import CliRunner

from station.cli import main


def run_cli(home, *args, code=0, operator=None):
    """Run `station --home HOME ARGS…`, assert its exit code, return the click Result."""
    prefix = ["--home", str(home)] + (["--operator", operator] if operator else [])
    result = CliRunner().invoke(main, [*prefix, *map(str, args)])
    assert result.exit_code == code, result.output
    return result
