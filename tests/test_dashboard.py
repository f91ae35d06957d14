"""The operator's dashboard: its API (thumbnails, PDFs, separator sheets, token cookie, OpenAPI) and
the real page driven in headless Chromium (Debian's `chromium`, through Playwright) against a real
`station run` taking a hot folder."""
import io
import os
import shutil
import signal
import sqlite3
import zipfile
from pathlib import Path

import pymupdf
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from bench import corpus
from drivers.base import DeviceEvent
from station.capture.daemon import Station
from station.catalog.models import open_catalog
from station.config import load_config
from station.web.app import create_app
from station.web.deps import COOKIE
from station.web.routes.pages import THUMBNAIL_WIDTH
from tests.helpers import run_cli
from tests.test_daemon import Daemon, drop
from tests.test_strip_api import ByPageBook

BOOK = "KS.2017.01"
DPI = 200
TOKEN = "t0ken-" + "k" * 26
BATCH_TIMEOUT = 180_000  # ms: a few captures through the real pipeline on a shared 2-core machine


# --- the API, in process ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Entries 1 and 2 scanned (two pages each), entry 3 missing, and one quarantined capture."""
    root = tmp_path_factory.mktemp("api")
    home = root / "home"
    entries = corpus.make_entries("KS", 2017, 1, 3, seed=43)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    run_cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    run_cli(home, "separators", BOOK, "--entries", "1-2", "-o", root / "sheets.pdf")
    caps = root / "caps"
    caps.mkdir()
    shots = [corpus.render_pdf_page(root / "sheets.pdf", 0, DPI), corpus.render_register_page(entries[0], 1, DPI, 1),
             corpus.render_register_page(entries[0], 2, DPI, 2), corpus.render_pdf_page(root / "sheets.pdf", 1, DPI),
             corpus.render_register_page(entries[1], 1, DPI, 3), corpus.render_register_page(entries[1], 2, DPI, 4)]
    for i, image in enumerate(shots, start=1):
        corpus.save_image(caps / f"{i:04d}.jpg", image, DPI)
    (caps / "0007.jpg").write_bytes(b"not an image at all")
    run_cli(home, "process", caps)
    return home


def client_for(home, token=None):
    station = Station(load_config(home=home), open_catalog(home))
    return TestClient(create_app(station, token), base_url="http://127.0.0.1"), station


def entry(client, number):
    return client.get(f"/api/books/{BOOK}/entries/{number}").json()


def page_ids(detail):
    return [p["id"] for scan in detail["scans"] if scan["counts"] for p in scan["pages"] if not p["deleted"]]


