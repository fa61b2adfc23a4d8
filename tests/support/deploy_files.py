"""The shipped deployment's own files, read for the cluster tests and benchmarks (pure).

``docker-compose.yml``, ``deploy/torget.env`` (the settings every node shares, the compose
file's ``env_file``) and ``deploy/nginx.conf.template`` (nginx's configuration, an envsubst
template the official image renders) are the one source of the scaled-out shape's settings.
The cluster tier starts the same shape as local processes from them, replacing only what
differs on one machine: addresses, ports and directories (``LOCAL_KEYS`` of the node
settings, the template's variables). Nothing here starts a process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
NODE_ENV_FILE = REPO / "deploy" / "torget.env"
NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf.template"

#: The node settings a local cluster replaces: where each process listens, what it reaches,
#: where it writes. Every other key of deploy/torget.env is used as it is.
LOCAL_KEYS = frozenset(
    {
        "TORGET_SERVER_HOST",
        "TORGET_SERVER_PORT",
        "TORGET_SERVER_NODE_URL",
        "TORGET_SERVER_PUBLIC_URL",
        "TORGET_STORE_URL",
        "TORGET_REALTIME_REDIS_URL",
        "TORGET_MEDIA_RTMP_HOST",
        "TORGET_MEDIA_RTMP_PORT",
        "TORGET_MEDIA_DATA_DIR",
    }
)

_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_FIRST_TOKEN_HINT = re.compile(r'grep -A(\d+) "([^"]+)"')
_TOKEN = re.compile(r"\btgt_[A-Za-z0-9_\-]+")


def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines of an env file (compose's ``env_file``); ``#`` lines and blank
    lines skipped. Raise ValueError on any other line."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
            raise ValueError(f"line {number} is not KEY=VALUE: {raw!r}")
        values[key] = value
    return values


def node_settings_file() -> dict[str, str]:
    """The settings every node shares (deploy/torget.env)."""
    return parse_env_file(NODE_ENV_FILE.read_text(encoding="utf-8"))


def template_variables(text: str) -> set[str]:
    """The ``${NAME}`` variables of an nginx template."""
    return set(_VARIABLE.findall(text))


def render_template(text: str, values: Mapping[str, str]) -> str:
    """The template with each ``${NAME}`` replaced, as the official image's envsubst does;
    raise KeyError naming a variable without a value."""
    missing = sorted(template_variables(text) - set(values))
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return _VARIABLE.sub(lambda found: values[found.group(1)], text)


def nginx_template() -> str:
    """deploy/nginx.conf.template."""
    return NGINX_TEMPLATE.read_text(encoding="utf-8")


def node_variables(text: str) -> list[str]:
    """The template's upstream servers (``TORGET_NODE_1``, ...), in order."""
    names = [name for name in template_variables(text) if name.startswith("TORGET_NODE_")]
    return sorted(names, key=lambda name: int(name.rsplit("_", 1)[1]))


def nginx_values(text: str, *, port: int, nodes: list[str], cache_dir: Path) -> dict[str, str]:
    """The template's variables for an nginx on ``port`` in front of ``nodes`` (host:port)."""
    names = node_variables(text)
    if len(names) != len(nodes):
        raise ValueError(f"the template names {len(names)} nodes, not {len(nodes)}")
    values = dict(zip(names, nodes, strict=True))
    values.update({"NGINX_PORT": str(port), "NGINX_CACHE_DIR": str(cache_dir)})
    return values


def load_compose() -> dict[str, Any]:
    """docker-compose.yml, parsed (anchors and merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def redis_flags(compose: Mapping[str, Any]) -> tuple[str, ...]:
    """The flags the compose file runs redis-server with (its persistence)."""
    command = list(compose["services"]["redis"]["command"])
    if command[:1] != ["redis-server"]:
        raise ValueError(f"the redis service does not run redis-server: {command}")
    return tuple(str(arg) for arg in command[1:])


def node_env(
    shared: Mapping[str, str],
    *,
    http_port: int,
    rtmp_port: int,
    redis_url: str,
    store_url: str,
    media_dir: Path,
    public_url: str,
) -> dict[str, str]:
    """A local node's ``TORGET_*`` settings: the shared ones with ``LOCAL_KEYS`` replaced by
    loopback addresses, the given ports and directory."""
    local = {
        "TORGET_SERVER_HOST": "127.0.0.1",
        "TORGET_SERVER_PORT": str(http_port),
        "TORGET_SERVER_NODE_URL": f"http://127.0.0.1:{http_port}",
        "TORGET_SERVER_PUBLIC_URL": public_url,
        "TORGET_STORE_URL": store_url,
        "TORGET_REALTIME_REDIS_URL": redis_url,
        "TORGET_MEDIA_RTMP_HOST": "127.0.0.1",
        "TORGET_MEDIA_RTMP_PORT": str(rtmp_port),
        "TORGET_MEDIA_DATA_DIR": str(media_dir),
    }
    assert set(local) == LOCAL_KEYS
    return {**shared, **local}


def first_token_hint() -> tuple[str, int]:
    """The pattern and line count of the compose file's ``grep -A<n> "<pattern>"``, the way
    its header tells operators to find the first admin token in the nodes' logs."""
    found = _FIRST_TOKEN_HINT.search(COMPOSE_FILE.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError("docker-compose.yml does not say how to find the first admin token")
    return found.group(2), int(found.group(1))


def grep_after(text: str, pattern: str, after: int) -> list[str]:
    """What ``grep -A<after> <pattern>`` prints of ``text`` (fixed string, no separators)."""
    lines = text.splitlines()
    shown: list[str] = []
    last = -1
    for index, line in enumerate(lines):
        if pattern in line:
            for kept in range(max(index, last + 1), min(index + after + 1, len(lines))):
                shown.append(lines[kept])
                last = kept
    return shown


def first_admin_token(log_text: str) -> str | None:
    """The token an operator finds in a node's log following the compose file's hint."""
    pattern, after = first_token_hint()
    for line in grep_after(log_text, pattern, after):
        found = _TOKEN.search(line)
        if found:
            return found.group(0)
    return None
