"""Bad input gets one clear line naming the file and what to do, with a distinct exit code."""
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from bench import corpus
from station.cli import main
from station.errors import BookError, ConfigError, HomeError, IncompleteBookError, InputError, RegisterError

BOOK = "KS.2017.01"


def run(home, *args):
    return CliRunner().invoke(main, ["--home", str(home), *map(str, args)])


def one_line(result):
    lines = [line for line in result.output.splitlines() if line.startswith("Lỗi")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run(tmp_path / "home", "process", tmp_path / "empty")
    assert result.exit_code == InputError.exit_code and "empty" in one_line(result)


def test_missing_folder(tmp_path):
    result = run(tmp_path / "home", "process", tmp_path / "nope")
    assert result.exit_code == InputError.exit_code and "nope" in one_line(result)


def test_unknown_profile(tmp_path):
    (tmp_path / "caps").mkdir()
    result = run(tmp_path / "home", "process", tmp_path / "caps", "--profile", "sepia")
    assert result.exit_code == ConfigError.exit_code and "ministry-color" in one_line(result)


def test_unwritable_home(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run(blocker / "home", "status")
    assert result.exit_code == HomeError.exit_code and "home" in one_line(result)


def test_bad_book_id_and_unknown_book(tmp_path):
    result = run(tmp_path / "home", "book", "add", "KS-2017-01", "--entries", "1-3")
    assert result.exit_code == BookError.exit_code and "KS-2017-01" in one_line(result)
    result = run(tmp_path / "home", "status", "KT.2001.02")
    assert result.exit_code == BookError.exit_code and "KT.2001.02" in one_line(result)


def test_register_refused_with_rows(tmp_path):
    entries = corpus.make_entries("KS", 2017, 1, 3, seed=1)
    corpus.write_register_xlsx(tmp_path / "r.xlsx", entries)
    result = run(tmp_path / "home", "book", "add", "KS.2017.02", "--register", tmp_path / "r.xlsx")
    assert result.exit_code == RegisterError.exit_code and "quyenSo" in one_line(result)


def test_export_refused_while_entries_missing(tmp_path):
    entries = corpus.make_entries("KS", 2017, 1, 3, seed=1)
    corpus.write_register_xlsx(tmp_path / "r.xlsx", entries)
    assert run(tmp_path / "home", "book", "add", BOOK, "--register", tmp_path / "r.xlsx").exit_code == 0
    result = run(tmp_path / "home", "export", BOOK, "-o", tmp_path / "out")
    line = one_line(result)
    assert result.exit_code == IncompleteBookError.exit_code and "số 1, 2, 3: thiếu" in line
    assert not (tmp_path / "out" / f"{BOOK}.zip").exists()


def test_corrupt_and_dpi_less_images_are_reported_and_the_batch_goes_on(tmp_path):
    caps = tmp_path / "caps"
    caps.mkdir()
    page = corpus.render_register_page(corpus.make_entries("KS", 2017, 1, 1, seed=3)[0], 1, 150, seed=3)
    Image.fromarray(page).save(caps / "0001.png")  # no DPI written
    good = caps / "0002.jpg"
    Image.fromarray(page).save(good, dpi=(150, 150), quality=80)
    (caps / "0003.jpg").write_bytes(good.read_bytes()[: good.stat().st_size // 3])  # truncated
    (caps / "0004.tif").write_bytes(b"not a tiff at all")
    (caps / "0005.jpg").write_bytes(b"")
    Image.fromarray(page).save(caps / "0006.gif")
    (caps / "notes.txt").write_text("not a capture")
    result = run(tmp_path / "home", "process", caps)
    assert result.exit_code == 0, result.output
    assert "0003.jpg" in result.output and "0004.tif" in result.output and "0005.jpg" in result.output
    assert "0006.gif" in result.output and "không hỗ trợ" in result.output and "notes.txt" not in result.output
    assert "0001.png" in result.output and "đo theo khổ giấy" in result.output
    assert "4 ảnh hỏng" in result.output
    quarantine = tmp_path / "home" / "quarantine"
    assert sorted(p.name for p in quarantine.rglob("*") if p.is_file())[:1]


def test_home_and_files_are_private(tmp_path):
    assert run(tmp_path / "home", "book", "add", BOOK, "--entries", "1-3").exit_code == 0
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / "home").rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_real_cli_entry_point_exit_code(tmp_path):
    station = Path(sys.executable).parent / "station"
    env = dict(os.environ, STATION_HOME=str(tmp_path / "home"))
    done = subprocess.run([str(station), "status", "XX"], capture_output=True, text=True, env=env)
    assert done.returncode == BookError.exit_code and done.stderr.count("\n") == 1
