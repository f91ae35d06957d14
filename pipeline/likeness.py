"""Is this capture the same picture as the capture just before it? (a page shot twice in a row)

Consecutive pages of one bound register share their whole printed form: ruled table, headings,
labels. What tells them apart is what was written on them. A page's signature is therefore its ink
on a grid of ~0.5 mm cells with the ruled lines and dotted leaders taken out (they are kept
apart: they lay the pages on each other, and what one capture kept as writing and the other as
form is not a difference). Two captures are compared once laid on each other (phase correlation for
the shift, then tile by tile for the small rotation, scale and perspective the pipeline leaves; in
whichever quarter turn lies best, should the pipeline have turned one and not the other): for each,
the share of its ink with no ink of the other within MATCH_MM. Captured twice, a page finds nearly
all its ink in the other capture (a fainter capture may lose thin strokes, but what it kept is all
in the other); another page of the same form matches its printed labels, not its handwriting, so a
good share of its ink on both sides finds nothing.

    sig = signature(page, dpi)        # a processed page: cropped to the sheet and deskewed
    text = sig.to_json()              # ≤ MAX_JSON_BYTES, to keep with the page
    same_picture(Signature.from_json(text), signature(next_page, dpi)).same

Pure (numpy and OpenCV) and total: a page too small, too faint, of another size, or input that is
no image gives "not the same picture" with the reason, never an exception.
"""
from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.pixels import darkest, shrink

MM_PER_INCH = 25.4
VERSION = 1

# Ink is found at this resolution (a 0.3 mm pen stroke stays dark enough), then kept on a coarser
# map: a map cell holds ink when any of its pixels did, so a stroke marks its cells whatever the
# pixel phase of either capture.
INK_DPI = 100.0
# Ink: this share darker than the paper around it, the paper being the brightest level within
# PAPER_MM (no pen stroke is that wide), so exposure and uneven light do not move it.
INK_DARKNESS = 0.18
PAPER_MM = 3.0
# Ink specks smaller than this are noise or dust, not writing (a 0.2 mm dot is 0.03 mm²).
SPECK_MM2 = 0.2
# Ruled lines: straight runs of ink at least this long, horizontal or vertical; the content map
# leaves out RULE_PAD_MM around them (handwriting crossing a rule loses a sliver, not a stroke).
RULE_MIN_MM = 15.0
RULE_PAD_MM = 0.5
# Dotted leaders ("Họ và tên: ........"): flat marks (dots, at most DOT_MAX_MM tall, their faint
# specks included) in a row at most DOT_GAP_MM apart over RULE_MIN_MM, taken out like the rules.
DOT_MAX_MM = 0.8
DOT_GAP_MM = 2.6
# The outer band of the page is left out: crop edges, paper edges and their shadows live there.
MARGIN_MM = 4.0
# Map resolutions, finest first: the finest whose JSON fits MAX_JSON_BYTES is kept (A4 pages and
# A3 ledgers fit at 50 dpi, an A3 sheet of two written forms goes down to 30 or 25 dpi).
MAP_DPIS = (50.0, 42.0, 35.0, 30.0, 25.0, 20.0)
MAX_JSON_BYTES = 8000
# A page with less content ink than this (mm², ruled lines out) has too little writing to tell it
# by: a blank or an unwritten page is never "the same picture".
MIN_INK_MM2 = 150.0

