"""`station doctor`: is this machine ready to scan? One quick check per thing the station needs.

Each check takes well under two seconds, never raises (a check that crashes is reported as failed with
the exception's name), touches no citizen data (the catalog check counts books, nothing more) and
creates nothing: a missing home is checked for being creatable, not created. SANE is initialised once
per process (python-sane), so set SANE_CONFIG_DIR before the first call if you need it.

Levels: "ok"; "warn" (the station works, but look at it: no scanner plugged in, little disk left);
"fail" (something the station needs is missing or unsafe). `station doctor` exits with EXIT_FAILED
when any check failed.
"""
from __future__ import annotations

import importlib.metadata
import ipaddress
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from station.config import LoadedConfig
from station.errors import StationError

EXIT_FAILED = 10

# Free space in the station home's file system. A 120-entry book is ~50 MB of PDFs, but captures are
# kept until processed (a few MB each at 300 dpi), so a day's scanning wants gigabytes.
DISK_FAIL_BYTES = 2 * 1024**3
DISK_WARN_BYTES = 10 * 1024**3

TESSERACT_LANGS = ("vie", "osd")
SHEET_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
# Letters the separator sheets print (stacked Vietnamese diacritics, đ, ơ, ư).
VIETNAMESE_SAMPLE = "ẠắằẳẵặĐđơưỹỆệỘộỨứ"
_QR_TEXT = "SOHOTICH-DOCTOR"

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    fix: str | None = None   # what to install or do, when level is not "ok"

    @property
    def ok(self) -> bool:
        """False only for a failure: a warning does not stop the station."""
        return self.level != "fail"

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


# --- programs and libraries -------------------------------------------------------------------------

def _check_config(name: str, cfg: LoadedConfig) -> Check:
    return Check(name, "ok", f"{cfg.path}; thư mục làm việc / home: {cfg.home}")


def _check_sane(name: str, cfg: LoadedConfig) -> Check:
    try:
        from drivers.sane_driver import list_devices
    except ImportError as exc:
        return Check(name, "fail", f"không nạp được libsane / cannot load libsane: {exc}",
                     "apt-get install libsane1 (rồi / then: .venv/bin/pip install python-sane)")
    try:
        devices = list_devices(local_only=True)
    except Exception as exc:  # noqa: BLE001 - _sane.error and friends: sane_init or sane_get_devices failed
        return Check(name, "fail", f"SANE không khởi động được / SANE init failed: {exc}",
                     "kiểm tra /etc/sane.d/dll.conf và `scanimage -L` / check dll.conf and `scanimage -L`")
    if not devices:
        return Check(name, "warn", "không thấy máy quét / no local scanner found",
                     "cắm cáp và bật máy quét; `scanimage -L` với người dùng của trạm; người dùng cần "
                     "thuộc nhóm scanner / plug in and power on; user must be in group scanner "
                     "(usermod -aG scanner,lp USER)")
    names = ", ".join(d.name for d in devices)
    return Check(name, "ok", f"{len(devices)} máy quét / scanners: {names}")


def _check_scanimage(name: str, cfg: LoadedConfig) -> Check:
    path = shutil.which("scanimage")
    if path is None:
        return Check(name, "warn", "không có scanimage / scanimage not on PATH (chỉ dùng để chẩn đoán "
                     "/ diagnostics only)", "apt-get install sane-utils")
    try:
        out = subprocess.run([path, "--version"], check=False, capture_output=True, text=True, timeout=2,
                             stdin=subprocess.DEVNULL).stdout.strip().splitlines()
    except (OSError, subprocess.SubprocessError):
        out = []
    return Check(name, "ok", f"{path}" + (f" ({out[0]})" if out else ""))


def _check_tesseract(name: str, cfg: LoadedConfig) -> Check:
    import pytesseract
    try:
        version = pytesseract.get_tesseract_version()
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError) as exc:
        return Check(name, "fail", f"không chạy được tesseract / tesseract not runnable: "
                     f"{type(exc).__name__}", "apt-get install tesseract-ocr")
    if getattr(version, "major", 0) < 4:
        return Check(name, "warn", f"tesseract {version}: cũ / old (cần ≥ 4 / need 4 or later)",
                     "apt-get install tesseract-ocr (Debian 11 trở lên / or later)")
    return Check(name, "ok", f"tesseract {version}")


