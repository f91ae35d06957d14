"""Registration number read from the page (pipeline.ocr) on rendered, degraded, straightened pages."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


from bench.corpus import (
    Degradation,
    degrade,
    make_entries,
    render_blank_page,
    render_register_page,
)
from pipeline import ocr
from pipeline.geometry import straighten
from pipeline.ocr import NumberReading, read_entry_number
from pipeline.settings import PageSettings
from tests.helpers import without_language_data

SEED = 11
N_FIRST = 12


def _capture(img: np.ndarray, dpi: int, skew: float, seed: int) -> np.ndarray:
    cap = degrade(img, dpi, Degradation(skew_deg=skew, blur_sigma=0.8, noise_sigma=6.0), seed=seed)
    return straighten(cap, dpi, PageSettings()).image


@pytest.fixture(scope="module")
def first_pages() -> list[tuple[int, int, NumberReading, np.ndarray]]:
    """12 first pages, half at 200 dpi, half at 300, skew in ±3°, blur 0.8, noise 6."""
    rng = np.random.default_rng(SEED)
    entries = make_entries("KS", 2017, 1, 300, SEED)
    out = []
    for i in range(N_FIRST):
        dpi = 200 if i % 2 == 0 else 300
        entry = entries[int(rng.integers(len(entries)))]
        skew = float(rng.uniform(-3, 3))
        page = _capture(render_register_page(entry, 1, dpi, seed=SEED + i), dpi, skew, SEED + i)
        out.append((dpi, entry.number, read_entry_number(page, dpi), page))
    return out


def test_numbers_read_right_never_wrong(first_pages):
    right = sum(r.number == truth for _, truth, r, _ in first_pages)
    wrong = [(truth, r.number) for _, truth, r, _ in first_pages
             if r.number is not None and r.number != truth]
    times = [r.seconds for *_, r, _ in first_pages]
    print(f"\nread {right}/{len(first_pages)}, wrong {len(wrong)}, "
          f"OCR {np.mean(times):.2f} s/page (max {max(times):.2f})")
    assert not wrong, f"wrong numbers read: {wrong}"
    assert right >= 10
    assert all(r.error is None for *_, r, _ in first_pages)


def test_volume_year_and_evidence_box(first_pages):
    read = [(dpi, truth, r, page) for dpi, truth, r, page in first_pages if r.number is not None]
    assert read
    assert sum(r.volume == "01" and r.year == 2017 for _, _, r, _ in read) >= len(read) - 1
    for dpi, _, r, page in read:
        assert r.confidence >= ocr.MIN_CONFIDENCE
        x0, y0, x1, y1 = r.box
        h, w = page.shape[:2]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        mm = 25.4 / dpi
        # "Số: N" is printed 12 pt at the left margin, 30-40 mm from the top edge.
        assert y0 * mm < 45 and x0 * mm < 40
        assert 2 < (y1 - y0) * mm < 12 and 5 < (x1 - x0) * mm < 60


@pytest.mark.parametrize("dpi,page_in_entry", [(200, 2), (300, 3)])
def test_continuation_page_gives_no_number(dpi, page_in_entry):
    entry = make_entries("KS", 2017, 1, 50, SEED)[30]
    page = _capture(render_register_page(entry, page_in_entry, dpi, seed=5), dpi, 1.5, 5)
    r = read_entry_number(page, dpi)
    assert r.error is None
    assert r.number is None and r.box is None


def test_blank_page_gives_no_number():
    page = _capture(render_blank_page(200, seed=3, bleed_through=True), 200, -1.0, 3)
    r = read_entry_number(page, 200)
    assert r.number is None and r.volume is None and r.box is None


def test_timeout_sets_error_not_exception(first_pages):
    dpi, _, _, page = first_pages[0]
    t0 = time.perf_counter()
    r = read_entry_number(page, dpi, timeout_s=0.01)
    assert time.perf_counter() - t0 < 5
    assert r.number is None and r.error and "timeout" in r.error.lower()


def test_missing_language_data_sets_error_naming_what_to_install(monkeypatch, tmp_path, first_pages):
    dpi, _, _, page = first_pages[1]
    r = without_language_data(monkeypatch, tmp_path, read_entry_number, page, dpi)
    assert r.number is None and str(tmp_path) in r.error and "tesseract-ocr-vie" in r.error


def _words(*items: tuple[str, float]) -> list:
    return [ocr._Word(t, c, (i * 50, 0, i * 50 + 40, 30)) for i, (t, c) in enumerate(items)]


@pytest.mark.parametrize("words,expected", [
    ((("Số:", 96), ("15", 95)), 15),
    ((("Số:15", 90),), 15),
    ((("S6:", 90), ("7", 91)), 7),
    ((("Sô", 90), (":", 88), ("203", 92)), 203),
    ((("So", 90), ("đăng", 90), ("ký:", 90), ("42", 90)), 42),
    ((("—", 30), ("Số:", 95), ("76", 93), ("_", 20)), 76),
    ((("Số", 95), ("định", 95), ("danh:", 95), ("0123", 95)), None),
    ((("CMND", 95), ("số", 95), ("123", 95)), None),
    ((("SỔ", 95), ("ĐĂNG", 95), ("KÝ", 95), ("KHAI", 95)), None),
    ((("Số:", 95), ("12/QĐ", 95)), None),
    ((("Số", 95), ("12", 95), ("Trần", 95), ("Phú", 95)), None),
    ((("Số", 95), (";", 80), ("9", 95)), 9),
])
def test_label_patterns(words, expected):
    hit = ocr._find_number(_words(*words))
    assert (hit.number if hit else None) == expected


def test_volume_pattern():
    m = ocr._VOLUME_RE.search(ocr._fold("Quyên sô: 03/2009"))
    assert m and m.group(1) == "03" and m.group(2) == "2009"


def _fake_data(words: list[tuple[str, float]]) -> dict:
    n = len(words)
    return {"text": [w for w, _ in words], "conf": [c for _, c in words],
            "block_num": [1] * n, "par_num": [1] * n, "line_num": [1] * n,
            "left": [100 + 120 * i for i in range(n)], "top": [400] * n,
            "width": [100] * n, "height": [40] * n}


@pytest.mark.parametrize("conf,expected", [(95.0, 15), (40.0, None)])
def test_confidence_floor(monkeypatch, conf, expected):
    monkeypatch.setattr(ocr.tesseract, "read_words",
                        lambda *a, **k: _fake_data([("Số:", 96.0), ("15", conf)]))
    page = np.full((2339, 1654, 3), 255, np.uint8)
    r = read_entry_number(page, 200)
    assert r.number == expected and r.error is None
    assert r.box is not None            # the operator is shown where to look either way
    assert r.confidence == pytest.approx(min(96.0, conf) / 100)


def test_two_different_numbers_give_none(monkeypatch):
    data = _fake_data([("Số:", 96.0), ("15", 95.0), ("Số:", 96.0), ("16", 95.0)])
    data["line_num"] = [1, 1, 2, 2]
    monkeypatch.setattr(ocr.tesseract, "read_words", lambda *a, **k: data)
    r = read_entry_number(np.full((2339, 1654, 3), 255, np.uint8), 200)
    assert r.number is None
