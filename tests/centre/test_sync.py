"""`station sync` against a real centre (uvicorn in a thread, real PostgreSQL): two stations holding halves
of one book make one book at the centre; a second sync sends nothing; a wrong token is refused; a centre
out of reach leaves the station saying what is left; the same entry scanned on two stations is two scans
to pick between; what the station changes later reaches the centre, an older state never replaces a newer."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from station.centre.catalog import (Blob, Book, Commune, Correction, Entry, EntryState, Page, Pdf, Scan, ScanPage,
                                    Station, StationBlob, StationBook)
from station.cli import main
from station.sync.collect import collect
from station.sync.protocol import wire
from tests.centre.conftest import free_port
from tests.centre.fake_station import BOOK, FakeStation

REPO = Path(__file__).resolve().parents[2]
COMMUNE = "Xã Hải Lăng"


def station_config(folder: Path, commune: str = COMMUNE, centre: dict | None = None, district: str = "") -> Path:
    path = folder / "config.yaml"
    data = {"commune": commune, "profiles_dir": str(REPO / "profiles"), "default_profile": "ministry-color"}
    if district:
        data["district"] = district
    if centre:
        data["centre"] = centre
    path.write_text(json.dumps(data), encoding="utf-8")     # YAML reads JSON
    return path


def station_cli(station: FakeStation, *args, code=0, config: Path | None = None):
    config = config or station_config(station.home.parent)
    result = CliRunner().invoke(main, ["--config", str(config), "--home", str(station.home), *map(str, args)])
    assert result.exit_code == code, result.output
    return result


def sync(station: FakeStation, centre, name: str, code=0, **options):
    args = ["sync", "--centre", options.pop("url", centre.url), "--token", options.pop("token", centre.tokens[name]),
            "--retries", options.pop("retries", 0)]
    return station_cli(station, *args, code=code)


def centre_status(centre_url) -> dict:
    result = CliRunner().invoke(main, ["centre", "status", "--json", "--database", centre_url])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Book, Entry, EntryState, Scan, Page, ScanPage, Pdf, Correction, Blob, StationBlob,
                              StationBook)}


@pytest.fixture
def two_stations(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = FakeStation(tmp_path / "a" / "home"), FakeStation(tmp_path / "b" / "home")
    a.scan(range(1, 6))
    b.scan(range(6, 11))
    return a, b


def test_two_stations_holding_halves_make_one_book_and_a_second_sync_sends_nothing(two_stations, running_centre,
                                                                                   centre_url):
    a, b = two_stations
    centre = running_centre
    first = sync(a, centre, "xa-a").output
    assert "1 books sent" in first and "files" in first
    (half,) = centre_status(centre_url)["books"]
    assert (half["expected"], half["done"], half["missing"], half["stations"]) == (10, 5, 5, ["xa-a"])
    sync(b, centre, "xa-b")
    status = centre_status(centre_url)
    assert status["books"] == [{"commune": COMMUNE, "book": BOOK, "expected": 10, "done": 10, "missing": 0,
                                "doubtful": 0, "to_pick": 0, "stations": ["xa-a", "xa-b"]}]
    assert [(s["station"], s["books"], s["last_contact"] is not None) for s in status["stations"]] == \
        [("xa-a", 1, True), ("xa-b", 1, True)]
    shown = CliRunner().invoke(main, ["centre", "status", "--database", centre_url]).output
    assert f"Sổ {BOOK} ({COMMUNE}): 10/10 xong" in shown and "Trạm xa-b: liên lạc cuối / last contact 20" in shown
    held = counts(centre.sessions)
    # One book, its 10 entries; each station's state of all 10; 5 scans of 2 pages and 5 PDFs each.
    assert (held["books"], held["entries"], held["entry_states"]) == (1, 10, 20)
    assert (held["scans"], held["pages"], held["scan_pages"], held["pdfs"]) == (10, 20, 20, 10)
    # Files: the register (the same bytes from both: one file, sent by both), 20 page images, 10 PDFs.
    assert (held["blobs"], held["station_blobs"], held["station_books"]) == (31, 32, 2)
    with centre.sessions() as session:
        (book,) = session.scalars(select(Book))
        assert (book.commune, book.code, book.register_sha256 is not None) == (COMMUNE, BOOK, True)
        done = session.execute(select(Entry.number, func.count()).join(EntryState, EntryState.entry_id == Entry.id)
                               .where(EntryState.status == "done").group_by(Entry.number)).all()
        assert sorted(done) == [(n, 1) for n in range(1, 11)]    # each entry done on exactly one station
        for blob in session.scalars(select(Blob)):                # every recorded file is whole in the store
            assert centre.store.verify(blob.sha256)

    again = sync(a, centre, "xa-a").output
    assert "0 books sent, 1 unchanged, 0 files" in again
    sync(b, centre, "xa-b")
    assert counts(centre.sessions) == held

    state = json.loads((a.home / "sync-state.json").read_text())
    assert state["left_files"] == 0 and state["last_complete"] and state["centre"] == centre.url
    assert stat.S_IMODE((a.home / "sync-state.json").stat().st_mode) == 0o600
    status = station_cli(a, "status").output
    assert "last reached" in status and "complete at" in status
    assert json.loads(station_cli(a, "status", "--json").output)["centre"]["left_books"] == 0
    from tests.test_strip_api import client_for      # the dashboard's API says it too
    shown = client_for(a.home).get("/api/station").json()["centre"]
    assert shown["last_reached"] == state["last_reached"] and shown["left_files"] == 0


def test_the_district_in_config_reaches_the_centre_and_a_station_without_one_still_syncs(two_stations,
                                                                                         running_centre):
    a, b = two_stations
    centre = running_centre
    sync(b, centre, "xa-b")                                       # no district: as before
    with centre.sessions() as session:
        assert session.get(Commune, "hải lăng").district is None
    config = station_config(a.home.parent, commune="hải lăng ", district="Huyện Hải Lăng")
    station_cli(a, "sync", "--centre", centre.url, "--token", centre.tokens["xa-a"], "--retries", 0, config=config)
    with centre.sessions() as session:
        commune = session.get(Commune, "hải lăng")
        assert (commune.district, commune.district_source) == ("Huyện Hải Lăng", "station")


def test_a_wrong_token_is_refused_and_nothing_is_written(two_stations, running_centre):
    a, _ = two_stations
    wrong = running_centre.tokens["xa-a"][:-2] + "xx"
    refused = sync(a, running_centre, "xa-a", token=wrong, code=16).output
    assert "refused this station's token" in refused and wrong not in refused
    assert counts(running_centre.sessions)["books"] == 0 and counts(running_centre.sessions)["blobs"] == 0
    # And the API itself, for every sync path.
    with httpx.Client(base_url=running_centre.url) as client:
        for method, path in [("POST", "/api/sync"), ("POST", "/api/sync/hello"), ("PUT", "/api/blobs/" + "a" * 64)]:
            answer = client.request(method, path, headers={"Authorization": f"Bearer {wrong}"}, content=b"{}")
            assert answer.status_code == 401, path


def test_a_centre_out_of_reach_leaves_the_station_saying_what_is_left(two_stations, running_centre):
    a, _ = two_stations
    nowhere = f"http://127.0.0.1:{free_port()}"
    failed = sync(a, running_centre, "xa-a", url=nowhere, retries=1, code=15).output
    assert "could not be reached" in failed and "16 files" in failed and "1 books left" in failed
    state = json.loads((a.home / "sync-state.json").read_text())
    assert (state["last_reached"], state["left_books"]) == (None, 1)
    assert "never" in station_cli(a, "status").output
    # The station keeps working, and catches up once the centre is there.
    sync(a, running_centre, "xa-a")
    assert counts(running_centre.sessions)["pdfs"] == 5


def test_an_entry_scanned_on_two_stations_is_two_scans_to_pick(two_stations, running_centre, centre_url):
    a, b = two_stations
    b.scan([3], variant=1)            # b scans no. 3 too, which a has done
    sync(a, running_centre, "xa-a")
    sync(b, running_centre, "xa-b")
    with running_centre.sessions() as session:
        entry = session.scalar(select(Entry).where(Entry.number == 3))
        scans = session.scalars(select(Scan).where(Scan.entry_id == entry.id)).all()
        assert len(scans) == 2 and not any(s.picked for s in scans)
        assert {s.station_id for s in scans} == {s.station_id for s in session.scalars(
            select(EntryState).where(EntryState.entry_id == entry.id, EntryState.status == "done"))}
        assert session.scalar(select(func.count()).select_from(Pdf).where(Pdf.entry_id == entry.id)) == 2
    (book,) = centre_status(centre_url)["books"]
    assert (book["done"], book["doubtful"], book["to_pick"]) == (9, 1, 1)
    # The centre's pick settles it: a station that sent no scan of it is refused, named.
    refused = CliRunner().invoke(main, ["centre", "pick", "KS.2017.01", "3", "--station", "xa-c", "--database",
                                        centre_url])
    assert refused.exit_code == 14 and "'xa-c'" in refused.output
    picked = CliRunner().invoke(main, ["centre", "pick", "KS.2017.01", "3", "--station", "xa-b", "--database",
                                       centre_url])
    assert picked.exit_code == 0, picked.output
    (book,) = centre_status(centre_url)["books"]
    assert (book["done"], book["doubtful"], book["to_pick"]) == (10, 0, 0)
    with running_centre.sessions() as session:
        assert [s.station_id for s in session.scalars(select(Scan).where(Scan.entry_id == entry.id, Scan.picked))] \
            == [session.scalar(select(EntryState.station_id).join(Station).where(Station.name == "xa-b")
                               .where(EntryState.entry_id == entry.id))]


def test_what_a_station_changes_later_reaches_the_centre(two_stations, running_centre):
    a, _ = two_stations
    sync(a, running_centre, "xa-a")
    a.scan([2], variant=1)            # a rescan of no. 2 on the same station: doubtful until one is picked
    sync(a, running_centre, "xa-a")
    with running_centre.sessions() as session:
        state = session.scalar(select(EntryState).join(Entry).where(Entry.number == 2))
        assert state.status == "doubtful" and "pick one" in state.reason
    with a.sessions() as session:
        from station.catalog.models import entry_by_number
        second = entry_by_number(session, BOOK, 2).scans[-1].id
    station_cli(a, "entry", "pick", BOOK, 2, second)
    assert "1 books sent" in sync(a, running_centre, "xa-a").output
    with running_centre.sessions() as session:
        state = session.scalar(select(EntryState).join(Entry).where(Entry.number == 2))
        assert state.status == "done" and state.local_version == 2
        (correction,) = session.scalars(select(Correction))
        assert correction.action == "pick" and correction.entry_number == 2 and correction.book_id is not None
        pdf = session.scalar(select(Pdf).join(Entry).where(Entry.number == 2))
        assert session.get(Scan, pdf.scan_id).local_id == second


def test_an_older_state_never_replaces_a_newer_and_a_push_is_refused_whole_without_its_files(
        two_stations, running_centre):
    a, _ = two_stations
    with a.sessions() as session:
        (push,) = collect(session, a.home, COMMUNE).pushes
    headers = {"Authorization": f"Bearer {running_centre.tokens['xa-a']}", "Content-Type": "application/json"}
    with httpx.Client(base_url=running_centre.url, headers=headers) as client:
        body, _ = wire(push)
        refused = client.post("/api/sync", content=body)
        assert refused.status_code == 409 and len(refused.json()["missing_files"]) == 16
        assert counts(running_centre.sessions)["books"] == 0           # nothing half-visible
        sync(a, running_centre, "xa-a")
        newer = push.model_copy(update={"states": [s.model_copy(update={"version": 5, "status": "doubtful",
                                                                        "reason": "test"}) for s in push.states]})
        assert client.post("/api/sync", content=wire(newer)[0]).json()["unchanged"] is False
        # The first snapshot again (its versions 1 < 5), as a late request would bring it: states stay.
        assert client.post("/api/sync", content=body).json()["unchanged"] is False
    with running_centre.sessions() as session:
        assert {(s.status, s.local_version) for s in session.scalars(select(EntryState))} == {("doubtful", 5)}


def test_files_are_checked_limited_and_sent_once(running_centre, monkeypatch):
    import errno
    import hashlib
    headers = {"Authorization": f"Bearer {running_centre.tokens['xa-a']}"}
    data = b"%PDF-1.4 a file"
    sha = hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=running_centre.url, headers=headers) as client:
        wrong = client.put(f"/api/blobs/{sha}?kind=pdf", content=data + b"!")
        assert wrong.status_code == 422 and "send the file again" in wrong.json()["detail"]
        assert client.put(f"/api/blobs/{sha}?kind=other", content=data).status_code == 422
        assert client.put("/api/blobs/../../etc?kind=pdf", content=data).status_code in (404, 422)
        from station.centre import blobs
        monkeypatch.setattr(blobs, "MAX_BLOB_BYTES", 10)
        assert client.put(f"/api/blobs/{sha}?kind=pdf", content=data).status_code == 413
        monkeypatch.undo()
        assert counts(running_centre.sessions)["blobs"] == 0

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(running_centre.store, "put_stream", full)
        assert client.put(f"/api/blobs/{sha}?kind=pdf", content=data).status_code == 507
        assert counts(running_centre.sessions)["blobs"] == 0
        monkeypatch.undo()

        first = client.put(f"/api/blobs/{sha}?kind=pdf", content=data)
        assert first.status_code == 200 and first.json()["created"] is True
        assert client.put(f"/api/blobs/{sha}?kind=pdf", content=data).json()["created"] is False
        other = {"Authorization": f"Bearer {running_centre.tokens['xa-b']}"}
        assert client.put(f"/api/blobs/{sha}?kind=pdf", content=data, headers=other).json()["created"] is False
    held = counts(running_centre.sessions)
    assert (held["blobs"], held["station_blobs"]) == (1, 2)
    assert running_centre.store.get(sha) == data


def test_the_centre_exports_the_book_as_one_station_holding_it_all_would(two_stations, running_centre, centre_url,
                                                                          tmp_path):
    import zipfile
    a, b = two_stations
    (tmp_path / "one").mkdir()
    one = FakeStation(tmp_path / "one" / "home")
    one.scan(range(1, 11))
    station_cli(one, "export", BOOK, "-o", tmp_path / "one-export")
    sync(a, running_centre, "xa-a")
    args = ["centre", "export", BOOK, "--database", centre_url, "--store", running_centre.store.root]
    refused = CliRunner().invoke(main, [*args, "-o", tmp_path / "centre-export"])
    assert refused.exit_code == 8 and "số 6, 7, 8, 9, 10: thiếu / missing" in refused.output
    sync(b, running_centre, "xa-b")
    done = CliRunner().invoke(main, [*args, "-o", tmp_path / "centre-export"])
    assert done.exit_code == 0, done.output
    ours, theirs = tmp_path / "centre-export" / f"{BOOK}.zip", tmp_path / "one-export" / f"{BOOK}.zip"
    with zipfile.ZipFile(ours) as centre_zip, zipfile.ZipFile(theirs) as station_zip:
        assert centre_zip.namelist() == station_zip.namelist() and len(centre_zip.namelist()) == 11
        for name in station_zip.namelist():
            assert centre_zip.read(name) == station_zip.read(name), name
    assert ours.read_bytes() == theirs.read_bytes()
    assert (tmp_path / "centre-export" / f"{BOOK}.xlsx").read_bytes() == \
        (tmp_path / "one-export" / f"{BOOK}.xlsx").read_bytes()
    assert stat.S_IMODE(ours.stat().st_mode) == 0o600
    verified = station_cli(one, "verify", ours)      # exit 0: clean
    assert "10 tệp PDF, 20 trang, không có lỗi" in verified.output


def test_station_run_syncs_in_the_background_while_scanning_goes_on(two_stations, running_centre):
    import time

    from station.capture.daemon import Station
    from station.config import load_config
    a, _ = two_stations
    config = station_config(a.home.parent, centre={"url": running_centre.url, "token": running_centre.tokens["xa-a"],
                                                   "every_minutes": 0.05})
    station = Station(load_config(config, a.home), a.sessions, workers=1)

    def pdfs_reach(count: int) -> None:
        deadline = time.monotonic() + 60
        while counts(running_centre.sessions)["pdfs"] < count:
            assert time.monotonic() < deadline, counts(running_centre.sessions)
            time.sleep(0.2)

    station.start()
    try:
        pdfs_reach(5)                     # at start
        a.scan([6])                       # scanned while the station runs: the next round sends it
        pdfs_reach(6)
    finally:
        began = time.monotonic()
        station.shutdown()
    assert time.monotonic() - began < 30
    assert json.loads((a.home / "sync-state.json").read_text())["left_books"] == 0


def test_a_book_whose_file_is_missing_in_the_home_is_held_back_and_named(two_stations, running_centre):
    a, _ = two_stations
    next((a.home / "pdfs").rglob("*.pdf")).unlink()
    held = sync(a, running_centre, "xa-a", code=15).output
    assert "books not sent, files missing in the home" in held and BOOK in held
    assert counts(running_centre.sessions)["books"] == 0
    assert json.loads((a.home / "sync-state.json").read_text())["last_complete"] is None


def test_page_images_are_hashed_once_then_remembered(two_stations, monkeypatch):
    from station.sync import hashes
    a, _ = two_stations
    read = []
    real = hashes.sha256_file
    monkeypatch.setattr(hashes, "sha256_file", lambda path: read.append(path) or real(path))
    with a.sessions() as session:
        first = collect(session, a.home, COMMUNE)
        assert len(read) == 10
        second = collect(session, a.home, COMMUNE)
    assert len(read) == 10 and wire(first.pushes[0]) == wire(second.pushes[0])
    assert stat.S_IMODE((a.home / "sync-hashes.sqlite").stat().st_mode) == 0o600
    page = next((a.home / "pages").rglob("*.jpg"))
    page.write_bytes(page.read_bytes() + b"\0")          # an image rewritten: hashed again
    with a.sessions() as session:
        collect(session, a.home, COMMUNE)
    assert read[-1] == page and len(read) == 11


def test_a_refused_push_is_reported_without_the_values_it_carried():
    from station.sync.client import Refused, _refuse_unless_ok
    detail = [{"loc": ["body", "corrections", 0, "operator"], "type": "string_too_long", "input": "Nguyễn Văn A"}]
    with pytest.raises(Refused) as refused:
        _refuse_unless_ok(422, {"detail": detail})
    assert refused.value.detail == "body.corrections.0.operator: string_too_long"
