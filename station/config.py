"""Station configuration (config.yaml) and profiles (profiles/*.yaml), validated at load.

An invalid file stops the station with one line naming the file, the key and what is wrong.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.paper import parse_paper

from pipeline.settings import PageSettings
from station.errors import ConfigError
from station.export.naming import NamingSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = "127.0.0.1"
    port: int = Field(8470, ge=1, le=65535)
    # Required before the page may listen on anything but loopback.
    token: str | None = Field(None, min_length=16)


class HotFolderSettings(BaseModel):
    """A folder an overhead scanner or camera writes into; `station run` takes its files."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    folder: Path
    profile: str | None = None
    order: Literal["name", "mtime"] = "name"
    # Network shares where inotify sees nothing: poll the folder instead.
    poll: bool = False
    settle_seconds: float = Field(1.0, ge=0.1, le=60)
    # The paper photographed or scanned into this folder (A4, A3, WxHmm…); default: the profile's.
    paper: str | None = None

    @field_validator("paper")
    @classmethod
    def _known_paper(cls, value: str | None) -> str | None:
        if value is not None:
            parse_paper(value)
        return value


class CentreSettings(BaseModel):
    """The province centre this station sends to (`station sync`): its address and this station's token
    (`station centre token add` printed it; keep config.yaml 0600)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(pattern=r"^https?://")
    token: str | None = Field(None, min_length=20)
    # `station run` syncs in the background this often (with a token here); `station sync` any time.
    every_minutes: float = Field(5, ge=0.05, le=1440)


class StationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    home: Path = Path("~/.local/share/sohotich-station")
    default_profile: str = "ministry-color"
    language: Literal["vi", "en"] = "vi"
    # The commune (xã) whose books this station scans: named on the weekly report sent to the district.
    commune: str = Field("", max_length=100)
    # Its district (huyện): sent to the province centre, which groups communes by district.
    district: str = Field("", max_length=100)
    profiles_dir: Path = Path("profiles")
    # Worker processes for page processing; 0 = one per core.
    workers: int = Field(0, ge=0, le=64)
    # Book type codes and their names as printed on separator sheets. Codes beyond the five known
    # ones are not confirmed by the Ministry: add them here.
    book_types: dict[str, str] = Field(default_factory=lambda: {
        "KS": "Khai sinh", "KT": "Khai tử", "KH": "Kết hôn",
        "CMC": "Nhận cha, mẹ, con", "HN": "Xác nhận tình trạng hôn nhân"})
    web: WebSettings = WebSettings()
    hotfolders: list[HotFolderSettings] = Field(default_factory=list)
    centre: CentreSettings | None = None


class ExportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Column added to the exported register holding each entry's PDF file name.
    file_column: str = Field("tenTepDinhKem", min_length=1, max_length=64)


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    page: PageSettings = PageSettings()
    naming: NamingSettings = NamingSettings()
    export: ExportSettings = ExportSettings()


def _one_line(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(gốc / top level)"
    more = f" (+{exc.error_count() - 1} lỗi khác)" if exc.error_count() > 1 else ""
    return f"{path}: khóa '{key}': {err['msg']}{more}. Sửa tệp này rồi chạy lại / fix this key and retry."


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: không tìm thấy tệp / file not found.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: không đọc được YAML / invalid YAML: {first}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: phải là một bảng khóa: giá trị / must be a mapping of keys.")
    return data


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("STATION_CONFIG"):
        return Path(os.environ["STATION_CONFIG"])
    local = Path.cwd() / "config.yaml"
    return local if local.is_file() else REPO_ROOT / "config.yaml"


class LoadedConfig:
    """The validated config with paths resolved against the config file's folder."""

    def __init__(self, path: Path, settings: StationConfig, home: Path):
        self.path = path
        self.settings = settings
        self.home = home
        self.profiles_dir = (path.parent / settings.profiles_dir.expanduser()).resolve()

    def hotfolder_path(self, hotfolder: HotFolderSettings) -> Path:
        return (self.path.parent / hotfolder.folder.expanduser()).resolve()

    def profile(self, name: str | None = None, paper: str | None = None) -> Profile:
        """A profile by name; `paper` (the session's, stated by the operator) replaces its own."""
        profile = load_profile(self.profiles_dir, name or self.settings.default_profile)
        if paper is None:
            return profile
        try:
            page = PageSettings.model_validate({**profile.page.model_dump(), "paper": paper})
        except ValidationError as exc:
            raise ConfigError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return profile.model_copy(update={"page": page})

    def profile_names(self) -> list[str]:
        return sorted(p.stem for p in self.profiles_dir.glob("*.yaml"))


def load_config(path: str | os.PathLike | None = None, home: str | os.PathLike | None = None) -> LoadedConfig:
    cfg_path = config_path(path)
    try:
        settings = StationConfig.model_validate(_read_yaml(cfg_path))
    except ValidationError as exc:
        raise ConfigError(_one_line(cfg_path, exc)) from None
    for code in settings.book_types:
        if not re.fullmatch(r"[A-Z]{2,4}", code):
            raise ConfigError(f"{cfg_path}: khóa 'book_types.{code}': mã loại sổ phải là 2–4 chữ in hoa "
                              "/ book type codes are 2-4 capital letters.")
    chosen = home or os.environ.get("STATION_HOME") or settings.home
    home_path = Path(chosen).expanduser()
    if not home_path.is_absolute():
        home_path = (cfg_path.parent if not home and not os.environ.get("STATION_HOME")
                     else Path.cwd()) / home_path
    return LoadedConfig(cfg_path, settings, home_path.resolve())


def load_profile(profiles_dir: Path, name: str) -> Profile:
    if not _PROFILE_NAME.match(name):
        raise ConfigError(f"Tên hồ sơ '{name}' không hợp lệ / invalid profile name: "
                          "dùng chữ thường, số, '-' hoặc '_'.")
    path = profiles_dir / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in profiles_dir.glob("*.yaml"))) or "(không có)"
        raise ConfigError(f"Không có hồ sơ '{name}' trong {profiles_dir} / unknown profile. "
                          f"Có / available: {known}.")
    data = _read_yaml(path)
    data.setdefault("name", name)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(path, exc)) from None
