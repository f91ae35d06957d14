"""A book captured by page through the dashboard's API: the strip of its pages with the gap and the break
where a page turn went wrong, the operator's mends (state a capture's book page, drop a capture, capture
the missing page after a start sheet), the book-start sheet to print, and the token asked of all of it.

The catalog is made directly (no OCR): a book-start sheet, the captures after it with the page number
"read" on each, tiny JPEGs for images, placed as the station places them."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pymupdf
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from pipeline.separator import make_start_payload
from station.capture.daemon import Station
from station.capture.placing import place_book
from station.catalog.models import Batch, Book, Capture, Entry, Page, Verdict, open_catalog
from station.config import load_config
from station.web.app import create_app

BOOK = "KS.2017.01"
PLAIN = "KT.2017.01"                      # a book captured entry by entry, beside it
TOKEN = "t0ken-" + "s" * 26
REGISTER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 5}   # registration -> trangSo; 4 and 5 share page 4


class ByPageBook:
    """BOOK in a catalog of its own, its captures added run by run (a start sheet and the pages after
    it), each capture placed at once as the station does after a batch."""

    def __init__(self, home: Path, register: dict[int, int] = REGISTER):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.sessions = open_catalog(home)
        with self.sessions() as session:
            book = Book(id=BOOK, book_type="KS", year=2017, volume=1)
            for row, (number, page) in enumerate(sorted(register.items()), start=2):
                book.entries.append(Entry(number=number, page_no=str(page), register_row=row))
            plain = Book(id=PLAIN, book_type="KT", year=2017, volume=1, entries=[Entry(number=1, register_row=2)])
            session.add_all([book, plain])
            session.commit()
        self.batch = 0
        self.seq = 0

    def run(self, start_page: int, pages: list) -> list[int]:
        """A start sheet for `start_page` and one capture a spec after it: a printed page number read on
        it, "blank", or a dict of measures. Returns the captures' page ids."""
        with self.sessions() as session:
            batch = Batch(source="test", profile="ministry-color", finished_at=datetime.now(timezone.utc))
            session.add(batch)
            session.flush()
            sheet = self._page(session, batch, Verdict.separator,
                               separator_text=make_start_payload(BOOK, start_page).encode())
            ids = []
            for spec in pages:
                measures = spec if isinstance(spec, dict) else {} if spec == "blank" else {"page_number": spec}
                page = self._page(session, batch, Verdict.blank if spec == "blank" else Verdict.content,
                                  measures=measures, run_sheet_id=sheet.id)
                ids.append(page.id)
            place_book(session, self.home, BOOK, batch.id)
            session.commit()
        return ids

    def _page(self, session, batch: Batch, verdict: Verdict, **fields) -> Page:
        self.seq += 1
        capture = Capture(batch_id=batch.id, seq=self.seq, source_name=f"{self.seq:04d}.jpg", stored_file="x",
                          sha256=f"{self.seq:064x}")
        image = Path("pages") / f"{self.seq:04d}.jpg"
        (self.home / image).parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (60, 84), 255 - 3 * self.seq).save(self.home / image, "JPEG")
        page = Page(capture=capture, verdict=verdict, image_file=str(image), image_format="jpeg", **fields)
        session.add_all([capture, page])
        session.flush()
        return page


def client_for(home: Path, token: str | None = None) -> TestClient:
    station = Station(load_config(home=home), open_catalog(home))
    return TestClient(create_app(station, token), base_url="http://127.0.0.1")


def summary(client) -> dict:
    return next(b for b in client.get("/api/books").json()["books"] if b["book"] == BOOK)


def statuses(client) -> dict[int, str]:
    return {e["number"]: e["status"] for e in client.get(f"/api/books/{BOOK}").json()["entries"]}


def test_the_strip_shows_the_missed_page_and_its_break_until_it_is_captured(tmp_path):
    book = ByPageBook(tmp_path)
    one, two, four, five = book.run(1, [1, 2, 4, 5])     # page 3 was never turned to
    client = client_for(tmp_path)
    strip = client.get(f"/api/books/{BOOK}/strip").json()
    assert strip["by_page"] and strip["runs"][0]["start_page"] == 1 and strip["runs"][0]["captures"] == 4
    cells = {p["book_page"]: p for p in strip["pages"]}
    assert [cells[p]["page_id"] for p in (1, 2, 3, 4, 5)] == [one, two, None, four, five]
    assert cells[4]["registrations"] == [4, 5] and cells[4]["printed_page"] == 4
    assert cells[3]["registrations"] == [3] and "trang 3 không thấy" in cells[3]["doubt"]
    (gap,) = strip["breaks"]
    assert (gap["page_id"], gap["expected"], gap["found"], gap["withholds"]) == (four, 3, 4, [3])
    assert "page 3 not found" in gap["reason"] and strip["unfiled"] == []
    assert statuses(client) == {1: "done", 2: "done", 3: "doubtful", 4: "done", 5: "done", 6: "done"}
    listed = summary(client)
    assert listed["by_page"] and len(listed["breaks"]) == 1 and f"ảnh {four}" in listed["breaks"][0]
    detail = client.get(f"/api/books/{BOOK}").json()
    assert detail["by_page"] and detail["breaks"] == listed["breaks"]

    # A book captured entry by entry: no strip, said plainly; its summary costs no strip.
    plain = client.get(f"/api/books/{PLAIN}/strip")
    assert plain.status_code == 200 and plain.json()["by_page"] is False and plain.json()["pages"] == []
    assert "không quét theo trang" in plain.json()["notes"][0]
    assert client.get(f"/api/books/{PLAIN}").json()["by_page"] is False
    assert client.get("/api/books/KH.2001.01/strip").status_code == 404

    # The operator captures page 3 after a start sheet for it: the station puts it in its place.
    (three,) = book.run(3, [3])
    strip = client.get(f"/api/books/{BOOK}/strip").json()
    assert [p["page_id"] for p in strip["pages"]] == [one, two, three, four, five]
    assert all(p["doubt"] is None for p in strip["pages"])
    assert [r["start_page"] for r in strip["runs"]] == [1, 3]
    # The break is over: the page it missed is in its place.
    assert strip["breaks"] == []
    assert set(statuses(client).values()) == {"done"}


