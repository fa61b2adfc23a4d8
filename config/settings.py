"""Load settings: defaults file, then an optional operator file, then ``TORGET_*`` variables.

Pure apart from reading the files named; ``load_settings`` takes the environment as a mapping
so tests pass their own.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

DEFAULTS_FILE = Path(__file__).with_name("torget.toml")
DEMO_PROGRAM_FILE = Path(__file__).with_name("demo-program.yaml")
ENV_PREFIX = "TORGET_"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class ConfigError(Exception):
    """A configuration value is missing, mistyped or out of range (message names the key)."""


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The HTTP edge."""

    host: str = "127.0.0.1"
    port: Port = 8080
    public_url: str = ""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1_048_576
    rtmp_url: str = ""
    node_url: str = ""


class StoreSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The durable store."""

    url: str = "sqlite+aiosqlite:///data/torget.db"


class RealtimeSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The realtime engine."""

    engine: Literal["memory", "redis"] = "memory"
    redis_url: str = ""
    tick_ms: Annotated[int, msgspec.Meta(ge=5, le=1000)] = 50
    history: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 200
    rate_limit_per_second: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    rate_limit_burst: Annotated[int, msgspec.Meta(ge=1)] = 10
    address_factor: Annotated[int, msgspec.Meta(ge=1)] = 25
    flood_strikes: Annotated[int, msgspec.Meta(ge=1)] = 5
    send_buffer_bytes: Annotated[int, msgspec.Meta(ge=4096)] = 1_048_576


class SchedulerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The programme scheduler."""

    tick_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    auto_start: bool = True
    end_grace_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] = 5


class EventSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The event as a whole."""

    name: str = "Torget"
    timezone: str = "Europe/Stockholm"
    default_language: str = "sv"
    access_code: str = ""
    brand_background: str = ""
    brand_text: str = ""
    brand_accent: str = ""


class AuthSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Sign-in for the browser apps."""

    cookie_secure: bool = True
    web_session_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 12
    access_code_attempts_per_minute: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 10


class DemoSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The demo programme for newcomers."""

    load_on_first_start: bool = True


class MediaSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The media plane: RTMP ingest, the per-session ffmpeg pipeline and HLS output."""

    enabled: bool = True
    data_dir: str = "data/media"
    rtmp_host: str = "127.0.0.1"
    rtmp_port: Port = 1935
    ffmpeg: str = ""
    ladder_heights: list[Annotated[int, msgspec.Meta(ge=144, le=4320)]] = msgspec.field(
        default_factory=lambda: [720, 480, 360]
    )
    segment_seconds: Annotated[float, msgspec.Meta(ge=0.2, le=10)] = 1.0
    part_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=1)] = 0.2
    max_passthrough_gop: Annotated[float, msgspec.Meta(ge=0.2, le=10)] = 2.0
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = "veryfast"
    audio_bitrate: Annotated[int, msgspec.Meta(ge=32_000, le=320_000)] = 128_000
    window_seconds: Annotated[float, msgspec.Meta(ge=3, le=3600)] = 12.0
    poll_ms: Annotated[int, msgspec.Meta(ge=10, le=1000)] = 50
    overload_min_speed: Annotated[float, msgspec.Meta(ge=0, le=4)] = 0.9
    publish_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    idle_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 15.0
    slate: bool = True
    slate_font: str = ""
    webrtc_max_viewers: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 100
    webrtc_max_viewers_per_session: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 100
    webrtc_connect_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 20.0
    webrtc_keyframe_interval_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=60)] = 1.0
    webrtc_ice_servers: list[str] = msgspec.field(default_factory=list)
    restream_allowed_hosts: list[str] = msgspec.field(default_factory=list)


class CaptionSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Live captions: the languages a session may be captioned in and the length of a line."""

    languages: list[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]] = (
        msgspec.field(default_factory=lambda: ["sv", "en"])
    )
    max_chars: Annotated[int, msgspec.Meta(ge=10, le=1000)] = 200


class InterpretationSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Interpretation: the languages interpreters may speak a session in (none: no
    interpretation)."""

    languages: list[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]] = (
        msgspec.field(default_factory=list)
    )


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything Torget reads from configuration."""

    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    store: StoreSettings = msgspec.field(default_factory=StoreSettings)
    realtime: RealtimeSettings = msgspec.field(default_factory=RealtimeSettings)
    scheduler: SchedulerSettings = msgspec.field(default_factory=SchedulerSettings)
    event: EventSettings = msgspec.field(default_factory=EventSettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    demo: DemoSettings = msgspec.field(default_factory=DemoSettings)
    media: MediaSettings = msgspec.field(default_factory=MediaSettings)
    captions: CaptionSettings = msgspec.field(default_factory=CaptionSettings)
    interpretation: InterpretationSettings = msgspec.field(default_factory=InterpretationSettings)

    @property
    def public_url(self) -> str:
        """The base URL viewers reach Torget at, without a trailing slash."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    @property
    def node_url(self) -> str:
        """The base URL other nodes reach this node at (media requests are forwarded to the
        node that holds a session's media), without a trailing slash."""
        if self.server.node_url:
            return self.server.node_url.rstrip("/")
        host = self.server.host
        if host in ("", "0.0.0.0", "::"):  # noqa: S104 (a comparison, not a bind)
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server.port}"


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None


def _env_layer(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Turn ``TORGET_SECTION_KEY=value`` into ``{section: {key: value}}`` (strings, typed later)."""
    sections = {f.encode_name: f.type for f in msgspec.structs.fields(Settings)}
    layer: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if rest.startswith(s + "_")), None)
        if section is None:
            continue
        layer.setdefault(section, {})[rest[len(section) + 1 :]] = value
    return layer


def _parse_env_value(raw: str) -> Any:
    lowered = raw.strip().lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _typed_env(section: str, key: str, raw: str) -> Any:
    """A variable's value: a list setting takes comma-separated items (empty: no items)."""
    kind = msgspec.inspect.type_info(Settings)
    assert isinstance(kind, msgspec.inspect.StructType)
    for part in kind.fields:
        if part.encode_name != section or not isinstance(part.type, msgspec.inspect.StructType):
            continue
        for item in part.type.fields:
            if item.encode_name == key and isinstance(item.type, msgspec.inspect.ListType):
                return [_parse_env_value(x.strip()) for x in raw.split(",") if x.strip()]
    return _parse_env_value(raw)


def load_settings(
    config_file: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from the defaults, an optional file and the environment; raise ConfigError."""
    data = _read_toml(DEFAULTS_FILE)
    if config_file is not None:
        _merge(data, _read_toml(config_file))
    env_layer = _env_layer(env or {})
    typed = {s: {k: _typed_env(s, k, v) for k, v in kv.items()} for s, kv in env_layer.items()}
    _merge(data, typed)
    try:
        settings = msgspec.convert(data, type=Settings, str_keys=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_describe(exc)}") from None
    _check(settings)
    return settings


def _describe(exc: msgspec.ValidationError) -> str:
    text = str(exc).replace("`", "")
    if " - at $." in text:
        problem, where = text.split(" - at $.", 1)
        return f"{where}: {problem}"
    return text


def _check(settings: Settings) -> None:
    try:
        zoneinfo.ZoneInfo(settings.event.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"invalid configuration: event.timezone: unknown time zone {settings.event.timezone!r}"
        ) from None
    if not settings.captions.languages:
        raise ConfigError("invalid configuration: captions.languages needs at least one language")
    languages = settings.interpretation.languages
    if len(set(languages)) != len(languages):
        raise ConfigError("invalid configuration: interpretation.languages names a language twice")
    if settings.realtime.engine == "redis" and not settings.realtime.redis_url:
        raise ConfigError("invalid configuration: realtime.redis_url is required for engine redis")
    for entry in settings.media.restream_allowed_hosts:
        if not _host_or_network(entry):
            raise ConfigError(
                "invalid configuration: media.restream_allowed_hosts: "
                f"{entry!r} is not a host name, an IP address or a CIDR range"
            )
    if not settings.store.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "invalid configuration: store.url must start with sqlite+aiosqlite:// "
            "or postgresql+asyncpg://"
        )


_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _host_or_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return bool(_HOST_NAME.match(entry))
    return True
