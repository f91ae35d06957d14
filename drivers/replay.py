"""Replay driver: a folder of captured images fed through the same path as pages off a scanner.

Name order is scan order; a multi-page TIFF yields one capture per frame. Used for batches scanned
elsewhere, tests and demos.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from drivers.base import Capture, CapturedPage, CaptureFailure
from capturefile import ImageLoadError, inspect_file

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
# Captures in formats the station does not take: reported (and quarantined), never silently skipped.
UNSUPPORTED_SUFFIXES = {".bmp", ".gif", ".webp", ".jp2", ".j2k", ".heic", ".heif", ".pdf", ".dng",
                        ".cr2", ".nef", ".arw"}


class EmptyFolderError(ValueError):
    pass


def _natural_key(path: Path) -> list:
    # "page2" before "page10", as an operator reads the names.
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class ReplayDriver:
    name = "replay"

    def __init__(self, folder: Path, max_pixels: int):
        self.folder = folder
        self.max_pixels = max_pixels
        taken = IMAGE_SUFFIXES | UNSUPPORTED_SUFFIXES
        self.files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                             and p.suffix.lower() in taken), key=_natural_key)
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in self.files):
            raise EmptyFolderError(str(folder))
        self._infos: dict[Path, int | str] = {}
        for path in self.files:
            if path.suffix.lower() in UNSUPPORTED_SUFFIXES:
                self._infos[path] = (f"định dạng {path.suffix} không hỗ trợ: chuyển sang JPEG, PNG hoặc TIFF "
                                     f"/ unsupported format {path.suffix}")
                continue
            try:
                self._infos[path] = inspect_file(path, max_pixels).frames
            except ImageLoadError as exc:
                self._infos[path] = str(exc)

    def expected(self) -> int:
        return sum(v if isinstance(v, int) else 1 for v in self._infos.values())

    def captures(self) -> Iterator[Capture]:
        sequence = 0
        for path in self.files:
            info = self._infos[path]
            if isinstance(info, str):
                sequence += 1
                yield CaptureFailure(sequence, self.name, path.name, info, path)
                continue
            for frame in range(info):
                sequence += 1
                source = path.name if info == 1 else f"{path.name}#{frame + 1}"
                yield CapturedPage(sequence, self.name, source, None, file=path, frame=frame)
