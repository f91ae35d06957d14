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
    by_page: bool = Field(False, description="Captured page by page after book-start sheets, its pages placed "
                          "by the register (theo trang / by page).")
    breaks: list[str] = Field(default_factory=list, description=(
        "A book captured by page: where its sequence of pages broke (a page turn missed, a page captured "
        "twice…), each naming the capture and why; `GET /api/books/{id}/strip` shows them in place."))


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


class StripRun(BaseModel):
    sheet: int = Field(description="Page id of the book-start sheet.")
    start_page: int = Field(description="The book page the sheet names: the captures after it are that page on.")
    captures: int


class StripPage(BaseModel):
    book_page: int
    page_id: int | None = Field(description="The capture filed at this book page; null: not captured.")
    source: str | None = Field(description="The capture's file name.")
    blank: bool
    unreadable: bool = Field(description="The capture could not be read: the page needs capturing again.")
    printed_page: int | None = Field(description="The page number read on the capture.")
    stated_page: int | None = Field(description="The book page the operator stated for the capture.")
    numbers_read: list[int] = Field(description="Registration numbers read on the capture.")
    registrations: list[int] = Field(description="The register's registrations standing on this page (trangSo).")
    doubt: str | None = Field(description="Why this page's registrations are withheld, if they are.")


class StripBreak(BaseModel):
    page_id: int = Field(description="The capture where the sequence stopped fitting.")
    source: str
    expected: int = Field(description="The book page it should have been.")
    found: int | None = Field(description="The book page it says it is (null: the same picture again).")
    reason: str
    withholds: list[int] = Field(description="Registrations this break still holds back: none for a dropped "
                                             "capture, nor once the missing page was captured.")


class StripCapture(BaseModel):
    page_id: int
    source: str
    why: str = Field(description="Why the capture is filed at no book page (dropped, replaced).")


class BookStripAnswer(BaseModel):
    """A book as the strip of its pages. A book without a book-start sheet answers `by_page: false`,
    everything else empty, and a note saying how to start one."""
    book: str
    by_page: bool = Field(description="false: the book was not captured by page (no book-start sheet).")
    runs: list[StripRun] = Field(description="Each book-start sheet and how many captures followed it.")
    pages: list[StripPage] = Field(description="Every book page from 1 to the last the register or a capture gives.")
    breaks: list[StripBreak]
    unfiled: list[StripCapture] = Field(description="Captures of the book filed at no page.")
    confirmed_pages: int = Field(description="Captures whose own page number or registrations proved their place.")
    notes: list[str] = Field(default_factory=list)
