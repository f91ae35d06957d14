"""Bad input where a parser meets the outside world: images, separator payloads, registers, config.

Each case must end in a clear outcome (a processed page, a quarantined capture or a held page with its
reason, a one-line refusal with its exit code), never a crash of the batch.
"""
import io
import resource
import struct
import time
import zipfile
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import pymupdf
import pytest
import zxingcpp
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from PIL import Image, ImageFile

from bench import corpus
from drivers.base import CaptureFailure
from drivers.replay import ReplayDriver
from capturefile import ImageLoadError, inspect_file
from pipeline.separator import (
    PayloadError,
    _check,
    make_payload,
    parse_payload,
    read_separator,
)
from station.catalog.books import BookId
from station.catalog.models import Capture, entry_by_number, open_catalog
from station.catalog.register import read_register
from station.cli import main
from station.errors import ConfigError, RegisterError
from station.export.workbook import write_export_workbook
from tests.helpers import run_cli

BOOK = "KS.2017.01"
DPI = 200


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code)


# =================================================================================================
# Images through `station process`


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_bilevel_png(path: Path, width: int, height: int) -> None:
    """A 1-bit PNG of any size written row by row: a few hundred KB for 20,000² pixels."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    chunks = [packer.compress(row) for _ in range(height)] + [packer.flush()]
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                     + png_chunk(b"IDAT", b"".join(chunks)) + png_chunk(b"IEND", b""))


def jpeg_bytes(img: Image.Image, **kw) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=85, dpi=(DPI, DPI), **kw)
    return buffer.getvalue()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) or 1))


def small_grey(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L").resize((40, 56), Image.Resampling.BOX), dtype=np.float32)


def qr_page(text: str, dpi: int, scale: int) -> np.ndarray:
    """A white A4 page with one QR code holding `text` pasted near the top left."""
    width, height = corpus.page_size_px(dpi)
    page = np.full((height, width), 255, np.uint8)
    code = np.asarray(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode).to_image(scale=scale))
    y, x = height // 8, width // 8
    page[y:y + code.shape[0], x:x + code.shape[1]] = code[: height - y, : width - x]
    return np.stack([page] * 3, axis=-1)


# source name -> what the batch should make of it ("content" = processed into the entry)
EXPECTED = {
    "03-truncated.jpg": "quarantined",
    "04-zero.jpg": "quarantined",
    "05-bomb.png": "quarantined",
    "06-jpeg-named.png": "content",
    "07-cmyk.jpg": "content",
    "08-grey16.png": "content",
    "09-palette.png": "content",
    "10-hostile-qr.jpg": "doubtful",
    "12-exif-rotated.jpg": "content",
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("badimages")
    home, caps = root / "home", root / "captures"
    entries = corpus.make_entries("KS", 2017, 1, 2, seed=3)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    cli(home, "separators", BOOK, "-o", root / "sheets.pdf")
    caps.mkdir()
    page = Image.fromarray(corpus.render_register_page(entries[0], 1, DPI, seed=1))
    upright = Image.fromarray(corpus.render_register_page(entries[1], 1, DPI, seed=2))
    corpus.save_image(caps / "01-sep.jpg", corpus.render_pdf_page(root / "sheets.pdf", 0, DPI), DPI)
    good = jpeg_bytes(page)
    (caps / "02-good.jpg").write_bytes(good)
    (caps / "03-truncated.jpg").write_bytes(good[: len(good) * 6 // 10])
    (caps / "04-zero.jpg").write_bytes(b"")
    write_bilevel_png(caps / "05-bomb.png", 20_000, 20_000)
    (caps / "06-jpeg-named.png").write_bytes(jpeg_bytes(page.rotate(0.5, fillcolor="white")))
    (caps / "07-cmyk.jpg").write_bytes(jpeg_bytes(page.convert("CMYK")))
    grey = np.asarray(page.convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(caps / "08-grey16.png", dpi=(DPI, DPI))
    with Image.open(caps / "08-grey16.png") as check:
        assert check.mode.startswith("I")
    page.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(caps / "09-palette.png", dpi=(DPI, DPI))
    hostile = "SHT:1:../../x:5:" + _check("SHT:1:../../x:5")
    corpus.save_image(caps / "10-hostile-qr.jpg", qr_page(hostile, DPI, 6), DPI)
    corpus.save_image(caps / "11-sep.jpg", corpus.render_pdf_page(root / "sheets.pdf", 1, DPI), DPI)
    # A camera held sideways: pixels stored rotated, EXIF orientation 6 says "turn 90° clockwise".
    exif = Image.Exif()
    exif[0x0112] = 6
    (caps / "12-exif-rotated.jpg").write_bytes(jpeg_bytes(upright.transpose(Image.Transpose.ROTATE_90), exif=exif))

    before = {p for p in root.rglob("*") if home not in p.parents and p != home}
    started = time.monotonic()
    result = cli(home, "process", caps, "--workers", "2")
    seconds = time.monotonic() - started
    after = {p for p in root.rglob("*") if home not in p.parents and p != home}
    with open_catalog(home)() as session:
        outcomes = {c.source_name: (c.pages[0].verdict.value, c.pages[0].reason, c.pages[0].held_reason)
                    for c in session.query(Capture)}
        pdfs = {n: home / entry_by_number(session, BOOK, n).pdf.file
                for n in (1, 2) if entry_by_number(session, BOOK, n).pdf is not None}
    return {"root": root, "home": home, "output": result.output, "outcomes": outcomes, "pdfs": pdfs,
                "before": before, "after": after, "seconds": seconds, "upright": upright}


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_each_bad_image_has_a_clear_outcome(batch, source):
    verdict, reason, _held = batch["outcomes"][source]
    assert verdict == EXPECTED[source], (source, verdict, reason)
    if verdict == "quarantined":
        assert reason and f"{source}: {reason}" in batch["output"]  # named in the summary with why
    if verdict == "doubtful":
        assert reason


def test_the_batch_goes_on_after_bad_captures(batch):
    out = batch["output"]
    assert "13 ảnh" not in out and "12 ảnh" in out, out  # every capture accounted for
    assert "3 ảnh hỏng" in out, out
    assert set(batch["pdfs"]) == {1, 2}  # both entries written despite the bad files between them


def test_bomb_refused_before_decoding(batch, tmp_path, monkeypatch):
    reason = batch["outcomes"]["05-bomb.png"][1]
    assert "too large" in reason or "too many pixels" in reason
    assert (batch["root"] / "captures" / "05-bomb.png").stat().st_size < 2_000_000
    # Inspecting it (what `process` does first) never decodes a pixel.

    def no_decoding(self, *a, **kw):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageLoadError):
        inspect_file(batch["root"] / "captures" / "05-bomb.png", 200_000_000)
    # Below Pillow's own bomb limit, the profile's page.max_pixels is what refuses it.
    write_bilevel_png(tmp_path / "big.png", 8_000, 8_000)
    failures = list(ReplayDriver(tmp_path, max_pixels=50_000_000).captures())
    assert len(failures) == 1 and isinstance(failures[0], CaptureFailure)
    assert "50000000" in failures[0].reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 100_000  # KB: no 64 MB decode


def test_exif_rotated_capture_comes_out_upright(batch):
    with pymupdf.open(batch["pdfs"][2]) as doc:
        page = doc[0]
        assert page.rect.height > page.rect.width  # portrait
        pix = page.get_pixmap(dpi=30, colorspace=pymupdf.csGRAY)
        out = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    want = small_grey(batch["upright"])
    got = small_grey(out)
    assert similarity(got, want) > similarity(got, want[::-1, ::-1]), "page came out upside down"


def test_hostile_qr_in_batch_is_held_and_writes_nothing_outside(batch):
    verdict, reason, held = batch["outcomes"]["10-hostile-qr.jpg"]
    assert verdict == "doubtful" and "invalid separator" in reason and held
    assert f"held: {held}" in batch["output"]
    assert batch["after"] == batch["before"]
    assert not list(batch["root"].parent.glob("x")) and not (batch["root"] / "x").exists()


# =================================================================================================
# Separator payloads in real QR codes


book_ids = st.builds(lambda t, y, v: f"{t}.{y}.{v:02d}", st.sampled_from(["KS", "KT", "KH", "CMC"]),
                     st.integers(1990, 2030), st.integers(1, 99))
valid_payloads = st.builds(lambda b, e: make_payload(b, sorted(e)).encode(), book_ids,
                           st.sets(st.integers(1, 99_999), min_size=1, max_size=4))
near_ours = st.builds(lambda mid, tail: f"SHT:{mid}:{tail}",
                      st.text(st.sampled_from("0123456789KS.:/+-"), max_size=20),
                      st.text(st.sampled_from("0123456789ABCDEF+:"), max_size=12))
mutated = st.builds(lambda text, i, c: text[:i % len(text)] + c + text[i % len(text) + 1:],
                    valid_payloads, st.integers(0, 200), st.sampled_from("0123456789ABZ.:+/\x00"))
anything = st.text(st.characters(codec="latin-1"), min_size=1, max_size=80)
FUZZ = {"count": 0}


def oracle(text: str):
    if not text.startswith("SHT:"):
        return None
    try:
        return parse_payload(text)
    except PayloadError:
        return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(valid_payloads, near_ours, mutated, anything))
def test_fuzzed_qr_payloads_never_raise_or_pass_invalid(text):
    FUZZ["count"] += 1
    page = qr_page(text, 150, 4)
    found = read_separator(page, 150)
    expected = oracle(text)
    if expected is None:
        assert found.payload is None, text
        if text.startswith("SHT:"):
            assert found.problem, text
    else:
        assert found.payload == expected and found.problem is None


def _signed(body: str) -> str:
    return f"{body}:{_check(body)}"


HOSTILE = {
    "path traversal": _signed("SHT:1:../../x:5"),
    "path traversal, book field": _signed("SHT:1:KS.2017.01/../..:5"),
    "absurd length": _signed("SHT:1:KS.2017.01:" + "+".join(str(n) for n in range(1, 700))),
    "control characters": _signed("SHT:1:KS.2017.01:5\x00\x1b[2J"),
    "another book's id, stale checksum": "SHT:1:KT.2018.02:5:" + _check("SHT:1:KS.2017.01:5"),
    "old version": _signed("SHT:0:KS.2017.01:5"),
    "future version": _signed("SHT:2:KS.2017.01:5"),
    "entry 0": _signed("SHT:1:KS.2017.01:0"),
    "entry 100000": _signed("SHT:1:KS.2017.01:100000"),
    "entries not increasing": _signed("SHT:1:KS.2017.01:5+3"),
    "too many entries": _signed("SHT:1:KS.2017.01:" + "+".join(map(str, range(1, 25)))),
    "bad checksum": "SHT:1:KS.2017.01:5:000000",
    "lowercase book": _signed("SHT:1:ks.2017.01:5"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_payload_is_refused_with_a_problem(name):
    found = read_separator(qr_page(HOSTILE[name], 150, 3), 150)
    assert found.payload is None and found.problem, (name, found)
    assert "\n" not in found.problem


def test_valid_payload_in_the_same_harness_is_read():
    # The harness itself works: a real payload pasted the same way is found.
    text = make_payload("KT.2018.02", [7, 8]).encode()
    found = read_separator(qr_page(text, 150, 4), 150)
    assert found.payload is not None and found.payload.book_id == "KT.2018.02"


# =================================================================================================
# Registers

HEADER = ["so", "quyenSo", "trangSo", "ngayDangKy", "nksHoTen", "ghiChu"]


def register(path: Path, rows, header=HEADER, merge=None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def row(n, name="Nguyễn Văn A", reg="03.02.2017"):
    return [n, "01/2017", n, reg, name, None]


def refused(tmp_path, path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "book", "add", BOOK, "--register",
                                       str(path)])
    assert result.exit_code == RegisterError.exit_code, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Lỗi")]
    assert len(lines) == 1 and str(path) in lines[0]
    return lines[0]


def test_formula_in_a_name_column_stays_text_and_never_reaches_the_export(tmp_path):
    formula = '=HYPERLINK("http://x","y")'
    path = register(tmp_path / "r.xlsx", [row(1), row(2, name=formula)])
    read = read_register(path, BookId.parse(BOOK))
    name_col = read.column_index("nksHoTen")
    assert read.entries[1].values[name_col] == formula
    cli(tmp_path / "home", "book", "add", BOOK, "--register", path)  # accepted: names are not checked
    out = tmp_path / "export.xlsx"
    write_export_workbook(out, read, {1: "KS.2017.01.2017-02-03.01.pdf", 2: "KS.2017.01.2017-02-03.02.pdf"})
    with zipfile.ZipFile(out) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s or ":f>" in s for s in sheets)
    assert any("HYPERLINK" in s for s in sheets)  # kept, as text


@pytest.mark.parametrize("bad_so, words", [
    (date(2017, 2, 3), "Dòng 3"),
    (5.5, "Dòng 3"),
    ("năm", "Dòng 3"),
    (-4, "Dòng 3"),
])
def test_wrong_type_in_so_is_refused_with_the_row(tmp_path, bad_so, words):
    path = register(tmp_path / "r.xlsx", [row(1), [bad_so, *row(2)[1:]]])
    line = refused(tmp_path, path)
    assert words in line and "Nguyễn" not in line  # no personal data in the message


def test_merged_header_cells(tmp_path):
    # A title merged over the table's top-left: the header row is found below it, by name.
    wb = Workbook()
    ws = wb.active
    ws.append(["SỔ ĐĂNG KÝ KHAI SINH"])
    ws.merge_cells("A1:F1")
    ws.append(HEADER)
    ws.merge_cells("E2:F2")  # a merged header cell over two columns
    ws.append(row(1))
    ws.append(row(2))
    wb.save(tmp_path / "r.xlsx")
    read = read_register(tmp_path / "r.xlsx", BookId.parse(BOOK))
    assert [e.number for e in read.entries] == [1, 2] and read.header_row == 2


def test_five_thousand_rows_read_in_reasonable_time(tmp_path):
    path = register(tmp_path / "r.xlsx", [row(n) for n in range(1, 5001)])
    started = time.monotonic()
    read = read_register(path, BookId.parse(BOOK))
    assert len(read.entries) == 5000
    assert time.monotonic() - started < 15


def test_xlsx_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(600):
                member.write(zeros)
    assert path.stat().st_size < 5_000_000
    line = refused(tmp_path, path)
    assert "too large" in line


@pytest.mark.parametrize("content", [b"", b"hello, not a workbook", b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0old"])
def test_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "r.xlsx"
    path.write_bytes(content)
    refused(tmp_path, path)


# =================================================================================================
# Config and profiles (cases beyond tests/test_config.py), through the CLI: one line, exit 3

CONFIG_CASES = [
    ("language: fr\n", "language"),
    ("workers: 100\n", "workers"),
    ("web:\n  token: short\n", "web.token"),
    ("hotfolders:\n  - folder: /x\n    order: random\n", "hotfolders.0.order"),
    ("hotfolders:\n  - folder: /x\n    settle_seconds: 0\n", "hotfolders.0.settle_seconds"),
    ("web: [1, 2]\n", "web"),
]
PROFILE_CASES = [
    ("page:\n  dpi: 50\n", "page.dpi"),
    ("page:\n  max_pixels: 0\n", "page.max_pixels"),
    ("page:\n  jpeg_quality_min: 90\n  jpeg_quality_max: 80\n", "page"),
    ("page:\n  blank_ink_ratio: 0.5\n", "page.blank_ink_ratio"),
    ("naming:\n  number_width: 9\n", "naming.number_width"),
    ("naming:\n  template: '{loai}/{nam}.{quyen}.{ngay}.{so}.pdf'\n", "naming"),
    ("export:\n  file_column: ''\n", "export.file_column"),
    ("page:\n  dpi: [200]\n", "page.dpi"),
]


def config_line(result, path, key):
    assert result.exit_code == ConfigError.exit_code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(path) in lines[0] and f"'{key}'" in lines[0], lines[0]


@pytest.mark.parametrize("text, key", CONFIG_CASES)
def test_bad_config_value_is_one_line_naming_file_and_key(tmp_path, text, key):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "profiles"])
    config_line(result, path, key)


@pytest.mark.parametrize("text, key", PROFILE_CASES)
def test_bad_profile_value_is_one_line_naming_file_and_key(tmp_path, text, key):
    (tmp_path / "profiles").mkdir()
    profile = tmp_path / "profiles" / "bad.yaml"
    profile.write_text(text, encoding="utf-8")
    (tmp_path / "config.yaml").write_text("profiles_dir: profiles\ndefault_profile: bad\n", encoding="utf-8")
    (tmp_path / "caps").mkdir()
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "--home",
                                       str(tmp_path / "home"), "process", str(tmp_path / "caps")])
    config_line(result, profile, key)