def _check_tesseract_library(name: str, cfg: LoadedConfig) -> Check:
    import pytesseract
    from pipeline import tesseract
    try:
        program = str(pytesseract.get_tesseract_version())
        library = tesseract.library_version()
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError, ImportError) as exc:
        return Check(name, "fail", f"không nạp được thư viện Tesseract / cannot load the Tesseract library: "
                     f"{type(exc).__name__}", "make setup (apt-get install libtesseract-dev, then "
                     "pip install --no-binary tesserocr tesserocr)")
    if library.split(".")[:2] != program.split(".")[:2]:
        return Check(name, "warn", f"bộ đọc số dùng Tesseract {library}, chương trình là {program} / the number "
                     f"reader runs Tesseract {library}, the program {program}: reads may differ from the "
                     "measured ones", "pip install --force-reinstall --no-binary tesserocr tesserocr")
    return Check(name, "ok", f"tesserocr → libtesseract {library}")


def _check_tesseract_langs(name: str, cfg: LoadedConfig) -> Check:
    import pytesseract
    packages = " ".join(f"tesseract-ocr-{lang}" for lang in TESSERACT_LANGS)
    try:
        langs = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError, RuntimeError) as exc:
        return Check(name, "fail", f"không liệt kê được ngôn ngữ / cannot list languages: "
                     f"{type(exc).__name__}", f"apt-get install tesseract-ocr {packages}")
    missing = [lang for lang in TESSERACT_LANGS if lang not in langs]
    if missing:
        return Check(name, "fail", f"thiếu dữ liệu ngôn ngữ / missing language data: {', '.join(missing)}",
                     "apt-get install " + " ".join(f"tesseract-ocr-{lang}" for lang in missing))
    return Check(name, "ok", ", ".join(TESSERACT_LANGS) + " có sẵn / present")


def _qr_image():
    import numpy as np
    import zxingcpp
    barcode = zxingcpp.create_barcode(_QR_TEXT, zxingcpp.BarcodeFormat.QRCode)
    return np.ascontiguousarray(np.asarray(barcode.to_image(scale=4)))


def _check_zbar(name: str, cfg: LoadedConfig) -> Check:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:
        return Check(name, "fail", f"không nạp được zbar / cannot load zbar: {exc}",
                     "apt-get install libzbar0")
    found = [s.data.decode("utf-8", "replace") for s in pyzbar.decode(_qr_image())]
    if found != [_QR_TEXT]:
        return Check(name, "fail", f"zbar không đọc được mã QR thử / cannot read a test QR code: {found!r}",
                     "apt-get install --reinstall libzbar0")
    return Check(name, "ok", f"zbar {_zbar_version()}: đọc được mã QR thử / test QR code read")


def _zbar_version() -> str:
    try:
        import ctypes

        from pyzbar import wrapper
        major, minor = ctypes.c_uint(), ctypes.c_uint()
        wrapper.zbar_version(ctypes.byref(major), ctypes.byref(minor))
        return f"{major.value}.{minor.value}"
    except Exception:  # noqa: BLE001 - a version string is not worth a failure
        return "?"


def _check_zxing(name: str, cfg: LoadedConfig) -> Check:
    fix = ".venv/bin/pip install 'zxing-cpp>=2.2'"
    try:
        import zxingcpp
        version = importlib.metadata.version("zxing-cpp")
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        return Check(name, "fail", f"không nạp được zxing-cpp / cannot import zxing-cpp: {exc}", fix)
    found = [r.text for r in zxingcpp.read_barcodes(_qr_image())]
    if found != [_QR_TEXT]:
        return Check(name, "fail", f"zxing-cpp không đọc được mã QR thử / cannot read a test QR code: "
                     f"{found!r}", fix)
    return Check(name, "ok", f"zxing-cpp {version}: tạo và đọc được mã QR / test QR code made and read")


def _check_fonts(name: str, cfg: LoadedConfig) -> Check:
    import pymupdf

    from station.export.sheets import _font_file
    fix = "apt-get install fonts-dejavu-core"
    paths = []
    for font_name in SHEET_FONTS:
        try:
            path = _font_file(font_name)
        except StationError:
            return Check(name, "fail", f"thiếu phông / missing font {font_name} (tờ phân cách / separator "
                         "sheets)", fix)
        font = pymupdf.Font(fontfile=path)
        lacking = [ch for ch in VIETNAMESE_SAMPLE if not font.has_glyph(ord(ch))]
        if lacking:
            return Check(name, "fail", f"{path}: thiếu chữ tiếng Việt / lacks Vietnamese letters: "
                         f"{''.join(lacking)}", "apt-get install --reinstall fonts-dejavu-core")
        paths.append(path)
    return Check(name, "ok", ", ".join(paths))


# --- the station home ------------------------------------------------------------------------------

