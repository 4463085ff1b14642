"""A node's admin token ends (issue 10 §4): it expires, and `juki network admin-token` replaces
or revokes it; a running node sees the change at its next request, and a 401 says why."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from juki.cli import main
from juki.core.clock import JST, FixedClock
from juki.network.directory import NodeKind
from juki.nodes.admin_api import ADMIN, AdminAuthenticationRequired, on_admin_unauthenticated
from juki.nodes.admin_token import AdminTokenCheck, rotate_admin_token
from juki.nodes.config import ADMIN_TOKEN_FILE, NETWORK_FILE, NODE_FILE, NetworkFiles, NodeConfig
from juki.security.operators import new_token, token_sha256

NODE = "132250"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))


@pytest.fixture
def files(tmp_path: Path, clock: FixedClock) -> NetworkFiles:
    """A network directory with one node, as `juki network init` leaves it."""
    files = NetworkFiles(tmp_path / "net")
    home = files.root / NODE
    home.mkdir(parents=True)
    files.network_file.write_text(json.dumps({"nodes": [NODE]}))
    token = new_token()
    (home / ADMIN_TOKEN_FILE).write_text(token + "\n")
    NodeConfig(
        node_id=NODE,
        kind=NodeKind.MUNICIPALITY,
        name="稲城市",
        parent=None,
        host="127.0.0.1",
        port=1,
        db="sqlite://",
        key=str(home / "key.pem"),
        certificate=str(home / "cert.pem"),
        root_certificate=str(files.root / "root.pem"),
        admin_token_sha256=token_sha256(token),
        directory_url="https://127.0.0.1:1",
        log=str(home / "node.log"),
        admin_token_expires_at=(clock.now() + timedelta(days=30)).isoformat(),
    ).save(home / NODE_FILE)
    assert files.network_file.name == NETWORK_FILE
    return files


@pytest.fixture
def client(files: NetworkFiles, clock: FixedClock) -> TestClient:
    """The admin dependency and its 401 handler, on the node's configuration."""
    app = FastAPI()
    app.state.admin_token = AdminTokenCheck(NodeConfig.load(files.node_file(NODE)), clock)
    app.add_exception_handler(AdminAuthenticationRequired, on_admin_unauthenticated)

    @app.get("/admin/v1/status", dependencies=[ADMIN])
    def status() -> dict[str, str]:
        return {"status": "ok"}

    return TestClient(app)


def call(client: TestClient, token: str) -> tuple[int, str]:
    r = client.get("/admin/v1/status", headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.json().get("type", "")


def test_the_token_works_until_it_expires(
    files: NetworkFiles, client: TestClient, clock: FixedClock
) -> None:
    token = files.admin_token(NODE)
    assert call(client, token) == (200, "")
    assert call(client, "juki_wrong") == (401, "authentication_required")
    clock.advance(timedelta(days=30))
    status, type_ = call(client, token)
    assert (status, type_) == (401, "token_expired")
    r = client.get("/admin/v1/status", headers={"Authorization": f"Bearer {token}"})
    assert "有効期限" in r.json()["msg_ja"] and r.headers["WWW-Authenticate"] == "Bearer"


def test_rotation_revokes_the_old_token_on_the_running_node(
    files: NetworkFiles, client: TestClient, clock: FixedClock
) -> None:
    old = files.admin_token(NODE)
    new = rotate_admin_token(files, NODE, clock, days=7)
    assert new is not None and new == files.admin_token(NODE) and new != old
    token_file = files.root / NODE / ADMIN_TOKEN_FILE
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert call(client, old) == (401, "token_revoked")
    assert call(client, new) == (200, "")
    clock.advance(timedelta(days=7))
    assert call(client, new) == (401, "token_expired")


def test_revoke_only_leaves_no_token_working(
    files: NetworkFiles, client: TestClient, clock: FixedClock
) -> None:
    old = files.admin_token(NODE)
    assert rotate_admin_token(files, NODE, clock, revoke_only=True) is None
    assert files.admin_token(NODE) == ""
    assert call(client, old) == (401, "token_revoked")
    assert call(client, "revoked") == (401, "authentication_required")


def test_the_command(files: NetworkFiles, capsys: pytest.CaptureFixture[str]) -> None:
    old = files.admin_token(NODE)
    assert main(["network", "admin-token", NODE, "--dir", str(files.root)]) == 0
    assert "new admin token" in capsys.readouterr().out
    config = NodeConfig.load(files.node_file(NODE))
    assert config.admin_token_sha256 == token_sha256(files.admin_token(NODE))
    assert token_sha256(old) in config.revoked_admin_tokens
    expires = datetime.fromisoformat(config.admin_token_expires_at)
    assert timedelta(days=364) < expires - datetime.now(JST) <= timedelta(days=365)
    assert main(["network", "admin-token", "999999", "--dir", str(files.root)]) == 1
    assert main(["network", "admin-token", NODE, "--dir", str(files.root), "--days", "0"]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 2
