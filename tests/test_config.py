import pytest

from station.config import load_config
from station.errors import ConfigError


def write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_repo_config_and_every_shipped_profile_load(monkeypatch):
    monkeypatch.delenv("STATION_HOME", raising=False)
    cfg = load_config()
    names = cfg.profile_names()
    assert {"ministry-color", "ministry-grey", "ministry-bilevel"} <= set(names)
    for name in names:
        assert cfg.profile(name).name == name
    assert cfg.profile().page.mode == "color" and cfg.profile().page.dpi >= 200
    assert cfg.profile("ministry-bilevel").page.dpi == 300


def test_home_from_option_beats_environment_beats_file(tmp_path, monkeypatch):
    path = write(tmp_path, "home: relative-home\n")
    monkeypatch.delenv("STATION_HOME", raising=False)
    assert load_config(path).home == (tmp_path / "relative-home").resolve()
    monkeypatch.setenv("STATION_HOME", str(tmp_path / "env-home"))
    assert load_config(path).home == tmp_path / "env-home"
    assert load_config(path, tmp_path / "opt-home").home == tmp_path / "opt-home"


@pytest.mark.parametrize("text, key", [
    ("workers: -1\n", "workers"),
    ("web:\n  port: 99999\n", "web.port"),
    ("colour: red\n", "colour"),
    ("book_types:\n  ks: Khai sinh\n", "book_types.ks"),
])
def test_invalid_config_names_file_and_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in err.value.message and key in err.value.message
    assert "\n" not in err.value.message


def test_broken_yaml_is_one_line_error(tmp_path):
    path = write(tmp_path, "home: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in err.value.message and "\n" not in err.value.message


@pytest.mark.parametrize("text, key", [
    ("page:\n  dpi: 300\n  min_dpi: 400\n", "page"),
    ("page:\n  mode: sepia\n", "page.mode"),
    ("naming:\n  template: '{so}.pdf'\n", "naming"),
    ("page:\n  page_target_kb: 0\n", "page.page_target_kb"),
])
def test_invalid_profile_names_file_and_key(tmp_path, text, key):
    write(tmp_path, "profiles_dir: profiles\n")
    (tmp_path / "profiles").mkdir()
    profile = write(tmp_path / "profiles", text, "bad.yaml")
    cfg = load_config(tmp_path / "config.yaml")
    with pytest.raises(ConfigError) as err:
        cfg.profile("bad")
    assert str(profile) in err.value.message and key in err.value.message


def test_unknown_profile_lists_the_known_ones():
    cfg = load_config()
    with pytest.raises(ConfigError) as err:
        cfg.profile("nope")
    assert "ministry-color" in err.value.message
    with pytest.raises(ConfigError):
        cfg.profile("../config")
