"""Book-level operations behind the CLI (and later the web API): add a book, separator sheets,
status, picking between scans, export."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.separator import MAX_BOOK_PAGE, make_payload, make_start_payload
from station.catalog.books import BookId
from station.catalog.models import Book, Entry, Page
from station.catalog.register import read_register
from station.catalog.storage import sha256_bytes, write_atomic
from station.config import LoadedConfig, Profile
from station.errors import BookError, IncompleteBookError, InputError, RegisterError
from station.export.naming import NameNotReady, pdf_name
from station.export.sheets import SheetSpec, render_sheets
from station.export.package import PackedPdf, write_package
from station.review.entries import book_facts, entry_state, page_numbers, page_warnings
from station.review import states
from station.review.strip import by_page_books, by_page_facts


def require_book(session: Session, book_id: str) -> Book:
    canonical = str(BookId.parse(book_id))
    book = session.get(Book, canonical)
    if book is None:
        raise BookError(f"Sổ {canonical} chưa có trong danh mục / book not in the catalog: "
                        f"thêm bằng `station book add {canonical} --register TỆP.xlsx`.")
    return book


def add_book(session: Session, home: Path, book_id: str, register: Path | None,
             numbers: list[int] | None) -> Book:
    book_key = BookId.parse(book_id)
    canonical = str(book_key)
    if session.get(Book, canonical) is not None:
        raise BookError(f"Sổ {canonical} đã có trong danh mục / book already in the catalog.")
    book = Book(id=canonical, book_type=book_key.book_type, year=book_key.year, volume=book_key.volume)
    if register is not None:
        if not register.is_file():
            raise InputError(f"Không tìm thấy sổ đăng ký {register} / register file not found.")
        parsed = read_register(register, book_key)
        data = register.read_bytes()
        stored = home / "registers" / f"{canonical}.xlsx"
        write_atomic(stored, data)
        book.register_file = str(stored.relative_to(home))
        book.register_sha256 = sha256_bytes(data)
        for row in parsed.entries:
            book.entries.append(Entry(number=row.number, reg_date=row.reg_date, page_no=row.page_no,
                                      register_row=row.row_index))
    else:
        for number in numbers or []:
            book.entries.append(Entry(number=number))
    if not book.entries:
        raise BookError(f"Sổ {canonical}: không có trường hợp đăng ký nào / no entries given.")
    session.add(book)
    session.commit()
    return book


@dataclass(frozen=True)
class RegisterResult:
    file: str
    outcome: str          # "added", "present" or "refused"
    message: str

    @property
    def mark(self) -> str:
        return {"added": "✔", "present": "·", "refused": "✘"}[self.outcome]


def register_files(folder: Path) -> list[Path]:
    """The .xlsx files of a folder in name order, without Excel's lock files (~$…) and hidden ones."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() == ".xlsx" and not p.name.startswith(("~$", ".")))


def add_registers(sessions, home: Path, folder: Path) -> list[RegisterResult]:
    """Add a book for every register named LOAI.NAM.QUYEN.xlsx in `folder`, each on its own: a
    refused file (its name, its rows) takes nothing else down; a book already here is left as it is."""
    results = []
    for path in register_files(folder):
        with sessions() as session:
            try:
                book_id = str(BookId.parse(path.stem))
                if session.get(Book, book_id) is not None:
                    results.append(RegisterResult(path.name, "present", f"sổ {book_id} đã có / already in the catalog"))
                    continue
                book = add_book(session, home, book_id, path, None)
            except (BookError, RegisterError, InputError) as exc:
                session.rollback()
                results.append(RegisterResult(path.name, "refused", str(exc)))
                continue
            dated = sum(1 for e in book.entries if e.reg_date)
            results.append(RegisterResult(path.name, "added", f"sổ {book.id}: {len(book.entries)} trường hợp "
                                          f"({dated} có ngày) / entries added"))
    return results


def separator_pdf(session: Session, cfg: LoadedConfig, book_id: str, numbers: list[int] | None,
                  shared: list[int] | None) -> bytes:
    book = require_book(session, book_id)
    type_name = _type_name(cfg, book)
    by_number = {e.number: e for e in book.entries}
    wanted = shared or numbers or sorted(by_number)
    unknown = [n for n in wanted if n not in by_number]
    if unknown:
        raise BookError(f"Sổ {book.id}: không có số {', '.join(map(str, unknown[:10]))} trong sổ đăng ký "
                        "/ entries not in the book's register.")
    if shared:
        groups = [tuple(sorted(set(shared)))]
    else:
        groups = [(n,) for n in sorted(set(wanted))]
    specs = [SheetSpec(make_payload(book.id, group), type_name, book.year, book.volume,
                       tuple(by_number[n].reg_date for n in group)) for group in groups]
    return render_sheets(specs)


