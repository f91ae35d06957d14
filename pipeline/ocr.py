"""Read the registration number ("Số: 15", "Số đăng ký: 15") and the volume ("Quyển số: 01/2017")
printed or written near the top of an entry's first page.

This is the only check that catches a separator put in the wrong place (an entry's PDF holding
another registration's page), so a wrong number is worse than none: the reader returns a number
only when the label and the digits are both read with confidence, never a guess. OCR failure or
timeout sets `error` and leaves the number None; the page is filed all the same.

Works on an upright, deskewed page (pipeline.geometry.straighten). The header is read in the top
band (TOP_BAND_MM, where every form prints its number), at ~300 dpi effective, binarised, ruled lines
erased, Tesseract `vie`. A ledger page (several registrations, each row of a ruled table starting with
its number) is told by its rules on a coarse copy; then only its number column is read.

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

from pipeline import tesseract
from pipeline.pixels import darkest, shrink
from pipeline.tone import flatten_background

# Height read from the top edge, in millimetres: 25 % of an A4 page, as read before. On rendered
# pages the number stands 32-56 mm from the top edge in every layout of bench/layouts.py ("Số: N"
# on its own line or in the header line 32-44 mm, a header table 28-51 mm, "Số N" under an old
# form's title 50-56 mm); the rest leaves room for a taller header (not measured on real books).
# Millimetres, not a share of the height: an A3 page prints its header no lower than an A4 page.
TOP_BAND_MM = 74.0
# A page this much wider than tall is an A3 sheet laid landscape: two forms side by side, each with
# its own header and number. The right half's band is set under the left one's for Tesseract, or it
# would join the two headers into one line.
TWO_FORMS_ASPECT = 1.2
# Tesseract reads 10-12 pt print best at ~300 dpi; 200 dpi scans are upscaled.
OCR_DPI = 300.0
# "--psm 6" (one uniform block) on the binarised band. Measured on 20 rendered first pages
# (scan/harsh degradations, 200+300 dpi, straightened): psm 6 read 20/20 in 0.38 s/page, psm 4
# 18/20 in 0.40 s, psm 11 (sparse text) 19/20 with one WRONG number, in 0.45 s.
PSM = 6
# The pages given to Tesseract are black on white after binarising: its second try of every unsure
# line as white-on-black text finds nothing. Off: 0.25 -> 0.21 s a band on 160 rendered first pages
# (bench_ocr mild/scan levels), the same numbers read.
NO_INVERT = {"tessedit_do_invert": "0"}
# Below this word confidence (0-1, the lowest of label and digits) the number is not reported.
# Right reads on rendered pages score ~0.9-0.96; the floor is a judgement, not a fitted value.
MIN_CONFIDENCE = 0.60
# A registration number in a book: 1..5 digits.
MAX_NUMBER_DIGITS = 5
DEFAULT_TIMEOUT_S = 10.0
# Punctuation-only OCR words ('.', '—', '|') skipped before the "Số" label at the start of a line.
MAX_LEADING_MARKS = 3
# A book page number printed at the foot stands in its bottom 20 mm (bench/layouts.py prints "- N -"
# 6 mm above the bottom margin, itself 10-20 mm from the edge).
BOTTOM_BAND_MM = 30.0
MAX_PAGE_DIGITS = 4
# ... centred on the page (within 15 % of the width from the middle); page numbers in a foot's corner
# are not read (no layout here prints them; a ledger's row number could stand there). Its digits are
# what is left of the middle once dashes and specks are gone, when that is of print height (10-12 pt:
# 2.5-3 mm) and no wider than four digits; they are read with the rest of the page: "- 5 -" read
# whole gives "-5-" at confidence 0.14, its digit alone "5" at 0.87 (Tesseract is unsure of a lone
# digit read by itself; among other lines it is not).
FOOT_CENTRE = 0.15
DIGIT_MM = (1.8, 8.0)
# A lone digit has no word around it to steady the read: on ledger pages a "5" read "3" at 0.68 while
# right reads scored 0.93-0.97 (a few "5"s 0.51-0.86). A wrong page number would stop the book's
# placement at a page that is in its place, so the floor is higher than the registration number's.
FOOT_MIN_CONFIDENCE = 0.80
DASH_MM = 0.6
GLYPH_JOIN_MM = 0.5
# The evidence crop: grey JPEG at 150 dpi, a few KB; legible digits, nothing else of the page.
EVIDENCE_DPI = 150.0
EVIDENCE_QUALITY = 80
# Ink runs longer than this are ruled lines and form borders; specks smaller than this square are
# dot leaders and dust. On a rendered birth-register page, the form's body read as garbage
# ("ẰẶẮẨẰẶẮ ...") until both were removed; then every label and most handwriting read right.
# The band and the ledger's number column lose their rules too: a header table's borders read as
# '|' glued to the label.
RULE_MM = 8.0
SPECK_MM = 0.35

# Ledgers (several registrations a page): a ruled table whose first column holds each row's number.
# The rules are found on a coarse copy: a 0.2 mm rule is still a dark pixel at 100 dpi.
TABLE_WORK_DPI = 100.0
# A column rule at least this long: the table holds its heading and two registration rows.
TABLE_MIN_RULE_MM = 60.0
# The number column: room for 1-5 digits by hand, narrower than any column of names or places.
NUMBER_COLUMN_MM = (6.0, 30.0)
# A registration row holds a name, dates and places over several lines; the one-line rows of a notes
# grid (14 mm on rendered continuation pages) are not registrations.
MIN_ROW_MM = 20.0
# The number stands on a row's first line: only this much of each row is read.
ROW_NUMBER_MM = 15.0
# Kept off the column's rules when cutting its cells; white between the parts stacked for Tesseract.
CELL_INSET_MM = 0.8
CELL_GAP_MM = 5.0
# Writing is taller than this; specks and the ends of erased rules are not.
LINE_MIN_MM = 1.5
# Letters of a word, digits of a number stand closer than this (12 pt print, handwriting).
WORD_GAP_MM = 1.5
# A horizontal rule crosses the whole number column; handwriting never covers this share of it.
RULE_COVER = 0.7


@dataclass(frozen=True)
class NumberReading:
    number: int | None          # registration number "số" of the header; None when not read with
                                # confidence, and on pages with several registrations
    volume: str | None          # volume as printed before the slash, e.g. "01" of "01/2017"
    year: int | None            # year after the slash, e.g. 2017
    confidence: float           # 0-1, lowest word confidence of the "Số:" label and its digits
    # x0, y0, x1, y1 in page pixels around the "Số: N" words (the evidence shown to the operator);
    # set whenever one "Số: N" was found, also when its confidence is under MIN_CONFIDENCE.
    box: tuple[int, int, int, int] | None
    text: str                   # OCR text of the band read (evidence, for logs)
    seconds: float
    error: str | None = None
    # Every registration number read on the page with confidence: the header's (one, or one a form
    # on a two-form A3 sheet) and a ledger's rows, top to bottom (a row under the confidence floor
    # counts when it is one apart from its neighbour's sure number); their boxes in page pixels.
    numbers: tuple[int, ...] = ()
    number_boxes: tuple[tuple[int, int, int, int], ...] = ()
    # The book's page number printed on the page ("Trang 7" in the top band, "- 7 -" or "7" alone at
    # the foot when asked for), read with confidence; a form's "Trang 1/2" is not one.
    page_number: int | None = None


def _fold(s: str) -> str:
    """Lowercase, diacritics removed, đ -> d: 'Số' 'Sô' 'Sồ' all become 'so'."""
    s = s.replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


# Label: s + o/0/6 (OCR reads "Số" as "S6", "S0", "Sô"), optionally "đăng ký" (with OCR misspellings),
# then a colon-like mark or none, then digits. The whole label may be glued ("Số:15").
_SO = r"s[o06]"
_DANG_KY = r"(?P<dk>\s*d[a4]ng\s*k[yi])?"
_COLON = r"\s*[:;.,]?\s*"
# Where the colon-like mark is missing, the label counts only where a body line cannot stand: alone on
# its line ("Số 15" under an old form's title) or after the volume in the header line. A body line
# that happens to start with "Số 12" (a house number in an address) goes on after the number.
_MARK = r"\s*(?P<colon>[:;])?\s*"
# The acute of a typewritten "Số", struck apart from its letter, reads as a quote before the digits
# ("Sô “100"): skipped, it is no digit.
_ACCENT = "['\"`´‘’“”]?"
_NUMBER_RE = re.compile(rf"^{_SO}{_DANG_KY}{_MARK}{_ACCENT}(?P<n>\d{{1,{MAX_NUMBER_DIGITS}}})[.,]?$")
_LABEL_RE = re.compile(rf"^{_SO}{_DANG_KY}{_MARK}$")
_DIGITS_RE = re.compile(rf"{_ACCENT}(\d{{1,{MAX_NUMBER_DIGITS}}})[.,]?")
_TOP_PAGE_RE = re.compile(rf"(?:^|\s)trang\s*(\d{{1,{MAX_PAGE_DIGITS}}})$")
_VOLUME_RE = re.compile(
    rf"quy[e]n\s*{_SO}{_COLON}(\d{{1,3}})\s*[/|l]\s*((?:19|20)\d{{2}})(?!\d)")


@dataclass(frozen=True)
class _Word:
    text: str
    conf: float
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class _Hit:
    number: int
    conf: float                 # the lowest of the label's words and the digits
    box: tuple[int, int, int, int]
    colon: bool                 # the label had its colon-like mark
    registration_label: bool    # "Số đăng ký", not "Số" alone
    end: int                    # index of the first word after the digits


def _without_rules(ink: np.ndarray, dpi: float) -> np.ndarray:
    """Ink (255 on 0) less its ruled lines: runs longer than RULE_MM, and their blurred edges."""
    rule = max(3, round(RULE_MM * dpi / 25.4))
    lines = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (rule, 1))),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, rule))))
    return cv2.subtract(ink, cv2.dilate(lines, np.ones((3, 3), np.uint8)))


def _prepare(region_rgb: np.ndarray, dpi: float) -> tuple[np.ndarray, float]:
    """Grey, upscaled to OCR_DPI, paper flattened, Otsu, rules erased. Returns (binary, scale)."""
    # Darkest channel: printed black stays black, blue/red ink too (written numbers).
    grey = np.ascontiguousarray(darkest(region_rgb))
    grey = flatten_background(grey, dpi)
    scale = OCR_DPI / dpi if dpi > 0 else 1.0
    if abs(scale - 1.0) > 0.05:
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interp)
    else:
        scale = 1.0
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return 255 - _without_rules(ink, dpi * scale), scale


def _ocr_lines(binary: np.ndarray, dpi: float, timeout_s: float) -> list[list[_Word]]:
    data = tesseract.read_words(binary, lang="vie", psm=PSM, dpi=dpi, variables=NO_INVERT,
                                timeout_s=timeout_s)
    return _lines(data)


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


def _is_mark(word: _Word) -> bool:
    return not any(c.isalnum() for c in word.text)


def _label_number(words: list[_Word], folded: list[str], i: int) -> _Hit | None:
    """A label ("Số", "Số:", "Số đăng ký:" in 1-4 words) starting at word i, then its digits, glued or
    in the next word. Digits followed by '/' are a fraction ("01/2014", "1/2"), not a number."""
    for k in range(1, min(4, len(words) - i) + 1):
        head = " ".join(folded[i:i + k])
        end = i + k
        m = _NUMBER_RE.match(head)
        if m:
            number = int(m.group("n"))
        else:
            m = _LABEL_RE.match(head) if end < len(words) else None
            digits = _DIGITS_RE.fullmatch(folded[end]) if m else None
            if not digits:
                continue
            number, end = int(digits.group(1)), end + 1
        if end < len(words) and folded[end].startswith("/"):
            return None
        used = words[i:end]
        return _Hit(number, min(w.conf for w in used), _union(used), m.group("colon") is not None,
                    m.group("dk") is not None, end)
    return None


def _volume_end(folded: list[str]) -> int | None:
    """Index of the first word after "Quyển số: 01/2014" in the line, None if the line has no volume."""
    for j in range(len(folded)):
        if _VOLUME_RE.search(" ".join(folded[:j + 1])):
            return j + 1
    return None


def _find_number(words: list[_Word]) -> _Hit | None:
    """The registration number in one OCR line of the header, or None.

    Counted: at the start of the line "Số: N" / "Số đăng ký: N", or "Số N" alone on its line; after the
    volume on the same line ("Quyển số: 01/2014   Số: 4", colon or not); anywhere "Số đăng ký: N"
    with its colon (a header table's cells read as one line). Punctuation-only words ('.', '—', '|':
    specks and rule ends read as marks) are skipped at both ends of the line."""
    lead = 0
    while lead < min(MAX_LEADING_MARKS, len(words)) and _is_mark(words[lead]):
        lead += 1
    words = words[lead:]
    while words and _is_mark(words[-1]):
        words = words[:-1]
    folded = [_fold(w.text) for w in words]
    hit = _label_number(words, folded, 0) if words else None
    if hit and (hit.colon or hit.end == len(words)):
        return hit
    after_volume = _volume_end(folded)
    for i in range(1, len(words)):
        hit = _label_number(words, folded, i)
        if hit and ((after_volume is not None and i >= after_volume) or (hit.colon and hit.registration_label)):
            return hit
    return None


def _union(words: list[_Word]) -> tuple[int, int, int, int]:
    return (min(w.box[0] for w in words), min(w.box[1] for w in words),
            max(w.box[2] for w in words), max(w.box[3] for w in words))


def _to_page(box: tuple[int, int, int, int], scale: float, dx: int, dy: int, pad: float,
             shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A box in OCR pixels (scaled by `scale`, cut at dx, dy) in page pixels, `pad` OCR pixels wider."""
    return (max(0, int((box[0] - pad) / scale) + dx), max(0, int((box[1] - pad) / scale) + dy),
            min(shape[1], int(np.ceil((box[2] + pad) / scale)) + dx),
            min(shape[0], int(np.ceil((box[3] + pad) / scale)) + dy))