def test_stating_a_misread_page_puts_the_book_right_and_can_be_taken_back(tmp_path):
    book = ByPageBook(tmp_path)
    # Page 3's number was misread as 4: a gap at 3; then the real page 4, another picture saying 4:
    # one of the two misread, so page 4 is held back too.
    one, two, three, four, five = book.run(1, [1, 2, 4, 4, 5])
    client = client_for(tmp_path)
    strip = client.get(f"/api/books/{BOOK}/strip").json()
    assert [p["page_id"] for p in strip["pages"]] == [one, two, None, three, five]
    assert [(b["page_id"], b["withholds"]) for b in strip["breaks"]] == [(three, [3]), (four, [4, 5])]
    assert [c["page_id"] for c in strip["unfiled"]] == [four]

    answer = client.post(f"/api/pages/{three}/book-page", json={"book_page": 3, "book": BOOK},
                         headers={"X-Operator": "Tr%E1%BA%A7n%20Mai"})
    assert answer.status_code == 200
    strip = answer.json()
    assert [p["page_id"] for p in strip["pages"]] == [one, two, three, four, five]
    assert strip["pages"][2]["stated_page"] == 3 and strip["breaks"] == [] and strip["unfiled"] == []
    assert set(statuses(client).values()) == {"done"} and summary(client)["breaks"] == []
    pdf = client.get(f"/api/books/{BOOK}/entries/4/pdf")
    with pymupdf.open(stream=pdf.content, filetype="pdf") as doc:
        assert doc.page_count == 1
    log = client.get("/api/corrections", params={"book": BOOK}).json()["corrections"]
    assert [(c["operator"], c["action"], c["details"]) for c in log] == [
        ("Trần Mai", "state_page", {"page": three, "book_page": 3})]

    taken_back = client.post(f"/api/pages/{three}/book-page", json={"book_page": None})
    assert taken_back.status_code == 200 and len(taken_back.json()["breaks"]) == 2
    assert statuses(client)[3] == "doubtful"

    # Refused, nothing changed: a page of no book captured by page, no such page, another book, no page 0.
    sheet = client.get(f"/api/books/{BOOK}/strip").json()["runs"][0]["sheet"]
    refused = client.post(f"/api/pages/{sheet}/book-page", json={"book_page": 3})
    assert refused.status_code == 400 and "không thuộc sổ nào quét theo trang" in refused.json()["detail"]
    assert client.post("/api/pages/9999/book-page", json={"book_page": 3}).status_code == 404
    other = client.post(f"/api/pages/{three}/book-page", json={"book_page": 3, "book": PLAIN})
    assert other.status_code == 409 and "tải lại" in other.json()["detail"]
    assert client.post(f"/api/pages/{three}/book-page", json={"book_page": 0}).status_code == 422
    assert len(client.get("/api/corrections").json()["corrections"]) == 2
    assert statuses(client)[3] == "doubtful"


def test_dropping_a_capture_taken_twice_clears_its_break(tmp_path):
    book = ByPageBook(tmp_path)
    one, two, again, three, four, five = book.run(1, [1, 2, 2, 3, 4, 5])
    client = client_for(tmp_path)
    strip = client.get(f"/api/books/{BOOK}/strip").json()
    (extra,) = strip["breaks"]
    assert extra["page_id"] == again and "captured again" in extra["reason"] and extra["withholds"] == []
    assert [c["page_id"] for c in strip["unfiled"]] == [again]
    assert set(statuses(client).values()) == {"done"} and len(summary(client)["breaks"]) == 1

    answer = client.post(f"/api/pages/{again}/drop", json={"book": BOOK})
    assert answer.status_code == 200
    assert answer.json()["breaks"] == [] and answer.json()["unfiled"] == []
    assert [p["page_id"] for p in answer.json()["pages"]] == [one, two, three, four, five]
    assert set(statuses(client).values()) == {"done"} and summary(client)["breaks"] == []
    again_refused = client.post(f"/api/pages/{again}/drop")
    assert again_refused.status_code == 400 and "đã bị xóa" in again_refused.json()["detail"]
    log = client.get("/api/corrections").json()["corrections"]
    assert [(c["operator"], c["action"], c["book"]) for c in log] == [("web", "delete_page", BOOK)]


