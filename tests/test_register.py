from __future__ import annotations

import re
from datetime import date, datetime

import openpyxl
import pytest

from station.catalog.books import BookId, parse_entry_range
from station.catalog.register import read_register
from station.errors import BookError, RegisterError

KS = BookId.parse("KS.2017.01")
HEADER = ["so", "quyenSo", "trangSo", "ngayDangKy", "loaiDangKy", "nksHoTen", "nksNgaySinh"]
SECRET_NAME = "Nguyễn Thị Bí Mật"
SECRET_BIRTH = "17.03.2016"


def make_xlsx(path, rows, title="DangKy"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def good_rows():
    return [
        HEADER,
        [1, "01/2017", 1, "09.01.2017", "Đăng ký mới", "Lê Văn An", "01.01.2017"],
        [2, "01/2017", 1, "10/01/2017", "Đăng ký mới", "Trần Thị Bình", "02.01.2017"],
        [3, "01/2017", 2, "3.2.2017", "Đăng ký lại", "Phạm Văn Cường", "03.01.2017"],
    ]


def refused(path) -> RegisterError:
    with pytest.raises(RegisterError) as info:
        read_register(path, KS)
    assert info.value.exit_code == 6
    return info.value


# ---------------------------------------------------------------------------------------- books


def test_book_id_parse_and_forms():
    b = BookId.parse(" KS.2017.1 ")
    assert b == BookId("KS", 2017, 1)
    assert str(b) == "KS.2017.01"
    assert b.quyen_so == "01/2017"
    assert str(BookId.parse("CMC.1995.120")) == "CMC.1995.120"


@pytest.mark.parametrize("text", ["ks.2017.01", "K.2017.01", "KSABC.2017.01", "KS.17.01",
                                  "KS.1899.01", "KS.2101.01", "KS.2017.00", "KS.2017.1234",
                                  "KS-2017-01", "KS.2017.01.x", "", "KS.２０１７.01", "KS.2017.01\n"])
def test_book_id_refused(text):
    if text == "KS.2017.01\n":  # trailing whitespace is stripped: accepted
        assert BookId.parse(text) == BookId("KS", 2017, 1)
        return
    with pytest.raises(BookError):
        BookId.parse(text)


def test_book_id_lowercase_hint():
    with pytest.raises(BookError, match="KS.2017.01"):
        BookId.parse("ks.2017.01")


def test_book_id_direct_construction_validated():
    with pytest.raises(BookError):
        BookId("K/S", 2017, 1)
    with pytest.raises(BookError):
        BookId("KS", 2017, 0)


def test_entry_range():
    assert parse_entry_range("1-3, 5 ,3,10-11") == [1, 2, 3, 5, 10, 11]
    assert parse_entry_range("07") == [7]
    assert len(parse_entry_range("1-100000")) == 100000


@pytest.mark.parametrize("text", ["", "0", "3-1", "1,,2", "a", "1-", "-5", "1-2-3", "1-100001",
                                  "1-60000,70000-130000", "１"])
def test_entry_range_refused(text):
    with pytest.raises(BookError):
        parse_entry_range(text)


# ------------------------------------------------------------------------------------- register


def test_good_register(tmp_path):
    p = make_xlsx(tmp_path / "ks.xlsx", good_rows())
    reg = read_register(p, KS)
    assert reg.header == tuple(HEADER)
    assert reg.header_row == 1
    assert reg.sheet == "DangKy"
    assert [e.number for e in reg.entries] == [1, 2, 3]
    assert [e.row_index for e in reg.entries] == [2, 3, 4]
    assert [e.reg_date for e in reg.entries] == [date(2017, 1, 9), date(2017, 1, 10),
                                                 date(2017, 2, 3)]
    assert [e.page_no for e in reg.entries] == ["1", "1", "2"]
    assert reg.entries[0].values == (1, "01/2017", 1, "09.01.2017", "Đăng ký mới", "Lê Văn An",
                                     "01.01.2017")


def test_stt_first_and_title_rows(tmp_path):
    rows = [["SỔ ĐĂNG KÝ KHAI SINH"], ["Quyển số 01/2017"],
            ["STT", *HEADER],
            [1, 5, "01/2017", 3, "09.01.2017", "x", "y", "z"],
            [2, "06", "01", 3, None, "x", "y", "z"]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert reg.header_row == 3
    assert reg.header[0] == "STT"
    assert [(e.number, e.row_index) for e in reg.entries] == [(5, 4), (6, 5)]
    assert reg.entries[1].reg_date is None


def test_stt_in_the_middle_and_case_insensitive_header(tmp_path):
    rows = [["quyenSo", "STT", " SO ", "NgayDangKy"], ["01/2017", 1, 12, "01.02.2017"]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert reg.entries[0].number == 12
    assert reg.entries[0].reg_date == date(2017, 2, 1)


def test_header_after_row_10_not_found(tmp_path):
    rows = [["tiêu đề"]] * 10 + [HEADER, [1, "01/2017", 1, "09.01.2017"]]
    err = refused(make_xlsx(tmp_path / "ks.xlsx", rows))
    assert "so" in err.message and len(err.problems) == 1


def test_date_styles(tmp_path):
    rows = [["so", "ngayDangKy"],
            [1, "09.01.2017"], [2, "09/01/2017"], [3, "9.1.2017"], [4, datetime(2017, 1, 9, 0, 0)],
            [5, date(2017, 1, 9)], [6, None], [7, "  "], [8, "1/12/2017"]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert [e.reg_date for e in reg.entries] == [date(2017, 1, 9)] * 5 + [None, None,
                                                                           date(2017, 12, 1)]


def test_date_year_far_from_book_is_not_an_error(tmp_path):
    rows = [["so", "ngayDangKy"], [1, "09.01.1990"]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert reg.entries[0].reg_date == date(1990, 1, 9)


def test_so_forms(tmp_path):
    rows = [["so"], [1], ["2"], ["03"], [4.0], [" 5 "]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert [e.number for e in reg.entries] == [1, 2, 3, 4, 5]


def test_all_problems_reported_at_once_with_rows(tmp_path):
    rows = [HEADER,
            [1, "01/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],   # row 2 ok
            [1, "01/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],   # row 3 duplicate
            [None, "01/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],  # row 4 missing so
            ["5a", "01/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],  # row 5 bad so
            [5.5, "01/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],   # row 6 bad so
            [7, "01/2017", 1, "31.02.2017", "", SECRET_NAME, SECRET_BIRTH],     # row 7 no such date
            [8, "01/2017", 1, "2017-01-09", "", SECRET_NAME, SECRET_BIRTH],     # row 8 bad date
            [9, "02/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],     # row 9 quyenSo
            [10, "01/2016", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],    # row 10 quyenSo
            [11, "quyển một", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],  # row 11 unreadable
            [0, "01/2017", 1, "09.01.2017", "", SECRET_NAME, SECRET_BIRTH],     # row 12 zero
            [SECRET_NAME, "01/2017", 1, "09.01.2017", "", "", ""],              # row 13 text so
            ]
    err = refused(make_xlsx(tmp_path / "ks.xlsx", rows))
    probs = err.problems
    assert len(probs) == 11

    def one(row: int) -> str:
        found = [p for p in probs if re.match(rf"Dòng {row}:", p)]
        assert len(found) == 1, (row, probs)
        assert f"row {row}:" in found[0]
        return found[0]

    assert "trùng với dòng 2" in one(3) and "duplicates row 2" in one(3)
    assert "thiếu số đăng ký (so)" in one(4) and "missing registration number" in one(4)
    assert "'5a'" in one(5) and "positive whole number" in one(5)
    assert "positive whole number" in one(6)
    assert "ngayDangKy" in one(7)
    assert "ngayDangKy" in one(8)
    assert "quyenSo" in one(9) and "01/2017" in one(9) and "KS.2017.01" in one(9)
    assert "does not match" in one(10)
    assert "unreadable" in one(11)
    assert "positive whole number" in one(12)
    assert "positive whole number" in one(13)
    # every problem is in the one message (up to 20 shown), with the file name
    assert str(tmp_path / "ks.xlsx") in err.message
    for row in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13):
        assert f"Dòng {row}:" in err.message
    # no personal data in the message
    for text in [err.message, *probs]:
        assert SECRET_NAME not in text and SECRET_BIRTH not in text
        assert "Nguyễn" not in text


def test_quyen_so_forms_accepted(tmp_path):
    rows = [["so", "quyenSo"], [1, "1/2017"], [2, "01/2017"], [3, "01"], [4, 1], [5, " 01 / 2017 "],
            [6, None], [7, datetime(2017, 1, 1)]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert len(reg.entries) == 7


def test_formula_in_key_columns(tmp_path):
    rows = [["so", "quyenSo", "ngayDangKy", "ghiChu"],
            ["=1+1", "01/2017", "09.01.2017", "ok"],
            [2, '="01/2017"', "09.01.2017", "ok"],
            [3, "01/2017", "=DATE(2017,1,9)", "ok"],
            [4, "01/2017", "09.01.2017", "=HYPERLINK(\"http://x\")"]]
    err = refused(make_xlsx(tmp_path / "ks.xlsx", rows))
    assert len(err.problems) == 3
    for row, col in ((2, "so"), (3, "quyenSo"), (4, "ngayDangKy")):
        [p] = [p for p in err.problems if p.startswith(f"Dòng {row}:")]
        assert "công thức" in p and "formula" in p and col in p


def test_formula_in_other_column_kept_as_text(tmp_path):
    rows = [["so", "ghiChu"], [1, "=HYPERLINK(\"http://x\")"]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert reg.entries[0].values == (1, "=HYPERLINK(\"http://x\")")


def test_not_an_xlsx(tmp_path):
    p = tmp_path / "ks.xlsx"
    p.write_text("so,quyenSo\n1,01/2017\n", encoding="utf-8")
    err = refused(p)
    assert len(err.problems) == 1 and ".xlsx" in err.problems[0]


def test_old_xls_and_damaged_zip(tmp_path):
    p = tmp_path / "ks.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert ".xls" in refused(p).problems[0]
    q = tmp_path / "broken.xlsx"
    q.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    assert len(refused(q).problems) == 1


def test_missing_file_and_folder(tmp_path):
    assert "not found" in refused(tmp_path / "nope.xlsx").problems[0]
    assert "folder" in refused(tmp_path).problems[0]


def test_no_so_column(tmp_path):
    err = refused(make_xlsx(tmp_path / "ks.xlsx", [["stt", "quyenSo"], [1, "01/2017"]]))
    assert len(err.problems) == 1 and "'so'" in err.problems[0]


def test_shuffled_columns(tmp_path):
    header = ["nksHoTen", "ngayDangKy", "ghiChu", "trangSo", "so", "quyenSo"]
    rows = [header, ["A", "09.01.2017", "", 7, 12, "01/2017"], ["B", "10.01.2017", "", "8", "13", "01"]]
    reg = read_register(make_xlsx(tmp_path / "ks.xlsx", rows), KS)
    assert [(e.number, e.reg_date, e.page_no) for e in reg.entries] == [
        (12, date(2017, 1, 9), "7"), (13, date(2017, 1, 10), "8")]
    assert reg.header == tuple(header)


def test_empty_rows_skipped_and_merged_header(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["so", "quyenSo", "nhom", None, "ghiChu"])
    ws.merge_cells("C1:D1")
    ws.append([1, "01/2017", "a", "b", "c"])
    ws.append([None, None, None, None, None])
    ws.append(["", "  ", None])
    ws.append([2, "01/2017", "a", "b", "c", None, "lạc"])
    p = tmp_path / "ks.xlsx"
    wb.save(p)
    reg = read_register(p, KS)
    assert reg.header == ("so", "quyenSo", "nhom", "col4", "ghiChu", "col6", "col7")
    assert reg.unnamed_columns == frozenset({3, 5, 6})
    assert [e.row_index for e in reg.entries] == [2, 5]
    assert reg.entries[0].values == (1, "01/2017", "a", "b", "c", None, None)
    assert reg.entries[1].values[-1] == "lạc"


def test_second_sheet_used_when_first_has_no_header(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Hướng dẫn"])
    ws = wb.create_sheet("Data")
    ws.append(["so"])
    ws.append([3])
    p = tmp_path / "ks.xlsx"
    wb.save(p)
    reg = read_register(p, KS)
    assert reg.sheet == "Data" and reg.entries[0].number == 3


def test_duplicate_key_column(tmp_path):
    err = refused(make_xlsx(tmp_path / "ks.xlsx", [["so", "ngayDangKy", "ngaydangky"], [1, None, None]]))
    assert "ngayDangKy" in err.problems[0] and "Dòng 1:" in err.problems[0]


def test_too_many_rows(tmp_path, monkeypatch):
    import station.catalog.register as register
    monkeypatch.setattr(register, "MAX_DATA_ROWS", 5)
    rows = [["so"]] + [[i] for i in range(1, 7)]
    err = refused(make_xlsx(tmp_path / "ks.xlsx", rows))
    assert len(err.problems) == 1 and "5" in err.problems[0]
    rows = [["so"]] + [[i] for i in range(1, 6)]
    assert len(read_register(make_xlsx(tmp_path / "ok.xlsx", rows), KS).entries) == 5


def test_wrong_dimension_element_does_not_truncate(tmp_path):
    """Some generators write <dimension ref="A1"/>; read-only mode must still see every row."""
    import zipfile
    p = make_xlsx(tmp_path / "ks.xlsx", [["so"], [1], [2], [3]])
    q = tmp_path / "bad_dim.xlsx"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(q, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
                assert b'<dimension ref="A1"/>' in data
            dst.writestr(item, data)
    assert [e.number for e in read_register(q, KS).entries] == [1, 2, 3]


# ------------------------------------------------------------------ a commune's pile of registers

def test_folder_of_registers_adds_each_book_and_refuses_a_bad_file_alone(tmp_path):
    import json
    from tests.helpers import run_cli
    folder = tmp_path / "so-dang-ky"
    folder.mkdir()
    make_xlsx(folder / "KS.2017.01.xlsx", good_rows())
    kt = [["so", "quyenSo", "trangSo", "ngayDangKy"], [1, "02/2018", 1, "09.01.2018"], [2, "02/2018", 2, "10.01.2018"]]
    make_xlsx(folder / "KT.2018.02.xlsx", kt)
    bad = good_rows() + [[2, "01/2017", 3, "31.02.2017", "Đăng ký mới", "X", "01.01.2017"]]   # 2 twice, bad date
    make_xlsx(folder / "KS.2017.02.xlsx", bad)
    make_xlsx(folder / "so cu.xlsx", good_rows())                     # not a book id
    (folder / "~$KS.2017.01.xlsx").write_bytes(b"lock")                  # Excel's lock file: ignored
    (folder / "ghi-chu.txt").write_text("not a register")               # not .xlsx: ignored
    home = tmp_path / "home"
    out = run_cli(home, "book", "add", "--registers", folder, code=6).output
    lines = out.splitlines()
    assert any(line.startswith("✔ KS.2017.01.xlsx") and "3 trường hợp" in line for line in lines)
    assert any(line.startswith("✔ KT.2018.02.xlsx") and "2 trường hợp" in line for line in lines)
    refused_line = next(line for line in lines if line.startswith("✘ KS.2017.02.xlsx"))
    assert "dòng" in refused_line or "row" in refused_line                 # its rows are named
    assert any(line.startswith("✘ so cu.xlsx") for line in lines)
    assert not any("~$" in line or "ghi-chu" in line for line in lines)
    assert "2 sổ đã thêm, 0 đã có, 2 bị từ chối" in out
    status = json.loads(run_cli(home, "status", "--json").output)
    assert sorted(b["book"] for b in status["books"]) == ["KS.2017.01", "KT.2018.02"]
    # Run again after the bad file is fixed: the books already added are left as they are.
    make_xlsx(folder / "KS.2017.02.xlsx", [HEADER, [1, "02/2017", 1, "09.01.2017", "Đăng ký mới", "A", "01.01.2017"]])
    (folder / "so cu.xlsx").unlink()
    again = run_cli(home, "book", "add", "--registers", folder).output
    assert "1 sổ đã thêm, 2 đã có, 0 bị từ chối" in again


def test_registers_folder_takes_no_book_id(tmp_path):
    from tests.helpers import run_cli
    (tmp_path / "regs").mkdir()
    out = run_cli(tmp_path / "home", "book", "add", "KS.2017.01", "--registers", tmp_path / "regs", code=5).output
    assert "--registers" in out
    empty = run_cli(tmp_path / "home", "book", "add", "--registers", tmp_path / "regs", code=5).output
    assert "không có tệp .xlsx" in empty
