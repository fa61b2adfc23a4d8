"""Reading the deployment's files: env files, envsubst templates, the compose file's hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import deploy_files


def test_an_env_file_is_key_value_lines_with_comments() -> None:
    """Comments and blank lines are skipped; values keep their text after the first '='."""
    text = "# shared\n\nTORGET_A=1\nTORGET_B=redis://r:6379/0?x=y\n"
    assert deploy_files.parse_env_file(text) == {
        "TORGET_A": "1",
        "TORGET_B": "redis://r:6379/0?x=y",
    }


def test_an_env_file_line_that_is_not_key_value_is_refused() -> None:
    """A line without '=' (or with a lower-case key) names its line number."""
    with pytest.raises(ValueError, match="line 2 is not KEY=VALUE: 'oops'"):
        deploy_files.parse_env_file("TORGET_A=1\noops\n")


def test_a_template_is_rendered_like_envsubst_and_keeps_nginx_variables() -> None:
    """${NAME} is replaced; nginx's own $variables stay; a variable without a value is named."""
    text = "listen ${NGINX_PORT};\nproxy_set_header Host $http_host;\nserver ${TORGET_NODE_1};\n"
    assert deploy_files.template_variables(text) == {"NGINX_PORT", "TORGET_NODE_1"}
    rendered = deploy_files.render_template(text, {"NGINX_PORT": "80", "TORGET_NODE_1": "a:1"})
    assert rendered == "listen 80;\nproxy_set_header Host $http_host;\nserver a:1;\n"
    with pytest.raises(KeyError, match="no value for TORGET_NODE_1"):
        deploy_files.render_template(text, {"NGINX_PORT": "80"})


def test_nginx_values_fill_the_templates_node_list_in_order(tmp_path: Path) -> None:
    """The upstream servers go to TORGET_NODE_1, _2 in order; a wrong count is refused."""
    text = "${TORGET_NODE_2} ${TORGET_NODE_1} ${NGINX_PORT} ${NGINX_CACHE_DIR}"
    values = deploy_files.nginx_values(text, port=8081, nodes=["a:1", "b:2"], cache_dir=tmp_path)
    assert values == {"TORGET_NODE_1": "a:1", "TORGET_NODE_2": "b:2", "NGINX_PORT": "8081",
                      "NGINX_CACHE_DIR": str(tmp_path)}  # fmt: skip
    with pytest.raises(ValueError, match="the template names 2 nodes, not 3"):
        deploy_files.nginx_values(text, port=1, nodes=["a:1", "b:2", "c:3"], cache_dir=tmp_path)


def test_grep_after_prints_matches_with_their_following_lines() -> None:
    """Like ``grep -A2``: each match and the two lines after it, overlaps printed once."""
    text = "a\nfirst start\nb\nc\nd\nfirst start\ne\n"
    assert deploy_files.grep_after(text, "first start", 2) == [
        "first start", "b", "c", "first start", "e",
    ]  # fmt: skip


def test_the_first_admin_token_is_found_as_the_compose_file_says() -> None:
    """A node's first-start announcement, as it prints it, yields its token."""
    log = (
        "Torget listening on http://127.0.0.1:8080\n\n"
        "Torget: first start. Sign in as admin with this token. It is shown only now;\n"
        "keep it somewhere safe (make more with `torget token create --role admin`):\n\n"
        "    tgt_AbC-12_x\n\n"
    )
    assert deploy_files.first_admin_token(log) == "tgt_AbC-12_x"
    assert deploy_files.first_admin_token("Torget listening on http://x\n") is None
