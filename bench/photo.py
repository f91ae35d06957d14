"""Phone photographs of a register page or a separator sheet, with ground truth.

What communes did with books larger than their scanners (Khánh Hòa, 2023): a 16 MP phone held over
the sheet on a wooden table. The camera is tilted, so the sheet's far edge comes out 6-12 % shorter
than its near edge (keystone); the sheet is turned a few degrees; the light falls off to one side and
a soft shadow (the photographer, a lamp arm) lies across part of it; the JPEG says 72 dpi.

Deterministic from a seed. The sheet is rendered flat by bench.corpus and mapped into the frame by a
homography; `Photo.corners` are the sheet's corners in the photo (top-left, top-right, bottom-right,
bottom-left of the upright sheet).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from bench.corpus import add_noise, seeded_rng, smooth_field

MM_PER_INCH = 25.4
# A 16 MP phone camera's frame, held in portrait (width, height).
PHONE_FRAME_PX = (3456, 4608)
# EXIF/JFIF resolution phones write whatever the subject.
PHONE_FILE_DPI = 72
EXIF_X_RESOLUTION, EXIF_Y_RESOLUTION, EXIF_RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128


@dataclass(frozen=True)
class PhotoSetup:
    keystone: float = 0.09        # far (top) edge this share shorter than the near one; < 0: bottom shorter
    turn_deg: float = 3.0         # counter-clockwise turn of the sheet in the frame
    fill: float = 0.86            # the sheet's height over the frame's height
    falloff: float = 0.35         # light lost from the bright side of the frame to the dark one
    shadow: float = 0.3           # darkening inside the soft shadow
    frame_px: tuple[int, int] = PHONE_FRAME_PX


@dataclass(frozen=True, eq=False)
class Photo:
    image: np.ndarray             # RGB, frame_px
    corners: np.ndarray           # (4, 2) sheet corners in the photo, TL TR BR BL of the upright sheet
    homography: np.ndarray        # sheet pixels -> photo pixels
    sheet_px: tuple[int, int]     # (width, height) of the flat sheet as rendered


def random_setup(seed: int, frame_px: tuple[int, int] = PHONE_FRAME_PX) -> PhotoSetup:
    """A plausible phone photo: keystone 6-12 % either way, turned 1-5° either way."""
    rng = seeded_rng(seed, "photo-setup")
    return PhotoSetup(keystone=float(rng.uniform(0.06, 0.12) * rng.choice([-1, 1])),
                      turn_deg=float(rng.uniform(1, 5) * rng.choice([-1, 1])),
                      fill=float(rng.uniform(0.8, 0.9)), falloff=float(rng.uniform(0.2, 0.45)),
                      shadow=float(rng.uniform(0.2, 0.4)), frame_px=frame_px)


def _sheet_quad(sheet_px: tuple[int, int], s: PhotoSetup, rng: np.random.Generator) -> np.ndarray:
    """Where the sheet's corners land: a trapezoid (keystone), turned, a little off centre."""
    fw, fh = s.frame_px
    w, h = sheet_px
    height = s.fill * fh
    mean_width = height * w / h
    top = mean_width * (1 - s.keystone / 2)
    bottom = mean_width * (1 + s.keystone / 2)
    quad = np.array([[-top / 2, -height / 2], [top / 2, -height / 2],
                     [bottom / 2, height / 2], [-bottom / 2, height / 2]])
    t = math.radians(s.turn_deg)
    # Counter-clockwise on screen (y down): x' = x cos + y sin, y' = -x sin + y cos.
    turn = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    quad = quad @ turn.T
    # Shrink if the turned sheet would leave the frame, keeping a margin of table on every side.
    margin = 0.03 * min(fw, fh)
    span = quad.max(axis=0) - quad.min(axis=0)
    quad *= min(1.0, (fw - 2 * margin) / span[0], (fh - 2 * margin) / span[1])
    room = (np.array([fw, fh]) - (quad.max(axis=0) - quad.min(axis=0))) / 2 - margin
    offset = rng.uniform(-0.5, 0.5, 2) * np.maximum(room, 0)
    return quad + np.array([fw / 2, fh / 2]) + offset