def start_sheet_pdf(session: Session, cfg: LoadedConfig, book_id: str, start_page: int) -> bytes:
    """One A4 book-start sheet: the pages captured after it are the book's pages from `start_page` on."""
    if not 1 <= start_page <= MAX_BOOK_PAGE:
        raise InputError(f"Trang bắt đầu phải từ 1 đến {MAX_BOOK_PAGE}, không phải {start_page} "
                         f"/ the start page must be 1 to {MAX_BOOK_PAGE}.")
    book = require_book(session, book_id)
    spec = SheetSpec(make_start_payload(book.id, start_page), _type_name(cfg, book), book.year, book.volume)
    return render_sheets([spec])


def _type_name(cfg: LoadedConfig, book: Book) -> str:
    return cfg.settings.book_types.get(book.book_type, book.book_type)


@dataclass
class EntryReport:
    number: int
    status: str
    pages: int = 0
    pdf_bytes: int = 0
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class BookReport:
    book: str
    expected: int
    done: int
    missing: int
    doubtful: int
    pages: int
    bytes: int
    entries: list[EntryReport]
    # What the operator must know about the whole book: a check that cannot work for it, pages over
    # the size cap (BookFacts.notes).
    notes: list[str] = field(default_factory=list)
    # Captured by page after start sheets (placed by the register): "theo trang / by page", and where
    # its sequence broke (station book pages shows the strip).
    by_page: bool = False
    breaks: list[str] = field(default_factory=list)

    def as_dict(self, with_entries: bool = True) -> dict:
        data = asdict(self)
        if not with_entries:
            data.pop("entries")
        return data


def held_page_count(session: Session) -> int:
    """Pages outside any entry waiting for the operator (before a separator, unreadable sheet...)."""
    return session.scalar(select(func.count(Page.id)).where(Page.held_reason.is_not(None), Page.deleted.is_(False))) or 0


def book_report(session: Session, book: Book) -> BookReport:
    entries = []
    facts = book_facts(book)
    for entry in book.entries:
        state = entry_state(entry, facts)
        entries.append(EntryReport(entry.number, state.status, len(state.pages),
                                   entry.pdf.bytes if entry.pdf else 0, state.reasons, state.warnings))
    count = lambda status: sum(1 for e in entries if e.status == status)  # noqa: E731
    report = BookReport(book.id, len(entries), count("done"), count("missing"), count("doubtful"),
                        sum(e.pages for e in entries), sum(e.pdf_bytes for e in entries), entries, facts.notes())
    by_page = by_page_facts(session, book)
    if by_page is not None:
        report.by_page = True
        report.breaks, notes = by_page
        report.notes.extend(notes)
    return report


def books_overview(session: Session) -> list[BookReport]:
    """Every book's report from the stored states (station.review.states): a few SQL aggregates however
    many books. Its entries are the doubtful ones only, with their reasons: what `station status` shows
    of each book (one book's report in full is book_report)."""
    doubtful = states.doubtful_entries(session)
    by_page = by_page_books(session)
    reports = []
    for tally in states.tallies(session):
        entries = [EntryReport(number, "doubtful", pages, reasons=reasons)
                   for number, pages, reasons in doubtful.get(tally.book, [])]
        report = BookReport(tally.book, tally.expected, tally.done, tally.missing, tally.doubtful, tally.pages,
                            tally.bytes, entries, tally.notes)
        if tally.book in by_page:
            report.by_page = True
            report.breaks, notes = by_page[tally.book]
            report.notes.extend(notes)
        reports.append(report)
    return reports


@dataclass
class ExportResult:
    zip_path: Path
    xlsx_path: Path
    files: dict[int, str]
    notes: list[str] = field(default_factory=list)  # the book's notes, said with the export


