"""Read the registration number ("Số: 15", "Số đăng ký: 15") and the volume ("Quyển số: 01/2017")
printed or written near the top of an entry's first page.

This is the only check that catches a separator put in the wrong place (an entry's PDF holding
another registration's page), so a wrong number is worse than none: the reader returns a number
only when the label and the digits are both read with confidence, never a guess. OCR failure or
timeout sets `error` and leaves the number None; the page is filed all the same.

Works on an upright, deskewed page (pipeline.geometry.straighten). Only the top band is read
(where the header and "Số:" stand), at ~300 dpi effective, binarised, Tesseract `vie`.

Also here: the small image of the number shown to the operator as evidence (`evidence_jpeg`), and
the invisible text layer that makes a page's PDF searchable (`text_layer_pdf`).
"""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract
from PIL import Image

from pipeline.pixels import darkest, shrink
from pipeline.tone import flatten_background

# Part of the page height read. On rendered register pages "Số:" stands 32-37 mm and
# "Quyển số:" 38-44 mm from the top edge (of 297 mm); 25 % (74 mm) leaves room for registers
# with a taller header or a wider top margin (not measured on real books).
TOP_SHARE = 0.25
# Tesseract reads 10-12 pt print best at ~300 dpi; 200 dpi scans are upscaled.
OCR_DPI = 300.0
# "--psm 6" (one uniform block) on the binarised band. Measured on 20 rendered first pages
# (scan/harsh degradations, 200+300 dpi, straightened): psm 6 read 20/20 in 0.38 s/page, psm 4
# 18/20 in 0.40 s, psm 11 (sparse text) 19/20 with one WRONG number, in 0.45 s.
PSM = 6
# The pages given to Tesseract are black on white after binarising: its second try of every unsure
# line as white-on-black text finds nothing. Off: 0.25 -> 0.21 s a band on 160 rendered first pages
# (bench_ocr mild/scan levels), the same numbers read.
NO_INVERT = "-c tessedit_do_invert=0"
# Below this word confidence (0-1, the lowest of label and digits) the number is not reported.
# Right reads on rendered pages score ~0.9-0.96; the floor is a judgement, not a fitted value.
MIN_CONFIDENCE = 0.60
# A registration number in a book: 1..5 digits.
MAX_NUMBER_DIGITS = 5
DEFAULT_TIMEOUT_S = 10.0
# Punctuation-only OCR words ('.', '—', '|') skipped before the "Số" label at the start of a line.
MAX_LEADING_MARKS = 3
# The evidence crop: grey JPEG at 150 dpi, a few KB; legible digits, nothing else of the page.
EVIDENCE_DPI = 150.0
EVIDENCE_QUALITY = 80


@dataclass(frozen=True)
class NumberReading:
    number: int | None          # registration number "số"; None when not read with confidence
    volume: str | None          # volume as printed before the slash, e.g. "01" of "01/2017"
    year: int | None            # year after the slash, e.g. 2017
    confidence: float           # 0-1, lowest word confidence of the "Số:" label and its digits
    # x0, y0, x1, y1 in page pixels around the "Số: N" words (the evidence shown to the operator);
    # set whenever one "Số: N" was found, also when its confidence is under MIN_CONFIDENCE.
    box: tuple[int, int, int, int] | None
    text: str                   # OCR text of the band read (evidence, for logs)
    seconds: float
    error: str | None = None


def _fold(s: str) -> str:
    """Lowercase, diacritics removed, đ -> d: 'Số' 'Sô' 'Sồ' all become 'so'."""
    s = s.replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


# Label: s + o/0/6 (OCR reads "Số" as "S6", "S0", "Sô"), optionally "đăng ký" (with OCR misspellings),
# then a colon-like mark, then digits. The whole label may be glued ("Số:15").
_SO = r"s[o06]"
_DANG_KY = r"(?:\s*d[a4]ng\s*k[yi])?"
_COLON = r"\s*[:;.,]?\s*"
# The number needs the colon-like mark after the label: a body line that happens to start with
# "Số 12" (a house number in an address) must not pass for the registration number. On rendered
# pages Tesseract kept the colon on every first page read.
_LABEL_COLON = r"\s*[:;]\s*"
_NUMBER_RE = re.compile(rf"^{_SO}{_DANG_KY}{_LABEL_COLON}(\d{{1,{MAX_NUMBER_DIGITS}}})[.,]?$")
_LABEL_RE = re.compile(rf"^{_SO}{_DANG_KY}{_LABEL_COLON}$")
_VOLUME_RE = re.compile(
    rf"quy[e]n\s*{_SO}{_COLON}(\d{{1,3}})\s*[/|l]\s*((?:19|20)\d{{2}})(?!\d)")


