"""docker-compose.yml, deploy/torget.env and deploy/nginx.conf.template agree with each other
and with the local cluster the tests start from them (one set of settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import load_settings
from tests.support import deploy_files

NODES = ("torget-1", "torget-2")
PER_NODE = {
    "TORGET_SERVER_PUBLIC_URL",
    "TORGET_SERVER_RTMP_URL",
    "TORGET_STORE_URL",
    "TORGET_SERVER_NODE_URL",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed compose file."""
    return deploy_files.load_compose()


@pytest.fixture(scope="module")
def shared() -> dict[str, str]:
    """deploy/torget.env."""
    return deploy_files.node_settings_file()


def test_every_node_reads_the_shared_settings_and_sets_only_its_own(
    compose: dict[str, Any], shared: dict[str, str]
) -> None:
    """Each node takes deploy/torget.env as its env_file and sets in compose only what is its
    own or built from .env; its node_url names its service on the port the file sets."""
    for name in NODES:
        service = compose["services"][name]
        assert service["env_file"] == "deploy/torget.env"
        assert set(service["environment"]) == PER_NODE
        port = shared["TORGET_SERVER_PORT"]
        assert service["environment"]["TORGET_SERVER_NODE_URL"] == f"http://{name}:{port}"
        assert f"media-{name[-1]}:{shared['TORGET_MEDIA_DATA_DIR']}" in service["volumes"]


def test_the_shared_settings_make_a_valid_node_that_listens_beyond_loopback(
    compose: dict[str, Any], shared: dict[str, str]
) -> None:
    """A node started as compose starts it loads its settings (every key is a real one), takes
    HTTP and RTMP on every interface, uses Redis, and RTMP is published on the host."""
    env = {**shared, **compose["services"]["torget-1"]["environment"]}
    env["TORGET_STORE_URL"] = "postgresql+asyncpg://torget:hex@postgres:5432/torget"
    settings = load_settings(None, env)
    assert (settings.server.host, settings.media.rtmp_host) == ("0.0.0.0", "0.0.0.0")
    assert settings.realtime.engine == "redis"
    assert settings.node_url == "http://torget-1:8080"
    assert settings.demo.load_on_first_start is False
    published = [p.split(":") for p in compose["services"]["torget-1"]["ports"]]
    assert ["1935", str(settings.media.rtmp_port)] in published


def test_nginx_gets_exactly_the_templates_variables(compose: dict[str, Any]) -> None:
    """The nginx service renders the template into nginx.conf with a value for every variable
    and no other; its upstreams are the node services, its cache is on the cache volume."""
    nginx = compose["services"]["nginx"]
    env = dict(nginx["environment"])
    assert env.pop("NGINX_ENVSUBST_OUTPUT_DIR") == "/etc/nginx"
    template = deploy_files.nginx_template()
    assert set(env) == deploy_files.template_variables(template)
    mounts = nginx["volumes"]
    assert "./deploy/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro" in mounts
    assert f"nginx-cache:{env['NGINX_CACHE_DIR']}" in mounts
    assert nginx["ports"] == [f"${{TORGET_HTTP_PORT:-8080}}:{env['NGINX_PORT']}"]
    upstreams = [env[name] for name in deploy_files.node_variables(template)]
    urls = [compose["services"][n]["environment"]["TORGET_SERVER_NODE_URL"] for n in NODES]
    assert [f"http://{upstream}" for upstream in upstreams] == urls


def test_the_template_uses_only_braced_variables() -> None:
    """envsubst replaces $NAME too: the template writes its variables as ${NAME} and names
    no other upper-case $NAME that the image's environment could replace."""
    template = deploy_files.nginx_template()
    assert deploy_files.template_variables(template) == {
        "TORGET_NODE_1", "TORGET_NODE_2", "NGINX_PORT", "NGINX_CACHE_DIR",
    }  # fmt: skip
    unbraced = [word for word in template.split("$")[1:] if word[:1].isupper()]
    assert unbraced == []


def test_the_local_rendering_differs_only_where_the_template_substitutes(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """The tests' nginx.conf and the compose deployment's come from the same file: line by
    line they differ only on lines that hold a variable."""
    template = deploy_files.nginx_template()
    env = {k: v for k, v in compose["services"]["nginx"]["environment"].items()}
    deployed = deploy_files.render_template(template, env).splitlines()
    local_values = deploy_files.nginx_values(
        template, port=18080, nodes=["127.0.0.1:18081", "127.0.0.1:18082"], cache_dir=tmp_path
    )
    local = deploy_files.render_template(template, local_values).splitlines()
    differ = [i for i, (a, b) in enumerate(zip(deployed, local, strict=True)) if a != b]
    assert differ
    assert all("${" in template.splitlines()[i] for i in differ)


def test_local_nodes_replace_only_addresses_ports_and_directories(
    shared: dict[str, str], tmp_path: Path
) -> None:
    """A local node's settings are deploy/torget.env's, except LOCAL_KEYS."""
    env = deploy_files.node_env(
        shared, http_port=18081, rtmp_port=18083, redis_url="redis://127.0.0.1:1/0",
        store_url="postgresql+asyncpg://torget@127.0.0.1:2/t", media_dir=tmp_path,
        public_url="http://127.0.0.1:18080",
    )  # fmt: skip
    kept = {k: v for k, v in env.items() if k not in deploy_files.LOCAL_KEYS}
    assert kept == {k: v for k, v in shared.items() if k not in deploy_files.LOCAL_KEYS}
    assert kept  # something is shared beyond addresses (engine, demo, ...)
    assert load_settings(None, env).node_url == "http://127.0.0.1:18081"


def test_redis_runs_append_only_with_an_fsync_per_write(compose: dict[str, Any]) -> None:
    """The flags the local cluster takes from compose keep acknowledged writes (fsync always)."""
    flags = deploy_files.redis_flags(compose)
    pairs = dict(zip(flags[::2], flags[1::2], strict=True))
    assert (pairs["--appendonly"], pairs["--appendfsync"], pairs["--save"]) == ("yes", "always", "")
