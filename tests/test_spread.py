"""Gutter finding and spread splitting on rendered open-book captures.

The renderer lays two register pages side by side, bends them into the fold (content squeezed and
the page outline pinched near it), shades the fold, lights one page a little less than the other and
puts the spread on a dark cradle with corpus.degrade (tilt, cradle shadow, blur, noise, JPEG). The
fold's true line comes from the corners degrade reports.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import pytest

from bench import corpus
from pipeline import geometry, spread
from pipeline.settings import PageSettings

MAX_ERROR_MM = 3.0


@lru_cache(maxsize=None)
def register_page(number: int, page: int, dpi: int) -> np.ndarray:
    entry = corpus.make_entries("KS", 2017, 1, 8, seed=11)[number]
    return corpus.render_register_page(entry, page, dpi, seed=number)


@dataclass(frozen=True, eq=False)
class Spread:
    capture: np.ndarray
    dpi: int
    fold: tuple[tuple[float, float], tuple[float, float]]  # (x, y) top and bottom, capture pixels
    left: np.ndarray  # source pages
    right: np.ndarray

    def fold_x(self, y: float) -> float:
        (xt, yt), (xb, yb) = self.fold
        return xt + (y - yt) * (xb - xt) / (yb - yt)


def render_spread(dpi: int, seed: int, *, skew_deg: float, shadow: float = 0.35,
                  shadow_mm: float = 10.0, crease: float = 0.25, bend_mm: float = 25.0,
                  pinch_mm: float = 4.0, falloff: float = 0.06, blur: float = 1.0,
                  noise: float = 6.0, jpeg: int | None = 70, pages: tuple[int, int] = (1, 2),
                  border_mm: float = 20.0) -> Spread:
    """An open book on a dark cradle. shadow: darkening at the fold (0..1), falling off over
    shadow_mm on one side and a random other width on the other; crease: extra narrow dark line;
    bend_mm: width of the zone squeezed into the fold; pinch_mm: how far the top and bottom edges
    dip at the fold; falloff: one page lit this much less than the other; border_mm: cradle
    around the book (0: none, the book fills the capture)."""
    rng = np.random.default_rng(seed)
    left = register_page(seed % 8, pages[0], dpi)
    right = register_page((seed + 3) % 8, pages[1], dpi)
    h, w = left.shape[:2]
    book = np.hstack([left, right])
    px = dpi / 25.4
    # Curvature: within the bend zone a column d px from the fold shows what lies |d|^0.75-closer
    # on the flat page (content squeezed into the fold), rows pulled towards the middle (outline
    # pinched at the fold). The fold and the outer page edges stay put.
    zone = int(bend_mm * px)
    xs = np.arange(w - zone, w + zone, dtype=np.float32)
    d = (xs - w) / zone
    src_x = w + np.sign(d) * zone * np.abs(d) ** 0.75
    closeness = (1 - np.abs(d)) ** 2
    ys = np.arange(h, dtype=np.float32)[:, None]
    src_y = h / 2 + (ys - h / 2) * (1 + pinch_mm * px / (h / 2) * closeness[None, :])
    map_x = np.broadcast_to(src_x[None, :], (h, 2 * zone)).astype(np.float32)
    book[:, w - zone:w + zone] = cv2.remap(book, map_x, src_y.astype(np.float32), cv2.INTER_LINEAR,
                                           borderMode=cv2.BORDER_CONSTANT, borderValue=(45, 45, 48))
    # Shading: asymmetric shadow plus crease at the fold, one page lit less than the other.
    x = np.arange(2 * w, dtype=np.float32) - w
    other_mm = shadow_mm * rng.uniform(0.5, 1.5)
    width = np.where(x < 0, shadow_mm, other_mm) * px
    factor = 1 - shadow * np.exp(-np.abs(x) / width) - crease * np.exp(-(x / (0.7 * px)) ** 2)
    factor *= 1 - falloff * (x > 0 if rng.random() < 0.5 else x < 0)
    lut = np.clip(factor * 256, 0, 256).astype(np.uint16)
    book = ((book.astype(np.uint16) * lut[None, :, None]) >> 8).astype(np.uint8)
    deg = corpus.Degradation(skew_deg=skew_deg, border_mm=border_mm, blur_sigma=blur,
                             noise_sigma=noise, jpeg_quality=jpeg)
    capture, corners = corpus.degrade_ex(book, dpi, deg, seed)
    tl, tr, br, bl = corners
    top, bottom = (tl + tr) / 2, (bl + br) / 2
    return Spread(capture, dpi, (tuple(top), tuple(bottom)), left, right)


def fold_error_mm(s: Spread, g: spread.Gutter) -> float:
    """Largest distance between the found and the true fold along the book's height."""
    h = s.capture.shape[0]
    ys = np.linspace(s.fold[0][1], s.fold[1][1], 9)
    return max(abs(g.x_at(y, h) - s.fold_x(y)) for y in ys) * 25.4 / s.dpi


