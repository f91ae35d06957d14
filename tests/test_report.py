"""Weekly progress report: entries done per ISO week, cumulative and remaining, for the commune and
per book, as Excel from the CLI and as JSON/Excel from the API."""
import io
import json
import sqlite3
import stat
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from bench import corpus
from station.capture.daemon import Station
from station.catalog.models import open_catalog
from station.config import REPO_ROOT, load_config
from station.export.report import weekly_report
from station.web.app import create_app
from tests.helpers import run_cli

BOOK = "KS.2017.01"
DPI = 200
TODAY = date(2025, 3, 27)          # Thursday of ISO week 2025-W13
HOSTILE_COMMUNE = "=HYPERLINK(\"http://x\",\"Xã\")"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Entry 1 done in week 10, entry 2 in week 11, entry 3 (an unreadable capture among its pages)
    accepted in week 13, entry 4 never scanned."""
    root = tmp_path_factory.mktemp("report")
    home = root / "home"
    config = root / "config.yaml"
    config.write_text(json.dumps({"home": str(home), "profiles_dir": str(REPO_ROOT / "profiles"),
                                  "commune": HOSTILE_COMMUNE}))
    entries = corpus.make_entries("KS", 2017, 1, 4, seed=53)
    corpus.write_register_xlsx(root / "register.xlsx", entries)
    run_cli(home, "book", "add", BOOK, "--register", root / "register.xlsx")
    run_cli(home, "book", "add", "KT.2018.02", "--entries", "1-5")
    run_cli(home, "separators", BOOK, "--entries", "1-3", "-o", root / "sheets.pdf")
    caps = root / "caps"
    caps.mkdir()
    for i in range(3):
        corpus.save_image(caps / f"{2 * i + 1:04d}.jpg", corpus.render_pdf_page(root / "sheets.pdf", i, DPI), DPI)
        corpus.save_image(caps / f"{2 * i + 2:04d}.jpg", corpus.render_register_page(entries[i], 1, DPI, i), DPI)
    (caps / "0007.jpg").write_bytes(b"torn file")
    run_cli(home, "process", caps)
    run_cli(home, "entry", "accept", BOOK, 3, "--reason", "đủ trang, đã đối chiếu")
    with sqlite3.connect(home / "catalog.sqlite") as db:
        def when(number, moment):
            db.execute("update pages set processed_at = ? where id in (select sp.page_id from scan_pages sp "
                       "join scans s on s.id = sp.scan_id join entries e on e.id = s.entry_id "
                       "where e.book_id = ? and e.number = ?)", (moment, BOOK, number))
        when(1, "2025-03-04 12:00:00")
        when(2, "2025-03-12 12:00:00")
        when(3, "2025-03-13 12:00:00")
        db.execute("update entries set changed_at = '2025-03-26 12:00:00' where book_id = ? and number = 3", (BOOK,))
        db.execute("update corrections set at = '2025-03-26 12:00:00'")
    run_cli(home, "book", "restate")   # the times were set behind the catalog's back: its stored states too
    return home, config


def test_entries_done_per_iso_week_cumulative_and_remaining(home):
    home, config = home
    with open_catalog(home)() as session:
        report = weekly_report(session, load_config(config), today=TODAY)
    rows = [(w.week, w.start, w.done, w.cumulative, w.remaining) for w in report.weeks]
    # The commune: both books, 9 entries; week 12 saw nothing and still has its row.
    assert rows == [("2025-W10", date(2025, 3, 3), 1, 1, 8), ("2025-W11", date(2025, 3, 10), 1, 2, 7),
                    ("2025-W12", date(2025, 3, 17), 0, 2, 7), ("2025-W13", date(2025, 3, 24), 1, 3, 6)]
    books = {b.book: b for b in report.books}
    ks, kt = books[BOOK], books["KT.2018.02"]
    assert (ks.expected, ks.done, ks.missing, ks.doubtful, ks.done_this_week) == (4, 3, 1, 0, 1)
    assert [(w.week, w.cumulative, w.remaining) for w in ks.weeks][-1] == ("2025-W13", 3, 1)
    assert ks.last_activity.date() == date(2025, 3, 26)
    assert [(w.week, w.done, w.remaining) for w in kt.weeks] == [("2025-W13", 0, 5)]  # nothing scanned yet
    assert report.commune == HOSTILE_COMMUNE and report.expected == 9


def test_cli_writes_the_workbook_with_text_never_formulas(home, tmp_path):
    home, config = home
    out = tmp_path / "bao-cao.xlsx"
    result = run_cli(home, "--config", config, "report", "weekly", "-o", out)
    assert str(out) in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["Xã", "Sổ", "Theo tuần"]
    commune = workbook["Xã"]
    cell = commune["B2"]
    assert cell.value == HOSTILE_COMMUNE and cell.data_type == "s" and cell.quotePrefix
    header_row = next(r for r in commune.iter_rows(values_only=True) if r and r[0] == "Tuần / week")
    assert header_row[3] == "Xong trong tuần / done"
    books = {row[0]: row for row in workbook["Sổ"].iter_rows(min_row=2, values_only=True)}
    assert books[BOOK][1:5] == (4, 3, 1, 0) and books[BOOK][6] == 1  # expected, done, missing, doubtful; remaining
    weeks = [row for row in workbook["Theo tuần"].iter_rows(min_row=2, values_only=True) if row[0] == BOOK]
    assert [(w[1], w[4], w[5], w[6]) for w in weeks[:2]] == [("2025-W10", 1, 1, 3), ("2025-W11", 1, 2, 2)]
    assert weeks[0][2] == datetime(2025, 3, 3)  # a real date cell, dd.mm.yyyy
    one = tmp_path / "one.xlsx"
    run_cli(home, "--config", config, "report", "weekly", "--book", "KT.2018.02", "-o", one)
    assert [r[0] for r in load_workbook(one)["Sổ"].iter_rows(min_row=2, values_only=True)] == ["KT.2018.02"]
    run_cli(home, "report", "weekly", "--book", "HN.1999.01", "-o", tmp_path / "x.xlsx", code=7)
    run_cli(home, "report", "weekly", "-o", tmp_path / "report.csv", code=5)
    assert not (tmp_path / "x.xlsx").exists()


def test_api_report_as_json_and_excel(home):
    home, config = home
    client = TestClient(create_app(Station(load_config(config), open_catalog(home)), token=None), base_url="http://127.0.0.1")
    answer = client.get("/api/report/weekly", params={"book": BOOK}).json()
    assert [b["book"] for b in answer["books"]] == [BOOK]
    assert answer["weeks"][-1]["cumulative"] == 3 and answer["weeks"][-1]["remaining"] == 1
    xlsx = client.get("/api/report/weekly.xlsx", params={"book": BOOK})
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    assert load_workbook(io.BytesIO(xlsx.content))["Sổ"]["A2"].value == BOOK
    assert client.get("/api/report/weekly", params={"book": "HN.1999.01"}).status_code == 404
