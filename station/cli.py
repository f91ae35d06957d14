"""The `station` command line: the contract operators and scripts use."""
from __future__ import annotations

import getpass
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import click
from sqlalchemy import select

from pipeline.paper import parse_paper
from station.catalog.books import parse_entry_range
from station.catalog.storage import disk_full_error, ensure_home, exclusive_home, is_disk_full, write_atomic
from station.config import LoadedConfig, load_config
from station.errors import InputError, RegisterError, StationError

# What most commands need (the pipeline, the catalog's models, the review) is imported inside them: every
# `station` call starts by loading this module, and `station centre …` needs none of it.

STATUS_VI = {"done": "xong", "missing": "thiếu", "doubtful": "cần kiểm tra"}
def _paper(ctx, param, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_paper(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


PAPER_HELP = ("Khổ giấy của lượt chụp/quét / paper of this session: A4, A3, B4, A5, B5, Letter, Legal "
              "or WxHmm, e.g. 297x420mm (default: the profile's). Sets the true resolution.")


class Context:
    def __init__(self, config: str | None, home: str | None):
        self._config, self._home = config, home
        self.operator = "?"
        self._cfg: LoadedConfig | None = None
        self._sessions = None

    @property
    def cfg(self) -> LoadedConfig:
        if self._cfg is None:
            self._cfg = load_config(self._config, self._home)
        return self._cfg

    @property
    def maker(self):
        from station.catalog.models import open_catalog
        if self._sessions is None:
            ensure_home(self.cfg.home)
            self._sessions = open_catalog(self.cfg.home)
        return self._sessions

    def sessions(self):
        return self.maker()


class StationGroup(click.Group):
    """Turns StationError, and a full disk wherever it is met, into one line on stderr and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except StationError as exc:
            click.echo(f"Lỗi / error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:
            home = ctx.obj.cfg.home if isinstance(ctx.obj, Context) and ctx.obj._cfg else None
            if not is_disk_full(exc, home):
                raise
            filename = getattr(exc, "filename", None)  # an OSError names the file it could not write
            full = disk_full_error(Path(filename).parent if filename else home or Path.cwd())
            click.echo(f"Lỗi / error: {full.message}", err=True)
            sys.exit(full.exit_code)


@click.group(cls=StationGroup)
@click.option("--config", envvar="STATION_CONFIG", type=click.Path(dir_okay=False),
              help="config.yaml to use (default: ./config.yaml, then the one beside the program).")
@click.option("--home", envvar="STATION_HOME", type=click.Path(file_okay=False),
              help="Station home: catalog, pages, PDFs (overrides config.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details (never personal data).")
@click.option("--operator", envvar="STATION_OPERATOR", default=getpass.getuser,
              help="Who makes corrections (recorded in the audit log; default: the system user).")
@click.pass_context
def main(ctx, config, home, verbose, operator):
    """Trạm số hóa Sổ hộ tịch / civil-status book scanning station."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(config, home)
    ctx.obj.operator = operator


@main.group()
def book():
    """Sổ: thêm và liệt kê / books: add and list."""


@book.command("add")
@click.argument("book_id", required=False)
@click.option("--register", "register", type=click.Path(dir_okay=False, path_type=Path),
              help="The book's register: the Ministry's Excel template (.xlsx).")
@click.option("--entries", help="Entry numbers when there is no register yet, e.g. 1-120.")
@click.option("--registers", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="A folder of registers named LOAI.NAM.QUYEN.xlsx: one book each (no BOOK_ID).")
@click.pass_obj
def book_add(obj: Context, book_id, register, entries, folder):
    """Thêm một sổ / add a book, e.g. `station book add KS.2017.01 --register so.xlsx`, or every
    register of a folder: `station book add --registers so-dang-ky/`."""
    from station.catalog import library
    if folder is not None:
        if book_id or register or entries:
            raise InputError("--registers không đi cùng mã sổ, --register hay --entries / "
                             "--registers takes no BOOK_ID, --register or --entries.")
        _add_registers(obj, folder)
        return
    if not book_id:
        raise InputError("Cần mã sổ, ví dụ KS.2017.01 / give the BOOK_ID, e.g. KS.2017.01.")
    if bool(register) == bool(entries):
        raise InputError("Cần đúng một trong --register hoặc --entries / give --register or --entries.")
    numbers = parse_entry_range(entries) if entries else None
    with obj.sessions() as session:
        added = library.add_book(session, obj.cfg.home, book_id, register, numbers)
        dated = sum(1 for e in added.entries if e.reg_date)
        click.echo(f"Đã thêm sổ {added.id}: {len(added.entries)} trường hợp đăng ký "
                   f"({dated} có ngày đăng ký) / book added.")


def _add_registers(obj: Context, folder: Path) -> None:
    """One line a register file; a bad file is refused alone, the others are added."""
    from station.catalog import library
    if not folder.is_dir():
        raise InputError(f"Không tìm thấy thư mục {folder} / folder not found.")
    results = library.add_registers(obj.sessions, obj.cfg.home, folder)
    if not results:
        raise InputError(f"Thư mục {folder} không có tệp .xlsx nào / no .xlsx registers in the folder.")
    for result in results:
        click.echo(f"{result.mark} {result.file}: {result.message}")
    counts = Counter(result.outcome for result in results)
    click.echo(f"{counts['added']} sổ đã thêm, {counts['present']} đã có, {counts['refused']} bị từ chối "
               f"/ added, already present, refused.")
    if counts["refused"]:
        raise RegisterError(str(folder), [r.file for r in results if r.outcome == "refused"])


@book.command("list")
@click.pass_obj
def book_list(obj: Context):
    """Liệt kê các sổ / list books."""
    from station.catalog.models import Book
    with obj.sessions() as session:
        for item in session.scalars(select(Book).order_by(Book.id)):
            click.echo(f"{item.id}\t{len(item.entries)}")


@book.command("restate")
@click.argument("book_id", required=False)
@click.pass_obj
def book_restate(obj: Context, book_id):
    """Tính lại tình trạng đã lưu / work out again the stored state of a book's entries (every book without
    BOOK_ID): what `station status` and the dashboard count; `station doctor` says when it is needed."""
    from station.catalog import library
    from station.review import states
    with obj.sessions() as session:
        wanted = [library.require_book(session, book_id).id] if book_id else None
        started = time.perf_counter()
        count = states.restate(session.connection(), wanted)
        session.commit()
    click.echo(f"Đã tính lại {count} sổ trong {time.perf_counter() - started:.1f} s / {count} books restated.")


@book.command("pages")
@click.argument("book_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def book_pages(obj: Context, book_id, as_json):
    """Sổ quét theo trang / a book captured by page: each book page, its capture, what was read, breaks."""
    from station.catalog import library
    from station.review.strip import book_strip
    with obj.sessions() as session:
        strip = book_strip(session, library.require_book(session, book_id))
    if strip is None:
        raise InputError(f"Sổ {book_id} chưa có tờ bắt đầu sổ nào: không quét theo trang / no start sheet: "
                         "not captured by page (print one: station separators BOOK --start-page N).")
    if as_json:
        click.echo(json.dumps(strip.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"Sổ {strip.book} (theo trang / by page): {len(strip.pages)} trang, "
               f"{strip.confirmed_pages} trang tự xác nhận vị trí / pages that confirmed their place")
    for item in strip.pages:
        if item.page_id is None:
            shown = "— chưa chụp / not captured"
        else:
            said = [f"in số trang {item.printed_page}" if item.printed_page is not None else "",
                    f"người kiểm tra ghi {item.stated_page}" if item.stated_page is not None else "",
                    "số đọc được " + ",".join(map(str, item.numbers_read)) if item.numbers_read else "",
                    "trắng / blank" if item.blank else "", "ảnh hỏng / unreadable" if item.unreadable else ""]
            shown = f"ảnh {item.page_id} ({item.source})" + "".join(f"; {x}" for x in said if x)
        regs = ",".join(map(str, item.registrations)) or "–"
        click.echo(f"  trang {item.book_page:>3}: số {regs:<16} {shown}" + (f"  ⚠ {item.doubt}" if item.doubt else ""))
    for brk in strip.breaks:
        click.echo(f"  ✗ ảnh {brk.page_id} ({brk.source}): {brk.reason}")
    for capture in strip.unfiled:
        click.echo(f"  · ảnh {capture.page_id} ({capture.source}): {capture.why}")
    for note in strip.notes:
        click.echo(f"  ⚠ {note}")
    if strip.breaks:
        click.echo("  Sửa / resolve: chụp trang thiếu sau một tờ bắt đầu sổ ghi trang đó; `station page delete ID` "
                   "bỏ bản chụp thừa; `station page book-page ID N` ghi ảnh ID là trang N / capture the missing "
                   "page after a start sheet for it; delete the extra capture; state which page a capture is.")


def _numbers(text: str | None) -> list[int] | None:
    return parse_entry_range(text) if text else None


@main.command()
@click.argument("book_id")
@click.option("--entries", help="Only these entries, e.g. 5-9 (default: all).")
@click.option("--shared", help="One shared-page sheet for these entries, e.g. 7-8.")
@click.option("--start-page", type=int, metavar="N",
              help="One book-start sheet instead: the book's pages from page N on follow it (bound books).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def separators(obj: Context, book_id, entries, shared, start_page, output):
    """In tờ phân cách / print separator sheets: one A4 page per entry.

    Với --start-page N: một tờ bắt đầu sổ, đặt trên cùng rồi quét các trang của sổ từ trang N
    / with --start-page N: one book-start sheet, put on top of the book's pages from page N on."""
    from station.catalog import library
    if start_page is not None:
        if entries or shared:
            raise InputError("Dùng --start-page riêng, không kèm --entries hay --shared "
                             "/ --start-page excludes --entries and --shared.")
        with obj.sessions() as session:
            data = library.start_sheet_pdf(session, obj.cfg, book_id, start_page)
        write_atomic(output, data)
        click.echo(f"Đã ghi tờ bắt đầu sổ (từ trang {start_page}) vào {output} / book-start sheet written.")
        return
    if entries and shared:
        raise InputError("Dùng --entries hoặc --shared, không dùng cả hai / not both.")
    shared_numbers = _numbers(shared)
    if shared_numbers is not None and len(shared_numbers) < 2:
        raise InputError("--shared cần ít nhất hai số / needs at least two entries, e.g. 7-8.")
    with obj.sessions() as session:
        data = library.separator_pdf(session, obj.cfg, book_id, _numbers(entries), shared_numbers)
    write_atomic(output, data)
    click.echo(f"Đã ghi tờ phân cách vào {output} / separator sheets written.")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--profile", help="Profile name from profiles/ (default from config.yaml).")
@click.option("--workers", type=int, help="Worker processes (default: config, else one per core).")
@click.option("--paper", callback=_paper, help=PAPER_HELP)
@click.pass_obj
def process(obj: Context, folder: Path, profile, workers, paper):
    """Xử lý một thư mục ảnh đã quét / process a folder of captured images (name order = scan order)."""
    from drivers.replay import EmptyFolderError, ReplayDriver
    from station.capture.batch import BatchRunner
    profile_obj = obj.cfg.profile(profile, paper)
    if not folder.is_dir():
        raise InputError(f"Không tìm thấy thư mục {folder} / folder not found.")
    try:
        driver = ReplayDriver(folder, profile_obj.page.max_pixels)
    except EmptyFolderError:
        raise InputError(f"Thư mục {folder} không có ảnh JPEG, PNG hay TIFF nào / no images in folder.") from None
    runner = BatchRunner(obj.cfg, profile_obj, obj.maker, workers)
    with click.progressbar(length=driver.expected(), label="Đang xử lý / processing",
                           file=sys.stderr, show_pos=True) as bar:
        summary = runner.run(driver, str(folder.resolve()), bar.update, resumable=True)
    _print_summary(summary)
    _print_books(obj, summary)


def _print_books(obj: Context, summary) -> None:
    from station.catalog import library
    with obj.sessions() as session:
        for book_id in sorted(summary.entries):
            _print_report(library.book_report(session, library.require_book(session, book_id)))


def _print_report(report: library.BookReport, detail: bool = False) -> None:
    from station.catalog import library
    how = " (theo trang / by page)" if report.by_page else ""
    click.echo(f"Sổ {report.book}{how}: {report.done}/{report.expected} xong, {report.missing} thiếu, "
               f"{report.doubtful} cần kiểm tra; {report.pages} trang, {report.bytes / 1e6:.1f} MB")
    for note in report.notes:
        click.echo(f"  ⚠ {note}")
    for brk in report.breaks:
        click.echo(f"  ✗ chỗ đứt / break: {brk}")
    if report.breaks:
        click.echo(f"  → station book pages {report.book}")
    for entry in report.entries:
        if entry.status == "doubtful" or (detail and entry.status != "done"):
            why = "; ".join(entry.reasons)
            click.echo(f"  số {entry.number}: {STATUS_VI[entry.status]}{' — ' + why if why else ''}")
        if detail and entry.warnings:
            click.echo(f"  số {entry.number}: lưu ý / note — {'; '.join(entry.warnings)}")


def _print_summary(summary) -> None:
    v = summary.verdicts
    click.echo(f"Lô {summary.batch_id}: {summary.captures} ảnh — {v['content']} trang nội dung, "
               f"{v['separator']} tờ phân cách, {v['blank']} trang trắng, {v['doubtful']} cần kiểm tra, "
               f"{v['quarantined']} ảnh hỏng.")
    if summary.resumed:
        click.echo("  Tiếp tục lô bị gián đoạn / resumed an interrupted batch.")
    if summary.skipped:
        click.echo(f"  {summary.skipped} ảnh đã có trong danh mục, bỏ qua / already filed, skipped.")
    for source, reason in summary.quarantined:
        click.echo(f"  cách ly / quarantined {source}: {reason}")
    if summary.dpi_estimated:
        click.echo(f"  {len(summary.dpi_estimated)} ảnh không ghi hoặc ghi sai độ phân giải, đã đo theo khổ giấy "
                   f"/ DPI missing or wrong in the file, measured from the paper size: "
                   f"{', '.join(summary.dpi_estimated[:5])}")
    for reason, count in summary.held.items():
        if count:
            click.echo(f"  {count} trang chờ xác nhận / held: {reason}")


def _ask_operator(message: str) -> bool:
    """A device stopped (jam, cover open…): tell the operator, wait until they say go on."""
    click.echo(f"\n⚠ {message}", err=True)
    if not sys.stdin.isatty():
        click.echo("Không có người vận hành ở bàn phím: dừng lô / no operator at the terminal: stopping.",
                   err=True)
        return False
    return click.confirm("Tiếp tục quét? / continue", default=True, err=True)


@main.command()
@click.option("--host", help="Address for the web page and API (default from config.yaml: 127.0.0.1).")
@click.option("--port", type=int, help="Port (default from config.yaml).")
@click.option("--workers", type=int, help="Worker processes (default: config, else one per core).")
@click.pass_obj
def run(obj: Context, host, port, workers):
    """Chạy trạm / run the station: hot folders, scan jobs, web API. Stops cleanly on SIGTERM/Ctrl-C."""
    from station.capture.daemon import Station
    from station.web.app import check_exposure, create_app, serve
    web = obj.cfg.settings.web
    host, port = host or web.host, port or web.port
    check_exposure(host, web.token, obj.cfg.path)
    station = Station(obj.cfg, obj.maker, workers)
    with exclusive_home(obj.cfg.home):
        station.start()
        click.echo(f"Trạm đang chạy tại http://{host}:{port} / station running (Ctrl-C để dừng).", err=True)
        serve(create_app(station, web.token), host, port, obj.cfg.path)


def _daemon_url(cfg: LoadedConfig) -> str | None:
    """The running station's address, if one answers on the configured port."""
    import urllib.request
    web = cfg.settings.web
    host = "127.0.0.1" if web.host in ("0.0.0.0", "::") else web.host
    url = f"http://{host}:{web.port}"
    request = urllib.request.Request(f"{url}/api/health", headers=_auth(cfg))
    try:
        with urllib.request.urlopen(request, timeout=1) as answer:
            return url if answer.status == 200 else None
    except OSError:
        return None


def _auth(cfg: LoadedConfig) -> dict:
    token = cfg.settings.web.token
    return {"Authorization": f"Bearer {token}"} if token else {}


def _api(cfg: LoadedConfig, url: str, path: str, body: dict | None = None) -> dict:
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json", **_auth(cfg)})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("detail", exc.reason)
        raise InputError(f"Trạm trả lời / station answered {exc.code}: {detail}") from None


def _scan_on_daemon(cfg: LoadedConfig, url: str, request: dict) -> None:
    import time
    job = _api(cfg, url, "/api/scan", request)
    click.echo(f"Lượt quét {job['id']} trên trạm đang chạy / scan job started on the running station.")
    while job["state"] in ("starting", "scanning", "paused"):
        time.sleep(0.5)
        job = _api(cfg, url, f"/api/jobs/{job['id']}")
        if job["state"] == "paused":
            go_on = _ask_operator(job["message"])
            job = _api(cfg, url, f"/api/jobs/{job['id']}/{'resume' if go_on else 'stop'}", {})
    click.echo(f"Lượt quét {job['id']}: {job['state']}, {job['captures'] or 0} ảnh (lô {job['batch']}).")
    if job["state"] == "failed":
        raise InputError(f"Máy quét {request['device']}: {job['message']}")


@main.command()
@click.option("--device", required=True, help="SANE device name, e.g. `test:0` (see `station devices`).")
@click.option("--source", type=click.Choice(["flatbed", "adf", "adf-duplex"]),
              help="Flatbed (one sheet) or the document feeder (until it is empty).")
@click.option("--resolution", type=int, default=300, show_default=True, help="Capture dpi.")
@click.option("--profile", help="Profile name from profiles/ (default from config.yaml).")
@click.option("--paper", callback=_paper, help=PAPER_HELP)
@click.pass_obj
def scan(obj: Context, device, source, resolution, profile, paper):
    """Quét bằng máy quét SANE / scan from a SANE device: on the running station if one is up,
    otherwise here in the foreground."""
    from station.capture.batch import BatchRunner
    from drivers.sane_driver import SaneDriverError, SaneDriver
    profile_obj = obj.cfg.profile(profile, paper)
    url = _daemon_url(obj.cfg)
    if url:
        _scan_on_daemon(obj.cfg, url, {"device": device, "source": source, "profile": profile_obj.name,
                                       "resolution": resolution, "paper": paper})
        return
    mode = "color" if profile_obj.page.mode == "color" else "gray"
    try:
        driver = SaneDriver(device, source=source, mode=mode, resolution=resolution,
                            wait_for_operator=lambda event: _ask_operator(event.message))
    except SaneDriverError as exc:
        raise InputError(f"Máy quét {device}: {exc}") from None
    with driver:
        runner = BatchRunner(obj.cfg, profile_obj, obj.maker)
        summary = runner.run(driver, f"sane:{device}")
    _print_summary(summary)
    for event in summary.events:
        click.echo(f"  sự cố máy quét / device event: {event.message}")
    _print_books(obj, summary)


@main.command()
@click.option("--all", "everywhere", is_flag=True, help="Also look for network scanners (slow).")
def devices(everywhere):
    """Liệt kê máy quét / list SANE scanners."""
    from drivers.sane_driver import list_devices
    found = list_devices(local_only=not everywhere)
    for device in found:
        click.echo(str(device))
    if not found:
        click.echo("Không thấy máy quét nào / no scanner found: kiểm tra cáp, nguồn và `scanimage -L`.")


@main.command()
@click.argument("book_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(obj: Context, book_id, as_json):
    """Tình trạng các sổ / per-book completeness."""
    from station.catalog import library
    from station.review.entries import load_books
    with obj.sessions() as session:
        if book_id:
            (loaded,) = load_books(session, [library.require_book(session, book_id).id])
            reports = [library.book_report(session, loaded)]
        else:
            reports = library.books_overview(session)
        held = library.held_page_count(session)
    from station.sync.state import read_state, status_line
    synced = read_state(obj.cfg.home)
    if as_json:
        click.echo(json.dumps({"books": [r.as_dict(with_entries=bool(book_id)) for r in reports],
                               "held_pages": held, "centre": synced.as_dict() if synced else None},
                              ensure_ascii=False, indent=1))
        return
    for report in reports:
        _print_report(report, detail=bool(book_id))
    if held:
        click.echo(f"{held} trang nằm ngoài mọi trường hợp, chờ kiểm tra / pages held for review.")
    if line := status_line(synced, obj.cfg.settings.centre is not None):
        click.echo(line)


@main.command()
@click.option("--centre", "centre_url", metavar="URL",
              help="The province centre, e.g. http://trungtam.example:8780 (default: centre.url in config.yaml).")
@click.option("--token", envvar="STATION_CENTRE_TOKEN", metavar="TOKEN",
              help="This station's token from `station centre token add` (default: centre.token in config.yaml, "
                   "or STATION_CENTRE_TOKEN, which keeps it out of the process list).")
@click.option("--retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Tries again after a network error, waiting 0.5 s, 1 s, 2 s… before giving up.")
@click.pass_obj
def sync(obj: Context, centre_url, token, retries):
    """Gửi lên trung tâm tỉnh / send the province centre what it lacks: books, registers, entries and their
    state, pages, PDFs, corrections. Exit 0 only once the centre acknowledged everything; 15 with what is
    left when it cannot be reached; 16 when it refuses (token)."""
    from station.sync.client import CentreClient
    from station.sync.run import Sync
    settings = obj.cfg.settings.centre
    url = centre_url or (settings.url if settings else None)
    token = token or (settings.token if settings else None)
    if not url or not token:
        raise InputError("Cần địa chỉ trung tâm và mã truy cập: --centre URL --token TOKEN, hoặc centre: {url, "
                         "token} trong config.yaml / give the centre's URL and this station's token.")
    try:
        client = CentreClient(url, token)
    except ValueError:
        raise InputError(f"--centre {url}: cần địa chỉ http(s)://MÁY:CỔNG / an http(s) URL is needed.") from None
    report = Sync(obj.maker, obj.cfg.home, obj.cfg.settings.commune, client, retries,
                  district=obj.cfg.settings.district).run()
    click.echo(f"Đã đồng bộ với trung tâm / synced: {report.books_sent} sổ gửi, {report.books_unchanged} sổ không "
               f"đổi, {report.files_sent} tệp ({report.bytes_sent / 1e6:.1f} MB) trong {report.seconds:.1f} s / "
               f"{report.books_sent} books sent, {report.books_unchanged} unchanged, {report.files_sent} files.")


@main.command()
@click.argument("book_id")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--profile", help="Profile whose naming rules apply (default from config.yaml).")
@click.option("--allow-incomplete", is_flag=True, help="Export although entries are missing or doubtful.")
@click.pass_obj
def export(obj: Context, book_id, out_dir, profile, allow_incomplete):
    """Xuất sổ / export a book: BOOK.zip (one PDF per entry) and BOOK.xlsx for the Ministry's tool."""
    from station.catalog import library
    profile_obj = obj.cfg.profile(profile)
    with obj.sessions() as session:
        result = library.export_book(session, obj.cfg.home, profile_obj, book_id, out_dir, allow_incomplete)
    click.echo(f"Đã xuất {len(result.files)} tệp PDF: {result.zip_path} và {result.xlsx_path}")
    for note in result.notes:
        click.echo(f"⚠ {note}", err=True)


@main.group()
def report():
    """Báo cáo / reports."""


@report.command("weekly")
@click.option("--book", "book_id", help="Only this book (default: every book of the station).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The Excel file to write (.xlsx).")
@click.pass_obj
def report_weekly(obj: Context, book_id, output: Path):
    """Báo cáo tiến độ theo tuần / weekly progress: entries done per ISO week, cumulative, remaining,
    for the commune and per book (Excel)."""
    from station.catalog import library
    from station.export.report import weekly_report, write_weekly_workbook
    if output.suffix.lower() != ".xlsx":
        raise InputError(f"{output}: báo cáo ghi ra tệp .xlsx / the report is written as .xlsx.")
    with obj.sessions() as session:
        found = library.require_book(session, book_id).id if book_id else None
        weekly = weekly_report(session, obj.cfg, found)
    write_weekly_workbook(output, weekly)
    this_week = weekly.weeks[-1]
    click.echo(f"Đã ghi báo cáo tuần {this_week.week} vào {output}: {this_week.cumulative}/{weekly.expected} "
               f"trường hợp xong, {this_week.done} trong tuần này, còn {this_week.remaining} / weekly report written.")


@main.group()
def entry():
    """Trường hợp đăng ký / entries: review and correct."""


@entry.command("show")
@click.argument("book_id")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (as the web API's).")
@click.pass_obj
def entry_show(obj: Context, book_id, number, as_json):
    """Các lượt quét của một số / the scans of one entry."""
    from station.catalog import library
    from station.catalog.models import entry_by_number
    from station.review.entries import entry_state
    with obj.sessions() as session:
        if as_json:
            detail = library.entry_detail(session, book_id, number)
            click.echo(json.dumps(detail, ensure_ascii=False, indent=1))
            return
        item = entry_by_number(session, library.require_book(session, book_id).id, number)
        if item is None:
            raise InputError(f"Sổ {book_id} không có số {number} / no such entry.")
        state = entry_state(item)
        click.echo(f"Sổ {item.book_id} số {item.number}: {STATUS_VI[state.status]}")
        for reason in state.reasons:
            click.echo(f"  {reason}")
        for scan in item.scans:
            mark = {True: "đã chọn", False: "không dùng", None: "chưa chọn"}[scan.chosen]
            click.echo(f"  lượt quét {scan.id} (lô {scan.batch_id}): {len(scan.pages)} trang, {mark}")
            for link in scan.pages:
                page = link.page
                gone = " (đã xóa)" if page.deleted else ""
                read = f", đọc được «Số: {page.read_number}»" if page.read_number is not None else ""
                click.echo(f"    trang {page.id}: {page.capture.source_name}, {page.dpi:.0f} dpi, "
                           f"{(page.image_bytes or 0) / 1024:.0f} KB{read}{gone}")


def _corrections(obj: Context, session):
    from station.review.corrections import Corrections
    return Corrections(session, obj.cfg.home, obj.operator)


@entry.command("reorder")
@click.argument("book_id")
@click.argument("number", type=int)
@click.argument("pages", nargs=-1, type=int, required=True)
@click.pass_obj
def entry_reorder(obj: Context, book_id, number, pages):
    """Sắp lại thứ tự trang / put the entry's pages (ids from `entry show`) in this order."""
    with obj.sessions() as session:
        _corrections(obj, session).reorder(book_id, number, list(pages))
    click.echo(f"Sổ {book_id} số {number}: đã sắp lại thứ tự / reordered.")


@entry.command("accept")
@click.argument("book_id")
@click.argument("number", type=int)
@click.option("--reason", required=True, help="Why the entry is right despite its warnings.")
@click.pass_obj
def entry_accept(obj: Context, book_id, number, reason):
    """Chấp nhận một số dù có cảnh báo / accept an entry despite its warnings (recorded)."""
    with obj.sessions() as session:
        _corrections(obj, session).accept(book_id, number, reason)
    click.echo(f"Sổ {book_id} số {number}: đã chấp nhận / accepted.")


@main.group()
def page():
    """Trang / pages: move, share, delete (ids from `station entry show`)."""


@page.command("move")
@click.argument("page_id", type=int)
@click.argument("book_id")
@click.argument("number", type=int)
@click.option("--position", type=int, help="Place in the entry, from 0 (default: last).")
@click.pass_obj
def page_move(obj: Context, page_id, book_id, number, position):
    """Chuyển trang sang số khác / move a page to another entry."""
    with obj.sessions() as session:
        _corrections(obj, session).move_page(page_id, book_id, number, position)
    click.echo(f"Đã chuyển trang {page_id} sang sổ {book_id} số {number} / page moved.")


@page.command("share")
@click.argument("page_id", type=int)
@click.argument("book_id")
@click.argument("number", type=int)
@click.pass_obj
def page_share(obj: Context, page_id, book_id, number):
    """Trang dùng chung / the page also belongs to this entry."""
    with obj.sessions() as session:
        _corrections(obj, session).share_page(page_id, book_id, number)
    click.echo(f"Trang {page_id} cũng thuộc sổ {book_id} số {number} / page shared.")


@page.command("delete")
@click.argument("page_id", type=int)
@click.pass_obj
def page_delete(obj: Context, page_id):
    """Xóa trang khỏi tệp PDF (vẫn giữ trong danh mục) / delete a page from PDFs (kept in the catalog)."""
    with obj.sessions() as session:
        _corrections(obj, session).delete_page(page_id)
    click.echo(f"Đã xóa trang {page_id} khỏi tệp PDF / page deleted.")


@page.command("book-page")
@click.argument("page_id", type=int)
@click.argument("book_page", type=int, required=False)
@click.option("--clear", is_flag=True, help="Take the statement back: the page is placed by what was read.")
@click.pass_obj
def page_book_page(obj: Context, page_id, book_page, clear):
    """Ảnh này là trang N của sổ / this capture is book page N (a book captured by page, ids from `book pages`)."""
    if (book_page is None) == (not clear):
        raise InputError("Cho số trang N hoặc --clear / give the book page N or --clear.")
    with obj.sessions() as session:
        _corrections(obj, session).state_page(page_id, None if clear else book_page)
    click.echo(f"Ảnh {page_id}: " + ("đã bỏ ghi chú trang / statement taken back." if clear
                                      else f"là trang {book_page} của sổ / is book page {book_page}."))


@entry.command("pick")
@click.argument("book_id")
@click.argument("number", type=int)
@click.argument("scan_id", type=int)
@click.pass_obj
def entry_pick(obj: Context, book_id, number, scan_id):
    """Chọn một lượt quét khi một số được quét lại / pick the scan that counts after a rescan."""
    from station.catalog import library
    with obj.sessions() as session:
        _corrections(obj, session).pick(library.require_book(session, book_id).id, number, scan_id)
    click.echo(f"Sổ {book_id} số {number}: dùng lượt quét {scan_id} / scan picked.")


@main.command()
@click.pass_obj
def profiles(obj: Context):
    """Liệt kê hồ sơ / list profiles."""
    for name in obj.cfg.profile_names():
        profile = obj.cfg.profile(name)
        mark = " (mặc định)" if name == obj.cfg.settings.default_profile else ""
        click.echo(f"{name}{mark}: {profile.page.mode}, {profile.page.dpi} dpi, "
                   f"~{profile.page.page_target_kb:.0f} KB/trang")


DOCTOR_MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def doctor(obj: Context, as_json):
    """Kiểm tra máy trạm / check this machine: scanner, OCR, barcodes, fonts, home, disk, settings.

    Exit code 0 when nothing failed (warnings allowed), 10 when a check failed."""
    from station.doctor import EXIT_FAILED, run_checks
    checks = run_checks(obj.cfg)
    failed = sum(1 for c in checks if c.level == "fail")
    warned = sum(1 for c in checks if c.level == "warn")
    if as_json:
        click.echo(json.dumps({"ok": not failed, "failed": failed, "warnings": warned,
                               "checks": [c.as_dict() for c in checks]}, ensure_ascii=False, indent=1))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            fix = f" — sửa / fix: {c.fix}" if c.fix and c.level != "ok" else ""
            click.echo(f"{DOCTOR_MARKS[c.level]} {c.name:<{width}}  {c.detail}{fix}")
        if failed:
            click.echo(f"{failed} lỗi, {warned} cảnh báo: sửa các dòng ✗ trước khi quét "
                       f"/ {failed} failed, {warned} warnings: fix the ✗ lines before scanning.")
        else:
            click.echo(f"Máy trạm sẵn sàng ({warned} cảnh báo) / station ready ({warned} warnings).")
    if failed:
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--profile", help="Profile whose DPI floor and size budget apply (default from config.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def verify(obj: Context, target: Path, profile, as_json):
    """Kiểm tra lại bản xuất / re-check an export: BOOK.zip, its folder, or extracted PDFs + manifest.json.

    Exit code 0 when clean, 11 when problems are found."""
    from station.export.verify import VerifyError, verify_export
    report = verify_export(target, obj.cfg.profile(profile))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        for problem in report.problems:
            click.echo(problem.line())
        for warning in report.warnings:
            click.echo(f"⚠ {warning.line()}")
        click.echo(report.summary())
    if not report.ok:
        raise VerifyError(f"{report.source}: bản xuất có {len(report.problems)} lỗi, xem các dòng trên "
                          f"/ export has {len(report.problems)} problems, see the lines above.")


# The province centre (station/centre). Imported inside its commands only: a station never needs
# PostgreSQL, nor loads the centre's code (tests/test_layers.py).
@main.group()
def centre():
    """Trung tâm tỉnh / the province centre: its server and the stations' tokens (PostgreSQL)."""


def _database_option(command):
    return click.option(
        "--database", envvar="CENTRE_DATABASE", required=True, metavar="URL",
        help="The centre's PostgreSQL, postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or the CENTRE_DATABASE "
             "environment variable, which keeps the password out of the process list).")(command)


@centre.command("serve")
@_database_option
@click.option("--store", envvar="CENTRE_STORE", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the centre's files (PDFs, page images, registers), kept by SHA-256.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8780, show_default=True, type=click.IntRange(1, 65535))
@click.option("--stalled-days", default=3.0, show_default=True, type=click.FloatRange(0.1, 365),
              help="The dashboard calls an unfinished book stalled after this many days with nothing new.")
@click.option("--silent-hours", default=24.0, show_default=True, type=click.FloatRange(0.1, 24 * 365),
              help="The dashboard warns of a station not heard from for this many hours.")
def centre_serve(database, store, host, port, stalled_days, silent_hours):
    """Chạy trung tâm tỉnh / run the province centre: the stations' API under /api/ (a token each) and the
    dashboard at / (a user each: `station centre user add`)."""
    import os

    from station.centre.app import create_app, serve
    from station.web.app import is_loopback
    from station.centre.catalog import open_centre
    from station.centre.store import DiskStore
    os.umask(0o077)                  # citizens' data: whatever the centre writes is its user's alone
    app = create_app(open_centre(database), DiskStore(store), stalled_days=stalled_days, silent_hours=silent_hours)
    if not is_loopback(host):
        click.echo("Cảnh báo / warning: HTTP không mã hóa ra ngoài máy này; đặt trung tâm sau một proxy TLS "
                   "(nginx, caddy) / plain HTTP beyond this machine: put the centre behind a TLS proxy.", err=True)
    serve(app, host, port, on_started=lambda: click.echo(
        f"Trung tâm tỉnh đang chạy / province centre listening: http://{host}:{port}/ (Ctrl-C để dừng / to stop)"))


@centre.group("token")
def centre_token():
    """Mã truy cập của trạm / station tokens: add, revoke, list."""


@centre_token.command("add")
@click.argument("name")
@_database_option
def centre_token_add(name, database):
    """Đăng ký một trạm, in mã truy cập của nó / register a station and print its token (last line)."""
    from station.centre import stations
    from station.centre.catalog import open_centre
    with open_centre(database)() as session:
        token = stations.register(session, name)
    click.echo(f"Đã đăng ký trạm {name}. Mã truy cập chỉ hiện một lần này: ghi vào cấu hình của trạm / station "
               "registered. The token is shown only this once: put it in the station's configuration.")
    click.echo(token)


@centre_token.command("revoke")
@click.argument("name")
@_database_option
def centre_token_revoke(name, database):
    """Thu hồi mã của một trạm / revoke a station's token: the centre refuses it from now on."""
    from station.centre import stations
    from station.centre.catalog import open_centre
    with open_centre(database)() as session:
        station, now = stations.revoke(session, name)
    if now:
        click.echo(f"Đã thu hồi mã của trạm {name}: trạm không gửi được nữa / token revoked: the station can no "
                   "longer send.")
    else:
        click.echo(f"Mã của trạm {name} đã bị thu hồi từ {station.revoked_at.astimezone():%Y-%m-%d %H:%M} / "
                   "already revoked.")


@centre_token.command("list")
@_database_option
def centre_token_list(database):
    """Liệt kê các trạm / list the stations: active or revoked, last contact (never their tokens)."""
    from station.centre import stations
    from station.centre.catalog import open_centre
    with open_centre(database)() as session:
        known = stations.all_stations(session)
    if not known:
        click.echo("Chưa có trạm nào / no stations yet: `station centre token add NAME`.")
        return

    def when(moment):
        return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else "-"    # this machine's time

    rows = [("trạm / station", "trạng thái / state", "đăng ký / added", "liên lạc cuối / last contact",
             "mã / token id")]
    rows += [(s.name, f"thu hồi / revoked {when(s.revoked_at)}" if s.revoked_at else "hoạt động / active",
              when(s.created_at), when(s.last_contact), s.token_id) for s in known]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@centre.group("user")
def centre_user():
    """Người dùng bảng điều khiển / the dashboard's users: add, revoke, list."""


@centre_user.command("add")
@click.argument("name")
@_database_option
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (its first line) instead of making one.")
def centre_user_add(name, database, password_stdin):
    """Thêm người dùng, in mật khẩu / add a dashboard user and print the password made (last line)."""
    from station.centre import users
    from station.centre.catalog import open_centre
    given = None
    if password_stdin:
        stdin = sys.stdin      # CliRunner swaps it for its input
        given = (click.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True) if stdin.isatty()
                 else stdin.readline().rstrip("\r\n"))     # typed unseen, or piped
    with open_centre(database)() as session:
        password = users.add_user(session, name, given)
    if given is not None:
        click.echo(f"Đã thêm người dùng {name} / user added, with the password given.")
        return
    click.echo(f"Đã thêm người dùng {name}. Mật khẩu chỉ hiện một lần này: trao tận tay / user added. The password "
               "is shown only this once: hand it over in person.")
    click.echo(password)


@centre_user.command("revoke")
@click.argument("name")
@_database_option
def centre_user_revoke(name, database):
    """Thu hồi người dùng / revoke a dashboard user: signed out at once, refused from now on."""
    from station.centre import users
    from station.centre.catalog import open_centre
    with open_centre(database)() as session:
        user, now = users.revoke_user(session, name)
    if now:
        click.echo(f"Đã thu hồi người dùng {name} / user revoked: signed out and refused from now on.")
    else:
        click.echo(f"Người dùng {name} đã bị thu hồi từ {user.revoked_at.astimezone():%Y-%m-%d %H:%M} / "
                   "already revoked.")


@centre_user.command("list")
@_database_option
def centre_user_list(database):
    """Liệt kê người dùng / list the dashboard's users (never their passwords)."""
    from station.centre import users
    from station.centre.catalog import open_centre
    with open_centre(database)() as session:
        known = users.all_users(session)
    if not known:
        click.echo("Chưa có người dùng nào / no users yet: `station centre user add NAME`.")
    for user in known:
        state = (f"thu hồi / revoked {user.revoked_at.astimezone():%Y-%m-%d %H:%M}" if user.revoked_at
                 else "hoạt động / active")
        click.echo(f"{user.name}  {state}  thêm / added {user.created_at.astimezone():%Y-%m-%d %H:%M}")


@centre.command("report")
@_database_option
@click.option("--district", help="The district (huyện) whose communes to report on.")
@click.option("--commune", help="The commune (xã) whose books to report on.")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The Excel file to write, e.g. bao-cao-tuan.xlsx.")
def centre_report(database, district, commune, out):
    """Báo cáo tiến độ theo tuần từ trung tâm / the weekly progress report from the centre's data: the province
    (by district), a district (by commune) or a commune (by book), as Excel."""
    from station.centre.catalog import open_centre
    from station.centre.weekly import area_report, write_report_workbook
    with open_centre(database)() as session:
        report = area_report(session, district, commune)
    write_report_workbook(out, report)
    click.echo(f"Đã ghi báo cáo tuần / weekly report written: {out} ({report.title}: {report.done}/{report.expected} "
               "trường hợp xong / entries done)")


@centre.command("status")
@_database_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def centre_status(database, as_json):
    """Tình trạng các sổ ở trung tâm / the books at the centre across stations: expected, done, missing,
    doubtful, rescans to pick; each station's last contact."""
    from station.centre.catalog import open_centre
    from station.centre.progress import book_progress, station_contacts
    with open_centre(database)() as session:
        books, contacts = book_progress(session), station_contacts(session)
    if as_json:
        click.echo(json.dumps({"books": [b.as_dict() for b in books], "stations": [c.as_dict() for c in contacts]},
                              ensure_ascii=False, indent=1))
        return
    for b in books:
        where = f" ({b.commune})" if b.commune else ""
        click.echo(f"Sổ {b.book}{where}: {b.done}/{b.expected} xong, {b.missing} thiếu, {b.doubtful} cần kiểm tra, "
                   f"{b.to_pick} cần chọn bản quét / done, missing, doubtful, rescans to pick; "
                   f"trạm / stations: {', '.join(b.stations) or '-'}")
    if not books:
        click.echo("Trung tâm chưa nhận sổ nào / no book received yet.")
    for c in contacts:
        when = f"{c.last_contact.astimezone():%Y-%m-%d %H:%M}" if c.last_contact else "chưa bao giờ / never"
        revoked = " (đã thu hồi / revoked)" if c.revoked else ""
        click.echo(f"Trạm {c.station}{revoked}: liên lạc cuối / last contact {when}, {c.books} sổ / books")


@centre.command("commune")
@click.argument("name")
@_database_option
@click.option("--district", required=True, help="The commune's district (huyện), e.g. \"Hải Lăng\".")
def centre_commune(name, database, district):
    """Đặt huyện của một xã / set or correct a commune's district on the centre's dashboard (the name is
    compared without case and without "Xã"/"Phường"/"Thị trấn"; a station's config.yaml never overrides it)."""
    from station.centre.catalog import open_centre
    from station.centre.communes import set_district
    with open_centre(database)() as session:
        commune = set_district(session, name, district)
    click.echo(f"Xã {commune.name} thuộc huyện {commune.district} / commune {commune.name} is in district "
               f"{commune.district}.")


@centre.command("pick")
@click.argument("book_id")
@click.argument("number", type=click.IntRange(1))
@click.option("--station", "station_name", required=True, help="The station whose scan counts.")
@click.option("--commune", help="The book's commune, when books of several communes share its code.")
@_database_option
def centre_pick(book_id, number, station_name, commune, database):
    """Chọn bản quét / pick which station's scan of an entry counts, when it was done on several (its PDF is
    the one exported)."""
    from station.centre.catalog import open_centre
    from station.centre.export import find_book
    from station.centre.progress import pick
    with open_centre(database)() as session:
        book = find_book(session, book_id, commune)
        pick(session, book, number, station_name)
        session.commit()
    click.echo(f"Sổ {book.code}, số {number}: dùng bản quét của trạm {station_name} / the scan of station "
               f"{station_name} counts.")


@centre.command("export")
@click.argument("book_id")
@_database_option
@click.option("--store", envvar="CENTRE_STORE", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the centre's files (as given to `station centre serve`).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--commune", help="The book's commune, when books of several communes share its code.")
@click.option("--profile", help="Profile whose naming rules apply (default from config.yaml).")
@click.option("--allow-incomplete", is_flag=True, help="Export although entries are missing, doubtful or to pick.")
@click.pass_obj
def centre_export(obj: Context, book_id, database, store, out_dir, commune, profile, allow_incomplete):
    """Xuất sổ ở trung tâm / export a book from the centre: BOOK.zip and BOOK.xlsx, the stations' own PDFs."""
    from station.centre.catalog import open_centre
    from station.centre.export import export_book
    from station.centre.store import DiskStore
    profile_obj = obj.cfg.profile(profile)
    with open_centre(database)() as session:
        result = export_book(session, DiskStore(store), profile_obj, book_id, out_dir, commune, allow_incomplete)
    click.echo(f"Đã xuất {len(result.files)} tệp PDF: {result.zip_path} và {result.xlsx_path}")