def _wood(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A wooden table top: orange-brown, grain along one direction with wavy rings, knots of tone."""
    small = 4  # grain is built at a quarter of the frame and upsampled: it has no finer detail
    sh, sw = max(2, h // small), max(2, w // small)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    wobble = smooth_field(rng, sh, sw, 6) * rng.uniform(15, 40)
    along = rng.uniform(0, math.pi)
    across = (xx * math.cos(along) + yy * math.sin(along)) + wobble
    period = rng.uniform(6, 14)
    rings = 0.5 + 0.5 * np.sin(2 * math.pi * across / period + smooth_field(rng, sh, sw, 20) * 2)
    tone = 0.85 + 0.12 * smooth_field(rng, sh, sw, 4) - 0.18 * rings ** 3
    base = np.array([rng.uniform(170, 200), rng.uniform(105, 130), rng.uniform(55, 80)], np.float32)
    low = np.clip(tone[..., None] * base, 0, 255).astype(np.uint8)
    return cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)


def _light(h: int, w: int, s: PhotoSetup, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative light: fall-off to one side, lens vignetting, and a soft-edged shadow band."""
    small = 8
    sh, sw = max(2, h // small), max(2, w // small)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    u, v = xx / sw - 0.5, yy / sh - 0.5
    side = rng.uniform(0, 2 * math.pi)
    ramp = (u * math.cos(side) + v * math.sin(side)) / 0.71 + 0.5  # 0..1 across the frame
    light = 1.0 - s.falloff * np.clip(ramp, 0, 1)
    light *= 1.0 - 0.25 * (u * u + v * v) / 0.5
    # The shadow: a half-plane crossing part of the frame, its edge blurred over ~4 % of the frame.
    angle = rng.uniform(0, 2 * math.pi)
    reach = rng.uniform(0.15, 0.3)
    inside = (u * math.cos(angle) + v * math.sin(angle)) > reach
    edge = 0.04 * max(sh, sw)
    shade = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), edge)
    light *= 1.0 - s.shadow * shade
    return cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)


def photograph(sheet: np.ndarray, setup: PhotoSetup, seed: int) -> Photo:
    """The phone photo of a flat sheet (RGB render of the whole sheet, edge to edge)."""
    rng = seeded_rng(seed, "photo")
    if sheet.ndim == 2:
        sheet = cv2.cvtColor(sheet, cv2.COLOR_GRAY2RGB)
    h, w = sheet.shape[:2]
    fw, fh = setup.frame_px
    corners = _sheet_quad((w, h), setup, rng)
    flat = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    homography = cv2.getPerspectiveTransform(flat.astype(np.float32), corners.astype(np.float32))
    out = _wood(fh, fw, rng)
    # A soft contact shadow under the sheet's edge, as paper lying on a table casts.
    lift = np.zeros((fh, fw), np.uint8)
    cv2.fillPoly(lift, [np.round(corners + rng.uniform(-1, 1, 2) * 0.002 * fw).astype(np.int32)], 255)
    lift = cv2.GaussianBlur(lift, (0, 0), 0.004 * fw)
    out = cv2.multiply(out, cv2.merge([255 - lift // 3] * 3), scale=1 / 255.0)
    cv2.warpPerspective(sheet, homography, (fw, fh), dst=out, flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_TRANSPARENT)
    light = np.clip(_light(fh, fw, setup, rng) * 255, 0, 255).astype(np.uint8)
    out = cv2.multiply(out, cv2.merge([light] * 3), scale=1 / 255.0)
    out = cv2.GaussianBlur(out, (0, 0), 0.7)  # lens and demosaicing softness
    out = add_noise(out, rng.uniform(2.0, 4.0), rng, mono=False)
    return Photo(out, corners, homography, (w, h))


def jpeg_bytes(photo: Photo, quality: int = 90, dpi: int = PHONE_FILE_DPI) -> bytes:
    """The photo as a phone writes it: JPEG with 72 dpi in JFIF and in EXIF."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Phone", "16MP camera"  # Make, Model
    exif[EXIF_X_RESOLUTION] = exif[EXIF_Y_RESOLUTION] = float(dpi)
    exif[EXIF_RESOLUTION_UNIT] = 2  # inches
    buffer = io.BytesIO()
    Image.fromarray(photo.image).save(buffer, format="JPEG", quality=quality, dpi=(dpi, dpi), exif=exif)
    return buffer.getvalue()