@dataclass(frozen=True)
class _Word:
    text: str
    conf: float
    box: tuple[int, int, int, int]


def _prepare(page_rgb: np.ndarray, dpi: float) -> tuple[np.ndarray, float, int]:
    """Top band, grey, upscaled to OCR_DPI, paper flattened, Otsu. Returns (binary, scale, band_h)."""
    h = page_rgb.shape[0]
    band_h = max(1, round(h * TOP_SHARE))
    band = page_rgb[:band_h]
    # Darkest channel: printed black stays black, blue/red ink too (written numbers).
    grey = np.ascontiguousarray(darkest(band))
    grey = flatten_background(grey, dpi)
    scale = OCR_DPI / dpi if dpi > 0 else 1.0
    if abs(scale - 1.0) > 0.05:
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interp)
    else:
        scale = 1.0
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary, scale, band_h


def _lines(data: dict) -> list[list[_Word]]:
    lines: dict[tuple[int, int, int], list[_Word]] = {}
    for i, txt in enumerate(data["text"]):
        txt = (txt or "").strip()
        if not txt:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        x, y, w, h = (int(data[k][i]) for k in ("left", "top", "width", "height"))
        conf = max(0.0, float(data["conf"][i])) / 100.0
        lines.setdefault(key, []).append(_Word(txt, conf, (x, y, x + w, y + h)))
    return [sorted(ws, key=lambda w: w.box[0]) for _, ws in sorted(lines.items())]


def _find_number(words: list[_Word]) -> tuple[int, float, tuple[int, int, int, int]] | None:
    """'Số: N' at the start of a line: the label in 1-4 words, the digits glued or in the next.

    Punctuation-only words before the label ('.', '—', '|': specks and rule ends read as marks)
    are skipped; a word with a letter or digit before the label means it is not at line start."""
    lead = 0
    while lead < min(MAX_LEADING_MARKS, len(words)) and not any(
            c.isalnum() for c in words[lead].text):
        lead += 1
    words = words[lead:]
    folded = [_fold(w.text) for w in words]
    # Join the first k words (label split as "Số" ":" or "Số" "đăng" "ký:"), then the number.
    for k in range(1, min(4, len(words)) + 1):
        head = " ".join(folded[:k])
        m = _NUMBER_RE.match(head)
        if m:
            used = words[:k]
            return int(m.group(1)), min(w.conf for w in used), _union(used)
        if _LABEL_RE.match(head) and k < len(words):
            nxt = folded[k]
            m2 = re.fullmatch(rf"(\d{{1,{MAX_NUMBER_DIGITS}}})[.,]?", nxt)
            if m2:
                used = words[:k + 1]
                return int(m2.group(1)), min(w.conf for w in used), _union(used)
    return None


def _union(words: list[_Word]) -> tuple[int, int, int, int]:
    return (min(w.box[0] for w in words), min(w.box[1] for w in words),
            max(w.box[2] for w in words), max(w.box[3] for w in words))


