"""The centre's API: every path under /api/ needs a station's token, the right one, not revoked; the
token is kept only hashed; a sync begins with a hello that says what the centre holds of that station."""
import hashlib
from datetime import date

import pytest
from fastapi.testclient import TestClient

from station.catalog.models import Verdict
from station.centre import stations
from station.centre.app import create_app
from station.centre.catalog import (Blob, Book, Entry, EntryState, Page, Scan, Station, StationBlob,
                                    open_centre)
from station.centre.store import DiskStore


@pytest.fixture
def centre(centre_url, tmp_path):
    sessions = open_centre(centre_url)
    with sessions() as session:
        tokens = {name: stations.register(session, name) for name in ("xa-a", "xa-b")}
    with TestClient(create_app(sessions, DiskStore(tmp_path / "store"))) as client:
        yield client, sessions, tokens


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_whoami_needs_the_station_token(centre):
    client, sessions, tokens = centre
    answer = client.get("/api/whoami", headers=_bearer(tokens["xa-a"]))
    assert answer.status_code == 200 and answer.json()["station"] == "xa-a"
    assert client.get("/api/whoami", headers=_bearer(tokens["xa-b"])).json()["station"] == "xa-b"
    token_id, secret = tokens["xa-a"].split(".")
    other_secret = tokens["xa-b"].split(".")[1]
    for headers in ({}, _bearer(""), _bearer("nonsense"), _bearer(f"{token_id}.{other_secret}"),
                    _bearer(tokens["xa-a"][:-1] + ("A" if secret[-1] != "A" else "B")),
                    {"Authorization": f"Basic {tokens['xa-a']}"}, {"Authorization": tokens["xa-a"]}):
        refused = client.get("/api/whoami", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "missing or wrong station token" in refused.json()["detail"]


def test_a_revoked_token_is_refused_at_once(centre):
    client, sessions, tokens = centre
    assert client.get("/api/whoami", headers=_bearer(tokens["xa-a"])).status_code == 200   # now remembered
    with sessions() as session:
        stations.revoke(session, "xa-a")
    refused = client.get("/api/whoami", headers=_bearer(tokens["xa-a"]))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert client.get("/api/whoami", headers=_bearer(tokens["xa-b"])).status_code == 200


def test_every_api_path_refuses_without_a_token_before_anything_else(centre):
    client, _, tokens = centre
    for method, path in [("POST", "/api/sync"), ("POST", "/api/sync/hello"), ("GET", "/api/sync/hello"),
                         ("PUT", "/api/blobs/" + "0" * 64), ("PUT", "/api/files/" + "0" * 64), ("GET", "/api"),
                         ("GET", "/api/")]:
        assert client.request(method, path).status_code == 401, (method, path)
    # Not even a malformed body gets past the token check.
    assert client.post("/api/sync/hello", content=b"{not json",
                       headers={"Content-Type": "application/json"}).status_code == 401
    # With a token, a path that does not exist is only that, and a push without a body is refused as such.
    assert client.post("/api/nothing", headers=_bearer(tokens["xa-a"])).status_code == 404
    assert client.post("/api/sync", headers=_bearer(tokens["xa-a"])).status_code == 422


def test_the_database_never_holds_a_token(centre, postgres_cluster, centre_url):
    _, _, tokens = centre
    database = centre_url.rsplit("/", 1)[1]
    dump = postgres_cluster.run("pg_dump", "-h", str(postgres_cluster.socket_dir), "-p", str(postgres_cluster.port),
                                "-U", "postgres", "--data-only", database).stdout
    assert "xa-a" in dump            # the dump has the stations…
    for token in tokens.values():    # …never their tokens, nor their secret halves
        assert token.split(".")[1] not in dump and token not in dump


def test_hello_records_the_contact_and_says_what_the_centre_holds_of_that_station_only(centre):
    client, sessions, tokens = centre
    held, other = hashlib.sha256(b"pdf 5").hexdigest(), hashlib.sha256(b"pdf 6").hexdigest()
    with sessions() as session:
        a, b = (session.query(Station).filter_by(name=n).one() for n in ("xa-a", "xa-b"))
        book = Book(commune="Hải Lăng", code="KS.2017.01", book_type="KS", year=2017, volume=1)
        entry = Entry(book=book, number=5, reg_date=date(2017, 2, 3))
        session.add_all([entry, Blob(sha256=held, bytes=1000, kind="pdf"), Blob(sha256=other, bytes=9, kind="pdf")])
        session.flush()
        session.add_all([StationBlob(station_id=a.id, sha256=held), StationBlob(station_id=b.id, sha256=other),
                         EntryState(station_id=a.id, entry_id=entry.id, status="done", local_version=3),
                         Scan(station_id=a.id, local_id=41, entry_id=entry.id),
                         Scan(station_id=b.id, local_id=7, entry_id=entry.id),
                         Page(station_id=a.id, local_id=99, verdict=Verdict.content)])
        session.commit()

    first = client.post("/api/sync/hello", headers=_bearer(tokens["xa-a"]),
                        json={"commune": "Hải Lăng", "software": "station 0.1", "hashes": [held, other]})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["station"] == "xa-a" and answer["previous_contact"] is None
    assert answer["have"] == [held]                  # b's file is not a's to know of
    holds = answer["holds"]
    assert holds["books"] == [{"commune": "Hải Lăng", "code": "KS.2017.01", "entry_states": 1, "scans": 1, "pdfs": 0,
                              "digest": None}]
    assert (holds["scans"], holds["pages"], holds["files"], holds["file_bytes"]) == (1, 1, 1, 1000)
    assert holds["last_local_id"] == {"scans": 41, "pages": 99, "corrections": None}

    again = client.post("/api/sync/hello", headers=_bearer(tokens["xa-a"])).json()   # no body: just the contact
    assert again["previous_contact"] == answer["centre_time"] and again["have"] == []
    who = client.get("/api/whoami", headers=_bearer(tokens["xa-a"])).json()
    assert who["commune"] == "Hải Lăng" and who["last_contact"] == again["centre_time"]
    assert client.post("/api/sync/hello", headers=_bearer(tokens["xa-a"]),
                       json={"hashes": ["../etc/passwd"]}).status_code == 422
