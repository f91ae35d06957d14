"""A capture file on disk: its format, frames, size and the resolution it claims, read from its header
without decoding its pixels.

Shared by the drivers, which check a file before they hand it on, and the pipeline, which decodes it
(pipeline/load.py): neither needs the other for this.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

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
    mode: str = ""      # Pillow's mode from the header ("RGB", "L", "CMYK", ...)
    dpi: float | None = None    # the resolution the (first) frame states, as file_dpi gives it


def inspect_file(path: Path, max_pixels: int) -> FileInfo:
    """Check a file is an image we take, without decoding its pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                fmt = im.format or "?"
                frames = getattr(im, "n_frames", 1)
                width, height = im.size
                mode = im.mode
                dpi = file_dpi(im)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageLoadError("ảnh quá lớn / image too large (decompression bomb guard)") from None
    except (OSError, SyntaxError, ValueError, TypeError) as exc:  # TypeError: truncated TIFF frames
        raise ImageLoadError(f"không đọc được ảnh / not a readable image ({type(exc).__name__})") from None
    if fmt not in SUPPORTED_FORMATS:
        raise ImageLoadError(f"định dạng {fmt} không hỗ trợ / unsupported format {fmt}: dùng JPEG, PNG hoặc TIFF")
    if width * height > max_pixels:
        raise ImageLoadError(f"ảnh {width}×{height} vượt giới hạn {max_pixels} điểm ảnh / too many pixels")
    return FileInfo(fmt, frames, width, height, mode, dpi)


def file_dpi(im: Image.Image) -> float | None:
    """The resolution the file states, or None when it states none or an absurd one."""
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        value = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return value if MIN_DPI <= value <= MAX_DPI else None