def export_book(session: Session, home: Path, profile: Profile, book_id: str, out_dir: Path,
                allow_incomplete: bool = False) -> ExportResult:
    book = require_book(session, book_id)
    book_key = BookId.parse(book.id)
    problems: dict[str, list[int]] = {}  # reason -> entry numbers, so a long list stays readable
    names = {}
    facts = book_facts(book)
    for entry in book.entries:
        state = entry_state(entry, facts)
        if state.status != "done" or entry.pdf is None:
            why = "; ".join(state.reasons) or ("thiếu / missing" if state.status == "missing" else state.status)
            problems.setdefault(why, []).append(entry.number)
            continue
        try:
            names[entry.number] = pdf_name(profile.naming, book_key, entry.number, entry.reg_date)
        except NameNotReady:
            problems.setdefault("chưa có ngày đăng ký để đặt tên tệp / no registration date", []).append(entry.number)
    notes = facts.notes()
    if problems and not allow_incomplete:
        count = sum(len(numbers) for numbers in problems.values())
        shown = "; ".join(f"số {_numbers_text(numbers)}: {why}" for why, numbers in problems.items())
        also = "".join(f" Lưu ý / note: {note}." for note in notes)
        raise IncompleteBookError(
            f"Sổ {book.id} chưa xuất được / export refused, {count} trường hợp chưa xong: {shown}. "
            f"Quét bổ sung hoặc dùng --allow-incomplete.{also}")
    if not names:
        raise IncompleteBookError(f"Sổ {book.id}: chưa có tệp PDF nào để xuất / nothing to export.")
    if not book.register_file:
        raise IncompleteBookError(f"Sổ {book.id} được thêm không kèm sổ đăng ký Excel: không xuất được "
                                  "tệp Excel / book has no register to export.")
    by_number = {e.number: e for e in book.entries}
    packed = []
    for number, name in sorted(names.items()):
        pdf = by_number[number].pdf
        data = (home / pdf.file).read_bytes()
        if sha256_bytes(data) != pdf.sha256:
            raise IncompleteBookError(f"Sổ {book.id} số {number}: tệp PDF {pdf.file} không khớp mã kiểm "
                                      "tra / PDF checksum mismatch. Chạy lại `station process` cho số này.")
        packed.append(PackedPdf(number, name, data, pdf.sha256, pdf.pages))
    register = read_register(home / book.register_file, book_key)
    zip_path, xlsx_path = write_package(out_dir, book.id, packed, register, profile.export.file_column)
    return ExportResult(zip_path, xlsx_path, names, notes)


def _numbers_text(numbers: list[int], limit: int = 30) -> str:
    shown = ", ".join(map(str, numbers[:limit]))
    return shown + (f" … (+{len(numbers) - limit})" if len(numbers) > limit else "")


def entry_detail(session: Session, book_id: str, number: int) -> dict:
    """One entry for the operator: state, version (for corrections), and every scan's pages with what
    the pipeline measured. Numbers and ids only: no personal data."""
    book = require_book(session, book_id)
    entry = next((e for e in book.entries if e.number == number), None)
    if entry is None:
        raise BookError(f"Sổ {book.id} không có số {number} / no such entry.")
    state = entry_state(entry)

    def page_dict(page: Page) -> dict:
        return {"id": page.id, "source": page.capture.source_name, "verdict": page.verdict.value,
                "reason": page.reason, "deleted": page.deleted, "dpi": page.dpi, "input_dpi": page.input_dpi,
                "bytes": page.image_bytes, "skew_deg": page.skew_deg, "rotation": page.rotation,
                "barcode": page.separator_text, "read_number": page.read_number,
                "read_numbers": sorted(page_numbers(page)), "warnings": page_warnings(page),
                "read_confidence": page.read_confidence,
                "read_volume": f"{page.read_volume}/{page.read_year}" if page.read_volume or page.read_year else None,
                "number_evidence": page.number_evidence_file,
                "ocr_missing": bool(((page.measures or {}).get("ocr") or {}).get("error"))}

    # "evidence": pages whose number read by OCR contradicts where they are filed, each with the crop
    # of that number (a file in the home) for the operator to see.
    return {"book": book.id, "number": entry.number, "status": state.status, "reasons": state.reasons,
            "warnings": state.warnings, "evidence": state.evidence,
            "version": entry.version, "reg_date": entry.reg_date.isoformat() if entry.reg_date else None,
            "pdf": {"pages": entry.pdf.pages, "bytes": entry.pdf.bytes} if entry.pdf else None,
            "scans": [{"id": scan.id, "batch": scan.batch_id, "chosen": scan.chosen, "damaged": scan.damaged,
                       "counts": scan is state.scan, "pages": [page_dict(sp.page) for sp in scan.pages]}
                      for scan in entry.scans]}
