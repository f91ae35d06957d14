"""The centre's dashboard: a user's login in front of every page and of its JSON under /ui/ (the stations'
/api/ keeps its tokens), the drill-down's numbers, the weekly report as Excel and as a page, the users'
CLI, picking a rescan, and the page itself in headless Chromium."""
import hashlib
import io
import shutil
import stat
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from station.catalog.models import utcnow
from station.centre import communes, users
from station.centre.app import create_app
from station.centre.catalog import Entry, Scan, Station, UserSession, open_centre
from station.centre.communes import NO_DISTRICT
from station.centre.store import DiskStore
from station.cli import main
from tests.centre.conftest import served_in_thread
from tests.centre.filled import fill

PASSWORD = "mat-khau-thu-nghiem-1"


@pytest.fixture
def centre(centre_url, tmp_path):
    sessions = open_centre(centre_url)
    ids = fill(sessions)
    with sessions() as session:
        users.add_user(session, "can-bo", PASSWORD)
        communes.set_district(session, "Hải Phú", "Hải Lăng")
    app = create_app(sessions, DiskStore(tmp_path / "store"), stalled_days=3, login_delay=0)
    with TestClient(app) as client:
        yield client, sessions, ids
    sessions.kw["bind"].dispose()


def sign_in(client, name="can-bo", password=PASSWORD):
    return client.post("/login", data={"name": name, "password": password}, follow_redirects=False)


def test_every_page_and_its_json_need_a_signed_in_user(centre):
    client, sessions, ids = centre
    for path in ("/", "/report", f"/report?commune=Hải Phú"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
    for path in ("/ui/me", "/ui/province", "/ui/district?name=Hải Lăng", "/ui/commune?name=Hải Phú",
                 f"/ui/books/{ids['main']}", "/ui/report.xlsx", "/ui/nothing"):
        assert client.get(path).status_code == 401, path
    login = client.get("/login")
    assert login.status_code == 200 and "Mật khẩu / password" in login.text
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]

    signed = sign_in(client)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Max-Age=43200" in cookie
    session_id = client.cookies["centre_session"]
    with sessions() as session:       # only its hash is kept
        (row,) = session.scalars(select(UserSession))
        assert row.id_sha256 == hashlib.sha256(session_id.encode()).hexdigest() and session_id not in row.id_sha256
    assert client.get("/").status_code == 200
    assert client.get("/ui/me").json()["user"] == "can-bo"
    # The stations' API is not opened by a user's session: it wants a station's token, as before.
    assert client.get("/api/whoami").status_code == 401
    assert client.post("/api/sync/hello", json={}).status_code == 401

    client.post("/logout", follow_redirects=False)
    assert client.get("/ui/me").status_code == 401
    with sessions() as session:
        assert session.scalars(select(UserSession)).all() == []


