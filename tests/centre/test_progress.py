"""The province's figures are worked out by PostgreSQL (progress.outcome_rows) by the same rules as one book's
entries in Python (progress.entry_outcomes, which the export uses): every rule meets both here, and the
book's tally counts them."""
from sqlalchemy import select

from station.centre.catalog import Blob, Book, Entry, EntryState, Pdf, Scan, Station, StationBook, open_centre
from station.centre.progress import (book_progress, count_untallied, entry_outcomes, outcome_rows,
                                     station_contacts)

# number: ({station: (status, scan's local id or None, the PDF's scan local id or None)}, picked station or None)
CASES = {
    1: ({}, None),                                                   # nobody has it: missing
    2: ({"a": ("doubtful", 2, None)}, None),                         # doubtful on its station
    3: ({"a": ("done", 3, 3)}, None),                                # done on one station, its PDF here
    4: ({"a": ("done", 4, None)}, None),                             # done there, the PDF not received
    5: ({"a": ("done", 5, 5), "b": ("done", 5, 5)}, None),           # done on two: to pick
    6: ({"a": ("done", 6, 6), "b": ("done", 6, 6)}, "a"),            # ... and picked: done
    7: ({"a": ("done", 7, 7), "b": ("doubtful", 7, None)}, "b"),     # the picked scan is doubtful there
    8: ({"a": ("done", 8, 9)}, "a"),                                 # the PDF is of another scan than the pick
    9: ({"a": ("done", 10, 10), "b": ("doubtful", 10, None)}, None),  # done on one, doubtful on the other
    10: ({"b": ("missing", None, None)}, None),                      # a station says it lacks it
}
EXPECTED = {1: ("missing", False), 2: ("doubtful", False), 3: ("done", False), 4: ("doubtful", False),
            5: ("doubtful", True), 6: ("done", False), 7: ("doubtful", False), 8: ("doubtful", False),
            9: ("done", False), 10: ("missing", False)}


def test_sql_and_python_outcomes_agree_on_every_rule(centre_url):
    sessions = open_centre(centre_url)
    with sessions() as session:
        stations = {n: Station(name=f"xa-{n}", token_id=n * 8, token_hash="x") for n in ("a", "b")}
        book = Book(commune="Hải Phú", code="KS.2017.01", book_type="KS", year=2017, volume=1)
        empty = Book(commune="Hải Phú", code="KS.2018.01", book_type="KS", year=2018, volume=1)
        session.add_all([*stations.values(), book, empty])
        session.flush()
        session.add(StationBook(station_id=stations["b"].id, book_id=book.id, digest="d" * 64))
        session.add(StationBook(station_id=stations["a"].id, book_id=book.id, digest="d" * 64))
        blob = Blob(sha256="f" * 64, bytes=10, kind="pdf")
        session.add(blob)
        for number, (said, picked) in CASES.items():
            entry = Entry(book_id=book.id, number=number)
            session.add(entry)
            session.flush()
            for name, (status, scan_local, pdf_scan_local) in said.items():
                station = stations[name]
                session.add(EntryState(station_id=station.id, entry_id=entry.id, status=status, local_version=1,
                                       reason="mờ / faded" if status == "doubtful" else None))
                scans = {}
                for local in {scan_local, pdf_scan_local} - {None}:
                    scans[local] = Scan(station_id=station.id, local_id=local + 100 * number, entry_id=entry.id,
                                        picked=picked == name and local == scan_local)
                    session.add(scans[local])
                session.flush()
                if pdf_scan_local is not None:
                    session.add(Pdf(station_id=station.id, entry_id=entry.id, scan_id=scans[pdf_scan_local].id,
                                    sha256=blob.sha256, pages=1, bytes=10))
        session.commit()

        in_python = {o.number: (o.status, o.to_pick) for o in entry_outcomes(session, book)}
        in_sql = {row.number: (row.status, row.to_pick)
                  for row in session.execute(outcome_rows([book.id]))}
        assert in_python == EXPECTED
        assert in_sql == EXPECTED

        # Rows written here, not by a push: no tally yet, until the books are counted (as opening does).
        assert {p.expected for p in book_progress(session)} == {0}
        assert count_untallied(session) == 2 and count_untallied(session) == 0
        progress = {p.book: p for p in book_progress(session)}
        counted = progress["KS.2017.01"]
        assert (counted.expected, counted.done, counted.missing, counted.doubtful, counted.to_pick) == (10, 3, 2, 5, 1)
        assert counted.stations == ["xa-a", "xa-b"] and counted.commune == "Hải Phú"
        assert (progress["KS.2018.01"].expected, progress["KS.2018.01"].stations) == (0, [])
        assert {c.station: c.books for c in station_contacts(session)} == {"xa-a": 1, "xa-b": 1}
