from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from station.catalog.books import BookId
from station.export.naming import NameNotReady, NamingSettings, pdf_name

KS = BookId.parse("KS.2017.01")


def test_domain_example():
    assert pdf_name(NamingSettings(), KS, 5, date(2017, 2, 3)) == "KS.2017.01.2017-02-03.05.pdf"


@pytest.mark.parametrize("width, number, expected", [
    (2, 5, "05"), (2, 62, "62"), (2, 120, "120"), (3, 52, "052"), (3, 5, "005"), (1, 5, "5"),
])
def test_number_padding(width, number, expected):
    name = pdf_name(NamingSettings(number_width=width), KS, number, date(2017, 2, 3))
    assert name == f"KS.2017.01.2017-02-03.{expected}.pdf"
    assert len(name.split(".")) >= 6


def test_volume_width_and_datetime():
    s = NamingSettings(volume_width=3)
    assert pdf_name(s, BookId("KT", 1998, 2), 7, datetime(1998, 5, 6, 14, 30)) == \
        "KT.1998.002.1998-05-06.07.pdf"


def test_name_not_ready():
    with pytest.raises(NameNotReady) as info:
        pdf_name(NamingSettings(), KS, 5, None)
    assert isinstance(info.value, ValueError)
    assert "KS.2017.01" in str(info.value) and "5" in str(info.value)
    assert info.value.book == KS and info.value.number == 5


@pytest.mark.parametrize("number", [0, -1, True, "5"])
def test_bad_number(number):
    with pytest.raises(ValueError):
        pdf_name(NamingSettings(), KS, number, date(2017, 2, 3))


def test_custom_template_ok():
    s = NamingSettings(template="{loai}.{nam}.{quyen}.{ngay}.{so}.scan.pdf")
    assert pdf_name(s, KS, 5, date(2017, 2, 3)) == "KS.2017.01.2017-02-03.05.scan.pdf"


@pytest.mark.parametrize("template, fragment", [
    ("{loai}.{nam}.{quyen}.{ngay}.{so}", ".pdf"),                 # no .pdf
    ("{loai}.{nam}.{quyen}.{ngay}.pdf", "{so}"),                  # no so
    ("{loai}.{nam}.{quyen}.{so}.pdf", "{ngay}"),                  # no ngay
    ("{loai}.{nam}.{ngay}.{so}.pdf", "6"),                        # five parts
    ("{loai}_{nam}_{quyen}.{ngay}.{so}.pdf", "6"),                # too few dots
    ("{loai}.{nam}.{quyen}.{ngay}.{so}.{ten}.pdf", "ten"),        # unknown field
    ("{loai}.{nam}.{quyen}.{ngay}.{so:03d}.pdf", "number_width"),  # format spec
    ("{loai}.{nam}.{quyen}.{ngay}.{so!r}.pdf", "number_width"),   # conversion
    ("{}.{nam}.{quyen}.{ngay}.{so}.pdf", "field"),                # positional
    ("../{loai}.{nam}.{quyen}.{ngay}.{so}.pdf", "'.'"),           # path separator
    ("{loai}/{nam}.{quyen}.{ngay}.{so}.x.pdf", "'.'"),            # path separator
    ("{loai}.{nam}.{quyen}..{ngay}.{so}.pdf", "non-empty"),       # empty part
    ("{loai}.{nam}.{quyen}.{ngay}.{so}.pdf{", "braces"),          # bad braces
    (".{loai}.{nam}.{quyen}.{ngay}.{so}.pdf", "non-empty"),       # hidden file
])
def test_bad_templates_refused(template, fragment):
    with pytest.raises(ValidationError) as info:
        NamingSettings(template=template)
    assert fragment in str(info.value)


@pytest.mark.parametrize("kw", [{"number_width": 0}, {"number_width": 7}, {"volume_width": 0},
                                {"unknown": 1}])
def test_bad_settings(kw):
    with pytest.raises(ValidationError):
        NamingSettings(**kw)


def test_settings_frozen():
    s = NamingSettings()
    with pytest.raises(ValidationError):
        s.number_width = 3
