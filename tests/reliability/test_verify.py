"""`station verify`: a real export passes; each kind of tampering is found with the file named."""
import hashlib
import io
import json
import shutil
import zipfile

import img2pdf
import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image

from bench import corpus
from station.cli import main
from station.export.verify import VerifyError
from tests.helpers import add_rendered_book, run_cli

BOOK = "KS.2017.01"
DPI = 200


def cli(home, *args, code=0):
    return run_cli(home, *args, code=code)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A real 3-entry export: register → separators → process → export."""
    root = tmp_path_factory.mktemp("verify")
    home = root / "home"
    entries = add_rendered_book(home, root, 3, seed=11)
    batch = root / "batch"
    batch.mkdir()
    seq = 0
    for i, entry in enumerate(entries):
        for img in (corpus.render_pdf_page(root / "sheets.pdf", i, DPI),
                    corpus.render_register_page(entry, 1, DPI, seed=entry.number)):
            seq += 1
            corpus.save_image(batch / f"{seq:04d}.jpg", img, DPI)
    cli(home, "process", batch, "--workers", "2")
    cli(home, "export", BOOK, "-o", root / "out")
    return root / "out"


def verify(target, *extra, code):
    result = CliRunner().invoke(main, ["verify", str(target), *extra])
    assert result.exit_code == code, result.output
    return result


def copy_export(export, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(export, out)
    return out


def rewrite_zip(path, change):
    """Rebuild the zip with `change(members: dict[name, bytes])` applied (order kept)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), data)


def pdf_names(members):
    return sorted(n for n in members if n.endswith(".pdf"))


def manifest_entry(members, name):
    return next(f for f in json.loads(members["manifest.json"])["files"] if f["file"] == name)


