"""The sync's wire format: what a station sends the province centre about one book, shared by both sides
(the centre imports this module; the station never imports the centre).

A push is a whole snapshot of one book as one station holds it: the book and its register's file, every
entry with the station's state of it, the scans with their pages in order, the PDFs and the corrections.
Rows carry the station's own ids (`local_id`); the centre keys them by (station, local id), the station
coming from the token alone. Files are named by SHA-256 and go first (`PUT /api/blobs/{sha256}`); a push
naming a file the centre has not received from that station is refused whole, so nothing is half-visible.

`digest()` names a snapshot: the centre keeps the digest of the last push it committed for each of the
station's books, and a station whose book still has that digest sends nothing for it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

PROTOCOL = 1
SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
BookCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}\.[0-9]{4}\.[0-9]{1,3}$")]
Short = Annotated[str, StringConstraints(max_length=300)]
BlobKind = Literal["page", "pdf", "register"]
MAX_ROWS = 100_000          # per list in one push: far above a book (a few thousand pages at most)


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookRow(Row):
    commune: str = Field("", max_length=100)
    code: BookCode
    book_type: str = Field(pattern=r"^[A-Z]{2,4}$")
    year: int
    volume: int
    register_sha256: Sha256 | None = None


class EntryRow(Row):
    number: int = Field(ge=0)
    reg_date: date | None = None
    page_no: str | None = Field(None, max_length=20)


class StateRow(Row):
    """What the station says of an entry (station.review.entries.entry_state)."""
    number: int
    status: Literal["done", "missing", "doubtful"]
    reason: Short | None = None
    accepted_reason: Short | None = None
    version: int                      # the station's Entry.version: an older state never replaces a newer
    changed_at: datetime | None = None


class PageRow(Row):
    local_id: int
    capture_sha256: Sha256 | None = None
    part: int = 0
    verdict: Literal["separator", "blank", "content", "doubtful", "quarantined"]
    reason: Short | None = None
    held_reason: Short | None = None
    deleted: bool = False
    image_sha256: Sha256 | None = None
    image_format: str | None = Field(None, max_length=16)
    width: int | None = None
    height: int | None = None
    dpi: float | None = None
    skew_deg: float | None = None
    rotation: int | None = None
    read_number: int | None = None
    book_page: int | None = None
    measures: dict | None = None
    processed_at: datetime | None = None


class ScanRow(Row):
    local_id: int
    number: int
    chosen: bool | None = None
    damaged: bool = False
    placed: bool = False
    doubt: Short | None = None
    created_at: datetime | None = None
    pages: list[int] = Field(default_factory=list, max_length=MAX_ROWS)   # page local ids, in order


class PdfRow(Row):
    number: int
    scan: int                          # the scan's local id
    sha256: Sha256
    pages: int
    bytes: int


class CorrectionRow(Row):
    local_id: int
    at: datetime
    operator: str = Field(max_length=100)
    action: str = Field(max_length=40)
    entry_number: int | None = None
    details: dict = Field(default_factory=dict)


class BookPush(Row):
    """One book as one station holds it; `book` None carries the corrections of no book."""
    protocol: Literal[1] = PROTOCOL
    book: BookRow | None
    entries: list[EntryRow] = Field(default_factory=list, max_length=MAX_ROWS)
    states: list[StateRow] = Field(default_factory=list, max_length=MAX_ROWS)
    pages: list[PageRow] = Field(default_factory=list, max_length=MAX_ROWS)
    scans: list[ScanRow] = Field(default_factory=list, max_length=MAX_ROWS)
    pdfs: list[PdfRow] = Field(default_factory=list, max_length=MAX_ROWS)
    corrections: list[CorrectionRow] = Field(default_factory=list, max_length=MAX_ROWS)

    @model_validator(mode="after")
    def _consistent(self) -> BookPush:
        """Every reference inside the push points at a row of it (what the centre will join on)."""
        numbers = {e.number for e in self.entries}
        page_ids = {p.local_id for p in self.pages}
        scans = {s.local_id: s for s in self.scans}
        problems = []
        if self.book is None and (self.entries or self.states or self.pages or self.scans or self.pdfs):
            problems.append("rows of a book without the book")
        if len(numbers) != len(self.entries) or len(page_ids) != len(self.pages) or len(scans) != len(self.scans):
            problems.append("the same entry, page or scan twice")
        if len({s.number for s in self.states}) != len(self.states) or len({p.number for p in self.pdfs}) != len(self.pdfs):
            problems.append("two states or two PDFs of one entry")
        if any(s.number not in numbers for s in self.states) or any(s.number not in numbers for s in self.scans):
            problems.append("a state or scan of an entry not sent")
        if any(page not in page_ids for s in self.scans for page in s.pages):
            problems.append("a scan's page not sent")
        if any(p.scan not in scans or scans[p.scan].number != p.number for p in self.pdfs):
            problems.append("a PDF whose scan is not of its entry")
        if problems:
            raise ValueError("inconsistent push: " + "; ".join(problems))
        return self

    def files(self) -> dict[str, BlobKind]:
        """The files the push names, by SHA-256."""
        named: dict[str, BlobKind] = {}
        if self.book is not None and self.book.register_sha256:
            named[self.book.register_sha256] = "register"
        named.update({p.image_sha256: "page" for p in self.pages if p.image_sha256})
        named.update({p.sha256: "pdf" for p in self.pdfs})
        return named

    def digest(self) -> str:
        """The snapshot's name: the same rows give the same digest, on either side of the wire."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def wire(push: BookPush) -> tuple[bytes, str]:
    """The push as sent, and its digest as the centre will compute it from what it receives (the JSON's
    round trip may change a value, e.g. a NaN in measures becomes null)."""
    body = push.model_dump_json().encode()
    return body, BookPush.model_validate_json(body).digest()


class PushAnswer(BaseModel):
    book: str | None
    digest: str
    unchanged: bool          # the centre already held this very snapshot: nothing written
    rows: int


MISSING_FILES = "missing_files"   # the 409 answer's key listing the files a push named but the centre lacks