def _bands(page_rgb: np.ndarray, dpi: float) -> list[tuple[np.ndarray, float, int]]:
    """The top band of each form on the page (one, or two side by side on an A3 sheet), prepared for
    Tesseract: (binary, scale, page x of its left edge)."""
    h, w = page_rgb.shape[:2]
    band_h = max(1, min(h, round(TOP_BAND_MM * dpi / 25.4)))
    halves = [(0, w // 2), (w // 2, w)] if w > TWO_FORMS_ASPECT * h else [(0, w)]
    return [(*_prepare(page_rgb[:band_h, x0:x1], dpi), x0) for x0, x1 in halves]


def _header_hit(lines: list[list[_Word]], scale: float, x0: int, shape: tuple[int, ...]
                ) -> tuple[int, float, tuple[int, int, int, int]] | None:
    """The header number of one form's band (box in page pixels), or None. A band holding two
    different numbers gives none: no way to tell which is the entry's."""
    found = [hit for ws in lines if (hit := _find_number(ws))]
    if len({hit.number for hit in found}) != 1:
        return None
    best = max(found, key=lambda hit: hit.conf)
    # Page pixels, a little margin so the operator sees the whole label and digits.
    return best.number, best.conf, _to_page(best.box, scale, x0, 0, 0.02 * OCR_DPI, shape)


def _rule_runs(mask_1d: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask_1d.astype(np.int8), [0]))))
    return list(zip(edges[::2], edges[1::2]))


