"""The province's picture: SQL aggregates per book, grouped into communes (names compared normalised) and
districts; stations' throughput and silence; the books at risk."""
import pytest

from station.centre import communes
from station.centre.catalog import Commune, open_centre
from station.centre.communes import NO_DISTRICT, commune_key
from station.centre.picture import book_entries, picture, station_work
from station.centre.progress import book_progress
from station.errors import CentreError
from tests.centre.filled import NOW, fill


@pytest.fixture
def filled(centre_url):
    sessions = open_centre(centre_url)
    ids = fill(sessions)
    yield sessions, ids
    sessions.kw["bind"].dispose()


def test_commune_names_compare_normalised():
    assert commune_key("Xã Hải Phú") == commune_key(" hải  phú ") == commune_key("XÃ HẢI PHÚ") == "hải phú"
    decomposed = "Xa\u0303 Ha\u0309i Phu\u0301"       # the same letters, typed as base + combining marks
    assert commune_key(decomposed) == "hải phú"
    assert commune_key("Phường 1") == "1" and commune_key("Thị trấn Diên Sanh") == "diên sanh"
    assert commune_key("Xã") == "xã"          # a name that is only the prefix stays a name


def test_book_numbers_match_the_rule_of_progress(filled):
    sessions, ids = filled
    with sessions() as session:
        rows = {b.code: b for b in picture(session, now=NOW).books}
        expected = {p.book: p for p in book_progress(session)}
    main = rows["KS.2017.01"]
    assert (main.expected, main.done, main.doubtful, main.missing, main.to_pick) == (6, 2, 3, 1, 1)
    for code, row in rows.items():       # the same outcome as progress.py's, entry rule for entry rule
        p = expected[code]
        assert (row.expected, row.done, row.doubtful, row.missing, row.to_pick) == \
            (p.expected, p.done, p.doubtful, p.missing, p.to_pick), code


def test_communes_group_by_normalised_name_and_district(filled):
    sessions, ids = filled
    with sessions() as session:
        seen = picture(session, now=NOW)
        (district,) = seen.districts()
        assert district.name == NO_DISTRICT and district.books == 3
        communes.set_district(session, "HẢI PHÚ", "Hải Lăng")
        communes.heard_from_station(session, "Xã Hải Phú", "Huyện sai")     # the centre's word stays
        communes.heard_from_station(session, "Phường Đông Lễ", "Đông Hà")
        session.commit()
        assert session.get(Commune, "hải phú").district == "Hải Lăng"
        with pytest.raises(CentreError, match="no book or station names this commune"):
            communes.set_district(session, "Xã Không Có", "Hải Lăng")
        seen = picture(session, now=NOW)
    by_name = {d.name: d for d in seen.districts()}
    assert set(by_name) == {"Hải Lăng", "Đông Hà"}
    assert (by_name["Hải Lăng"].books, by_name["Hải Lăng"].expected, by_name["Hải Lăng"].done) == (2, 8, 2)
    (hai_phu,) = seen.communes("Hải Lăng")
    assert hai_phu.key == "hải phú" and hai_phu.books == 2 and hai_phu.name == "Xã Hải Phú"
    assert {b.code for b in seen.commune_books("hải phú")} == {"KS.2017.01", "KT.2018.01"}


def test_books_at_risk_and_stalled(filled):
    sessions, ids = filled
    with sessions() as session:
        rows = {b.code: b for b in picture(session, now=NOW).books}
        longer = {b.code: b for b in picture(session, stalled_days=30, now=NOW).books}
    assert rows["KT.2018.01"].stalled and rows["KT.2018.01"].risks == [
        "đứng yên hơn 3 ngày / nothing new for over 3 days"]
    assert not longer["KT.2018.01"].stalled
    main = rows["KS.2017.01"]
    assert not main.stalled
    assert main.risks == ["1 cần chọn bản quét / rescans to pick", "2 cần kiểm tra / doubtful", "1 thiếu / missing"]
    assert rows["KH.2019.01"].risks == ["2 thiếu / missing"]     # started, so its gaps count


def test_a_books_entries_page_by_page(filled):
    sessions, ids = filled
    with sessions() as session:
        first = book_entries(session, ids["main"], None, 0, 4)
        rest = book_entries(session, ids["main"], None, 4, 4)
        doubtful = book_entries(session, ids["main"], "doubtful", 0, 100)
    assert [e["number"] for e in first["entries"]] == [1, 2, 3, 4] and first["total"] == 6
    assert [(e["number"], e["status"]) for e in rest["entries"]] == [(5, "missing"), (6, "doubtful")]
    assert [e["number"] for e in doubtful["entries"]] == [2, 4, 6] and doubtful["total"] == 3
    said = {e["number"]: e for e in doubtful["entries"]}
    assert said[2]["to_pick"] and said[4]["stations"] == ["xa-a: ảnh mờ / blurred"]


def test_station_throughput_and_silence(filled):
    sessions, _ = filled
    with sessions() as session:
        work = {s["station"]: s for s in station_work(session, now=NOW)}
    a, b, c = work["xa-a"], work["xa-b"], work["xa-c"]
    assert (a["pages"], a["active_hours"], a["pages_per_hour"]) == (30, 3, 10.0)   # the old pages left out
    assert a["entries_done"] == 3 and a["entries_per_day"] == round(3 / 7, 1)   # entry 1 was done before
    assert (c["pages"], c["pages_per_hour"], c["entries_done"]) == (4, 4.0, 1)
    assert not a["silent"] and b["silent"] and not c["silent"]


def test_the_cli_sets_a_communes_district(filled, centre_url):
    from click.testing import CliRunner

    from station.cli import main
    said = CliRunner().invoke(main, ["centre", "commune", "hải phú", "--district", " Hải  Lăng ",
                                     "--database", centre_url])
    assert said.exit_code == 0, said.output
    assert "commune Xã Hải Phú is in district Hải Lăng" in said.output
    unknown = CliRunner().invoke(main, ["centre", "commune", "Nowhere", "--district", "X", "--database", centre_url])
    assert unknown.exit_code != 0 and "no book or station names this commune" in unknown.output
