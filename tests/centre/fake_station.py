"""A station's home made directly, without OCR: a book added with its register, and entries "scanned" as
the station files them (a separator page, content pages with small real JPEGs, a real PDF written by
station.review.entries.write_entry_pdf). A page's image depends only on the book, the entry and the page's
place in it, so two stations scanning the same entry make the same bytes, as a real rescan would not;
`variant` makes a different scanning of it."""
from __future__ import annotations

import io
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageDraw

from bench import corpus
from pipeline.separator import make_payload
from station.catalog import library
from station.catalog.models import Batch, Capture, Page, Scan, ScanPage, Verdict, entry_by_number, open_catalog
from station.catalog.storage import ensure_home, sha256_bytes, write_atomic
from station.review.entries import write_entry_pdf

BOOK = "KS.2017.01"


def page_image(book: str, number: int, index: int, variant: int = 0) -> bytes:
    """A small page at 200 dpi (what `station verify` asks), its pixels unique to the page."""
    image = Image.new("L", (120, 170), 250)
    draw = ImageDraw.Draw(image)
    draw.text((8, 8), f"{book}", fill=0)
    draw.text((8, 30), f"So {number} p{index} v{variant}", fill=0)
    draw.rectangle((8, 60 + 3 * (number % 20), 110, 64 + 3 * (number % 20) + index), fill=80 + 10 * variant)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, dpi=(200, 200))
    return buffer.getvalue()


_REGISTERS: dict[tuple, bytes] = {}


def register_bytes(book: str, count: int, seed: int) -> bytes:
    """The book's register, the same bytes for every station of a test run (as one file copied to each):
    openpyxl stamps the time of writing, so two writes a second apart differ."""
    key = (book, count, seed)
    if key not in _REGISTERS:
        book_type, year, volume = book.split(".")
        entries = corpus.make_entries(book_type, int(year), int(volume), count, seed=seed)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "register.xlsx"
            corpus.write_register_xlsx(path, entries)
            _REGISTERS[key] = path.read_bytes()
    return _REGISTERS[key]


class FakeStation:
    def __init__(self, home: Path, count: int = 10, book: str = BOOK, seed: int = 1):
        self.home, self.book = home, book
        ensure_home(home)
        self.sessions = open_catalog(home)
        register = home.parent / f"{home.name}-{book}.xlsx"
        register.write_bytes(register_bytes(book, count, seed))
        with self.sessions() as session:
            library.add_book(session, home, book, register, None)
        self._seq = 0

    def scan(self, numbers, pages: int = 2, variant: int = 0, image=page_image) -> None:
        """One batch scanning `numbers`: a separator and `pages` content pages each (`image(book, number,
        index, variant)` their bytes), their PDFs written."""
        with self.sessions() as session:
            batch = Batch(source="fake", profile="ministry-color", finished_at=datetime.now(timezone.utc))
            session.add(batch)
            session.flush()
            for number in numbers:
                entry = entry_by_number(session, self.book, number)
                separator = self._page(session, batch, Verdict.separator, None,
                                       separator_text=make_payload(self.book, (number,)).encode())
                scan = Scan(entry=entry, batch_id=batch.id, separator_page_id=separator.id)
                session.add(scan)
                for index in range(pages):
                    page = self._page(session, batch, Verdict.content, image(self.book, number, index, variant))
                    scan.pages.append(ScanPage(page=page, position=index))
                session.flush()
                session.refresh(entry)
                write_entry_pdf(session, self.home, entry)
            session.commit()

    def _page(self, session, batch: Batch, verdict: Verdict, image: bytes | None, **fields) -> Page:
        self._seq += 1
        data = image if image is not None else f"separator {self._seq}".encode()
        capture = Capture(batch_id=batch.id, seq=self._seq, source_name=f"{self._seq:05d}.jpg",
                          stored_file=f"captures/{batch.id}/{self._seq:05d}.jpg", sha256=sha256_bytes(
                              data + f"{self.home}".encode()))
        if image is not None:
            relative = f"pages/{batch.id}/{self._seq:05d}.jpg"
            write_atomic(self.home / relative, image)
            fields |= {"image_file": relative, "image_format": "jpeg", "image_bytes": len(image), "width": 120,
                      "height": 170, "dpi": 200.0, "measures": {"warnings": []}}
        page = Page(capture=capture, verdict=verdict, **fields)
        session.add_all([capture, page])
        session.flush()
        return page
