"""Tesseract inside the worker's process (tesserocr), for the read made on every content page.

Running the `tesseract` program for each page costs ~0.16 s before it reads anything (start-up and
loading `vie`, measured on a blank 200×60 image) plus a PNG written and read back. Here the engine is
loaded once per thread and language and kept for the worker's life; the page goes in as packed bits.

The same holds for orientation by OSD (674 → 318 ms a call, median, the same answers on bench_ocr's
108 pages). tesserocr is compiled against Debian's libtesseract (the Makefile), so the reader
here and the `tesseract` program are one version (`station doctor` says when they are not). The
language data is found through TESSDATA_PREFIX, else in the folder the program names. The text layer
of a searchable PDF (rare, off in every profile) still runs the program through pytesseract.
"""
from __future__ import annotations

import functools
import os
import re
import subprocess
import threading

import numpy as np
import tesserocr


class TesseractError(RuntimeError):
    """Tesseract could not start or did not finish; the message says which and what to do."""


_local = threading.local()      # one engine per thread: an engine is not safe across threads


@functools.lru_cache(maxsize=1)
def tessdata_dir() -> str:
    """Where the language files are: TESSDATA_PREFIX, else what `tesseract --list-langs` names."""
    if os.environ.get("TESSDATA_PREFIX"):
        return os.environ["TESSDATA_PREFIX"]
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TesseractError(f"không chạy được tesseract ({exc}); cài gói tesseract-ocr / "
                             f"cannot run tesseract: install Debian's tesseract-ocr") from None
    found = re.search(r'"([^"]+)"', out)
    if not found:
        raise TesseractError(f"tesseract không cho biết thư mục dữ liệu ngôn ngữ / tesseract named no "
                             f"language folder ({out.strip()[:120]!r}); set TESSDATA_PREFIX")
    return found.group(1)


def library_version() -> str:
    """The libtesseract version tesserocr runs ("5.3.0")."""
    return tesserocr.tesseract_version().split()[1]


def _engine(lang: str) -> tesserocr.PyTessBaseAPI:
    engines = _local.__dict__.setdefault("engines", {})
    if lang not in engines:
        path = tessdata_dir()
        try:
            engines[lang] = tesserocr.PyTessBaseAPI(path=path, lang=lang)
            if lang == "osd":
                engines[lang].SetPageSegMode(tesserocr.PSM.OSD_ONLY)
        except RuntimeError:
            raise TesseractError(f"cài tesseract-ocr-{lang}: thiếu dữ liệu {lang!r} trong {path} / install "
                                 f"tesseract-ocr-{lang}: no {lang!r} data in {path}") from None
    return engines[lang]


def _set_image(api: tesserocr.PyTessBaseAPI, binary: np.ndarray, dpi: float) -> None:
    height, width = binary.shape
    packed = np.packbits(binary >= 128, axis=1)     # 1 bit a pixel, 1 = white, as Tesseract wants it
    api.SetImageBytes(packed.tobytes(), width, height, 0, packed.shape[1])
    api.SetSourceResolution(round(dpi))


def orientation(binary: np.ndarray, dpi: float) -> tuple[int, float] | None:
    """Tesseract OSD on a black-on-white image (uint8, ink < 128): (clockwise quarter turn that
    sets the page upright, Tesseract's orientation confidence), or None when it found too little
    text to tell."""
    api = _engine("osd")
    _set_image(api, binary, dpi)
    found = api.DetectOrientationScript()
    if not found:
        return None
    return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])


def read_words(binary: np.ndarray, *, lang: str, psm: int, dpi: float,
               variables: dict[str, str] | None = None, timeout_s: float) -> dict[str, list]:
    """Words of a black-on-white image (uint8, ink < 128), as pytesseract's `image_to_data` gives
    them: a dict of columns (level, block_num, par_num, line_num, left, top, width, height, conf,
    text). `variables` stay set on the thread's engine for its later reads (every caller gives the
    same ones). Raises TesseractError when the read does not finish within timeout_s."""
    api = _engine(lang)
    api.SetPageSegMode(psm)
    for name, value in (variables or {}).items():
        api.SetVariable(name, value)
    _set_image(api, binary, dpi)
    if not api.Recognize(timeout=round(timeout_s * 1000)):
        api.Clear()
        raise TesseractError(f"Tesseract quá thời gian {timeout_s:g} s / timeout after {timeout_s:g} s")
    return _columns(api.GetTSVText(0))


_INT_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
                "left", "top", "width", "height")


def _columns(tsv: str) -> dict[str, list]:
    data: dict[str, list] = {name: [] for name in (*_INT_COLUMNS, "conf", "text")}
    for row in tsv.splitlines():
        cells = row.split("\t", 11)
        if len(cells) < 11:
            continue
        for name, cell in zip(_INT_COLUMNS, cells):
            data[name].append(int(cell))
        data["conf"].append(float(cells[10]))
        data["text"].append(cells[11] if len(cells) > 11 else "")
    return data