# Comparing. Two captures of one page are cut from the same sheet: their sizes differ by the
# background the crop kept at most.
SIZE_TOLERANCE_MM = 15.0
SIZE_TOLERANCE_SHARE = 0.12
# A recapture leaves the sheet within this of where it was; a larger shift is not looked for.
MAX_SHIFT_MM = 25.0
# The refinement (rotation, scale, perspective: deskew residue, a measured dpi ~1 % off, a photo's
# keystone) may move a page corner this far from where the shift alone puts it.
MAX_WARP_MM = 12.0
# The refinement: each of TILES (rows, columns) of the page holding ink is found on the other page
# by phase correlation within TILE_MAX_MM of where the shift puts it (a tile with too little ink,
# a low correlation peak or a farther match shows nothing); a homography (a similarity with 2-3
# tiles) is fitted to them, tiles more than TILE_FIT_MM off the fit left out.
TILES = (4, 4)
TILE_MIN_INK = 0.01
TILE_MIN_RESPONSE = 0.05
TILE_MAX_MM = 4.0
TILE_FIT_MM = 1.0
# Ink of one capture with ink of the other within this distance (cell centre to cell centre) is
# matched: the alignment's error plus a stroke's jitter across cells; on a coarse map, at least
# the 8 cells around (a stroke on a cell's edge marks either).
MATCH_MM = 0.75
MIN_MATCH_CELLS = 1.5
# Same picture: at most this share of one capture's ink is unmatched (the capture that matches
# better: a fainter capture of the page lost strokes, it gained none) ...
SAME_MAX_UNMATCHED = 0.02
# ... and at most this share of the other's (a fainter capture may lose thin strokes, not a quarter
# of the writing; a page with two rows written is not the same picture as the next page, whose
# first rows its writing may fall on, with five).
OTHER_MAX_UNMATCHED = 0.25


