from __future__ import annotations

import os
import stat
from datetime import date, datetime

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.catalog.books import BookId
from station.catalog.register import Register, RegisterEntry, read_register
from station.export.workbook import write_export_workbook

KS = BookId.parse("KS.2017.01")
DANGEROUS = ["=1+1", "=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1", "@SUM(A1)", "\tX", "\r=1",
             "#N/A", "=", "-"]


def build(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sổ KS"
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def reload_rows(path):
    wb = openpyxl.load_workbook(path)  # full mode: data_type 'f' would show a formula
    ws = wb.active
    return ws, [[c for c in row] for row in ws.iter_rows()]


def test_round_trip(tmp_path):
    rows = [["Tiêu đề sổ"],
            ["STT", "so", "quyenSo", "ngayDangKy", "nksHoTen", None, "ghiChu"],
            [1, 5, "01/2017", "09.01.2017", "Lê Văn An", "x", "=1+1"],
            [2, 6, "01/2017", datetime(2017, 1, 10), "Trần Bình", None, "-abc"],
            [3, 7, "01/2017", None, "Cao Cường", None, "@x"]]
    reg = read_register(build(tmp_path / "in.xlsx", rows), KS)
    out = tmp_path / "out.xlsx"
    write_export_workbook(out, reg, {5: "KS.2017.01.2017-01-09.05.pdf",
                                     6: "KS.2017.01.2017-01-10.06.pdf"})
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["in.xlsx", "out.xlsx"]  # no temp file left

    ws, cells = reload_rows(out)
    assert ws.title == "Sổ KS"
    assert [c.value for c in cells[0]] == ["STT", "so", "quyenSo", "ngayDangKy", "nksHoTen", None,
                                           "ghiChu", "tenTepDinhKem"]
    values = [[c.value for c in row] for row in cells[1:]]
    assert values[0] == [1, 5, "01/2017", "09.01.2017", "Lê Văn An", "x", "=1+1",
                         "KS.2017.01.2017-01-09.05.pdf"]
    assert values[1] == [2, 6, "01/2017", datetime(2017, 1, 10), "Trần Bình", None, "-abc",
                         "KS.2017.01.2017-01-10.06.pdf"]
    assert values[2] == [3, 7, "01/2017", None, "Cao Cường", None, "@x", None]
    assert cells[1][6].data_type == "s"          # formula text stays text
    assert cells[2][3].data_type == "d" and cells[2][3].number_format == "dd.mm.yyyy"
    assert cells[1][3].data_type == "s"          # text date stays text
    assert all(c.data_type != "f" for row in cells for c in row)
    # and the export reads back as a register with the same entries
    again = read_register(out, KS)
    assert [(e.number, e.reg_date) for e in again.entries] == [(e.number, e.reg_date)
                                                              for e in reg.entries]


def test_dangerous_text_never_a_formula(tmp_path):
    header = ("so", "ghiChu")
    entries = tuple(RegisterEntry(number=i + 1, reg_date=None, page_no=None, row_index=i + 2,
                                  values=(i + 1, text)) for i, text in enumerate(DANGEROUS))
    reg = Register(path="x", sheet="S", header=header, header_row=1, entries=entries)
    out = tmp_path / "out.xlsx"
    write_export_workbook(out, reg, {1: "=cmd|' /C calc'!A0"})
    _, cells = reload_rows(out)
    got = [row[1].value for row in cells[1:]]
    assert got == DANGEROUS
    for row in cells:
        for c in row:
            assert c.data_type != "f"
    assert cells[1][2].value == "=cmd|' /C calc'!A0" and cells[1][2].data_type == "s"
    # the values-only reader (data_only) also sees the text, not a cached result
    wb = openpyxl.load_workbook(out, data_only=True)
    assert [r[1] for r in wb.active.iter_rows(min_row=2, values_only=True)] == got


def test_existing_file_column_is_filled_not_duplicated(tmp_path):
    reg = Register(path="x", sheet="S", header=("so", "TenTepDinhKem"), header_row=1,
                   entries=(RegisterEntry(1, None, None, 2, (1, "old")),
                            RegisterEntry(2, None, None, 3, (2, "old"))))
    out = tmp_path / "out.xlsx"
    write_export_workbook(out, reg, {1: "a.pdf"})
    _, cells = reload_rows(out)
    assert [[c.value for c in row] for row in cells] == [["so", "TenTepDinhKem"], [1, "a.pdf"],
                                                         [2, None]]


def test_unknown_number_refused(tmp_path):
    reg = Register(path="x", sheet="S", header=("so",), header_row=1,
                   entries=(RegisterEntry(1, None, None, 2, (1,)),))
    with pytest.raises(ValueError, match="99"):
        write_export_workbook(tmp_path / "out.xlsx", reg, {99: "a.pdf"})
    assert os.listdir(tmp_path) == []


def test_overwrite_is_atomic_and_mode_0600(tmp_path):
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"old")
    os.chmod(out, 0o644)
    reg = Register(path="x", sheet="S", header=("so",), header_row=1,
                   entries=(RegisterEntry(1, date(2017, 1, 1), None, 2, (1,)),))
    write_export_workbook(out, reg, {})
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert openpyxl.load_workbook(out).active["A2"].value == 1


# Text XML 1.0 can carry (a register read from .xlsx never holds anything else).
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",),
                           blacklist_characters=[chr(c) for c in range(0x20) if c not in (9, 10, 13)]
                           + ["\ufffe", "\uffff"]),
    max_size=40)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(xml_text, min_size=1, max_size=5),
       prefix=st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "#", " "]))
def test_any_text_round_trips_as_plain_string(tmp_path, texts, prefix):
    texts = [prefix + t for t in texts]
    header = tuple(f"c{i}" for i in range(len(texts))) + ("so",)
    reg = Register(path="x", sheet="S", header=header, header_row=1,
                   entries=(RegisterEntry(1, None, None, 2, (*texts, 1)),))
    out = tmp_path / "h.xlsx"
    write_export_workbook(out, reg, {1: texts[0] or "x.pdf"})
    wb = openpyxl.load_workbook(out)
    row = list(wb.active.iter_rows(min_row=2, max_row=2))[0]
    for c, text in zip(row, [*texts, 1, texts[0] or "x.pdf"]):
        assert c.data_type != "f"
        if isinstance(text, str):
            if text == "":
                assert c.value is None  # Excel has no empty-string cell
            else:
                assert c.value == text and c.data_type == "s"


def test_formula_guard_cancels_write(tmp_path, monkeypatch):
    import station.export.workbook as workbook
    from openpyxl.cell import WriteOnlyCell

    def leaky(ws, text):  # simulate a regression: text written with inferred type
        return WriteOnlyCell(ws, text)

    monkeypatch.setattr(workbook, "text_cell", leaky)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"previous export")
    reg = Register(path="x", sheet="S", header=("so", "ghiChu"), header_row=1,
                   entries=(RegisterEntry(1, None, None, 2, (1, "=1+1")),))
    with pytest.raises(RuntimeError, match="formula"):
        write_export_workbook(out, reg, {})
    assert out.read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["out.xlsx"]