def check_cut(s: Spread, result: spread.SpreadSplit) -> None:
    """Each page holds all of its own page, and of the other at most the margin plus the
    tolerance."""
    left, right = result.pages
    h, w = s.capture.shape[:2]
    margin = spread.PAGE_MARGIN_MM * s.dpi / 25.4
    slack = MAX_ERROR_MM * s.dpi / 25.4
    x0 = w - right.shape[1]
    fill = left[h // 2, -1]
    (_, top), (_, bottom) = s.fold
    for y in np.linspace(top, bottom, 9)[1:-1].astype(int):
        # The painted fill runs from the cut to the crop's far edge, exactly the fill colour.
        painted = np.all(left[y] == fill, axis=1)
        cut_left = left.shape[1] - int(np.argmin(painted[::-1]))
        painted = np.all(right[y] == fill, axis=1)
        cut_right = x0 + int(np.argmin(painted))
        fold = s.fold_x(y)
        assert fold < cut_left <= fold + margin + slack
        assert fold - margin - slack <= cut_right < fold


def own_content(page: np.ndarray, own: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """Best correlation of a straightened page's ink layout with its source page and with the
    other page, over shifts of a few mm (the page keeps a margin past the fold)."""
    def layout(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)  # ~2 mm cells
        return small - cv2.GaussianBlur(small, (0, 0), 6)  # ink against its paper, not the tone

    h, w = page.shape[:2]
    cell = own.shape[1] / 105  # 2 mm: page and source share the dpi
    a = layout(page, (round(w / cell), round(h / cell)))
    # The source less 6 mm all round slides over the page.
    return tuple(float(cv2.matchTemplate(a, layout(src, (105, 148))[3:-3, 3:-3],
                                         cv2.TM_CCOEFF_NORMED).max()) for src in (own, other))


@pytest.mark.parametrize("dpi,skew,seed,look", [
    (200, -3.0, 1, {}), (200, 2.2, 2, {}), (200, 0.0, 3, {}), (300, 3.0, 4, {}),
    (300, -1.4, 5, {}),
    (200, 1.2, 9, {"shadow": 0.65, "crease": 0.3}),  # dark fold: it seems to cut the book in two
    (200, -3.0, 10, {"border_mm": 0.0}),  # no cradle: the book fills the capture
])
def test_gutter_found_and_spread_split(dpi: int, skew: float, seed: int, look: dict) -> None:
    s = render_spread(dpi, seed, skew_deg=skew, blur=1.2 if seed % 2 else 0.6,
                      noise=8.0 if seed % 2 else 4.0, jpeg=60 if seed % 2 else None, **look)
    result = spread.split_spread(s.capture, dpi)
    assert result.reason is None and result.gutter is not None
    g = result.gutter
    assert g.confidence >= 0.9
    assert fold_error_mm(s, g) <= MAX_ERROR_MM
    assert abs(g.angle_deg - skew) <= 0.5
    check_cut(s, result)


def test_split_pages_straighten_to_their_own_content() -> None:
    dpi = 200
    s = render_spread(dpi, 6, skew_deg=-2.5, blur=1.0, noise=6.0)
    result = spread.split_spread(s.capture, dpi)
    assert len(result.pages) == 2
    for page, own, other in ((result.pages[0], s.left, s.right),
                             (result.pages[1], s.right, s.left)):
        out = geometry.straighten(page, dpi, PageSettings(fix_orientation=False), rectify_perspective=False)
        assert abs(out.skew_deg + 2.5) <= 0.3
        h, w = out.image.shape[:2]
        # The whole A4 page plus at most the margin kept past the fold.
        assert -3 <= w * 25.4 / dpi - 210 <= spread.PAGE_MARGIN_MM + 3
        assert abs(h * 25.4 / dpi - 297) <= 4
        mine, theirs = own_content(out.image, own, other)
        print(f"content correlation own {mine:.2f}, other page {theirs:.2f}")
        assert mine > 0.45 and mine > theirs + 0.2


@pytest.mark.parametrize("rotation,page,skew", [
    (0, 1, 2.0), (0, 3, -4.0), (90, 2, -1.5), (270, 3, 2.5),
])
def test_single_page_is_not_split(rotation: int, page: int, skew: float) -> None:
    dpi = 200
    deg = corpus.Degradation(skew_deg=skew, rotation=rotation, border_mm=20.0, blur_sigma=1.0,
                             noise_sigma=6.0, jpeg_quality=70)
    capture = corpus.degrade(register_page(2, page, dpi), dpi, deg, seed=rotation + 1)
    result = spread.split_spread(capture, dpi)
    assert len(result.pages) == 1 and result.pages[0] is capture
    assert result.gutter is None
    # Upright: too narrow for two pages. Lying sideways it is landscape and searched like a spread
    # (the continuation page has wide blank stretches between its free lines): no fold on it.
    assert result.reason.startswith("not a spread" if rotation == 0 else "no gutter")
    assert spread.find_gutter(capture, dpi).confidence < 0.4


def test_blank_sheet_lying_sideways_is_not_split() -> None:
    dpi = 200
    blank = corpus.render_blank_page(dpi, 3, bleed_through=True)
    deg = corpus.Degradation(skew_deg=1.0, rotation=90, border_mm=20.0, noise_sigma=6.0)
    result = spread.split_spread(corpus.degrade(blank, dpi, deg, seed=3), dpi)
    assert len(result.pages) == 1 and result.reason.startswith("no gutter")


@pytest.mark.parametrize("dpi,seed", [(200, 7), (300, 8)])
def test_light_gutter_splits_on_the_text_gap(dpi: int, seed: int) -> None:
    s = render_spread(dpi, seed, skew_deg=1.5, shadow=0.03, crease=0.0, bend_mm=10.0,
                      pinch_mm=1.0, falloff=0.0)
    result = spread.split_spread(s.capture, dpi)
    assert result.gutter is not None, result.reason
    assert result.gutter.method == "text-gap"
    assert fold_error_mm(s, result.gutter) <= MAX_ERROR_MM
    check_cut(s, result)


def test_spread_timing_300dpi() -> None:
    """Benchmark-ish: time per 300 dpi capture and fold error, printed (run with -s)."""
    dpi = 300
    errors, seconds = [], []
    # Seeds whose pages the other 300 dpi tests already rendered (the page cache saves time).
    for seed, skew in ((12, 2.8), (13, -2.0), (16, 0.7)):
        s = render_spread(dpi, seed, skew_deg=skew, blur=1.0, noise=6.0)
        t0 = time.perf_counter()
        result = spread.split_spread(s.capture, dpi)
        seconds.append(time.perf_counter() - t0)
        assert result.gutter is not None
        errors.append(fold_error_mm(s, result.gutter))
    h, w = s.capture.shape[:2]
    print(f"\nspread {w}x{h} px at {dpi} dpi: {np.mean(seconds):.3f} s per capture "
          f"(max {max(seconds):.3f}); fold error mean {np.mean(errors):.2f} mm, "
          f"max {max(errors):.2f} mm")
