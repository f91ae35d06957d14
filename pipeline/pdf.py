"""PDF assembly with img2pdf: each page's encoded image is embedded as it is, never encoded twice.

The page size comes from the resolution the encoder wrote into each image (JFIF density, TIFF
resolution), so a 200 dpi A4 page is an A4 page in the PDF.
"""
from __future__ import annotations

import img2pdf


def assemble_pdf(images: list[bytes], title: str) -> bytes:
    """One PDF of the encoded page images in order. `title` names the book and entry only."""
    if not images:
        raise ValueError("a PDF needs at least one page")
    return img2pdf.convert(images, title=title, producer="sohotich-station", creator="sohotich-station")