def test_wrong_names_and_passwords_are_refused_alike_and_limited(centre):
    client, _, _ = centre
    wrong_password = sign_in(client, password="not-the-password")
    wrong_name = sign_in(client, name="khong-co")
    bad_name = sign_in(client, name="Không Có!")
    for refused in (wrong_password, wrong_name, bad_name):
        assert refused.status_code == 401 and users.WRONG_LOGIN in refused.text
        assert "set-cookie" not in refused.headers
    assert wrong_password.text == wrong_name.text == bad_name.text
    huge = client.post("/login", content=b"name=can-bo&password=" + b"x" * 10_000,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413
    for _ in range(7):
        sign_in(client, password="guess")
    limited = sign_in(client)                  # the right password, but this address failed 10 times
    assert limited.status_code == 429 and "too many failed sign-ins" in limited.text


def test_a_revoked_user_and_an_expired_session_are_refused(centre):
    client, sessions, _ = centre
    sign_in(client)
    assert client.get("/ui/me").status_code == 200
    with sessions() as session:
        session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert client.get("/ui/me").status_code == 401
    sign_in(client)
    assert client.get("/ui/me").status_code == 200
    with sessions() as session:
        users.revoke_user(session, "can-bo")
    assert client.get("/ui/me").status_code == 401
    assert sign_in(client).status_code == 401


def test_the_drill_down_province_district_commune_book(centre):
    client, _, ids = centre
    sign_in(client)
    province = client.get("/ui/province").json()
    districts = {d["name"]: d for d in province["districts"]}
    assert list(districts) == ["Hải Lăng", NO_DISTRICT]          # the one without a district last
    hai_lang = districts["Hải Lăng"]
    assert (hai_lang["communes"], hai_lang["books"], hai_lang["expected"], hai_lang["done"]) == (1, 2, 8, 2)
    assert (hai_lang["doubtful"], hai_lang["missing"], hai_lang["to_pick"]) == (3, 3, 1)
    assert {s["station"]: s["silent"] for s in province["stations"]}.keys() == {"xa-a", "xa-b", "xa-c"}
    assert province["at_risk_total"] == len(province["at_risk"]) == 3
    stalled = province["at_risk"][0]                    # stalled first, its commune named as the picture names it
    assert (stalled["code"], stalled["commune"], stalled["stalled"]) == ("KT.2018.01", "Xã Hải Phú", True)

    unknown = client.get("/ui/district", params={"name": NO_DISTRICT}).json()
    assert [c["name"] for c in unknown["communes"]] == ["Phường Đông Lễ"] and "district:" in unknown["advice"]
    district = client.get("/ui/district", params={"name": "Hải Lăng"}).json()
    (commune,) = district["communes"]
    assert (commune["name"], commune["books"], commune["expected"]) == ("Xã Hải Phú", 2, 8)

    page = client.get("/ui/commune", params={"name": "hải phú", "limit": 1}).json()
    assert page["total"] == 2 and [b["code"] for b in page["books"]] == ["KS.2017.01"]
    rest = client.get("/ui/commune", params={"name": "XÃ HẢI PHÚ", "offset": 1, "limit": 1}).json()
    assert [b["code"] for b in rest["books"]] == ["KT.2018.01"] and rest["books"][0]["stalled"]
    assert client.get("/ui/commune", params={"name": "Nowhere"}).status_code == 404

    book = client.get(f"/ui/books/{ids['main']}", params={"status": "doubtful"}).json()
    assert (book["book"]["done"], book["book"]["to_pick"], book["total"]) == (2, 1, 3)
    assert [e["number"] for e in book["entries"]] == [2, 4, 6]
    assert [e["done_at"] for e in book["entries"]] == [None, None, None]    # done somewhere, not at the centre
    assert client.get(f"/ui/books/{ids['main']}", params={"limit": 100_000}).status_code == 422   # bounded
    assert client.get("/ui/books/99999").status_code == 404


def test_a_rescan_is_picked_from_the_dashboard(centre):
    client, sessions, ids = centre
    path = f"/ui/books/{ids['main']}/entries/2/pick"
    assert client.post(path, json={"station": "xa-b"}).status_code == 401
    sign_in(client)

    def entry_two():
        book = client.get(f"/ui/books/{ids['main']}").json()
        (entry,) = [e for e in book["entries"] if e["number"] == 2]
        return book["book"], entry

    book, entry = entry_two()
    assert (entry["status"], entry["to_pick"], entry["pick_from"], book["to_pick"]) == ("doubtful", True,
                                                                                       ["xa-a", "xa-b"], 1)
    refused = client.post(path, json={"station": "xa-c"})                 # it sent no scan of no. 2
    assert refused.status_code == 409 and "'xa-c'" in refused.json()["detail"]
    assert client.post(path, json={"station": "xa-b"}).json() == {"book": "KS.2017.01", "number": 2,
                                                                   "station": "xa-b"}
    book, entry = entry_two()
    assert (entry["status"], entry["to_pick"], entry["pick_from"], book["to_pick"]) == ("done", False, [], 0)
    assert client.post(path, json={"station": "xa-a"}).status_code == 200  # a pick can be changed
    with sessions() as session:
        picked = session.scalars(select(Station.name).join(Scan, Scan.station_id == Station.id)
                                 .join(Entry, Entry.id == Scan.entry_id)
                                 .where(Entry.book_id == ids["main"], Entry.number == 2, Scan.picked)).all()
    assert picked == ["xa-a"]


def _sheet(workbook, name):
    return [[cell for cell in row] for row in workbook[name].iter_rows(values_only=True)]


def test_the_weekly_report_as_excel_and_as_a_printable_page(centre):
    client, _, _ = centre
    sign_in(client)
    answer = client.get("/ui/report.xlsx", params={"district": "Hải Lăng"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(answer.content))
    summary = _sheet(book, "Tổng hợp")
    assert summary[1][:2] == ["Phạm vi / area", "Huyện / district Hải Lăng"] and summary[3][1] == 8
    weeks = [row for row in summary[7:] if row and row[0]]
    assert weeks and weeks[-1][4] == 2 and weeks[-1][5] == 6     # cumulative done, remaining
    assert [row[3] for row in weeks[:2]] == [1, 1] and sum(row[3] for row in weeks) == 2   # entry 1, entry 3
    assert _sheet(book, "Chi tiết")[1][:5] == ["Xã Hải Phú", 8, 2, 3, 3]
    commune = load_workbook(io.BytesIO(client.get("/ui/report.xlsx", params={"commune": "hải phú"}).content))
    assert [row[0] for row in _sheet(commune, "Chi tiết")[1:]] == ["KS.2017.01", "KT.2018.01"]
    province = load_workbook(io.BytesIO(client.get("/ui/report.xlsx").content))
    assert [row[0] for row in _sheet(province, "Chi tiết")[1:]] == ["Hải Lăng", NO_DISTRICT]
    assert client.get("/ui/report.xlsx", params={"district": "Không có"}).status_code == 404

    page = client.get("/report", params={"commune": "Xã Hải Phú"})
    assert page.status_code == 200 and "Xã / commune Xã Hải Phú" in page.text and "KS.2017.01" in page.text
    assert "<script" not in page.text and "/ui/report.xlsx?commune=" in page.text


def test_users_and_reports_from_the_cli(centre_url, tmp_path):
    runner = CliRunner()
    added = runner.invoke(main, ["centre", "user", "add", "nguyen.van.a", "--database", centre_url])
    assert added.exit_code == 0, added.output
    password = added.output.strip().splitlines()[-1]
    assert len(password) >= 12 and " " not in password
    given = runner.invoke(main, ["centre", "user", "add", "tran.thi.b", "--password-stdin", "--database", centre_url],
                          input="mot-mat-khau-dai\n")
    assert given.exit_code == 0 and "mot-mat-khau-dai" not in given.output
    short = runner.invoke(main, ["centre", "user", "add", "le.c", "--password-stdin", "--database", centre_url],
                          input="short\n")
    assert short.exit_code != 0 and "password too short" in short.output
    again = runner.invoke(main, ["centre", "user", "add", "nguyen.van.a", "--database", centre_url])
    assert again.exit_code != 0 and "already exists" in again.output
    sessions = open_centre(centre_url)
    with sessions() as session:
        assert users.sign_in(session, "nguyen.van.a", password) and users.sign_in(session, "tran.thi.b",
                                                                                   "mot-mat-khau-dai")
    revoked = runner.invoke(main, ["centre", "user", "revoke", "nguyen.van.a", "--database", centre_url])
    assert revoked.exit_code == 0 and "user revoked" in revoked.output
    listed = runner.invoke(main, ["centre", "user", "list", "--database", centre_url]).output
    assert "nguyen.van.a  thu hồi / revoked" in listed and password not in listed
    with sessions() as session:
        assert users.sign_in(session, "nguyen.van.a", password) is None

    fill(sessions)
    out = tmp_path / "reports" / "hai-phu.xlsx"
    written = runner.invoke(main, ["centre", "report", "--commune", "Xã Hải Phú", "-o", str(out),
                                   "--database", centre_url])
    assert written.exit_code == 0, written.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert _sheet(load_workbook(out), "Chi tiết")[1][0] == "KS.2017.01"
    both = runner.invoke(main, ["centre", "report", "--commune", "x", "--district", "y", "-o", str(out),
                                "--database", centre_url])
    assert both.exit_code != 0 and "not both" in both.output
    sessions.kw["bind"].dispose()


# --- the page in headless Chromium ------------------------------------------------------------------
@pytest.fixture
def served(centre_url, tmp_path):
    """The filled centre served by uvicorn in a thread, a user able to sign in."""
    sessions = open_centre(centre_url)
    ids = fill(sessions)
    with sessions() as session:
        users.add_user(session, "can-bo", PASSWORD)
    try:
        with served_in_thread(create_app(sessions, DiskStore(tmp_path / "store"), login_delay=0)) as url:
            yield url, ids
    finally:
        sessions.kw["bind"].dispose()


def test_sign_in_and_drill_down_to_a_book_in_the_browser(served):
    from playwright.sync_api import expect, sync_playwright
    url, _ = served
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make system` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{url}/")
            assert page.url == f"{url}/login"
            page.fill('input[name="name"]', "can-bo")
            page.fill('input[name="password"]', "sai-mat-khau-roi")
            page.click("button[type=submit]")
            expect(page.locator(".error")).to_contain_text("Sai tên hoặc mật khẩu")
            page.fill('input[name="name"]', "can-bo")
            page.fill('input[name="password"]', PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("main h1")).to_have_text("Toàn tỉnh / province")
            expect(page.locator("#user")).to_have_text("can-bo")
            (cookie,) = context.cookies()
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and PASSWORD not in cookie["value"]

            page.click(f'tr[data-district="{NO_DISTRICT}"] a')
            expect(page.locator("main h1")).to_have_text(f"Huyện / district: {NO_DISTRICT}")
            expect(page.locator(".message.info")).to_contain_text("station centre commune")
            page.click('tr[data-commune="Xã Hải Phú"] a')
            expect(page.locator("main h1")).to_have_text("Xã / commune: Xã Hải Phú")
            page.click('tr[data-book="KS.2017.01"] a')
            expect(page.locator("main h1")).to_have_text("Sổ / book KS.2017.01")
            expect(page.locator("tr[data-number]")).to_have_count(6)
            expect(page.locator('tr[data-number="4"]')).to_contain_text("xa-a: ảnh mờ / blurred")
            page.click(".filters button:has-text(\"cần kiểm tra\")")
            expect(page.locator("tr[data-number]")).to_have_count(3)
            # No. 2 was done on two stations: the user picks xa-b's scan, and it is done.
            page.on("dialog", lambda dialog: dialog.accept())
            picks = page.locator('tr[data-number="2"] button.pick')
            expect(picks).to_have_count(2)
            picks.filter(has_text="xa-b").click()
            expect(page.locator("tr[data-number]")).to_have_count(2)
            expect(page.locator(".summary")).to_contain_text("0 cần chọn / to pick")

            page.click("text=Đăng xuất / sign out")
            expect(page.locator('input[name="password"]')).to_be_visible()
            assert page.request.get(f"{url}/ui/province").status == 401
        finally:
            browser.close()
