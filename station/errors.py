"""Errors an operator can act on.

Each class carries the process exit code and a message that names the file, book or entry and says
what to do (the OCRmyPDF way). The CLI prints `message` on one line and exits with `exit_code`.
"""
from __future__ import annotations


class StationError(Exception):
    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConfigError(StationError):
    """config.yaml or a profile is invalid: names the file and the key."""
    exit_code = 3


class HomeError(StationError):
    """The station home cannot be created or written."""
    exit_code = 4


class InputError(StationError):
    """A folder, file or image given on the command line cannot be used."""
    exit_code = 5


class RegisterError(StationError):
    """A book's register (the Ministry Excel template) is refused; lists the rows at fault."""
    exit_code = 6

    def __init__(self, path: str, problems: list[str]):
        shown = problems[:20]
        more = f" (và {len(problems) - 20} lỗi khác)" if len(problems) > 20 else ""
        super().__init__(
            f"Sổ đăng ký {path} bị từ chối / register refused: " + "; ".join(shown) + more
            + ". Sửa các dòng trên trong tệp Excel rồi chạy lại.")
        self.path = path
        self.problems = problems


class BookError(StationError):
    """A book id is malformed, unknown, or already in the catalog."""
    exit_code = 7


class IncompleteBookError(StationError):
    """Export refused: entries are missing or doubtful."""
    exit_code = 8


class ProcessingError(StationError):
    """A batch could not be processed as a whole."""
    exit_code = 9


class DiskFullError(StationError):
    """The station home's disk is full: nothing taken is lost; free space and run again."""
    exit_code = 13


class CentreError(StationError):
    """The province centre cannot go on: its database, its file store, a station's name or token.
    Says which, and what to do."""
    exit_code = 14


class SyncError(StationError):
    """`station sync` could not finish (the centre out of reach, its disk full): says how many files,
    bytes and books are left. Nothing sent is lost; the next sync goes on from there."""
    exit_code = 15


class SyncRefusedError(SyncError):
    """The centre refused the sync: a wrong or revoked token, or a request it will not take as it is."""
    exit_code = 16
