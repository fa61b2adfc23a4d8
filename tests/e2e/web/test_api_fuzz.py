"""Property-based fuzzing of the HTTP API against its own OpenAPI document (schemathesis)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.waiting import until_sync

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)


@pytest.mark.slow
def test_api_conforms_to_its_openapi_document(tmp_path: Path) -> None:
    """Generated requests never cause a 500, and every answer's status, type and body are
    the ones the document promises."""
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is a dev dependency"
    port = free_port()
    env = {
        **os.environ,
        "TORGET_STORE_URL": f"sqlite+aiosqlite:///{tmp_path}/torget.db",
        "TORGET_SERVER_PORT": str(port),
        "TORGET_DEMO_LOAD_ON_FIRST_START": "true",
    }
    # SDP bodies (WHIP, WHEP) need a serializer: tests/support/schemathesis_hooks.py.
    hooks_env = {
        **env,
        "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "torget", "serve"], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):  # noqa: S310
                    return True
            except OSError:
                return False

        until_sync(healthy, timeout=30, what="the server to start", interval=0.2)
        text = (tmp_path / "server.log").read_text()
        token = next(w for w in text.split() if w.startswith("tgt_"))
        result = subprocess.run(
            [st, "run", f"{base}/api/v1/openapi.json", "-H", f"Authorization: Bearer {token}",
             "--max-examples", "30", "--checks", CHECKS, "--seed", "1", "--no-color"],
            capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=hooks_env,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-4000:]
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
