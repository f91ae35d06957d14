"""Separator sheets: the payload printed on them and reading it back from a captured page.

The station prints one sheet before each registration, or one before a run of a bound book's pages (a
start sheet: the pages after it are the book's pages from N on). Its barcodes carry a namespaced, versioned,
checksummed payload, so a QR code on a modern certificate or a hostile string is never taken for a
separator. A page that looks like a separator (the black bands of our sheet) but yields no valid payload
is reported as such, so the caller holds it as doubtful instead of merging it into the previous entry.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

NAMESPACE = "SHT"
VERSION = 1
MAX_ENTRIES_PER_SHEET = 20
MAX_ENTRY_NUMBER = 99_999
MAX_BOOK_PAGE = 9_999
# Book id as printed: LOAI.NAM.QUYEN (e.g. KS.2017.01). Kept here so pipeline/ stands alone.
_BOOK_RE = re.compile(r"^[A-Z]{2,4}\.(19|20|21)\d{2}\.\d{2,3}$")
# Only characters of QR's alphanumeric mode, so the code stays small and robust.
# The third field: the entries ("7", "7+8+9"), or "P" and the book page a start sheet names ("P7"); a
# station older than start sheets finds no entries in "P7" and holds the pages after it.
_PAYLOAD_RE = re.compile(r"^SHT:(\d{1,3}):([A-Z0-9.]{1,20}):([0-9+]{1,140}|P[0-9]{1,4}):([0-9A-F]{6})$")
# Barcodes are read on a copy at this resolution: modules stay several pixels wide, and it is fast.
READ_DPI = 150


class PayloadError(ValueError):
    """Text in our namespace that is not a valid separator payload."""


@dataclass(frozen=True)
class SeparatorPayload:
    book_id: str
    entries: tuple[int, ...]          # empty on a start sheet
    version: int = VERSION
    start_page: int | None = None     # a start sheet: the book page the pages after it start from

    @property
    def shared(self) -> bool:
        return len(self.entries) > 1

    def encode(self) -> str:
        field = f"P{self.start_page}" if self.start_page is not None else "+".join(map(str, self.entries))
        body = f"{NAMESPACE}:{self.version}:{self.book_id}:{field}"
        return f"{body}:{_check(body)}"


def _check(body: str) -> str:
    return f"{zlib.crc32(body.encode('ascii')) & 0xFFFFFF:06X}"


def make_payload(book_id: str, entries: list[int] | tuple[int, ...]) -> SeparatorPayload:
    payload = SeparatorPayload(book_id, tuple(entries))
    _validate(payload)
    return payload


def make_start_payload(book_id: str, start_page: int) -> SeparatorPayload:
    payload = SeparatorPayload(book_id, (), start_page=start_page)
    _validate(payload)
    return payload


def _validate(payload: SeparatorPayload) -> None:
    if payload.version != VERSION:
        raise PayloadError(f"phiên bản tờ phân cách {payload.version} không được hỗ trợ "
                           f"/ unsupported separator version {payload.version}")
    if not _BOOK_RE.match(payload.book_id):
        raise PayloadError("mã sổ không hợp lệ / malformed book id")
    entries = payload.entries
    if payload.start_page is not None:
        if entries or not 1 <= payload.start_page <= MAX_BOOK_PAGE:
            raise PayloadError("trang bắt đầu không hợp lệ / bad start page")
        return
    if not entries or len(entries) > MAX_ENTRIES_PER_SHEET:
        raise PayloadError("số lượng trường hợp không hợp lệ / bad entry count")
    if any(not 1 <= n <= MAX_ENTRY_NUMBER for n in entries):
        raise PayloadError("số đăng ký ngoài giới hạn / entry number out of range")
    if list(entries) != sorted(set(entries)):
        raise PayloadError("danh sách số đăng ký không tăng dần / entries not strictly increasing")


def is_ours(text: str) -> bool:
    return text.startswith(NAMESPACE + ":")


def parse_payload(text: str) -> SeparatorPayload:
    """Parse text known to be in our namespace; raise PayloadError saying what is wrong."""
    match = _PAYLOAD_RE.match(text)
    if not match:
        raise PayloadError("mã vạch sai định dạng / malformed separator payload")
    version, book_id, entries_text, check = match.groups()
    body = text[: text.rindex(":")]
    if _check(body) != check:
        raise PayloadError("sai mã kiểm tra / checksum mismatch")
    if entries_text.startswith("P"):
        payload = SeparatorPayload(book_id, (), int(version), start_page=int(entries_text[1:]))
        _validate(payload)
        return payload
    try:
        entries = tuple(int(part) for part in entries_text.split("+"))
    except ValueError:
        raise PayloadError("danh sách số đăng ký hỏng / malformed entry list") from None
    payload = SeparatorPayload(book_id, entries, int(version))
    _validate(payload)
    return payload


@dataclass(frozen=True)
class SeparatorRead:
    payload: SeparatorPayload | None
    # Why a page of ours was not accepted (bad payload, two codes that disagree); None otherwise.
    problem: str | None = None
    decoded: tuple[str, ...] = field(default_factory=tuple)
    decoder: str | None = None
    # The fast read saw a code it could not read as ours (damaged, foreign): the slower readers ran.
    code_seen: bool = False

    @property
    def found_ours(self) -> bool:
        return self.payload is not None or self.problem is not None


def _to_grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img


def _downscale(grey: np.ndarray, dpi: float, target_dpi: float) -> np.ndarray:
    if dpi <= target_dpi * 1.15:
        return grey
    scale = target_dpi / dpi
    # Shrinking by less than 2 (200 -> 150 dpi), bilinear already weighs in every source pixel, at a
    # tenth of INTER_AREA's cost for a factor that is not a whole number (~25 ms a page).
    interpolation = cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interpolation)


_FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)


def _decode_zxing(grey: np.ndarray) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(grey, formats=_FORMATS) if b.valid]


def _decode_zxing_seen(grey: np.ndarray) -> tuple[list[str], bool]:
    """Texts read, and whether any code was located at all (read or not)."""
    found = zxingcpp.read_barcodes(grey, formats=_FORMATS, return_errors=True)
    return [b.text for b in found if b.valid], bool(found)


def _decode_pyzbar(grey: np.ndarray) -> list[str]:
    # pyzbar misses codes on noisy grey pages that it reads once binarised.
    _, binary = cv2.threshold(cv2.GaussianBlur(grey, (3, 3), 0), 0, 255,
                              cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    symbols = pyzbar.decode(binary, symbols=[pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128])
    return [s.data.decode("latin-1") for s in symbols]


def _judge(texts: list[str], decoder: str) -> SeparatorRead | None:
    ours = sorted({t for t in texts if is_ours(t)})
    if not ours:
        return None
    payloads, problems = set(), []
    for text in ours:
        try:
            payloads.add(parse_payload(text))
        except PayloadError as exc:
            problems.append(str(exc))
    if len(payloads) > 1:
        return SeparatorRead(None, "các mã vạch trên tờ phân cách không khớp nhau "
                                   "/ barcodes on the sheet disagree", tuple(ours), decoder)
    if payloads:
        return SeparatorRead(payloads.pop(), None, tuple(ours), decoder)
    return SeparatorRead(None, problems[0], tuple(ours), decoder)


def read_separator(img: np.ndarray, dpi: float, *, thorough: bool = False) -> SeparatorRead:
    """Look for our separator payload anywhere on the page, at any rotation.

    zxing-cpp at READ_DPI reads every sheet of the separator bench (skewed, blurred, faded, noisy,
    upside down) and locates no code on register pages. So pyzbar and a full-resolution try, which
    cost a content page ~3 times the first read, run only where it located a code it could not read,
    or when asked (`thorough`: the caller sees the sheet's bands but no code was read)."""
    grey = _downscale(_to_grey(img), dpi, READ_DPI)
    texts, seen = _decode_zxing_seen(grey)
    verdict = _judge(texts, "zxing-cpp")
    if verdict is not None:
        return verdict
    if not (seen or thorough):
        return SeparatorRead(None)
    verdict = _judge(_decode_pyzbar(grey), "pyzbar")
    if verdict is not None:
        return verdict
    # Small or blurred codes: one more try at full resolution before giving up.
    if grey.shape != img.shape[:2]:
        verdict = _judge(_decode_zxing(_to_grey(img)), "zxing-cpp")
        if verdict is not None:
            return verdict
    return SeparatorRead(None, code_seen=seen)


# --- Looks like a separator ---------------------------------------------------------------------
# Our sheet has a black band across the top and the bottom, BAND_MM tall. Register pages never have two
# full-width solid bands on opposite edges, so two of them mean "a separator we could not read".
BAND_MM = 18.0


def has_separator_bands(img: np.ndarray, dpi: float) -> bool:
    """True when the (straightened) page shows the two black bands of a separator sheet."""
    grey = _downscale(_to_grey(img), dpi, 50)
    scale_dpi = min(dpi, 50.0)
    dark = grey < 100
    for profile in (dark.mean(axis=1), dark.mean(axis=0)):  # bands across rows, or across columns
        full = profile > 0.6
        runs = _runs(full)
        min_len = BAND_MM * 0.5 / 25.4 * scale_dpi
        long_runs = [(start, end) for start, end in runs if end - start >= min_len]
        if len(long_runs) >= 2:
            first, last = long_runs[0], long_runs[-1]
            span = len(profile)
            if first[0] < span * 0.25 and last[1] > span * 0.75:
                return True
    return False


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate(([0], mask.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))
