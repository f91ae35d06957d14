"""Sanity checks for the synthetic corpus (bench/corpus.py): sizes, determinism, colours, borders,
the Excel register and a tiny scanned batch. Low dpi throughout to keep the suite fast."""
from __future__ import annotations

import datetime
import json
import re

import numpy as np
import openpyxl
import pymupdf
import pytest
from PIL import Image

from bench import corpus


@pytest.fixture(scope="module")
def entries() -> list[corpus.EntryInfo]:
    return corpus.make_entries("KS", 2017, 1, 3, seed=11)


@pytest.fixture(scope="module")
def page150(entries) -> np.ndarray:
    return corpus.render_register_page(entries[0], 1, 150, seed=3)


def test_make_entries(entries):
    assert [e.number for e in entries] == [1, 2, 3]
    dates = [e.reg_date for e in entries]
    assert all(d.year == 2017 for d in dates) and dates == sorted(dates)
    assert all(len(e.person_name.split()) >= 3 for e in entries)
    assert entries == corpus.make_entries("KS", 2017, 1, 3, seed=11)


@pytest.mark.parametrize("dpi", [150, 300])
def test_page_size_scales_with_dpi(entries, dpi):
    img = corpus.render_register_page(entries[1], 2 if dpi == 300 else 1, dpi, seed=1)
    assert img.dtype == np.uint8
    assert img.shape == (round(297 / 25.4 * dpi), round(210 / 25.4 * dpi), 3)


def test_render_is_deterministic(entries, page150):
    again = corpus.render_register_page(entries[0], 1, 150, seed=3)
    assert np.array_equal(page150, again)
    other = corpus.render_register_page(entries[0], 1, 150, seed=4)
    assert not np.array_equal(page150, other)
    d = corpus.Degradation(skew_deg=2.0, noise_sigma=3, border_mm=5, streaks=2, jpeg_quality=70)
    assert np.array_equal(corpus.degrade(page150, 150, d, 5), corpus.degrade(page150, 150, d, 5))


def test_page_has_paper_text_blue_ink_and_red_seal(page150):
    px = page150.reshape(-1, 3).astype(int)
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    # Yellowed paper: the median pixel is light and warmer than neutral.
    assert np.median(r) > 200 and np.median(r) - np.median(b) > 10
    dark = (r + g + b) < 250
    blue = (b > r + 50) & (b > g + 30)
    red = (r > 150) & (g < 120) & (b < 120) & (r - g > 70)
    assert dark.mean() > 0.005           # printed text and rules
    assert blue.sum() > 500              # handwriting
    assert red.sum() > 300               # seal
    # Content spread over the page with margins: ink near the top and the bottom, none at the edge.
    h, w = page150.shape[:2]
    rows = np.where((page150.min(axis=2) < 100).any(axis=1))[0]
    assert rows.min() < 0.12 * h and rows.max() > 0.8 * h
    edge = round(8 / 25.4 * 150)
    assert (page150[:, :edge].min(axis=2) < 100).mean() < 0.001


def test_blank_page_is_faint(entries, page150):
    blank = corpus.render_blank_page(150, seed=2, bleed_through=True)
    assert blank.shape == page150.shape
    grey = blank.mean(axis=2)
    assert grey.min() > 60                   # only dust specks go dark
    assert (grey < 150).mean() < 0.001       # ghost is low contrast, not ink


def test_degrade_border_grows_canvas_and_is_dark(page150):
    h, w = page150.shape[:2]
    out, quad = corpus.degrade_ex(page150, 150, corpus.Degradation(border_mm=10), seed=1)
    b = 10 / 25.4 * 150
    assert abs(out.shape[0] - (h + 2 * b)) <= 2 and abs(out.shape[1] - (w + 2 * b)) <= 2
    for corner in (out[:5, :5], out[:5, -5:], out[-5:, :5], out[-5:, -5:]):
        assert corner.mean() < 110
    # The sheet is inside, at the reported place.
    x0, y0 = quad[0]
    assert 0 < x0 < 2 * b and 0 < y0 < 2 * b
    assert out[int(quad[:, 1].mean()), int(quad[:, 0].mean())].mean() > 150

    skewed = corpus.degrade(page150, 150, corpus.Degradation(skew_deg=5), seed=1)
    assert skewed.shape[0] > h and skewed.shape[1] > w
    assert skewed[:3, :3].mean() > 235       # no border: scanner white outside the sheet
    turned = corpus.degrade(page150, 150, corpus.Degradation(rotation=90), seed=1)
    assert turned.shape[:2] == (w, h)