def _find_number_column(page_rgb: np.ndarray, dpi: float) -> tuple[int, int, list[int]] | None:
    """A ledger's number column: (x0, x1, horizontal rule ys) in page pixels, or None.

    The leftmost pair of long column rules NUMBER_COLUMN_MM apart, crossed by horizontal rules that
    cut it into a heading and at least two rows of MIN_ROW_MM or more."""
    # Rules are printed black: the red channel holds them as well as the darkest, at a third of its cost.
    grey = page_rgb[..., 0] if page_rgb.ndim == 3 else page_rgb
    small, s = shrink(np.ascontiguousarray(grey), TABLE_WORK_DPI / dpi)
    work_dpi = dpi * s
    mm = work_dpi / 25.4
    block = 2 * round(2.5 * mm) + 1   # local paper level over ~5 mm
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 25)
    # One pixel of slack either side: a residual skew of a few tenths of a degree.
    wide = cv2.dilate(ink, np.ones((1, 3), np.uint8))
    # Rules are sought on millimetre-tall blocks (inked if half their rows are): a vertical rule stays
    # whole, the search costs a few times less.
    block_rows = max(1, round(mm))
    blocks = cv2.resize(wide[:wide.shape[0] // block_rows * block_rows],
                        (wide.shape[1], wide.shape[0] // block_rows), interpolation=cv2.INTER_AREA) > 127
    vertical = cv2.morphologyEx(blocks.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, round(TABLE_MIN_RULE_MM * mm / block_rows))))
    rules = []
    for a, b in _rule_runs(vertical.any(axis=0)):
        ys = np.flatnonzero(vertical[:, a:b].any(axis=1)) * block_rows
        rules.append(((a + b) / 2, ys[0], ys[-1] + block_rows - 1))
    lo, hi = (v * mm for v in NUMBER_COLUMN_MM)
    for i, (xa, top_a, bottom_a) in enumerate(rules):
        for xb, top_b, bottom_b in rules[i + 1:]:
            if not lo <= xb - xa <= hi:
                continue
            top, bottom = max(top_a, top_b), min(bottom_a, bottom_b)
            inside = ink[:, int(xa) + 2:int(xb) - 1]
            if inside.shape[1] < 2 or bottom - top < TABLE_MIN_RULE_MM * mm:
                continue
            covered = (inside.mean(axis=1) / 255 >= RULE_COVER)
            covered[:max(0, top - 2)] = False
            covered[bottom + 3:] = False
            ys = [(a + b) / 2 for a, b in _rule_runs(covered)]
            rows = np.diff(ys[1:])
            if len(rows) >= 2 and rows.min() >= MIN_ROW_MM * mm:
                return round(xa / s), round(xb / s), [round(y / s) for y in ys]
    return None


def _first_line(binary: np.ndarray) -> tuple[int, int, int, int] | None:
    """x0, y0, x1, y1 of the first word of writing in a black-on-white cell at OCR_DPI, or None: the
    widest ink on the first line, gaps under WORD_GAP_MM bridged (a dust speck beside it is left out).
    Ink runs under LINE_MIN_MM tall are specks and left-over rule ends, not writing."""
    ink = binary < 128
    rows = _rule_runs(ink.any(axis=1))
    tall = [(a, b) for a, b in rows if b - a >= LINE_MIN_MM * OCR_DPI / 25.4]
    if not tall:
        return None
    y0, y1 = tall[0]
    bridge = max(1, round(WORD_GAP_MM * OCR_DPI / 25.4))
    inked = cv2.dilate(ink[y0:y1].any(axis=0).astype(np.uint8)[None, :], np.ones((1, bridge), np.uint8))[0]
    x0, x1 = max(_rule_runs(inked > 0), key=lambda run: run[1] - run[0])
    # Back from the dilation's reach to the ink itself.
    cols = np.flatnonzero(ink[y0:y1, x0:x1].any(axis=0)) + x0
    return int(cols[0]), y0, int(cols[-1]) + 1, y1


@dataclass(frozen=True)
class _Ledger:
    """A ledger's number column ready for Tesseract: the heading's first word alone on the first line,
    then one line a row: a copy of that word, then the row's first line of writing (its number)."""
    binary: np.ndarray
    starts: list[int]                   # first pixel row of each line in `binary`
    digits: list[tuple[int, int]]       # per row line: page x, y of its digits' top left
    digits_x: int                       # x where the digits start on every row line of `binary`
    scale: float                        # OCR pixels per page pixel


def _ledger(page_rgb: np.ndarray, dpi: float) -> _Ledger | None:
    """A ledger page's number column, or None. The heading's word is set before each row's digits
    because a lone number reads badly (a clean printed "5" scored 0.31 alone, 0.96 after "Số")."""
    column = _find_number_column(page_rgb, dpi)
    if column is None:
        return None
    x0, x1, ys = column
    inset = round(CELL_INSET_MM * dpi / 25.4)
    binary, scale = _prepare(page_rgb[ys[0]:ys[-1], x0 + inset:x1 - inset], dpi)

    def cell(a: int, b: int) -> tuple[int, int]:   # page rows a..b -> rows of `binary`, off the rules
        return round((a + inset - ys[0]) * scale), round((b - inset - ys[0]) * scale)

    top, bottom = cell(ys[0], ys[1])
    heading = _first_line(binary[top:bottom])
    if heading is None:
        return None
    label = binary[top + heading[1]:top + heading[3], heading[0]:heading[2]]
    gap = round(CELL_GAP_MM * OCR_DPI / 25.4)
    lines, digits_at = [label], []
    row_read = round(ROW_NUMBER_MM * dpi / 25.4)
    for a, b in zip(ys[1:], ys[2:]):
        top, bottom = cell(a, min(b, a + row_read))
        found = _first_line(binary[top:bottom])
        if found is None:
            continue
        cx0, cy0, cx1, cy1 = found
        digits = binary[top + cy0:top + cy1, cx0:cx1]
        height = max(label.shape[0], digits.shape[0])
        # Bottom-aligned: digits and "Số" stand on the same baseline, neither has a descender.
        line = np.full((height, label.shape[1] + gap + digits.shape[1]), 255, np.uint8)
        line[height - label.shape[0]:, :label.shape[1]] = label
        line[height - digits.shape[0]:, label.shape[1] + gap:] = digits
        lines.append(line)
        digits_at.append((x0 + inset + round(cx0 / scale),
                          ys[0] + round((top + cy0 - (height - digits.shape[0])) / scale)))
    if len(lines) == 1:
        return None
    stacked, starts = _stack(lines, gap)
    return _Ledger(stacked, starts, digits_at, 2 * gap + label.shape[1], scale)


def _stack(images: list[np.ndarray], gap: int) -> tuple[np.ndarray, list[int]]:
    """Black-on-white images one under the other, `gap` white pixels around each: (image, their tops)."""
    width = max(im.shape[1] for im in images) + 2 * gap
    out = np.full((sum(im.shape[0] + gap for im in images) + gap, width), 255, np.uint8)
    tops, at = [], gap
    for im in images:
        out[at:at + im.shape[0], gap:gap + im.shape[1]] = im
        tops.append(at)
        at += im.shape[0] + gap
    return out, tops


def _split_lines(lines: list[list[_Word]], tops: list[int], left: int) -> list[list[list[_Word]]]:
    """OCR lines of a stacked image (parts at `tops`, `left` pixels in), given back to the part each
    stands in, boxes in that part's pixels."""
    parts: list[list[list[_Word]]] = [[] for _ in tops]
    for words in lines:
        k = int(np.searchsorted(tops, (words[0].box[1] + words[-1].box[3]) / 2, side="right")) - 1
        if k >= 0:
            y = tops[k]
            parts[k].append([_Word(w.text, w.conf, (w.box[0] - left, w.box[1] - y, w.box[2] - left, w.box[3] - y))
                             for w in words])
    return parts


def _ledger_hits(ledger: _Ledger, lines: list[list[_Word]], shape: tuple[int, ...]
                 ) -> list[tuple[int, float, tuple[int, int, int, int]]]:
    """The rows' numbers (boxes in page pixels), each read with confidence or one apart from a
    neighbouring row's number read with confidence (a ledger's rows are consecutive registrations).
    None when the column's heading does not read "Số" / "Số đăng ký" ("STT" gives none) or when the
    numbers do not rise from row to row (a book numbers its registrations in order)."""
    read = [[w for ws in part for w in ws if not _is_mark(w)] for part in _split_lines(lines, ledger.starts, 0)]
    heading = read[0]
    if not (heading and _LABEL_RE.match(" ".join(_fold(w.text) for w in heading))
            and min(w.conf for w in heading) >= MIN_CONFIDENCE):
        return []
    rows: list[tuple[int, float, tuple[int, int, int, int]] | None] = []
    pad = 0.02 * OCR_DPI
    for (page_x, page_y), words in zip(ledger.digits, read[1:]):
        # The copy of the heading on the line was read above already: only the digits after it count.
        written = [w for w in words if w.box[0] >= ledger.digits_x - CELL_GAP_MM * OCR_DPI / 25.4 / 2]
        number = _DIGITS_RE.fullmatch(written[0].text) if len(written) == 1 else None
        if number:
            x, y = written[0].box[0] - ledger.digits_x, written[0].box[1]
            box = (x, y, x + written[0].box[2] - written[0].box[0], written[0].box[3])
            rows.append((int(number.group(1)), written[0].conf, _to_page(box, ledger.scale, page_x, page_y, pad, shape)))
        else:
            rows.append(None)

    def sure(k: int) -> int | None:
        row = rows[k] if 0 <= k < len(rows) else None
        return row[0] if row and row[1] >= MIN_CONFIDENCE else None

    hits = [row for k, row in enumerate(rows) if row and (
        row[1] >= MIN_CONFIDENCE or sure(k - 1) == row[0] - 1 or sure(k + 1) == row[0] + 1)]
    numbers = [n for n, _, _ in hits]
    return hits if all(a < b for a, b in zip(numbers, numbers[1:])) else []


def _page_number(lines: list[list[_Word]]) -> int | None:
    """The one book page number "Trang N" the band's lines end with, its digits read with
    confidence, or None."""
    found = set()
    for words in lines:
        words = [w for w in words if not _is_mark(w)]
        match = _TOP_PAGE_RE.search(" ".join(_fold(w.text) for w in words)) if words else None
        if match and words[-1].conf >= MIN_CONFIDENCE:
            found.add(int(match.group(1)))
    return found.pop() if len(found) == 1 and 0 not in found else None


def _foot_digits(page_rgb: np.ndarray, dpi: float) -> np.ndarray | None:
    """The middle of the page's foot without its dashes and specks ("- 7 -" becomes "7"), black on
    white at OCR_DPI, when one group of glyphs of print height stands there alone (a seal, a
    signature or a line of text is not one); else None."""
    h = page_rgb.shape[0]
    band_h = max(1, min(h, round(BOTTOM_BAND_MM * dpi / 25.4)))
    binary = _prepare(page_rgb[h - band_h:], dpi)[0]
    w = binary.shape[1]
    middle = binary[:, int(w * (0.5 - FOOT_CENTRE)):int(w * (0.5 + FOOT_CENTRE))]
    count, labels, stats, _ = cv2.connectedComponentsWithStats((middle < 128).astype(np.uint8), connectivity=8)
    px = OCR_DPI / 25.4
    height, width = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    strokes = [i for i in range(1, count)
               if not (height[i] < DASH_MM * px and width[i] > 1.5 * height[i])    # not a dash
               and stats[i, cv2.CC_STAT_TOP] > 0]                                  # not a rule's end
    ink = np.isin(labels, strokes).astype(np.uint8)
    # Glyphs: strokes joined across the gaps inside a glyph or a number (a blurred "5" breaks in two).
    reach = max(1, round(GLYPH_JOIN_MM * px))
    joined = cv2.dilate(ink, np.ones((reach, 2 * reach + 1), np.uint8))
    count, groups, box, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    tall = [i for i in range(1, count) if box[i, cv2.CC_STAT_HEIGHT] >= DIGIT_MM[0] * px]
    if len(tall) != 1:
        return None
    x, y, gw, gh = (int(v) for v in box[tall[0], :4])
    if gh > DIGIT_MM[1] * px + reach or gw > MAX_PAGE_DIGITS * DIGIT_MM[1] * px / 2:
        return None
    glyphs = np.where((groups[y:y + gh, x:x + gw] == tall[0]) & (ink[y:y + gh, x:x + gw] > 0), 0, 255)
    return np.pad(glyphs.astype(np.uint8), round(2 * px), constant_values=255)


def _foot_number(lines: list[list[_Word]]) -> int | None:
    """The page number read from the foot's digits (their own part of the stacked read)."""
    words = [w for ws in lines for w in ws]
    if len(words) != 1 or not words[0].text.isdigit() or words[0].conf < FOOT_MIN_CONFIDENCE:
        return None
    return int(words[0].text) or None


def read_entry_number(page_rgb: np.ndarray, dpi: float, *, page_number: bool = False,
                      timeout_s: float = DEFAULT_TIMEOUT_S) -> NumberReading:
    """Registration numbers and volume from an upright page; see module doc. `page_number` also reads
    the page's foot for the book's page number (pages of a bound book placed by page)."""
    start = time.perf_counter()
    try:
        bands = _bands(page_rgb, dpi)
        ledger = _ledger(page_rgb, dpi)
        # One Tesseract run for all of it: starting Tesseract and loading `vie` is ~1/3 of a band's read.
        parts = [binary for binary, _, _ in bands] + ([ledger.binary] if ledger else [])
        digits = _foot_digits(page_rgb, dpi) if page_number else None
        parts += [digits] if digits is not None else []
        gap = round(CELL_GAP_MM * OCR_DPI / 25.4)
        stacked, tops = _stack(parts, gap)
        read = _split_lines(_ocr_lines(stacked, OCR_DPI, timeout_s), tops, gap)
    except (pytesseract.TesseractError, RuntimeError, OSError, ValueError, cv2.error) as exc:
        msg = str(exc).strip()[:200] or type(exc).__name__
        return NumberReading(None, None, None, 0.0, None, "", time.perf_counter() - start, msg)

    foot = _foot_number(read.pop()) if digits is not None else None
    header = [hit for (_, scale, x0), lines in zip(bands, read)
              if (hit := _header_hit(lines, scale, x0, page_rgb.shape))]
    table = _ledger_hits(ledger, read[-1], page_rgb.shape) if ledger else []
    top = [_page_number(lines) for lines in read[:len(bands)]]
    printed = {n for n in [*top, foot] if n is not None}
    text = "\n".join(" ".join(w.text for w in ws) for lines in read[:len(bands)] for ws in lines)

    number, confidence, box = None, 0.0, None
    if len(header) == 1:
        n, confidence, box = header[0]
        # The box is given also when the digits are too unsure to report: it shows where to look.
        if confidence >= MIN_CONFIDENCE and n > 0:
            number = n
    sure = {}
    for n, conf, b in [hit for hit in header if hit[1] >= MIN_CONFIDENCE] + table:
        if n > 0:
            sure.setdefault(n, b)

    volume, year = None, None
    vm = _VOLUME_RE.search(_fold(text))
    if vm:
        volume, year = vm.group(1), int(vm.group(2))

    return NumberReading(number, volume, year, round(confidence, 3), box, text,
                         time.perf_counter() - start, None, tuple(sure), tuple(sure.values()),
                         printed.pop() if len(printed) == 1 else None)


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


def _words_only(page: np.ndarray, dpi: float) -> np.ndarray:
    """Black words on white, without ruled lines and dot leaders, for Tesseract's layout analysis.

    The red channel: black print and blue ink stay dark, red seals fade into the paper instead of
    covering the words under them."""
    grey = np.ascontiguousarray(page[..., 0] if page.ndim == 3 else page)
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink = _without_rules(ink, dpi)
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


def _as_options(variables: dict[str, str]) -> str:
    """Tesseract variables as the `tesseract` program takes them ("-c name=value ...")."""
    return " ".join(f"-c {name}={value}" for name, value in variables.items())


def text_layer_pdf(page: np.ndarray, dpi: float, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> TextLayer:
    """Tesseract `vie` over the whole upright page, rendered as a text-only PDF page (text drawn
    invisible, no image) to be laid under the page image by pipeline.pdf."""
    start = time.perf_counter()
    try:
        pdf = pytesseract.image_to_pdf_or_hocr(
            Image.fromarray(_words_only(page, dpi)), lang="vie", extension="pdf",
            config=f"--psm 3 --dpi {round(dpi)} -c textonly_pdf=1 {_as_options(NO_INVERT)}", timeout=timeout_s)
    except (pytesseract.TesseractError, RuntimeError, OSError, ValueError, cv2.error) as exc:
        msg = str(exc).strip()[:200] or type(exc).__name__
        return TextLayer(None, time.perf_counter() - start, msg)
    return TextLayer(pdf, time.perf_counter() - start)
