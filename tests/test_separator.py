"""Separator payloads and reading our printed sheets back, through the degradations of scanning."""
from datetime import date

import cv2
import numpy as np
import pymupdf
import pytest
import zxingcpp
from hypothesis import given, settings, strategies as st

from pipeline import separator
from pipeline.separator import (PayloadError, SeparatorPayload, has_separator_bands, make_payload,
                                make_start_payload, parse_payload, read_separator)
from station.export.sheets import SheetSpec, render_sheets

BOOK = "KS.2017.01"


@pytest.fixture(scope="module")
def sheets_pdf():
    specs = [SheetSpec(make_payload(BOOK, [5]), "Khai sinh", 2017, 1, (date(2017, 2, 3),)),
             SheetSpec(make_payload(BOOK, [7, 8]), "Khai sinh", 2017, 1, (None, None)),
             SheetSpec(make_payload("CMC.1998.103", [12345]), "Nhận cha, mẹ, con", 1998, 103, (None,))]
    return pymupdf.open(stream=render_sheets(specs))


def raster(doc, index, dpi):
    pix = doc[index].get_pixmap(dpi=dpi)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w, pix.n).copy()


def degrade(img, rng, angle=0.0, blur=0.0, noise=0.0, streaks=0, jpeg=None):
    h, w = img.shape[:2]
    if angle:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        img = cv2.warpAffine(img, m, (nw, nh), borderValue=(40, 40, 40))
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if noise:
        img = np.clip(img + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)
    for _ in range(streaks):
        x = int(rng.integers(0, img.shape[1] - 4))
        img[:, x:x + 3] = 255 if rng.random() < 0.5 else 90
    if jpeg:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return img


def test_payload_round_trip_and_shared():
    payload = make_payload(BOOK, [7, 8])
    text = payload.encode()
    assert text.startswith("SHT:1:KS.2017.01:7+8:")
    assert parse_payload(text) == payload and payload.shared


def test_start_sheet_payload_round_trip():
    payload = make_start_payload(BOOK, 7)
    text = payload.encode()
    assert text.startswith("SHT:1:KS.2017.01:P7:")
    assert parse_payload(text) == payload and payload.start_page == 7 and payload.entries == ()


@pytest.mark.parametrize("start_page", [0, 10_000])
def test_start_page_out_of_range_is_refused(start_page):
    with pytest.raises(PayloadError, match="start page"):
        make_start_payload(BOOK, start_page)


def _with_check(body: str) -> str:
    return f"{body}:{separator._check(body)}"


@pytest.mark.parametrize("body", ["SHT:1:KS.2017.01:P0", "SHT:1:KS.2017.01:P7+8", "SHT:1:KS.2017.01:7+P8"])
def test_malformed_start_sheets_are_refused(body):
    with pytest.raises(PayloadError):
        parse_payload(_with_check(body))


@pytest.mark.parametrize("text", [
    "SHT:1:KS.2017.01:5:000000",               # checksum wrong
    "SHT:2:KS.2017.01:5:" ,                    # truncated
    "SHT:1:../../etc:5:ABCDEF",                 # path traversal
    "SHT:1:KS.2017.01:0:ABCDEF",                # entry 0
    "SHT:1:KS.2017.01:" + "9" * 200 + ":ABCDEF",  # absurd length
    "SHT:1:KS.2017.01:5\n:ABCDEF",              # control character
])
def test_hostile_payloads_are_refused(text):
    with pytest.raises(PayloadError):
        parse_payload(text)