def test_the_start_sheet_to_capture_a_page_again(tmp_path):
    ByPageBook(tmp_path)
    client = client_for(tmp_path)
    answer = client.get(f"/api/books/{BOOK}/start-sheet", params={"page": 3})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert f"to-bat-dau-{BOOK}-trang-3.pdf" in answer.headers["content-disposition"]
    with pymupdf.open(stream=answer.content, filetype="pdf") as doc:
        pages, text = doc.page_count, doc[0].get_text()
    assert pages == 1 and "TỜ BẮT ĐẦU SỔ" in text and make_start_payload(BOOK, 3).encode() in text
    bad = client.get(f"/api/books/{BOOK}/start-sheet", params={"page": 0})
    assert bad.status_code == 400 and "Trang bắt đầu" in bad.json()["detail"]
    assert client.get("/api/books/KH.2001.01/start-sheet", params={"page": 3}).status_code == 404


def test_the_strip_and_its_mends_ask_for_the_token(tmp_path):
    book = ByPageBook(tmp_path)
    _, _, three, four, _ = book.run(1, [1, 2, 4, 4, 5])
    client = client_for(tmp_path, token=TOKEN)
    wrong = {"Authorization": "Bearer " + "x" * len(TOKEN)}
    for path in (f"/api/books/{BOOK}/strip", f"/api/books/{BOOK}/start-sheet?page=3"):
        assert client.get(path, headers=wrong).status_code == 401, path
    assert client.post(f"/api/pages/{three}/book-page", json={"book_page": 3}, headers=wrong).status_code == 401
    assert client.post(f"/api/pages/{four}/drop", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    strip = client.get(f"/api/books/{BOOK}/strip", headers=right).json()
    assert len(strip["breaks"]) == 2 and strip["pages"][2]["page_id"] is None   # nothing changed
    assert client.get("/api/corrections", headers=right).json()["corrections"] == []


@pytest.mark.parametrize("path", ["/api/books/{book}/strip", "/api/pages/{page}/book-page", "/api/pages/{page}/drop"])
def test_strip_endpoints_are_documented(tmp_path, path):
    ByPageBook(tmp_path)
    spec = client_for(tmp_path).get("/openapi.json").json()
    templated = path.replace("{book}", "{book_id}").replace("{page}", "{page_id}")
    (op,) = spec["paths"][templated].values()
    assert "BookStripAnswer" in op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert op["description"]


def test_a_page_captured_twice_with_nothing_read_is_known_by_its_picture(tmp_path):
    """Page 2 captured twice, nothing read on either capture: the station compares the stored images
    (pipeline.likeness), drops the second, and page 3 fits where it belongs."""
    import cv2
    from bench import corpus, layouts
    from bench.likeness import capture, one_clerk
    from station.capture import placing

    dpi = 120
    entries = corpus.make_entries("KS", 2017, 1, 12, seed=3)
    with one_clerk(("KS", 2017, 1, "d")):
        rendered = [layouts.render_layout_page("d", entries[3 * k:3 * k + 3], dpi, seed=60 + k).image
                    for k in range(3)]
    book = ByPageBook(tmp_path, {1: 1, 2: 2, 3: 3})
    one, two, again, three = book.run(1, [1, {}, {}, 3])
    shots = {one: capture(rendered[0], dpi, 1, hard=False, harsh=False),
             two: capture(rendered[1], dpi, 2, hard=False, harsh=False),
             again: capture(rendered[1], dpi, 3, hard=True, harsh=False),
             three: capture(rendered[2], dpi, 4, hard=False, harsh=False)}
    with book.sessions() as session:
        for page_id, image in shots.items():
            page = session.get(Page, page_id)
            cv2.imwrite(str(tmp_path / page.image_file), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            page.dpi = float(dpi)
        batch = session.get(Page, one).capture.batch_id
        session.flush()
        # The placeholder images were signed when the run was first placed: real images now.
        for kept in (tmp_path / "pages").glob("*-likeness.json"):
            kept.unlink()
        placing._signature.cache_clear()
        placing.same_picture.cache_clear()
        place_book(session, tmp_path, BOOK, batch)
        session.commit()
    strip = client_for(tmp_path).get(f"/api/books/{BOOK}/strip").json()
    assert [p["page_id"] for p in strip["pages"]] == [one, two, three]
    assert [(b["page_id"], b["withholds"]) for b in strip["breaks"]] == [(again, [])]
    assert "page 2 captured again" in strip["breaks"][0]["reason"]
    assert [c["page_id"] for c in strip["unfiled"]] == [again]
    assert set(statuses(client_for(tmp_path)).values()) == {"done"}
    assert len(list((tmp_path / "pages").glob("*-likeness.json"))) >= 2     # kept beside the images
