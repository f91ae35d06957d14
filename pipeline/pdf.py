"""PDF assembly with img2pdf: each page's encoded image is embedded as it is, never encoded twice.

The page size comes from the resolution the encoder wrote into each image (JFIF density, TIFF
resolution), so a 200 dpi A4 page is an A4 page in the PDF. A page's optional text layer (the
text-only PDF page from pipeline.ocr.text_layer_pdf) is laid under its image with pymupdf, which
copies the image stream untouched: the page image stays byte for byte what the encoder wrote.

The same pages give the same bytes: no creation date (the catalog records when a PDF was made) and
img2pdf's own writer, since through pikepdf img2pdf 0.6 writes a random document /ID (its check for
pikepdf >= 6.2 compares version strings), nor from pymupdf for a text layer. An entry's PDF rebuilt
after a crash, and so the book's export, is then byte-identical to one never interrupted.
"""
from __future__ import annotations

import img2pdf
import pymupdf


def assemble_pdf(images: list[bytes], title: str, text_layers: list[bytes | None] | None = None) -> bytes:
    """One PDF of the encoded page images in order. `title` names the book and entry only.
    `text_layers`, when given, holds one text-only PDF (or None) per image."""
    if not images:
        raise ValueError("a PDF needs at least one page")
    data = img2pdf.convert(images, title=title, producer="sohotich-station", creator="sohotich-station",
                           nodate=True, engine=img2pdf.Engine.internal)
    if not text_layers or not any(text_layers):
        return data
    if len(text_layers) != len(images):
        raise ValueError(f"{len(text_layers)} text layers for {len(images)} pages")
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        for page, layer in zip(doc, text_layers):
            if layer:
                with pymupdf.open(stream=layer, filetype="pdf") as text:
                    # Under the image: the invisible words are found by search and copy, never seen.
                    page.show_pdf_page(page.rect, text, 0, overlay=False, keep_proportion=False)
        # garbage=3 keeps one copy of the font Tesseract embeds in every layer; streams are not
        # recompressed (no deflate option), so the image bytes stay as they were.
        # no_new_id: no random document /ID (see above).
        return doc.tobytes(garbage=3, no_new_id=True)
