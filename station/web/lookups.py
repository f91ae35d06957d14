"""What a request names, found in the catalog or the home, or a 404 saying what is missing."""
from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException

from station.catalog import library
from station.catalog.models import Book
from station.errors import StationError
from station.review.entries import load_books


def require_book(session, book_id: str) -> Book:
    try:
        return library.require_book(session, book_id)
    except StationError as exc:
        raise HTTPException(404, exc.message) from None


def entry_answer(session, book_id: str, number: int) -> dict:
    # The entry's state looks at its whole book: load it at once, and hold it while the answer is
    # built (the session keeps loaded rows by weak reference only).
    books = load_books(session, [require_book(session, book_id).id])
    try:
        return library.entry_detail(session, book_id, number)
    except StationError as exc:
        raise HTTPException(404, exc.message) from None
    finally:
        del books


def inside_home(home: Path, relative: str) -> Path:
    home = home.resolve()
    path = (home / relative).resolve()
    if not path.is_relative_to(home) or not path.is_file():
        raise HTTPException(404, f"Tệp {relative} không có trong thư mục làm việc / file missing from the home.")
    return path