def test_thumbnails_page_images_and_entry_pdfs(home):
    client, _ = client_for(home)
    book = client.get(f"/api/books/{BOOK}").json()
    cells = {c["number"]: c for c in book["entries"]}
    assert {n: c["status"] for n, c in cells.items()} == {1: "done", 2: "doubtful", 3: "missing"}
    assert "ảnh hỏng" in cells[2]["reasons"][0] and cells[3]["page_ids"] == []
    first = cells[1]["page_ids"][0]
    thumb = client.get(f"/api/pages/{first}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["cache-control"].startswith("private")
    assert Image.open(io.BytesIO(thumb.content)).width == THUMBNAIL_WIDTH
    full = client.get(f"/api/pages/{first}/image")
    assert full.status_code == 200 and Image.open(io.BytesIO(full.content)).width > THUMBNAIL_WIDTH * 3
    assert client.get("/api/pages/99999/thumbnail").status_code == 404
    with sqlite3.connect(home / "catalog.sqlite") as db:
        (quarantined,), = db.execute("select id from pages where verdict = 'quarantined'").fetchall()
    assert client.get(f"/api/pages/{quarantined}/image").status_code == 404  # no image to show
    pdf = client.get(f"/api/books/{BOOK}/entries/2/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pymupdf.open(stream=pdf.content, filetype="pdf").page_count == entry(client, 2)["pdf"]["pages"] == 2
    assert client.get(f"/api/books/{BOOK}/entries/3/pdf").status_code == 404
    assert client.get("/api/books/KT.2001.01/entries/1/pdf").status_code == 404


def test_separator_sheets_for_exactly_the_entries_asked(home):
    client, _ = client_for(home)
    answer = client.get(f"/api/books/{BOOK}/separators", params={"entries": "1,3"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=answer.content, filetype="pdf") as doc:
        assert doc.page_count == 2
        assert [page.get_text().count(BOOK) >= 1 for page in doc] == [True, True]
        assert "TRƯỚC trang đầu tiên của số 3" in doc[1].get_text()
    assert client.get(f"/api/books/{BOOK}/separators", params={"entries": "7"}).status_code == 400
    assert client.get(f"/api/books/{BOOK}/separators", params={"entries": "3-1"}).status_code == 400
    assert client.get("/api/books/KT.2001.01/separators", params={"entries": "1"}).status_code == 404


def test_corrections_from_a_stale_view_are_refused_and_change_nothing(home):
    client, _ = client_for(home)
    one, two = entry(client, 1), entry(client, 2)
    log = client.get("/api/corrections").json()
    page = page_ids(one)[1]
    stale = {"book": BOOK, "number": 1, "version": one["version"] - 1}
    moved = client.post(f"/api/pages/{page}/move", json={"book": BOOK, "number": 2, "source": stale})
    assert moved.status_code == 409 and "tải lại" in moved.json()["detail"]
    elsewhere = {"book": BOOK, "number": 2, "version": two["version"]}  # the page is not in entry 2
    assert client.post(f"/api/pages/{page}/delete", json={"source": elsewhere}).status_code == 409
    assert entry(client, 1) == one and entry(client, 2) == two
    assert client.get("/api/corrections").json() == log


def test_operator_names_in_vietnamese_reach_the_audit_log(home):
    client, _ = client_for(home)
    three = entry(client, 3)
    page = page_ids(entry(client, 2))[0]
    answer = client.post(f"/api/pages/{page}/share", json={"book": BOOK, "number": 3, "version": three["version"]},
                         headers={"X-Operator": "Nguy%E1%BB%85n%20Lan"})
    assert answer.status_code == 200 and page_ids(answer.json()) == [page]
    log = client.get("/api/corrections", params={"book": BOOK}).json()["corrections"]
    assert [(c["operator"], c["action"], c["number"]) for c in log] == [("Nguyễn Lan", "share_page", 3)]


def test_device_events_are_cleared_up_to_what_the_operator_saw(home):
    client, station = client_for(home)
    for kind in ("jammed", "out_of_paper"):
        station.events.append(DeviceEvent("test:0", kind, f"Máy quét: {kind}"))
    events = client.get("/api/events").json()
    assert [(e["seq"], e["kind"], e["cleared"]) for e in events["events"]] == [(1, "jammed", False),
                                                                               (2, "out_of_paper", False)]
    cleared = client.post("/api/events/clear", json={"through": 1}).json()
    assert [e["cleared"] for e in cleared["events"]] == [True, False] and cleared["cleared_through"] == 1
    assert client.post("/api/events/clear", json={"through": 99}).json()["cleared_through"] == 2


def test_token_cookie_guards_the_page_the_api_and_the_docs(home):
    client, _ = client_for(home, token=TOKEN)
    for path in ("/api/books", "/docs", "/openapi.json", "/api/pages/1/thumbnail", "/api/stream"):
        assert client.get(path).status_code == 401, path
    login = client.get("/")
    assert login.status_code == 401 and 'name="token"' in login.text and "frame-ancestors 'none'" in \
        login.headers["content-security-policy"]
    assert client.get("/", params={"token": "x" + TOKEN[1:]}, follow_redirects=False).status_code == 401
    given = client.get("/", params={"token": TOKEN}, follow_redirects=False)
    assert given.status_code == 303 and given.headers["location"] == "/"
    cookie = given.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and TOKEN not in cookie
    assert client.get("/api/books").status_code == 200  # the client keeps the cookie
    assert client.get("/").status_code == 200 and 'src="/static/app.js"' in client.get("/").text
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").status_code == 200
    client.cookies.clear()
    assert client.get("/api/books", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    client.cookies.set(COOKIE, "0" * 64)
    assert client.get("/api/books").status_code == 401
    client.cookies.clear()
    wrong = client.post("/login", content="token=nope", headers={"Content-Type": "application/x-www-form-urlencoded"},
                        follow_redirects=False)
    assert wrong.status_code == 401 and "Sai mã truy cập" in wrong.text
    right = client.post("/login", content=f"token={TOKEN}",
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert right.status_code == 303 and client.get("/api/station").json()["token_required"] is True


def test_every_endpoint_is_documented(home):
    client, _ = client_for(home)
    spec = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert {"/api/stream", "/api/books/{book_id}/separators", "/api/pages/{page_id}/thumbnail",
            "/api/books/{book_id}/entries/{number}/pdf", "/api/events/clear", "/api/report/weekly.xlsx",
            "/api/books/{book_id}/strip", "/api/books/{book_id}/start-sheet", "/api/pages/{page_id}/book-page",
            "/api/pages/{page_id}/drop"} <= set(spec["paths"])
    for path, method, op in operations:
        # Written, not FastAPI's default made of the function name ("Weekly Json").
        assert len(op.get("summary", "").split()) >= 3, (path, method)
        content = op["responses"].get("200", op["responses"].get("202", {})).get("content", {})
        assert content, (path, method)
        if "application/json" in content:
            assert content["application/json"]["schema"], (path, method)
    assert client.get("/docs").status_code == 200
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200  # served here: works offline


# --- the page in Chromium, against a running station ---------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make system` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture
def station_book(tmp_path):
    """A running station with a 4-entry book (two pages each) and its captures, not yet dropped."""
    entries = corpus.make_entries("KS", 2017, 1, 4, seed=47)
    corpus.write_register_xlsx(tmp_path / "register.xlsx", entries)
    daemon = Daemon(tmp_path)
    daemon.cli("book", "add", BOOK, "--register", tmp_path / "register.xlsx")
    daemon.cli("separators", BOOK, "-o", tmp_path / "sheets.pdf")
    corpus.write_captures(tmp_path / "captures", entries, tmp_path / "sheets.pdf", seed=47, dpi_choices=(DPI,),
                          pages_per_entry=(2, 2), duplex_blank_rate=0.0, max_skew=3.0)
    (tmp_path / "captures" / "truth.json").rename(tmp_path / "truth.json")
    daemon.start()
    yield daemon
    if daemon.proc.poll() is None:
        os.killpg(daemon.proc.pid, signal.SIGKILL)


def drop_as(daemon, source: Path, name: str):
    """A capture written into the hot folder under a new name (a rescan of the same sheet)."""
    tmp = daemon.hot / f".{name}.part"
    tmp.write_bytes(source.read_bytes())
    tmp.rename(daemon.hot / name)


def cell(page, number):
    return page.locator(f'#grid .cell[data-number="{number}"]')


def test_operator_session_in_the_browser(station_book, browser, tmp_path):
    daemon = station_book
    truth = {t.file: t for t in corpus.load_truth(tmp_path)}
    by_entry = {n: [t.file for t in truth.values() if t.entries == (n,)] for n in (1, 2, 3, 4)}
    separator = {n: next(f for f in by_entry[n] if truth[f].kind == "separator") for n in by_entry}
    content = {n: [f for f in by_entry[n] if truth[f].kind == "content"] for n in by_entry}
    url = f"http://127.0.0.1:{daemon.port}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.goto(f"{url}/#/book/{BOOK}")
    expect(page.locator("#live")).to_have_class("live on")
    expect(cell(page, 1)).to_have_attribute("data-status", "missing")
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    # A batch arrives live: entries 1 and 2 turn done without a reload; their thumbnails load.
    drop(daemon, by_entry[1] + by_entry[2])
    expect(cell(page, 2)).to_have_attribute("data-status", "done", timeout=BATCH_TIMEOUT)
    expect(cell(page, 1)).to_have_attribute("data-status", "done")
    thumb = cell(page, 1).locator("img.thumb")
    expect(thumb).to_have_js_property("naturalWidth", THUMBNAIL_WIDTH)
    assert page.evaluate("window.sameDocument") is True

    # The to-do for what is missing, with fresh separator sheets for exactly those entries.
    page.click("#todo-link")
    expect(page.locator("#todo tbody tr")).to_have_count(2)
    assert page.locator("#todo tbody tr").evaluate_all("rows => rows.map(r => r.dataset.number)") == ["3", "4"]
    sheets = page.request.get(url + page.get_attribute("#separators-link", "href"))
    with pymupdf.open(stream=sheets.body(), filetype="pdf") as doc:
        assert doc.page_count == 2 and "số 3" in doc[0].get_text() and "số 4" in doc[1].get_text()

    # A missed separator: entry 3's pages land in entry 2. Move them back from entry 2's page. Entry 4
    # gets an unreadable capture between its two pages.
    broken = f"{Path(content[4][0]).stem}a.jpg"  # sorts between entry 4's pages
    (daemon.root / "captures" / broken).write_bytes(b"\xff\xd8 torn off mid-transfer")
    drop(daemon, content[3] + [separator[4], content[4][0], broken, content[4][1]])
    page.goto(f"{url}/#/book/{BOOK}")
    expect(cell(page, 4).locator(".reasons")).to_contain_text("ảnh hỏng", timeout=BATCH_TIMEOUT)
    page.goto(f"{url}/#/book/{BOOK}/entry/2")
    cards = page.locator(".scan.counts .page-card")
    expect(cards).to_have_count(4)
    for name in content[3]:
        card = page.locator(".scan.counts .page-card", has_text=name)
        card.locator('button[data-action="move"]').click()
        card.locator('input[name="number"]').fill("3")
        card.locator(".inline-form button[type=submit]").click()
        expect(page.locator("#flash")).to_contain_text("Đã chuyển trang")
    expect(cards).to_have_count(2)
    expect(page.locator("#entry-status")).to_have_attribute("data-status", "done")
    page.goto(f"{url}/#/book/{BOOK}/entry/3")
    expect(page.locator("#entry-status")).to_have_attribute("data-status", "done")
    shown = page.locator(".scan.counts .page-card dd").all_inner_texts()
    assert [name for name in shown if name.endswith(".jpg")] == content[3]

    # Entry 1 scanned again: doubtful until the operator picks the rescan.
    page.goto(f"{url}/#/book/{BOOK}")
    for i, name in enumerate([separator[1], *content[1]]):
        drop_as(daemon, daemon.root / "captures" / name, f"0901-{i}.jpg")
    expect(cell(page, 1)).to_have_attribute("data-status", "doubtful", timeout=BATCH_TIMEOUT)
    expect(cell(page, 1).locator(".reasons")).to_contain_text("quét 2 lần")
    cell(page, 1).click()
    expect(page.locator(".scan")).to_have_count(2)
    rescan = page.locator(".scan").nth(1)
    expect(rescan.locator(".page-card")).to_have_count(2, timeout=BATCH_TIMEOUT)
    rescan_id = rescan.get_attribute("data-scan")
    rescan.locator('button[data-action="pick"]').click()
    expect(page.locator("#entry-status")).to_have_attribute("data-status", "done")
    expect(page.locator(".scan.counts")).to_have_attribute("data-scan", rescan_id)

    # Entry 4 accepted despite its unreadable capture; an accept from a stale view gets a clear 409,
    # then goes through after a reload.
    page.goto(f"{url}/#/book/{BOOK}/entry/4")
    expect(page.locator("#reasons")).to_contain_text("ảnh hỏng")
    page.fill("#accept .reason-input", "đã đối chiếu sổ gốc, đủ trang")
    detail = daemon.get(f"/api/books/{BOOK}/entries/4")
    order = [p["id"] for s in detail["scans"] if s["counts"] for p in s["pages"]]
    daemon.request(f"/api/books/{BOOK}/entries/4/reorder", {"pages": order[::-1]})  # another operator
    expect(page.locator("#stale")).to_be_visible(timeout=10_000)
    page.click("#accept button[type=submit]")
    expect(page.locator("#flash.conflict")).to_contain_text("Xung đột / conflict")
    expect(page.locator("#flash.conflict")).to_contain_text("vừa được sửa")
    page.locator("#flash button").click()
    expect(page.locator("#flash")).to_have_count(0)  # redrawn from the entry as it is now
    expect(page.locator("#stale")).to_have_count(0)
    page.fill("#accept .reason-input", "đã đối chiếu sổ gốc, đủ trang")
    page.click("#accept button[type=submit]")
    expect(page.locator("#entry-status")).to_have_attribute("data-status", "done")
    expect(page.locator("#reasons")).to_contain_text("đã chấp nhận")

    # Every entry done on the page; the export holds each entry's pages.
    page.goto(f"{url}/#/book/{BOOK}")
    expect(page.locator("#summary")).to_have_attribute("data-done", "4")
    assert page.locator("#grid .cell.done").count() == 4
    out = tmp_path / "export"
    daemon.cli("export", BOOK, "-o", out)
    with zipfile.ZipFile(out / f"{BOOK}.zip") as archive:
        counts = {}
        for name in archive.namelist():
            if name.endswith(".pdf"):
                with pymupdf.open(stream=archive.read(name), filetype="pdf") as doc:
                    counts[int(name.split(".")[4])] = doc.page_count
    assert counts == {1: 2, 2: 2, 3: 2, 4: 2}
    log = daemon.get(f"/api/corrections?book={BOOK}")["corrections"]
    assert [c["action"] for c in log] == ["move_page", "move_page", "pick", "reorder", "accept"]
    assert dialogs == []


def test_a_book_captured_by_page_mended_from_its_strip(tmp_path, browser):
    """Page 3 misread as 4 (a gap at 3; the real page 4, another picture saying 4, holds page 4 back)
    and page 2 captured twice; the last page arrives while the operator looks; they state page 3 and
    drop the double."""
    daemon = Daemon(tmp_path)
    book = ByPageBook(tmp_path / "home")
    _, _, twice, misread, _ = book.run(1, [1, 2, 2, 4, 4])
    daemon.start()
    url = f"http://127.0.0.1:{daemon.port}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.goto(f"{url}/#/book/{BOOK}")
    expect(page.locator("#live")).to_have_class("live on")
    page.evaluate("window.sameDocument = true")
    strip_cell = lambda n: page.locator(f'#strip-pages .strip-cell[data-book-page="{n}"]')  # noqa: E731
    expect(strip_cell(3)).to_have_attribute("data-state", "gap")
    expect(strip_cell(3)).to_contain_text("chưa chụp / not captured")
    expect(strip_cell(3).locator(".reasons")).to_contain_text("trang 3 không thấy")
    expect(strip_cell(4)).to_contain_text("số / nos. 4, 5")
    expect(strip_cell(1).locator("img.thumb")).to_have_js_property("naturalWidth", 60)
    expect(page.locator("#breaks .break")).to_have_count(3)
    expect(page.locator(f'#breaks .break[data-page="{misread}"]')).to_contain_text("Đang giữ lại số / holding back nos. 3")
    sheet = page.request.get(url + strip_cell(3).locator("a.start-sheet").get_attribute("href"))
    assert sheet.ok and sheet.headers["content-type"] == "application/pdf"
    expect(page.locator("#summary")).to_have_attribute("data-done", "2")       # 3, 4, 5 held back

    # The to-do of a book captured by page offers a book-start sheet for the page not captured (no. 6 is on
    # page 5), not entry separators.
    page.click("#todo-link")
    expect(page.locator("#todo tbody tr")).to_have_count(1)
    expect(page.locator("a.start-sheet-link")).to_have_attribute("href", f"/api/books/{BOOK}/start-sheet?page=5")
    expect(page.locator("#separators-link")).to_have_count(0)
    page.go_back()
    expect(strip_cell(3)).to_have_attribute("data-state", "gap")

    # The last page is captured after a start sheet for it: it lands in the strip live.
    book.run(5, [5])
    expect(strip_cell(5)).to_have_attribute("data-state", "filed", timeout=15_000)
    expect(page.locator("#summary")).to_have_attribute("data-done", "3")

    # "This is page 3" on the misread capture: the gap closes, the real page 4 is filed.
    item = page.locator(f'#breaks .break[data-page="{misread}"]')
    item.locator('button[data-action="state"]').click()
    item.locator('input[name="book_page"]').fill("3")
    item.locator(".inline-form button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text(f"Ảnh {misread} là trang 3")
    expect(strip_cell(3)).to_have_attribute("data-state", "filed")
    expect(strip_cell(3)).to_contain_text("đã ghi trang / stated p. 3")
    expect(page.locator("#breaks .break")).to_have_count(1)
    expect(page.locator("#summary")).to_have_attribute("data-done", "6")

    # Drop the capture taken twice: no break left, every entry done, on the same page.
    page.locator(f'#breaks .break[data-page="{twice}"] button[data-action="drop"]').click()
    expect(page.locator("#no-breaks")).to_be_visible()
    expect(page.locator("#summary")).to_have_attribute("data-done", "6")
    expect(page.locator("#strip-pages .strip-cell.has-doubt")).to_have_count(0)
    page.click("header nav a[href='#/']")
    row = page.locator(f'#books tr[data-book="{BOOK}"]')
    expect(row.locator(".tag.by-page")).to_have_text("theo trang / by page")
    expect(row.locator(".tag.breaks")).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True
    assert len(dialogs) == 1 and f"Bỏ ảnh {twice}" in dialogs[0]
    log = daemon.get(f"/api/corrections?book={BOOK}")["corrections"]
    assert [c["action"] for c in log] == ["state_page", "delete_page"]
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=60) in (0, -signal.SIGTERM)


def test_device_event_banner_until_cleared(tmp_path, browser):
    daemon = Daemon(tmp_path)
    daemon.start()
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{daemon.port}/")
    expect(page.locator("#live")).to_have_class("live on")
    expect(page.locator("#banner .event")).to_have_count(0)
    away = daemon.root / "hot-unplugged"
    daemon.hot.rename(away)  # the share behind the hot folder goes away
    banner = page.locator('#banner .event[data-kind="disconnected"]')
    expect(banner).to_contain_text("Không truy cập được thư mục nhận ảnh", timeout=30_000)
    away.rename(daemon.hot)
    banner.locator("button").click()
    expect(page.locator("#banner .event")).to_have_count(0)
    assert all(e["cleared"] for e in daemon.get("/api/events")["events"])
    page.reload()  # cleared for good, not only in this tab
    expect(page.locator("#live")).to_have_class("live on")
    expect(page.locator("#banner .event")).to_have_count(0)
    daemon.proc.send_signal(signal.SIGTERM)  # with the page's event stream still open
    assert daemon.proc.wait(timeout=60) in (0, -signal.SIGTERM)


def test_the_page_asks_for_the_token_once(tmp_path, browser):
    daemon = Daemon(tmp_path, token=TOKEN)
    daemon.start()
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{daemon.port}/")
        page.fill('input[name="token"]', "wrong-" + TOKEN)
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_contain_text("Sai mã truy cập")
        page.fill('input[name="token"]', TOKEN)
        page.click("button[type=submit]")
        expect(page.locator("#live")).to_have_class("live on")  # the event stream passed the cookie check
        expect(page.locator("main h1")).to_have_text("Các sổ / books")
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
        assert page.request.get(f"http://127.0.0.1:{daemon.port}/docs").status == 200
        other = browser.new_context()
        assert other.new_page().request.get(f"http://127.0.0.1:{daemon.port}/api/books").status == 401
        link = other.new_page()
        link.goto(f"http://127.0.0.1:{daemon.port}/?token={TOKEN}")
        expect(link.locator("main h1")).to_have_text("Các sổ / books")
        assert "token" not in link.url
    finally:
        daemon.proc.send_signal(signal.SIGTERM)
        daemon.proc.wait(timeout=60)


def test_without_a_token_only_loopback_host_names_are_answered(home):
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 gets nothing."""
    client = TestClient(create_app(Station(load_config(home=home), open_catalog(home)), token=None),
                        base_url="http://evil.example:8765")
    assert client.get("/api/books").status_code == 400
    assert client.get("/api/books", headers={"host": "localhost:8765"}).status_code == 200
