"""Loading configuration from the defaults file, an operator file and TORGET_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from tests.support.harness import settings_for

DB = "sqlite+aiosqlite:///unused.db"


def test_defaults_need_no_services() -> None:
    """The embedded defaults use SQLite and the in-process engine."""
    settings = load_settings(None, {})
    assert settings.store.url.startswith("sqlite+aiosqlite:///")
    assert settings.realtime.engine == "memory"
    assert settings.event.access_code == ""
    assert settings.public_url == "http://127.0.0.1:8080"


def test_environment_overrides_are_typed() -> None:
    """TORGET_SECTION_KEY values become ints, bools and strings as the field needs."""
    settings = load_settings(
        None,
        {
            "TORGET_SERVER_PORT": "9000",
            "TORGET_SCHEDULER_AUTO_START": "false",
            "TORGET_EVENT_NAME": "Mässan",
            "TORGET_SERVER_PUBLIC_URL": "https://fair.example.org/",
            "UNRELATED": "x",
        },
    )
    assert settings.server.port == 9000
    assert settings.scheduler.auto_start is False
    assert settings.event.name == "Mässan"
    assert settings.public_url == "https://fair.example.org"


def test_file_layer_between_defaults_and_environment(tmp_path: Path) -> None:
    """A config file overrides defaults; the environment overrides the file."""
    path = tmp_path / "my.toml"
    path.write_text('[server]\nport = 8100\nhost = "0.0.0.0"\n')
    settings = load_settings(path, {"TORGET_SERVER_PORT": "8200"})
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 8200)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TORGET_SERVER_PORT": "abc"},
            "invalid configuration: server.port: Expected int, got str",
        ),
        (
            {"TORGET_SERVER_PORT": "70000"},
            "invalid configuration: server.port: Expected int <= 65535",
        ),
        (
            {"TORGET_EVENT_TIMEZONE": "Mars/Olympus"},
            "invalid configuration: event.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"TORGET_INTERPRETATION_LANGUAGES": "en,fi,en"},
            "invalid configuration: interpretation.languages names a language twice",
        ),
        (
            {"TORGET_INTERPRETATION_LANGUAGES": "English"},
            "invalid configuration: interpretation.languages[0]: "
            "Expected str matching regex '^[a-z]{2,3}(-[A-Z]{2})?$'",
        ),
        (
            {"TORGET_REALTIME_ENGINE": "redis"},
            "invalid configuration: realtime.redis_url is required for engine redis",
        ),
        (
            {"TORGET_STORE_URL": "mysql://x"},
            "invalid configuration: store.url must start with sqlite+aiosqlite:// "
            "or postgresql+asyncpg://",
        ),
    ],
)
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    """Every bad setting is refused with the key and the problem."""
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env)
    assert str(caught.value) == message


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A --config path that does not exist is reported as such."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", {})


def test_node_url_comes_from_the_setting_or_host_and_port() -> None:
    """``server.node_url`` wins (without its trailing slash); else host and port, with a
    wildcard host replaced by loopback and an IPv6 host bracketed."""
    assert settings_for(DB, TORGET_SERVER_NODE_URL="http://torget-2:8080/").node_url == (
        "http://torget-2:8080"
    )
    wildcard = settings_for(DB, TORGET_SERVER_HOST="0.0.0.0", TORGET_SERVER_PORT="9000")
    assert wildcard.node_url == "http://127.0.0.1:9000"
    assert settings_for(DB, TORGET_SERVER_HOST="::1").node_url == "http://[::1]:8080"
    assert settings_for(DB, TORGET_SERVER_HOST="10.0.0.5").node_url == ("http://10.0.0.5:8080")


def test_list_settings_take_comma_separated_variables() -> None:
    """A list setting's variable is split on commas, each item typed; empty is no items."""
    env = {
        "TORGET_MEDIA_LADDER_HEIGHTS": "720, 360",
        "TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS": "relay.internal,10.20.0.0/16,::1",
        "TORGET_MEDIA_WEBRTC_ICE_SERVERS": "",
    }
    media = load_settings(None, env).media
    assert media.ladder_heights == [720, 360]
    assert media.restream_allowed_hosts == ["relay.internal", "10.20.0.0/16", "::1"]
    assert media.webrtc_ice_servers == []
    assert load_settings().media.restream_allowed_hosts == []


def test_restream_allowed_hosts_must_be_hosts_addresses_or_ranges() -> None:
    """An entry that is no host name, address or CIDR range is named."""
    message = (
        r"^invalid configuration: media\.restream_allowed_hosts: 'http://x' is not a host name, "
        r"an IP address or a CIDR range$"
    )
    with pytest.raises(ConfigError, match=message):
        load_settings(None, {"TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS": "http://x"})


def test_interpretation_is_off_unless_languages_are_set() -> None:
    """No interpretation languages by default; a variable lists them comma-separated."""
    assert load_settings(None, {}).interpretation.languages == []
    env = {"TORGET_INTERPRETATION_LANGUAGES": "en, fi"}
    assert load_settings(None, env).interpretation.languages == ["en", "fi"]