def test_random_degradation_ranges():
    rng = np.random.default_rng(0)
    ds = [corpus.random_degradation(rng, max_skew=4) for _ in range(50)]
    assert all(abs(d.skew_deg) <= 4 and d.rotation == 0 for d in ds)
    harsh = [corpus.random_degradation(rng, harsh=True) for _ in range(50)]
    assert all(d.rotation in (0, 90, 180, 270) for d in harsh)


@pytest.mark.parametrize("with_stt,style", [(False, "dotted"), (True, "slashed"), (False, "excel")])
def test_register_xlsx_round_trip(tmp_path, entries, with_stt, style):
    path = tmp_path / "register.xlsx"
    corpus.write_register_xlsx(path, entries, with_stt=with_stt, date_style=style)
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    for name in ["so", "quyenSo", "trangSo", "ngayDangKy", "loaiDangKy", "noiDangKy", "nguoiKy",
                 "chucVuNguoiKy", "nguoiThucHien", "ghiChu", "nksHoTen", "nksGioiTinh",
                 "nksNgaySinh", "nksNoiSinh", "meHoTen", "chaHoTen"]:
        assert name in header
    assert (header[0] == "STT") == with_stt
    assert len(rows) == 1 + len(entries)
    col = {n: i for i, n in enumerate(header)}
    pages = []
    for e, row in zip(entries, rows[1:]):
        assert row[col["so"]] == e.number
        assert row[col["quyenSo"]] == "01/2017"
        assert row[col["nksHoTen"]] == e.person_name
        v = row[col["ngayDangKy"]]
        if style == "excel":
            assert isinstance(v, datetime.datetime) and v.date() == e.reg_date
        else:
            sep = "." if style == "dotted" else "/"
            assert v == e.reg_date.strftime(f"%d{sep}%m{sep}%Y")
        pages.append(row[col["trangSo"]])
    assert pages == sorted(pages) and len(set(pages)) == len(pages)


def _separator_pdf(path, entries):
    doc = pymupdf.open()
    for e in entries:
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 120), f"SEP KS.2017.01 {e.number}", fontsize=30)
        page.draw_rect(pymupdf.Rect(50, 50, 545, 792), width=3)
    doc.save(str(path))
    doc.close()


def test_render_pdf_page(tmp_path, entries):
    pdf = tmp_path / "sep.pdf"
    _separator_pdf(pdf, entries)
    img = corpus.render_pdf_page(pdf, 1, 100)
    assert img.dtype == np.uint8 and img.shape[2] == 3
    assert abs(img.shape[0] - 842 / 72 * 100) <= 1 and abs(img.shape[1] - 595 / 72 * 100) <= 1
    assert img.min() < 50 and np.median(img) == 255


def test_write_captures(tmp_path, entries):
    pdf = tmp_path / "sep.pdf"
    _separator_pdf(pdf, entries)
    out = tmp_path / "caps"
    truths = corpus.write_captures(out, entries, pdf, seed=5, dpi_choices=(100, 120),
                                   duplex_blank_rate=0.3, upside_down_separators=1)
    files = sorted(p.name for p in out.glob("*.jpg"))
    assert files == [t.file for t in truths]
    assert files == [f"{i:04d}.jpg" for i in range(1, len(files) + 1)]
    assert json.loads((out / "truth.json").read_text(encoding="utf-8"))[0]["kind"] == "separator"
    assert corpus.load_truth(out) == truths

    seps = [t for t in truths if t.kind == "separator"]
    assert [t.entries for t in seps] == [(1,), (2,), (3,)]
    assert sum(t.degradation.rotation == 180 for t in seps) == 1
    # Order: each separator is followed by its own pages 1..n (blanks may sit anywhere after it).
    current, expected_page = None, 1
    for t in truths:
        if t.kind == "separator":
            current, expected_page = t.entries[0], 1
        elif t.kind == "content":
            assert t.entries == (current,) and t.page_in_entry == expected_page
            expected_page += 1
        else:
            assert t.kind == "blank" and t.page_in_entry == 0
    counts = [sum(t.kind == "content" and t.entries == (n,) for t in truths) for n in (1, 2, 3)]
    assert all(1 <= c <= 3 for c in counts)
    for t in truths:
        with Image.open(out / t.file) as im:
            assert round(im.info["dpi"][0]) == t.dpi
        assert len(t.sheet_quad) == 4
    # The file name order is the scan order; nothing else in the folder but truth.json.
    assert {p.name for p in out.iterdir()} == set(files) | {"truth.json"}
    assert all(re.fullmatch(r"\d{4}\.jpg", f) for f in files)