@dataclass(frozen=True)
class Signature:
    """A page's ink on a map of height×width cells at map_dpi: `content` (ruled lines out) and
    `rules` (the ruled lines), each np.packbits of the row-major bit map, zlib-compressed.
    width_mm/height_mm: the page image's size; ink_mm2: its content ink. `reason`: why the page
    cannot be compared (too small, nothing written, not an image); its maps are then empty."""
    width_mm: float
    height_mm: float
    map_dpi: float
    height: int
    width: int
    content: bytes
    rules: bytes
    ink_mm2: float
    reason: str | None = None
    version: int = VERSION

    def content_map(self) -> np.ndarray:
        return _unpack(self.content, self.height, self.width)

    def rules_map(self) -> np.ndarray:
        return _unpack(self.rules, self.height, self.width)

    def to_json(self) -> str:
        return json.dumps(dict(
            v=self.version, w_mm=round(self.width_mm, 2), h_mm=round(self.height_mm, 2), dpi=self.map_dpi,
            h=self.height, w=self.width, ink_mm2=round(self.ink_mm2, 1), reason=self.reason,
            content=base64.b64encode(self.content).decode("ascii"),
            rules=base64.b64encode(self.rules).decode("ascii")), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> "Signature":
        """The signature to_json wrote. ValueError on anything else."""
        try:
            d = json.loads(text)
            sig = cls(float(d["w_mm"]), float(d["h_mm"]), float(d["dpi"]), int(d["h"]), int(d["w"]),
                      base64.b64decode(d["content"], validate=True), base64.b64decode(d["rules"], validate=True),
                      float(d["ink_mm2"]), d["reason"], int(d["v"]))
            if sig.reason is not None and not isinstance(sig.reason, str):
                raise ValueError("reason is not text")
            if sig.reason is None:
                sig.content_map(), sig.rules_map()
        except (KeyError, TypeError, ValueError, zlib.error) as e:
            raise ValueError(f"not a page signature: {e}") from e
        return sig


@dataclass(frozen=True)
class Likeness:
    same: bool
    # How far from the same picture, in units of the thresholds: the larger of (the capture that
    # matches better: its share of unmatched ink) / SAME_MAX_UNMATCHED and (the other's share) /
    # OTHER_MAX_UNMATCHED. ≤ 1: the same picture (~0 for a page captured twice); > 1 not (another
    # page of the same form scores 2 or more); inf when not compared (see reason).
    score: float
    # For a, for b: the share of its content ink with no ink of the other within MATCH_MM once
    # the two are laid on each other.
    unmatched: tuple[float, float] = (1.0, 1.0)
    shift_mm: tuple[float, float] = (0.0, 0.0)    # b laid on a: where a's top-left corner falls on b
    rotation_deg: float = 0.0
    scale: float = 1.0
    map_dpi: float = 0.0                          # the maps were compared at this resolution
    turn: int = 0                                 # b turned counter-clockwise by this to lie on a
    reason: str | None = None                     # why not compared

    @property
    def margin(self) -> float:
        """How far the verdict is from the other one, as a factor (≥ 1): 1/score when the same,
        score when not."""
        return 1.0 / max(self.score, 1e-4) if self.same else self.score


def _unpack(packed: bytes, h: int, w: int) -> np.ndarray:
    bits = zlib.decompress(packed)
    if len(bits) != (h * w + 7) // 8:
        raise ValueError("map size does not match its bits")
    return np.unpackbits(np.frombuffer(bits, np.uint8), count=h * w).reshape(h, w).astype(bool)


def _pack(m: np.ndarray) -> bytes:
    return zlib.compress(np.packbits(m).tobytes(), 9)


def _px(mm: float, dpi: float) -> int:
    return max(1, int(round(mm * dpi / MM_PER_INCH)))


def _unsigned(reason: str, width_mm: float = 0.0, height_mm: float = 0.0, ink_mm2: float = 0.0) -> Signature:
    empty = _pack(np.zeros((0, 0), bool))
    return Signature(width_mm, height_mm, 0.0, 0, 0, empty, empty, ink_mm2, reason)


def signature(image: np.ndarray, dpi: float) -> Signature:
    """The signature of a processed page (grey or colour uint8, cropped to the sheet, deskewed)
    captured at `dpi`. Never raises: a page that cannot be signed gets a signature with a reason."""
    try:
        return _signature(image, dpi)
    except Exception as e:   # a broken signature must not stop the page: it is only "not the same"
        return _unsigned(f"no signature: {type(e).__name__}: {e}")


def _signature(image: np.ndarray, dpi: float) -> Signature:
    dpi = float(dpi)
    if not (math.isfinite(dpi) and dpi > 0):
        return _unsigned("no resolution")
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (1, 3, 4):
        img = img[..., 0] if img.shape[2] == 1 else img[..., :3]
    if img.ndim not in (2, 3) or img.size == 0:
        return _unsigned("not an image")
    if img.dtype != np.uint8:
        img = np.clip(np.nan_to_num(img.astype(np.float32)), 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    width_mm, height_mm = round(w / dpi * MM_PER_INCH, 2), round(h / dpi * MM_PER_INCH, 2)
    if min(width_mm, height_mm) < 4 * MARGIN_MM + 20:
        return _unsigned(f"too small to be a page ({width_mm:.0f}×{height_mm:.0f} mm)", width_mm, height_mm)
    small, scale = shrink(np.ascontiguousarray(darkest(img)), INK_DPI / dpi)
    work_dpi = dpi * scale
    ink, dots = _ink(small, work_dpi)
    rules = cv2.bitwise_or(_lines(ink, RULE_MIN_MM, work_dpi), _dotted(dots, work_dpi))
    pad = 2 * _px(RULE_PAD_MM, work_dpi) + 1
    content = cv2.bitwise_and(ink, cv2.bitwise_not(cv2.dilate(rules, np.ones((pad, pad), np.uint8))))
    m = _px(MARGIN_MM, work_dpi)
    for layer in (content, rules):
        layer[:m], layer[-m:], layer[:, :m], layer[:, -m:] = 0, 0, 0, 0
    ink_mm2 = round(float(cv2.countNonZero(content)) * (MM_PER_INCH / work_dpi) ** 2, 1)
    if ink_mm2 < MIN_INK_MM2:
        return _unsigned(f"too little writing to tell the page by ({ink_mm2:.0f} mm² of ink)", width_mm, height_mm,
                         ink_mm2)
    # The finest map that fits: its JSON shrinks about as dpi^1.7; the first one tried tells which
    # of the coarser ones to try next.
    fits, first = None, None
    for map_dpi in MAP_DPIS:
        if first is not None and first * (map_dpi / MAP_DPIS[0]) ** 1.7 > MAX_JSON_BYTES and map_dpi != MAP_DPIS[-1]:
            continue
        mh, mw = _px(height_mm, map_dpi), _px(width_mm, map_dpi)
        sig = Signature(width_mm, height_mm, map_dpi, mh, mw, _pack(_pool(content, mh, mw)),
                        _pack(_pool(rules, mh, mw)), ink_mm2)
        size = len(sig.to_json().encode())
        first = size if first is None else first
        if size <= MAX_JSON_BYTES:
            fits = sig
            break
    return fits if fits is not None else sig


def _ink(small: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """0/255 masks of the ink (pixels INK_DARKNESS darker than their paper) and of its flat marks
    (at most DOT_MAX_MM tall: the dots of a dotted leader, a diacritic, a speck), which are in the
    ink only when large enough not to be noise."""
    k = _px(PAPER_MM, dpi) | 1
    paper = cv2.blur(cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))), (k, k))
    limit = paper.astype(np.float32) * (1.0 - INK_DARKNESS)
    ink = ((small.astype(np.float32) < limit) * 255).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    flat = stats[:, cv2.CC_STAT_HEIGHT] * MM_PER_INCH / dpi <= DOT_MAX_MM
    speck = stats[:, cv2.CC_STAT_AREA] * (MM_PER_INCH / dpi) ** 2 < SPECK_MM2
    flat[0] = speck[0] = False
    dots = np.where(flat[labels], np.uint8(255), np.uint8(0))
    if speck.any():
        ink[speck[labels]] = 0
    return ink, dots


