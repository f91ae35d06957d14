"""A small centre filled directly (no sync): two stations, books of one commune spelled two ways, one of
another district, entries in every outcome. What each entry is meant to be is said beside it."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

from station.catalog.models import Verdict
from station.centre import stations
from station.centre.progress import count_untallied
from station.centre.catalog import Blob, Book, Entry, EntryState, Page, Pdf, Scan, Station, StationBook

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=timezone.utc)      # a Wednesday
LAST_WEEK = NOW - timedelta(days=8)           # Tuesday of the week before


def _blob(session, text: str) -> str:
    sha = hashlib.sha256(text.encode()).hexdigest()
    session.add(Blob(sha256=sha, bytes=1000, kind="pdf"))
    return sha


def fill(sessions) -> dict:
    with sessions() as session:
        for name in ("xa-a", "xa-b", "xa-c"):
            stations.register(session, name)
        a, b, c = (session.query(Station).filter_by(name=n).one() for n in ("xa-a", "xa-b", "xa-c"))
        a.commune, a.last_contact = "Xã Hải Phú", NOW - timedelta(hours=1)
        b.commune, b.last_contact = "hải phú", NOW - timedelta(days=3)        # silent for days
        c.commune, c.last_contact = "Phường Đông Lễ", NOW
        main = Book(commune="Xã Hải Phú", code="KS.2017.01", book_type="KS", year=2017, volume=1,
                    created_at=NOW - timedelta(days=20))
        idle = Book(commune="hải phú", code="KT.2018.01", book_type="KT", year=2018, volume=1,
                    created_at=NOW - timedelta(days=10))
        town = Book(commune="Phường Đông Lễ", code="KH.2019.01", book_type="KH", year=2019, volume=1,
                    created_at=NOW - timedelta(days=2))
        entries = {n: Entry(book=main, number=n, reg_date=date(2017, 1, n)) for n in range(1, 7)}
        idle_entries = [Entry(book=idle, number=n) for n in (1, 2)]
        town_entries = [Entry(book=town, number=n) for n in (1, 2, 3)]
        session.add_all([*entries.values(), *idle_entries, *town_entries])
        session.flush()
        local = iter(range(1, 1000))

        def scan(station, entry, picked=False):
            made = Scan(station_id=station.id, local_id=next(local), entry_id=entry.id, picked=picked,
                        created_at=LAST_WEEK)
            session.add(made)
            session.flush()
            return made

        def done(station, entry, when, with_pdf=True, picked=False):
            made = scan(station, entry, picked)
            session.add(EntryState(station_id=station.id, entry_id=entry.id, status="done", local_version=1,
                                   changed_at=when))
            if with_pdf:
                session.add(Pdf(station_id=station.id, entry_id=entry.id, scan_id=made.id, pages=2, bytes=1000,
                                sha256=_blob(session, f"{station.name} {entry.id}"), created_at=when))

        done(a, entries[1], LAST_WEEK)                                  # 1 done last week
        done(a, entries[2], NOW - timedelta(hours=5))                   # 2 done on a and b: to pick
        done(b, entries[2], NOW - timedelta(hours=4))
        done(a, entries[3], NOW - timedelta(hours=3))                   # 3 done on both, b's picked: done
        done(b, entries[3], NOW - timedelta(hours=2), picked=True)
        scan(a, entries[4])                                             # 4 doubtful on a
        session.add(EntryState(station_id=a.id, entry_id=entries[4].id, status="doubtful", local_version=1,
                               reason="ảnh mờ / blurred", changed_at=NOW - timedelta(hours=1)))
        # 5 missing: nothing
        done(a, entries[6], NOW - timedelta(hours=1), with_pdf=False)   # 6 done on a, PDF not received
        done(c, town_entries[0], NOW - timedelta(days=1))               # the town's book: 1 done, 2 not yet
        session.add_all([StationBook(station_id=a.id, book_id=main.id, digest="0" * 64, pushed_at=NOW),
                         StationBook(station_id=b.id, book_id=main.id, digest="1" * 64, pushed_at=NOW)])
        # a: 30 pages in 3 hours over the last days, and 10 pages long ago; c: 4 pages in one hour.
        pages = [(a, NOW - timedelta(days=1, hours=h) + timedelta(minutes=m)) for h in (1, 2, 3) for m in range(10)]
        pages += [(a, NOW - timedelta(days=30, minutes=m)) for m in range(10)]
        pages += [(c, NOW - timedelta(days=1) + timedelta(minutes=m)) for m in range(4)]
        session.add_all([Page(station_id=s.id, local_id=next(local), verdict=Verdict.content, processed_at=when)
                         for s, when in pages])
        session.commit()
        count_untallied(session)          # as the centre does when it opens: these books came without a push
        session.commit()
        return {"main": main.id, "idle": idle.id, "town": town.id}
