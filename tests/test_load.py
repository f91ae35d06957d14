"""Decoding captures: OpenCV for whole JPEGs, Pillow for the rest, the same upright pixels either way."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from capturefile import ImageLoadError
from pipeline.load import load_frame

# EXIF orientations a camera writes: upright, upside down, turned a quarter either way.
ORIENTATIONS = (1, 3, 6, 8)


def _photo(tmp_path: Path, mode: str, orientation: int) -> Path:
    rng = np.random.default_rng(orientation)
    arr = rng.integers(0, 255, (60, 90, 3) if mode == "RGB" else (60, 90), dtype=np.uint8)
    arr[:10] = 0                     # a dark top edge, so a wrong turn cannot match by chance
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"{mode}-{orientation}.jpg"
    Image.fromarray(arr).save(path, exif=exif, dpi=(72, 72), quality=95)
    return path


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_is_turned_by_its_exif_orientation(tmp_path, mode, orientation):
    path = _photo(tmp_path, mode, orientation)
    loaded = load_frame(path, 0, 10**8)
    with Image.open(path) as im:
        upright = np.asarray(ImageOps.exif_transpose(im))
    assert loaded.pixels.shape == upright.shape
    assert np.array_equal(loaded.pixels, upright)
    assert loaded.file_dpi == 72.0


def test_jpeg_cut_short_is_refused(tmp_path):
    path = _photo(tmp_path, "RGB", 1)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(ImageLoadError, match="truncated"):
        load_frame(path, 0, 10**8)


def test_jpeg_with_bytes_after_its_end_still_loads(tmp_path):
    path = _photo(tmp_path, "L", 1)
    path.write_bytes(path.read_bytes() + b"\0" * 64)        # padding some tools leave
    assert load_frame(path, 0, 10**8).pixels.shape == (60, 90)