def set_manifest(members, fn):
    manifest = json.loads(members["manifest.json"])
    fn(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()


def problems(result):
    data = json.loads(result.stdout)
    return data, [(p["file"], p["problem"]) for p in data["problems"]]


def test_real_export_is_clean_as_zip_folder_and_extracted(export, tmp_path):
    zip_path = export / f"{BOOK}.zip"
    result = verify(zip_path, code=0)
    assert "không có lỗi" in result.output
    verify(export, code=0)
    data = json.loads(verify(zip_path, "--json", code=0).stdout)
    assert data["ok"] and data["book"] == BOOK and data["files"] == 3 and data["pages"] == 3
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(extracted)
    verify(extracted, code=0)
    # Every shipped profile's floor and budget is met by a default export; bilevel wants 300 dpi.
    verify(zip_path, "--profile", "ministry-grey", code=0)


def test_flipped_byte_is_found(export, tmp_path):
    out = copy_export(export, tmp_path)
    target = {}

    def flip(members):
        name = pdf_names(members)[1]
        data = bytearray(members[name])
        data[len(data) // 2] ^= 0xFF
        members[name] = bytes(data)
        target["name"] = name

    rewrite_zip(out / f"{BOOK}.zip", flip)
    result = verify(out / f"{BOOK}.zip", code=VerifyError.exit_code)
    lines = [line for line in result.stdout.splitlines() if "SHA-256" in line]
    assert len(lines) == 1 and lines[0].startswith(target["name"])
    assert "Lỗi / error" in result.output  # the one-line summary on stderr


def test_dropped_file_is_found_in_zip_and_register(export, tmp_path):
    out = copy_export(export, tmp_path)
    dropped = {}

    def drop(members):
        dropped["name"] = pdf_names(members)[0]
        del members[dropped["name"]]

    rewrite_zip(out / f"{BOOK}.zip", drop)
    data, found = problems(verify(out / f"{BOOK}.zip", "--json", code=11))
    assert not data["ok"]
    files = [f for f, _ in found]
    assert dropped["name"] in files  # listed in the manifest, missing from the zip
    assert any(f == f"{BOOK}.xlsx" and dropped["name"] in p for f, p in found)  # register lists it


def test_unlisted_member_is_found(export, tmp_path):
    out = copy_export(export, tmp_path)

    def extra(members):
        name = pdf_names(members)[0]
        members[f"{BOOK}.2017-12-31.99.pdf"] = members[name]

    rewrite_zip(out / f"{BOOK}.zip", extra)
    _, found = problems(verify(out / f"{BOOK}.zip", "--json", code=11))
    assert any(f == f"{BOOK}.2017-12-31.99.pdf" and "manifest" in p for f, p in found)


@pytest.mark.parametrize("evil", ["../evil.pdf", "/etc/x", "sub/../../x.pdf", "C:\\x.pdf"])
def test_path_traversal_member_is_found(export, tmp_path, evil):
    out = copy_export(export, tmp_path)
    rewrite_zip(out / f"{BOOK}.zip", lambda members: members.__setitem__(evil, b"%PDF-1.4 x"))
    _, found = problems(verify(out / f"{BOOK}.zip", "--json", code=11))
    assert [(f, "unsafe" in p) for f, p in found] == [(evil, True)]
    assert not (tmp_path / "evil.pdf").exists()


@pytest.mark.parametrize("bad", [
    "KS.2017.01.05.pdf",                 # fewer than six parts
    "KS.2017.01.2017-02-30.05.pdf",      # no such date
    "KT.2017.01.2017-02-03.05.pdf",      # another book
    "KS.2017.01.2017-02-03.five.pdf",    # not a number
])
def test_badly_renamed_pdf_is_found(export, tmp_path, bad):
    out = copy_export(export, tmp_path)

    def rename(members):
        name = pdf_names(members)[2]
        members[bad] = members.pop(name)
        set_manifest(members, lambda m: [f.update(file=bad) for f in m["files"] if f["file"] == name])

    rewrite_zip(out / f"{BOOK}.zip", rename)
    (out / f"{BOOK}.xlsx").unlink()  # only the name check speaks
    _, found = problems(verify(out / f"{BOOK}.zip", "--json", code=11))
    assert [f for f, _ in found] == [bad], found


def test_low_dpi_page_is_found(export, tmp_path):
    out = copy_export(export, tmp_path)
    img = Image.fromarray(np.full((1169, 827), 230, np.uint8))  # A4 at 100 dpi
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", dpi=(100, 100))
    low = img2pdf.convert(buffer.getvalue())
    target = {}

    def swap(members):
        name = pdf_names(members)[0]
        members[name] = low
        target["name"] = name
        set_manifest(members, lambda m: [f.update(sha256=hashlib.sha256(low).hexdigest(), bytes=len(low), pages=1)
                                         for f in m["files"] if f["file"] == name])

    rewrite_zip(out / f"{BOOK}.zip", swap)
    _, found = problems(verify(out / f"{BOOK}.zip", "--json", code=11))
    assert len(found) == 1 and found[0][0] == target["name"] and "100 dpi" in found[0][1]


def test_page_count_and_size_budget(export, tmp_path):
    out = copy_export(export, tmp_path)
    target = {}

    def lie(members):
        name = pdf_names(members)[0]
        target["name"] = name
        set_manifest(members, lambda m: [f.update(pages=2) for f in m["files"] if f["file"] == name])

    rewrite_zip(out / f"{BOOK}.zip", lie)
    _, found = problems(verify(out / f"{BOOK}.zip", "--json", code=11))
    assert [f for f, _ in found] == [target["name"]] and "2" in found[0][1]
    # A tiny budget: every PDF is over it. That is a warning, not a fault: the encoder meets the
    # cap down to the profile's floors, and no rescan would make a dense page smaller.
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "tiny.yaml").write_text("page:\n  page_target_kb: 1\n  page_max_kb: 1\n")
    (tmp_path / "config.yaml").write_text(f"profiles_dir: {profiles}\n")
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.yaml"), "verify",
                                       str(export / f"{BOOK}.zip"), "--profile", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and not data["problems"]
    assert len(data["warnings"]) == 3 and all("KB" in w["warning"] and "A4" in w["warning"] for w in data["warnings"])


def test_register_that_disagrees_is_found(export, tmp_path):
    out = copy_export(export, tmp_path)
    xlsx = out / f"{BOOK}.xlsx"
    wb = load_workbook(xlsx)
    ws = wb.worksheets[0]
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.endswith(".pdf"):
                cell.value = "KS.2017.01.2017-01-01.77.pdf"
                break
        else:
            continue
        break
    wb.save(xlsx)
    _, found = problems(verify(out, "--json", code=11))
    assert found and all(f == xlsx.name for f, _ in found)
    assert any("77" in p for _, p in found)


def test_not_a_zip_and_missing_target(tmp_path):
    (tmp_path / "KS.2017.01.zip").write_bytes(b"not a zip at all")
    _, found = problems(verify(tmp_path / "KS.2017.01.zip", "--json", code=11))
    assert found[0][0] == "KS.2017.01.zip"
    result = verify(tmp_path / "nope.zip", code=5)
    assert "nope.zip" in result.output