def _lines(mask: np.ndarray, length_mm: float, dpi: float) -> np.ndarray:
    """The horizontal and vertical runs of `mask` at least length_mm long."""
    n = _px(length_mm, dpi)
    return cv2.bitwise_or(
        cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1))),
        cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n))))


def _dotted(dots: np.ndarray, dpi: float) -> np.ndarray:
    """The dotted leaders among the flat marks: rows of them at most DOT_GAP_MM apart running at
    least RULE_MIN_MM. A printed form's, like its rules: whether each dot comes out as ink or as a
    speck too faint to keep changes from one capture to the next."""
    gap = _px(DOT_GAP_MM, dpi) | 1
    joined = cv2.morphologyEx(dots, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    # Dots and what joins them: the whole leader, wherever a capture kept or lost its dots.
    return cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (_px(RULE_MIN_MM, dpi), 1)))


def _pool(mask: np.ndarray, h: int, w: int) -> np.ndarray:
    """A 0/255 or bool mask shrunk to h×w cells: a cell holds ink when any pixel under it did (one
    pixel of 255 in a cell of up to 15×15 pixels still averages to 1 or more; the maps are at
    least MAP_DPIS[-1], a fifth of INK_DPI)."""
    mask = mask.view(np.uint8) * np.uint8(255) if mask.dtype == bool else mask
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA) > 0


def same_picture(a: Signature, b: Signature) -> Likeness:
    """Whether b is a capture of the same physical page as a. Never raises."""
    try:
        return _compare(a, b)
    except Exception as e:   # like signature(): "not the same", with why
        return Likeness(False, math.inf, reason=f"not compared: {type(e).__name__}: {e}")


