"""The stated paper and the true resolution: a file's dpi is a claim, the sheet's size measures it.

A 300 dpi page saved claiming 72 dpi (a phone's EXIF), no dpi, or a wrong 600 dpi must be processed
at ~300 dpi, make an A4 page in the PDF and warn nobody to rescan; an A3 sheet makes an A3 page; a
capture really taken at 100 dpi says so, with that figure.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

from bench import corpus
from pipeline.page import process_capture
from pipeline.paper import parse_paper, resolve_dpi
from pipeline.settings import PageSettings
from station.config import HotFolderSettings, load_config
from station.errors import ConfigError
from tests.helpers import run_cli

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ENTRY = corpus.make_entries("KS", 2017, 1, 3, seed=11)[1]
TRUE_DPI = 300
A4_MM = (210.0, 297.0)
A3_MM = (297.0, 420.0)


@lru_cache(maxsize=None)
def a4_page(dpi: int) -> np.ndarray:
    return corpus.render_register_page(ENTRY, 1, dpi, seed=5)


def save(path, img: np.ndarray, dpi: float | None) -> None:
    Image.fromarray(img).save(path, quality=90, **({"dpi": (dpi, dpi)} if dpi else {}))


def page_mm(result) -> tuple[float, float]:
    image = result.image
    return image.width / image.dpi * 25.4, image.height / image.dpi * 25.4


@pytest.mark.parametrize("text,short,long", [("A4", 210, 297), ("a3", 297, 420), ("B4", 250, 353),
                                             ("Letter", 215.9, 279.4), ("420x297mm", 297, 420)])
def test_paper_names_and_sizes(text, short, long):
    paper = parse_paper(text)
    assert (paper.short_mm, paper.long_mm) == (short, long)


@pytest.mark.parametrize("text", ["A9", "300", "10x20mm", ""])
def test_unknown_paper_is_refused(text):
    with pytest.raises(ValueError):
        parse_paper(text)
    with pytest.raises(ValueError):
        PageSettings(paper=text)


def test_landscape_sheet_measures_like_portrait():
    a4 = parse_paper("A4")
    portrait = resolve_dpi(72.0, (2480, 3508), a4)
    landscape = resolve_dpi(72.0, (3508, 2480), a4)
    assert portrait.dpi == pytest.approx(300, rel=0.01) == landscape.dpi
    assert portrait.source == "measured" and portrait.file_dpi == 72.0


def test_close_file_dpi_stands_and_a_sheet_of_other_paper_measures_nothing():
    a4 = parse_paper("A4")
    assert resolve_dpi(290.0, (2480, 3508), a4).dpi == 290.0  # within 10 %: the file's
    cropped = resolve_dpi(300.0, (2480, 2480), a4)  # not A4's proportions: not a measure
    assert cropped.dpi == 300.0 and cropped.measured_dpi is None


@pytest.mark.parametrize("claimed", [72, None, 600])
def test_wrong_or_missing_file_dpi_is_measured(tmp_path, claimed):
    path = tmp_path / "page.jpg"
    save(path, a4_page(TRUE_DPI), claimed)
    result, = process_capture(path, 0, PageSettings(fix_orientation=False))
    assert result.input_dpi == pytest.approx(TRUE_DPI, rel=0.02)
    assert result.measured_dpi == pytest.approx(TRUE_DPI, rel=0.02)
    assert result.file_dpi == claimed and result.dpi_estimated
    assert result.reason is None or "quét lại" not in result.reason
    width, height = page_mm(result)
    assert width == pytest.approx(A4_MM[0], rel=0.01) and height == pytest.approx(A4_MM[1], rel=0.01)


def test_wrong_dpi_on_a_capture_with_a_cradle_around_the_sheet(tmp_path):
    capture = corpus.degrade(a4_page(200), 200, corpus.Degradation(skew_deg=3.0, border_mm=15.0), seed=3)
    path = tmp_path / "page.png"
    save(path, capture, 72)
    result, = process_capture(path, 0, PageSettings(fix_orientation=False))
    assert result.measured_dpi == pytest.approx(200, rel=0.02) and result.input_dpi == result.measured_dpi


def test_a3_sheet_makes_an_a3_page(tmp_path):
    # An A3 sheet at 300 dpi has the pixels of the A4 page at 300·√2 dpi (ISO sizes are similar).
    sheet = corpus.render_register_page(ENTRY, 1, round(TRUE_DPI * np.sqrt(2)), seed=5)
    path = tmp_path / "a3.jpg"
    save(path, sheet, 72)
    result, = process_capture(path, 0, PageSettings(fix_orientation=False, paper="A3"))
    assert result.input_dpi == pytest.approx(TRUE_DPI, rel=0.02)
    width, height = page_mm(result)
    assert width == pytest.approx(A3_MM[0], rel=0.01) and height == pytest.approx(A3_MM[1], rel=0.01)


def test_really_coarse_capture_says_so_with_the_measured_dpi(tmp_path):
    path = tmp_path / "coarse.jpg"
    save(path, a4_page(100), 300)  # claims 300, is 100
    result, = process_capture(path, 0, PageSettings(fix_orientation=False))
    assert result.input_dpi == pytest.approx(100, rel=0.03)
    assert "quét lại" in result.reason and "quét ở 100 dpi" in result.reason


def test_session_paper_replaces_the_profiles(tmp_path):
    cfg = load_config(home=tmp_path / "home")
    assert cfg.profile().page.paper == "A4"
    assert cfg.profile(paper="A3").page.paper == "A3"
    with pytest.raises(ConfigError, match="khổ giấy"):
        cfg.profile(paper="A9")


def test_hot_folder_paper_is_checked_and_cli_refuses_unknown_paper(tmp_path):
    assert HotFolderSettings(folder=tmp_path, paper="A3").paper == "A3"
    with pytest.raises(ValueError):
        HotFolderSettings(folder=tmp_path, paper="A9")
    (tmp_path / "caps").mkdir()
    result = run_cli(tmp_path / "home", "process", tmp_path / "caps", "--paper", "A9", code=2)
    assert "khổ giấy" in result.output


def test_batch_finished_after_a_crash_measures_on_the_paper_its_session_stated(tmp_path):
    # An A3 sheet at 300 dpi claiming 72 (a phone), processed with --paper A3; then the state a crash
    # leaves: the capture stored, its page not yet made, the batch open. Recovery must measure it on
    # A3 again (on the profile's A4 it would come out at 300·√2 dpi and half its size).
    from sqlalchemy import delete, select, update

    from station.capture.batch import recover
    from station.catalog.models import Batch, Page, Pdf, Scan, ScanPage, open_catalog
    home, caps = tmp_path / "home", tmp_path / "caps"
    caps.mkdir()
    save(caps / "0001.jpg", corpus.render_register_page(ENTRY, 1, round(TRUE_DPI * np.sqrt(2)), seed=5), 72)
    run_cli(home, "book", "add", "KS.2017.01", "--entries", "1-3")
    run_cli(home, "process", caps, "--paper", "A3")
    sessions = open_catalog(home)
    with sessions() as session:
        assert session.scalar(select(Batch.paper)) == "A3"
        for table in (Pdf, ScanPage, Scan, Page):
            session.execute(delete(table))
        session.execute(update(Batch).values(finished_at=None))
        session.commit()
    cfg = load_config(home=home)
    assert recover(cfg, sessions, cfg.profile)
    with sessions() as session:
        page = session.scalar(select(Page))
        assert page.input_dpi == pytest.approx(TRUE_DPI, rel=0.02)
