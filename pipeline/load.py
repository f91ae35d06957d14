"""Decoding a captured image file into pixels, with its resolution.

Captures come as JPEG, PNG or TIFF (multi-page included), from 150 to 600 dpi. The resolution the
file states is only a claim (pipeline/paper.py measures the true one).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SUPPORTED_FORMATS = {"JPEG", "PNG", "TIFF", "MPO"}
MIN_DPI, MAX_DPI = 70.0, 1200.0


class ImageLoadError(ValueError):
    """The file or frame cannot be decoded; the message says why, in a few words."""


@dataclass(frozen=True)
class FileInfo:
    format: str
    frames: int
    width: int
    height: int


@dataclass(frozen=True)
class LoadedImage:
    # RGB (height, width, 3); grey and bilevel captures stay grey (height, width): a grey scan
    # processed as three equal channels would cost every step three times the work for nothing.
    pixels: np.ndarray
    file_dpi: float | None  # as the file states it; None when it states none (or an absurd one)


def inspect_file(path: Path, max_pixels: int) -> FileInfo:
    """Check a file is an image we take, without decoding its pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                fmt = im.format or "?"
                frames = getattr(im, "n_frames", 1)
                width, height = im.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageLoadError("ảnh quá lớn / image too large (decompression bomb guard)") from None
    except (OSError, SyntaxError, ValueError, TypeError) as exc:  # TypeError: truncated TIFF frames
        raise ImageLoadError(f"không đọc được ảnh / not a readable image ({type(exc).__name__})") from None
    if fmt not in SUPPORTED_FORMATS:
        raise ImageLoadError(f"định dạng {fmt} không hỗ trợ / unsupported format {fmt}: dùng JPEG, PNG hoặc TIFF")
    if width * height > max_pixels:
        raise ImageLoadError(f"ảnh {width}×{height} vượt giới hạn {max_pixels} điểm ảnh / too many pixels")
    return FileInfo(fmt, frames, width, height)


def _file_dpi(im: Image.Image) -> float | None:
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        value = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return value if MIN_DPI <= value <= MAX_DPI else None


def load_frame(path: Path, frame: int, max_pixels: int) -> LoadedImage:
    """Decode one frame to RGB or grey uint8, applying EXIF orientation from cameras."""
    inspect_file(path, max_pixels)
    try:
        with Image.open(path) as im:
            im.seek(frame)
            dpi = _file_dpi(im)
            im.load()
            # In place: the copy exif_transpose makes otherwise costs ~50 ms on a 300 dpi page.
            ImageOps.exif_transpose(im, in_place=True)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                # 16-bit greyscale: keep the top 8 bits of the range actually used.
                arr = np.asarray(im, dtype=np.float32)
                hi = float(arr.max()) or 1.0
                im = Image.fromarray((arr * (255.0 / hi)).astype(np.uint8))
            if im.mode in ("L", "1"):
                pixels = np.asarray(im if im.mode == "L" else im.convert("L"))
            else:
                pixels = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
        raise ImageLoadError(f"ảnh hỏng hoặc bị cắt cụt / corrupt or truncated image ({exc})") from None
    return LoadedImage(pixels, dpi)