def _compare(a: Signature, b: Signature) -> Likeness:
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, Signature):
            return Likeness(False, math.inf, reason=f"{name} is no signature")
        if s.version != VERSION:
            return Likeness(False, math.inf, reason=f"{name}: signature of another version ({s.version})")
        if s.reason:
            return Likeness(False, math.inf, reason=f"{name}: {s.reason}")
    turns = [t for t in (0, 180, 90, 270) if _fits((a.width_mm, a.height_mm), (b.width_mm, b.height_mm), t)]
    if not turns:
        return Likeness(False, math.inf, reason=f"pages of another size ({a.width_mm:.0f}×{a.height_mm:.0f} vs "
                                           f"{b.width_mm:.0f}×{b.height_mm:.0f} mm)")
    dpi = min(a.map_dpi, b.map_dpi)
    ca, ra = _maps(a, dpi)
    b_maps = _maps(b, dpi)
    # The pipeline may have turned one capture and not the other: b as it lies on a best.
    best = None
    for turn in turns:
        cb, rb = (np.ascontiguousarray(np.rot90(m, turn // 90)) for m in b_maps)
        h, w = max(ca.shape[0], cb.shape[0]), max(ca.shape[1], cb.shape[1])
        fa, fb = _canvas(ca | ra, h, w), _canvas(cb | rb, h, w)
        (dx, dy), response = cv2.phaseCorrelate(fa, fb, cv2.createHanningWindow((w, h), cv2.CV_32F))
        if best is None or response > best[0]:
            best = (response, turn, cb, rb, fa, fb, dx, dy)
    _, turn, cb, rb, fa, fb, dx, dy = best
    warp = _align(fa, fb, ca.shape, dx, dy, dpi)
    ink_a, ink_b, near_a, near_b = _overlay((ca, ra), (cb, rb), warp, dpi)
    na, nb = int(ink_a.sum()), int(ink_b.sum())
    cell_mm2 = (MM_PER_INCH / dpi) ** 2
    if min(na, nb) * cell_mm2 < MIN_INK_MM2:
        return Likeness(False, math.inf, map_dpi=dpi, turn=turn, reason="too little writing where the pages overlap")
    ua = float((ink_a & ~near_b).sum()) / na
    ub = float((ink_b & ~near_a).sum()) / nb
    score = max(min(ua, ub) / SAME_MAX_UNMATCHED, max(ua, ub) / OTHER_MAX_UNMATCHED)
    same = score <= 1.0
    warp = warp / warp[2, 2]
    mm = MM_PER_INCH / dpi
    return Likeness(same, round(score, 4), (round(ua, 4), round(ub, 4)),
                    (round(float(warp[0, 2]) * mm, 2), round(float(warp[1, 2]) * mm, 2)),
                    round(math.degrees(math.atan2(warp[1, 0], warp[0, 0])), 3),
                    round(math.sqrt(abs(float(np.linalg.det(warp[:2, :2])))), 4), dpi, turn)


def _fits(a: tuple[float, float], b: tuple[float, float], turn: int) -> bool:
    """Whether page size b (width, height in mm) turned by `turn` degrees is a's, within tolerance."""
    bw, bh = b if turn % 180 == 0 else b[::-1]
    return all(abs(x - y) <= max(SIZE_TOLERANCE_MM, SIZE_TOLERANCE_SHARE * max(x, y))
               for x, y in ((a[0], bw), (a[1], bh)))


def _maps(s: Signature, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """(content, rules) of s at `dpi` (≤ its own)."""
    content, rules = s.content_map(), s.rules_map()
    if dpi < s.map_dpi:
        h, w = _px(s.height_mm, dpi), _px(s.width_mm, dpi)
        content, rules = _pool(content, h, w), _pool(rules, h, w)
    return content, rules


def _overlay(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], warp: np.ndarray, dpi: float):
    """a's content ink and b's laid on a by `warp`, where both pages are (inside both margins), and
    the cells within MATCH_MM of a's / of b's ink: its content and its rules, so that the piece of a
    dotted leader one capture kept as content and the other took out as form counts as matched."""
    (ca, ra), (cb, rb) = a, b
    h, w = ca.shape
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    cb_on_a = cv2.warpPerspective(cb.astype(np.uint8), warp, (w, h), flags=flags) > 0
    rb_on_a = cv2.warpPerspective(rb.astype(np.uint8), warp, (w, h), flags=flags) > 0
    inside = cv2.bitwise_and(_inner(ca.shape, dpi),
                             cv2.warpPerspective(_inner(cb.shape, dpi), warp, (w, h), flags=flags))
    r = max(MATCH_MM * dpi / MM_PER_INCH, MIN_MATCH_CELLS)
    k = int(math.floor(r))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disk = ((yy * yy + xx * xx) <= r * r + 1e-9).astype(np.uint8)
    near_a = cv2.dilate((ca | ra).astype(np.uint8), disk) > 0
    near_b = cv2.dilate((cb_on_a | rb_on_a).astype(np.uint8), disk) > 0
    # Ink of one next to the other's edge may have its match just outside: not counted.
    both = cv2.erode(inside, disk) > 0
    return ca & both, cb_on_a & both, near_a, near_b


def _inner(shape: tuple[int, int], dpi: float) -> np.ndarray:
    """1 inside the margin a signature keeps its ink in, 0 on the margin."""
    m = _px(MARGIN_MM, dpi)
    out = np.zeros(shape, np.uint8)
    out[m:shape[0] - m, m:shape[1] - m] = 1
    return out


def _align(fa: np.ndarray, fb: np.ndarray, shape: tuple[int, int], dx: float, dy: float, dpi: float
           ) -> np.ndarray:
    """3×3 homography taking a's cells to b's (b at warp·p lies on a at p), from the canvases of
    their maps and the shift phase correlation found between them: rotation, scale and perspective
    from the tiles when they stay within MAX_WARP_MM of the shift alone."""
    if max(abs(dx), abs(dy)) > MAX_SHIFT_MM * dpi / MM_PER_INCH:
        dx, dy = 0.0, 0.0
    shift = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)
    warp = _refine(fa, fb, shape, dx, dy, dpi)
    if warp is None:
        return shift
    corners = np.array([[0, 0, 1], [shape[1], 0, 1], [shape[1], shape[0], 1], [0, shape[0], 1]],
                       np.float64).T
    moved, shifted = warp @ corners, shift @ corners
    if np.any(np.abs(moved[2]) < 1e-6):
        return shift
    apart = np.hypot(*(moved[:2] / moved[2] - shifted[:2]))
    if not np.all(np.isfinite(apart)) or apart.max() > MAX_WARP_MM * dpi / MM_PER_INCH:
        return shift
    return warp


def _refine(fa: np.ndarray, fb: np.ndarray, shape: tuple[int, int], dx: float, dy: float, dpi: float
            ) -> np.ndarray | None:
    """The homography fitted to where each tile of a lies on b (phase correlation of the tile with
    b's window the global shift puts under it); None when too few tiles show where they lie."""
    h, w = shape
    rows, cols = TILES
    th, tw = h // rows, w // cols
    limit = TILE_MAX_MM * dpi / MM_PER_INCH
    window = cv2.createHanningWindow((tw, th), cv2.CV_32F)
    moved = cv2.warpAffine(fb, np.float32([[1, 0, -dx], [0, 1, -dy]]), (fb.shape[1], fb.shape[0]),
                           flags=cv2.INTER_LINEAR)
    src, dst = [], []
    for r in range(rows):
        for c in range(cols):
            ta = fa[r * th:(r + 1) * th, c * tw:(c + 1) * tw]
            tb = moved[r * th:(r + 1) * th, c * tw:(c + 1) * tw]
            if ta.sum() < TILE_MIN_INK * th * tw or tb.sum() < TILE_MIN_INK * th * tw:
                continue
            (ex, ey), response = cv2.phaseCorrelate(ta, tb, window)
            if response < TILE_MIN_RESPONSE or max(abs(ex), abs(ey)) > limit:
                continue
            cx, cy = (c + 0.5) * tw, (r + 0.5) * th
            src.append((cx, cy))
            dst.append((cx + dx + ex, cy + dy + ey))
    tolerance = TILE_FIT_MM * dpi / MM_PER_INCH
    if len(src) >= 4:
        found, _ = cv2.findHomography(np.float32(src), np.float32(dst), cv2.RANSAC, tolerance)
        if found is not None:
            return found
    if len(src) >= 2:
        found, _ = cv2.estimateAffinePartial2D(np.float32(src), np.float32(dst), method=cv2.RANSAC,
                                               ransacReprojThreshold=tolerance)
        if found is not None:
            return np.vstack([found, [0, 0, 1]])
    return None


def _canvas(m: np.ndarray, h: int, w: int) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    out[:m.shape[0], :m.shape[1]] = m
    return cv2.GaussianBlur(out, (0, 0), 1.0)