def test_other_version_with_good_checksum_is_refused_with_the_reason():
    text = SeparatorPayload(BOOK, (5,), version=2).encode()
    with pytest.raises(PayloadError, match="version"):
        parse_payload(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_raises_payload_error(text):
    try:
        payload = parse_payload("SHT:" + text)
    except PayloadError:
        return
    assert payload.encode() == "SHT:" + text


@pytest.mark.parametrize("dpi", [150, 200, 300, 400, 600])
@pytest.mark.parametrize("angle", [0, 7, 90, 180, 263])
def test_sheet_reads_at_any_rotation_and_dpi(sheets_pdf, dpi, angle):
    img = degrade(raster(sheets_pdf, 0, dpi), np.random.default_rng(dpi), angle=angle)
    found = read_separator(img, dpi)
    assert found.payload == make_payload(BOOK, [5]), found


@pytest.mark.parametrize("seed", range(6))
def test_sheet_reads_through_blur_noise_streaks_and_jpeg(sheets_pdf, seed):
    rng = np.random.default_rng(seed)
    dpi = [150, 200, 300][seed % 3]
    img = degrade(raster(sheets_pdf, seed % 3, dpi), rng, angle=float(rng.uniform(-10, 10)) + 180 * (seed % 2),
                  blur=dpi / 150 * 1.2, noise=14, streaks=4, jpeg=40)
    found = read_separator(img, dpi)
    expected = [make_payload(BOOK, [5]), make_payload(BOOK, [7, 8]), make_payload("CMC.1998.103", [12345])]
    assert found.payload == expected[seed % 3], found


def test_certificate_qr_code_is_not_a_separator():
    page = np.full((1754, 1240, 3), 245, np.uint8)
    code = np.asarray(zxingcpp.create_barcode("https://hotich.gov.vn/xac-thuc?id=12345",
                                              zxingcpp.BarcodeFormat.QRCode).to_image(scale=8))
    page[200:200 + code.shape[0], 200:200 + code.shape[1]] = code[..., None]
    found = read_separator(page, 150)
    assert found.payload is None and found.problem is None and not has_separator_bands(page, 150)


def test_unreadable_sheet_still_looks_like_a_separator(sheets_pdf):
    img = raster(sheets_pdf, 0, 200)
    # Destroy both codes (a torn or folded sheet): only the bands and big text remain.
    h = img.shape[0]
    img[int(h * 0.40):int(h * 0.85)] = 255
    assert read_separator(img, 200).payload is None
    assert has_separator_bands(img, 200)
    assert has_separator_bands(np.ascontiguousarray(np.rot90(img)), 200)


def test_hostile_payload_in_a_real_code_is_reported_not_accepted():
    page = np.full((1754, 1240, 3), 255, np.uint8)
    code = np.asarray(zxingcpp.create_barcode("SHT:1:../../x:5:ABCDEF", zxingcpp.BarcodeFormat.QRCode)
                      .to_image(scale=8))
    page[300:300 + code.shape[0], 300:300 + code.shape[1]] = code[..., None]
    found = read_separator(page, 150)
    assert found.payload is None and found.problem


def test_slow_readers_run_only_where_a_code_or_the_sheets_bands_are_seen(sheets_pdf, monkeypatch):
    """pyzbar and the full-resolution try cost a content page three times the fast read: they run
    only where the fast read located a code it could not read, or when the caller saw the bands."""
    from bench import corpus
    from pipeline import page as page_step, separator
    from pipeline.settings import PageSettings

    calls = []
    real_pyzbar = separator._decode_pyzbar
    monkeypatch.setattr(separator, "_decode_pyzbar", lambda grey: calls.append(grey.shape) or real_pyzbar(grey))
    entry = corpus.make_entries("KS", 2017, 1, 1, seed=2)[0]
    content = corpus.render_register_page(entry, 1, 200, seed=2)
    assert read_separator(content, 200) == separator.SeparatorRead(None) and not calls
    # A sheet whose codes the fast read cannot locate (here: it is made blind) is still read, by the
    # slower readers on the straightened sheet, because its bands show what it is.
    monkeypatch.setattr(separator, "_decode_zxing_seen", lambda grey: ([], False))
    sheet = raster(sheets_pdf, 0, 200)
    assert read_separator(sheet, 200).payload is None and not calls
    result = page_step.process_page(sheet, 200, PageSettings(fix_orientation=False))
    assert result.verdict == "separator" and result.separator.entries == (5,) and calls
