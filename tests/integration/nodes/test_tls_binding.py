"""The mutual-TLS client identity is bound to the envelope's sender, on a node served as
`juki node run` serves it (`juki.nodes.runner.node_server`): an envelope validly signed by one
node but brought over another node's (or the console's) TLS connection is refused and recorded."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.settings import Settings
from juki.network import pki
from juki.network import tables as network_tables
from juki.network.envelope import Envelope, uuid7
from juki.network.https import MESSAGES_PATH, mtls_client
from juki.network.messages import CURRENT_VERSION, FuhyoNotice, body_of
from juki.nodes.apps import create_node_app
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.netinit import free_ports, init_network
from juki.nodes.runner import node_server

INAGI, FUJISAWA, NAGANO = "132250", "142051", "202011"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NetworkFiles, Any]]:
    root = tmp_path_factory.mktemp("tls") / "net"
    init_network(root, layout="small", base_port=free_ports(29700, 1)[0])
    files = NetworkFiles(root.resolve())
    config = NodeConfig.load(files.node_file(INAGI))
    node = bootstrap(config)
    server = node_server(config, create_node_app(node, config, Settings()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "稲城市's node did not start"
        time.sleep(0.02)
    yield files, node
    server.should_exit = True
    thread.join(timeout=10)
    close_node(node)


def notice(sender: str, address: str) -> FuhyoNotice:
    return FuhyoNotice(
        resident_code="24727059608",
        family_name="束縛",
        given_name="花子",
        family_name_kana="ソクバク",
        given_name_kana="ハナコ",
        birth_date=date(1990, 1, 1),
        sex="female",
        honseki="東京都稲城市東長沼1番地",
        koseki_head="束縛　一郎",
        address=address,
        address_since=date(2025, 4, 1),
        status="active",
        change_reason="move_in",
        changed_on=date(2025, 4, 1),
        from_lg_code=sender,
    )


def post(files: NetworkFiles, over: tuple[Path, Path], signer: str, message: FuhyoNotice) -> Any:
    """POST an envelope signed with `signer`'s key over a TLS connection made with `over`."""
    key = pki.key_from_pem(Path(NodeConfig.load(files.node_file(signer)).key).read_bytes())
    inagi = NodeConfig.load(files.node_file(INAGI))
    created = datetime.now(UTC)
    env = Envelope(
        message_id=uuid7(created, random.SystemRandom()),
        message_type="fuhyo_notice",
        schema_version=CURRENT_VERSION["fuhyo_notice"],
        sender=signer,
        recipient=INAGI,
        created_at=created.isoformat(),
        seq=1,
        body=body_of(message),
    ).signed(key)
    with mtls_client(over[0], over[1], files.root_certificate) as client:
        return client.post(
            inagi.endpoint + MESSAGES_PATH,
            content=env.to_bytes(),
            headers={"content-type": "application/juki-envelope+json"},
        )


def identity(files: NetworkFiles, node_id: str) -> tuple[Path, Path]:
    config = NodeConfig.load(files.node_file(node_id))
    return Path(config.certificate), Path(config.key)


def refusals(node: Any, sender: str) -> list[str]:
    r = network_tables.net_refusals.c
    with node.engine.connect() as conn:
        return list(conn.execute(sa.select(r.reason).where(r.claimed_sender == sender)).scalars())


def test_an_envelope_signed_by_another_node_than_the_connection_is_refused(
    served: tuple[NetworkFiles, Any],
) -> None:
    files, node = served
    # 藤沢市's TLS certificate, 長野市's key and signature: both valid, but not the same node
    response = post(files, identity(files, FUJISAWA), NAGANO, notice(NAGANO, "長野県長野市1番地"))
    assert response.status_code == 403
    assert response.json()["reason"] == "sender_mismatch"
    assert refusals(node, NAGANO) == ["sender_mismatch"]


def test_the_console_cannot_carry_a_node_envelope(served: tuple[NetworkFiles, Any]) -> None:
    files, node = served
    console = (files.console_certificate, files.console_key)
    response = post(files, console, FUJISAWA, notice(FUJISAWA, "神奈川県藤沢市1番地"))
    assert response.status_code == 403
    assert response.json()["reason"] == "sender_mismatch"
    assert "sender_mismatch" in refusals(node, FUJISAWA)


def test_an_envelope_over_its_own_nodes_connection_is_taken(
    served: tuple[NetworkFiles, Any],
) -> None:
    files, _node = served
    response = post(
        files, identity(files, FUJISAWA), FUJISAWA, notice(FUJISAWA, "神奈川県藤沢市1番地")
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