def read_entry_number(page_rgb: np.ndarray, dpi: float, *,
                      timeout_s: float = DEFAULT_TIMEOUT_S) -> NumberReading:
    """Registration number and volume from the top of an upright page; see module doc."""
    start = time.perf_counter()
    try:
        binary, scale, _ = _prepare(page_rgb, dpi)
        data = pytesseract.image_to_data(
            Image.fromarray(binary), lang="vie",
            config=f"--psm {PSM} --dpi {round(dpi * scale)} {NO_INVERT}",
            output_type=pytesseract.Output.DICT, timeout=timeout_s)
    except (pytesseract.TesseractError, RuntimeError, OSError, ValueError, cv2.error) as exc:
        msg = str(exc).strip()[:200] or type(exc).__name__
        return NumberReading(None, None, None, 0.0, None, "", time.perf_counter() - start, msg)

    lines = _lines(data)
    text = "\n".join(" ".join(w.text for w in ws) for ws in lines)

    found: list[tuple[int, float, tuple[int, int, int, int]]] = []
    for ws in lines:
        hit = _find_number(ws)
        if hit:
            found.append(hit)

    number, confidence, box = None, 0.0, None
    numbers = {n for n, _, _ in found}
    if len(numbers) == 1:
        n, conf, b = max(found, key=lambda f: f[1])
        confidence = conf
        if conf >= MIN_CONFIDENCE and n > 0:
            number = n
        # Page pixels, a little margin so the operator sees the whole label and digits. Given
        # also when the digits are too unsure to report: it shows where to look.
        pad = round(0.02 * OCR_DPI)
        box = (max(0, int((b[0] - pad) / scale)), max(0, int((b[1] - pad) / scale)),
               min(page_rgb.shape[1], int(np.ceil((b[2] + pad) / scale))),
               min(page_rgb.shape[0], int(np.ceil((b[3] + pad) / scale))))
    elif len(numbers) > 1:
        # Two different "Số:" in the band: no way to tell which is the entry's; say nothing.
        confidence = 0.0

    volume, year = None, None
    vm = _VOLUME_RE.search(_fold(text))
    if vm:
        volume, year = vm.group(1), int(vm.group(2))

    return NumberReading(number, volume, year, round(confidence, 3), box, text,
                         time.perf_counter() - start, None)


def evidence_jpeg(page_rgb: np.ndarray, dpi: float, box: tuple[int, int, int, int]) -> bytes:
    """The "Số: N" words cut out of the page (box in page pixels), grey JPEG for the operator."""
    x0, y0, x1, y1 = box
    crop = page_rgb[y0:y1, x0:x1]
    grey = darkest(crop)  # blue ink stays dark, like the OCR saw it
    if dpi > 0:
        grey, _ = shrink(np.ascontiguousarray(grey), EVIDENCE_DPI / dpi, whole_factor=False)
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(grey), [cv2.IMWRITE_JPEG_QUALITY, EVIDENCE_QUALITY])
    if not ok:
        raise ValueError("evidence crop could not be encoded")
    return data.tobytes()


# Ink runs longer than this are ruled lines and form borders; specks smaller than this square are
# dot leaders and dust. On a rendered birth-register page, the form's body read as garbage
# ("ẰẶẮẨẰẶẮ ...") until both were removed; then every label and most handwriting read right.
RULE_MM = 8.0
SPECK_MM = 0.35


def _words_only(page: np.ndarray, dpi: float) -> np.ndarray:
    """Black words on white, without ruled lines and dot leaders, for Tesseract's layout analysis.

    The red channel: black print and blue ink stay dark, red seals fade into the paper instead of
    covering the words under them."""
    grey = np.ascontiguousarray(page[..., 0] if page.ndim == 3 else page)
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rule = max(3, round(RULE_MM * dpi / 25.4))
    lines = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (rule, 1))),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, rule))))
    # Dilated: the lines' blurred edges go too, not left behind as thin streaks.
    ink = cv2.subtract(ink, cv2.dilate(lines, np.ones((3, 3), np.uint8)))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = stats[:, cv2.CC_STAT_AREA] < (SPECK_MM * dpi / 25.4) ** 2
    specks[0] = False
    ink[specks[labels]] = 0
    return 255 - ink


@dataclass(frozen=True)
class TextLayer:
    pdf: bytes | None   # one-page PDF holding only invisible text, page size = the page at `dpi`
    seconds: float
    error: str | None = None


def text_layer_pdf(page: np.ndarray, dpi: float, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> TextLayer:
    """Tesseract `vie` over the whole upright page, rendered as a text-only PDF page (text drawn
    invisible, no image) to be laid under the page image by pipeline.pdf."""
    start = time.perf_counter()
    try:
        pdf = pytesseract.image_to_pdf_or_hocr(
            Image.fromarray(_words_only(page, dpi)), lang="vie", extension="pdf",
            config=f"--psm 3 --dpi {round(dpi)} -c textonly_pdf=1 {NO_INVERT}", timeout=timeout_s)
    except (pytesseract.TesseractError, RuntimeError, OSError, ValueError, cv2.error) as exc:
        msg = str(exc).strip()[:200] or type(exc).__name__
        return TextLayer(None, time.perf_counter() - start, msg)
    return TextLayer(pdf, time.perf_counter() - start)