def _check_home(name: str, cfg: LoadedConfig) -> Check:
    home = cfg.home
    if not home.exists():
        parent = _existing_ancestor(home)
        if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
            return Check(name, "ok", f"{home}: chưa có, sẽ được tạo (0700) khi dùng lần đầu "
                         "/ not there yet, created 0700 on first use")
        return Check(name, "fail", f"{home}: chưa có và không tạo được (không ghi được vào {parent}) "
                     f"/ missing and cannot be created", f"mkdir -p -m 700 {_q(home)} && chown USER {_q(home)}"
                     " (hoặc chọn thư mục khác bằng --home / or choose another --home)")
    if not home.is_dir():
        return Check(name, "fail", f"{home}: không phải thư mục / not a directory",
                     "chọn thư mục khác bằng --home hoặc STATION_HOME / choose another home")
    st = home.stat()
    mode = stat.S_IMODE(st.st_mode)
    try:
        fd, probe = tempfile.mkstemp(dir=home, prefix=".doctor-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if st.st_uid != os.geteuid():
            fix = (f"chạy bằng người dùng sở hữu thư mục / run as its owner: runuser -u {_owner(st.st_uid)} -- "
                   "station doctor")
        else:
            fix = f"chmod 700 {_q(home)}"
        return Check(name, "fail", f"{home}: không ghi được / not writable ({exc.strerror})", fix)
    if mode & 0o077:
        return Check(name, "fail", f"{home}: quyền {mode:04o}, nhóm hoặc người khác truy cập được dữ liệu "
                     f"công dân / group or others can access citizens' data", f"chmod 700 {_q(home)}")
    if st.st_uid != os.geteuid():
        return Check(name, "warn", f"{home}: thuộc người dùng {_owner(st.st_uid)} / owned by another user; "
                     "tệp tạo ra lúc này sẽ không thuộc người dùng của trạm / files made now would not "
                     "belong to the station's user", f"chạy bằng người dùng của trạm / run as the station's "
                     f"user: runuser -u {_owner(st.st_uid)} -- station doctor")
    return Check(name, "ok", f"{home}: ghi được, quyền 0700 / writable, mode 0700")


def _gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"


def _check_disk(name: str, cfg: LoadedConfig) -> Check:
    where = _existing_ancestor(cfg.home)
    free = shutil.disk_usage(where).free
    detail = f"còn trống / free: {_gib(free)} ({where})"
    fix = ("giải phóng dung lượng hoặc chuyển thư mục làm việc sang ổ lớn hơn (--home) / free some space "
           "or move the home to a larger disk")
    if free < DISK_FAIL_BYTES:
        return Check(name, "fail", f"{detail} < {_gib(DISK_FAIL_BYTES)}", fix)
    if free < DISK_WARN_BYTES:
        return Check(name, "warn", f"{detail} < {_gib(DISK_WARN_BYTES)}", fix)
    return Check(name, "ok", detail)


def _check_catalog(name: str, cfg: LoadedConfig) -> Check:
    path = cfg.home / "catalog.sqlite"
    if not path.exists():
        return Check(name, "ok", f"{path}: chưa có, sẽ được tạo khi dùng lần đầu / not there yet, "
                     "created on first use")
    from sqlalchemy import func, select

    from station.catalog.models import Book, open_catalog
    fix = (f"kiểm tra quyền của {_q(path)} (chown USER, chmod 600) hoặc khôi phục từ bản sao lưu "
           "/ check its owner and mode, or restore it from a backup")
    try:
        maker = open_catalog(cfg.home)
        try:
            with maker() as session:
                books = session.scalar(select(func.count()).select_from(Book))
        finally:
            maker.kw["bind"].dispose()
    except Exception as exc:  # noqa: BLE001 - sqlalchemy.exc.*: corrupt file, locked, not readable
        reason = getattr(exc, "orig", None) or exc
        return Check(name, "fail", f"{path}: không mở được / cannot open: {type(reason).__name__}: "
                     f"{str(reason).splitlines()[0] if str(reason) else ''}", fix)
    return Check(name, "ok", f"{path}: mở được / opens, {books} sổ / books")


# Time `station doctor` spends comparing books' stored states with fresh ones (about 30 ms a book of
# 150 entries): the most recently active books first, every book of a small station.
STATES_BUDGET_S = 1.5


def _check_states(name: str, cfg: LoadedConfig) -> Check:
    path = cfg.home / "catalog.sqlite"
    if not path.exists():
        return Check(name, "ok", "chưa có danh mục / no catalog yet")
    from station.catalog.models import open_catalog
    from station.review.states import drifted
    try:
        maker = open_catalog(cfg.home)
    except Exception:  # noqa: BLE001 - the catalog check says what is wrong with it
        return Check(name, "warn", "không mở được danh mục, xem dòng catalog / the catalog does not open, see "
                     "the catalog line")
    try:
        with maker() as session:
            drift = drifted(session.connection(), STATES_BUDGET_S)
    finally:
        maker.kw["bind"].dispose()
    compared = (f"{len(drift.checked)}/{drift.books} sổ, mới hoạt động trước, trong {drift.seconds:.1f} s "
                f"/ {len(drift.checked)} of {drift.books} books, most recently active first, in {drift.seconds:.1f} s")
    if not drift.differ:
        return Check(name, "ok", f"tình trạng đã lưu khớp với tính lại / stored states match: {compared}")
    shown = ", ".join(drift.differ[:10]) + (f" (+{len(drift.differ) - 10})" if len(drift.differ) > 10 else "")
    fix = "; ".join(f"station book restate {book}" for book in drift.differ[:3])
    return Check(name, "warn", f"tình trạng đã lưu của sổ {shown} khác với tính lại: báo cáo và bảng điều khiển "
                 f"đếm sai / stored states of {shown} differ from fresh ones: status and the dashboard miscount "
                 f"({compared})",
                 f"{fix} (mọi sổ / every book: station book restate)")


# --- configuration ---------------------------------------------------------------------------------

def _check_profiles(name: str, cfg: LoadedConfig) -> Check:
    folder = cfg.profiles_dir
    if not folder.is_dir():
        return Check(name, "fail", f"{folder}: không có thư mục hồ sơ / profiles folder missing",
                     "sửa profiles_dir trong config.yaml / fix profiles_dir in config.yaml")
    names = cfg.profile_names()
    problems = []
    for profile_name in names:
        try:
            cfg.profile(profile_name)
        except StationError as exc:
            problems.append(exc.message)
    default = cfg.settings.default_profile
    if default not in names:
        problems.append(f"hồ sơ mặc định '{default}' không có trong {folder} / default profile missing")
    if problems:
        more = f" (+{len(problems) - 1})" if len(problems) > 1 else ""
        return Check(name, "fail", problems[0] + more,
                     "sửa tệp hồ sơ trên hoặc default_profile trong config.yaml / fix that file or "
                     "default_profile")
    return Check(name, "ok", f"{len(names)} hồ sơ / profiles: {', '.join(names)} "
                 f"(mặc định / default: {default})")


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False   # a host name or "" (all interfaces): reachable from the network as far as we know


def _check_web(name: str, cfg: LoadedConfig) -> Check:
    web = cfg.settings.web
    where = f"{web.host}:{web.port}"
    if _is_loopback(web.host):
        return Check(name, "ok", f"{where}: chỉ máy này truy cập được / this machine only")
    if not web.token:
        return Check(name, "fail", f"{where}: mở ra mạng mà không có token / open to the network "
                     f"without a token ({cfg.path})",
                     "đặt web.token (chuỗi ngẫu nhiên ≥ 16 ký tự, vd. `openssl rand -hex 24`) hoặc "
                     "web.host: 127.0.0.1 / set web.token or bind to 127.0.0.1")
    try:
        loose = stat.S_IMODE(cfg.path.stat().st_mode) & 0o077
    except OSError:
        loose = 0
    if loose:
        return Check(name, "warn", f"{where}: có token, nhưng người khác đọc được {cfg.path} / token set, "
                     "but others can read the config file", f"chmod 600 {_q(cfg.path)}")
    return Check(name, "ok", f"{where}: mở ra mạng, có token / open to the network, token set")


CHECKS: tuple[tuple[str, Callable[[str, LoadedConfig], Check]], ...] = (
    ("config", _check_config),
    ("sane", _check_sane),
    ("scanimage", _check_scanimage),
    ("tesseract", _check_tesseract),
    ("tesseract-lang", _check_tesseract_langs),
    ("tesseract-library", _check_tesseract_library),
    ("zbar", _check_zbar),
    ("zxing-cpp", _check_zxing),
    ("fonts", _check_fonts),
    ("home", _check_home),
    ("disk", _check_disk),
    ("catalog", _check_catalog),
    ("states", _check_states),
    ("profiles", _check_profiles),
    ("web", _check_web),
)


def run_checks(cfg: LoadedConfig, *, skip: Collection[str] = ()) -> list[Check]:
    """Every check in CHECKS order, except those named in `skip` (e.g. "sane" in a process that must not
    initialise SANE). Never raises for a check that goes wrong: it becomes a failed Check."""
    results = []
    for name, check in CHECKS:
        if name in skip:
            continue
        try:
            results.append(check(name, cfg))
        except Exception as exc:  # noqa: BLE001 - doctor never raises
            results.append(Check(name, "fail", f"kiểm tra bị lỗi / check crashed: {type(exc).__name__}: "
                                 f"{exc}", None))
    return results
