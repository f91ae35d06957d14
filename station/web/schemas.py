"""The API's version and the JSON shapes several routers answer with."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = "1"


class BookSummary(BaseModel):
    book: str
    expected: int = Field(description="Entries in the book's register.")
    done: int
    missing: int
    doubtful: int
    pages: int
    bytes: int = Field(description="Bytes of the entries' PDFs.")
    last_activity: datetime | None = Field(None, description="Last page filed into the book or correction of it.")
    done_this_week: int = 0
    notes: list[str] = Field(default_factory=list, description=(
        "What the operator must know about the whole book: a check that cannot work for it (the number "
        "cross-check on a form OCR does not read), pages over the size cap."))


class PageInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    source: str = Field(description="The capture's file name or feeder position.")
    verdict: str
    reason: str | None
    deleted: bool
    dpi: float | None
    input_dpi: float | None
    bytes: int | None
    skew_deg: float | None = Field(description="Skew corrected, in degrees.")
    rotation: int | None
    barcode: str | None = Field(description="The separator payload read, if any.")


class ScanInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    batch: int
    chosen: bool | None = Field(description="Picked by the operator (true), set aside (false), undecided (null).")
    damaged: bool
    counts: bool = Field(description="This scan makes the entry's PDF.")
    pages: list[PageInfo]


class PdfInfo(BaseModel):
    pages: int
    bytes: int


class EntryDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    book: str
    number: int
    status: str
    reasons: list[str]
    warnings: list[str] = Field(default_factory=list, description="What no rescan changes: shown, not blocking.")
    version: int = Field(description="Send it back with a correction: a stale one is refused with 409.")
    reg_date: date | None
    pdf: PdfInfo | None
    scans: list[ScanInfo]


PDF_ANSWER = {200: {"content": {"application/pdf": {}}, "description": "A PDF file."}}
