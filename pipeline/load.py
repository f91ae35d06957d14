"""Decoding a captured image file into pixels, with its resolution.

Captures come as JPEG, PNG or TIFF (multi-page included), from 150 to 600 dpi. The resolution the
file states is only a claim (pipeline/paper.py measures the true one).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from capturefile import FileInfo, ImageLoadError, file_dpi, inspect_file

@dataclass(frozen=True)
class LoadedImage:
    # RGB (height, width, 3); grey and bilevel captures stay grey (height, width): a grey scan
    # processed as three equal channels would cost every step three times the work for nothing.
    pixels: np.ndarray
    file_dpi: float | None  # as the file states it; None when it states none (or an absurd one)


def load_frame(path: Path, frame: int, max_pixels: int) -> LoadedImage:
    """Decode one frame to RGB or grey uint8, applying EXIF orientation from cameras."""
    info = inspect_file(path, max_pixels)
    if info.format == "JPEG" and info.mode in ("RGB", "L"):
        data = np.fromfile(path, np.uint8)
        # OpenCV decodes a JPEG cut short without a word: only a whole one (ending in its EOI
        # marker) goes that way; anything else gets Pillow's checks below.
        if data.size > 2 and data[-2] == 0xFF and data[-1] == 0xD9:
            return _load_jpeg(data, info)
    try:
        with Image.open(path) as im:
            im.seek(frame)
            dpi = file_dpi(im)
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


def _load_jpeg(data: np.ndarray, info: FileInfo) -> LoadedImage:
    """The common capture, decoded by OpenCV: 44 ms a 300 dpi A4 colour page against Pillow's 60-100
    (its pixels reach numpy through a copy of every byte). OpenCV turns the image by its EXIF
    orientation itself; the dpi is the one inspect_file read from the header."""
    flags = cv2.IMREAD_GRAYSCALE if info.mode == "L" else cv2.IMREAD_COLOR
    pixels = cv2.imdecode(data, flags)
    if pixels is None:
        raise ImageLoadError("ảnh hỏng hoặc bị cắt cụt / corrupt or truncated image (JPEG)")
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    return LoadedImage(pixels, info.dpi)
