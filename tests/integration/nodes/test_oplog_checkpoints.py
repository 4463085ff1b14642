"""Every node keeps an oplog, signs checkpoints of its chain head and sends them to its parent,
which countersigns and keeps them: a node that rebuilds its whole chain is caught by its
parent's copy (in-process network), and `juki oplog verify --dir` says so for a network
directory."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.cli import main
from juki.core.clock import JST, FixedClock
from juki.network import pki, store
from juki.network import tables as network_tables
from juki.network.envelope import Envelope, uuid7
from juki.network.messages import CURRENT_VERSION, OPLOG_CHECKPOINT, OplogCheckpoint, body_of
from juki.network.transport import MemoryTransport, ReplyStatus
from juki.nodes import admin_api
from juki.nodes.checkpoints import (
    OWN,
    signed_bytes,
    uncountersigned,
    verify_against_parent,
)
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.node import Node
from juki.nodes.oplog_check import check_connection
from juki.nodes.provide import provide_batch
from juki.security.chain import GENESIS, HASHED, link
from juki.security.permissions import Role
from juki.security.tables import oplog, oplog_checkpoints, oplog_head
from support.console_tokens import ConsoleTokens

DECISION = admin_api.DisconnectIn(decided_by="稲城市長", reason="点検")
INAGI, FUJISAWA, TOKYO = "132250", "142051", "130001"
_rng = random.Random(16)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where = tmp_path_factory.mktemp("oplog-net")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(
        small_layout(), lambda node_id: f"sqlite:///{where}/{node_id}.db", clock, seed=16
    )
    yield network
    network.dispose()


def entries(node: Node, action: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(oplog).order_by(oplog.c.seq)
    if action is not None:
        stmt = stmt.where(oplog.c.action == action)
    with node.engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def cert(node: Node) -> Any:
    return node.identity.certificate


def against_parent(net: InProcessNetwork, child: str, parent: str) -> list[Any]:
    a, b = net.nodes[child], net.nodes[parent]
    with a.engine.connect() as c, b.engine.connect() as p:
        return verify_against_parent(c, p, child, cert(a), parent, cert(b))


def rebuild_chain(node: Node, seq: int, detail: str) -> None:
    """What an administrator with the database and the node key could do: change an entry,
    recompute every hash after it, move the head and re-sign the node's own checkpoints."""
    with node.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(oplog).order_by(oplog.c.seq)).mappings()]
        prev = GENESIS
        for row in rows:
            fields = {k: row[k] for k in HASHED if k not in ("seq", "prev_hash")}
            if row["seq"] == seq:
                fields["detail"] = detail
            linked = link(fields, row["seq"], prev)
            conn.execute(oplog.update().where(oplog.c.seq == row["seq"]).values(linked))
            prev = linked["entry_hash"]
        conn.execute(oplog_head.update().values(seq=rows[-1]["seq"], entry_hash=prev))
        c = oplog_checkpoints.c
        for cp in list(conn.execute(sa.select(oplog_checkpoints).where(c.kind == OWN)).mappings()):
            new_hash = conn.execute(
                sa.select(oplog.c.entry_hash).where(oplog.c.seq == cp["seq"])
            ).scalar_one()
            data = signed_bytes(node.node_id, cp["seq"], new_hash, cp["signed_at"])
            signature = base64.b64encode(pki.sign(node.identity.key, data)).decode()
            conn.execute(
                oplog_checkpoints.update()
                .where(c.checkpoint_id == cp["checkpoint_id"])
                .values(entry_hash=new_hash, signature=signature)
            )


def test_node_administration_and_lookups_are_logged_and_checkpoints_countersigned(
    net: InProcessNetwork,
) -> None:
    inagi, tokyo, national = net.nodes[INAGI], net.nodes[TOKYO], net.national
    admin_api.disconnect(inagi, DECISION)
    admin_api.reconnect(inagi)
    provide_batch(national.engine, "nobody", "別表第一 の 一", "試験", [], clock=national.clock)
    assert [e["action"] for e in entries(inagi)] == ["disconnect_node", "reconnect_node"]
    [lookup] = entries(national, "provide_identity_info")
    assert (lookup["actor_id"], lookup["target"], lookup["outcome"]) == (
        "agency:nobody",
        "task:別表第一 の 一",
        "rejected",
    )

    signed = inagi.checkpoint()
    net.run_until_quiet()
    tokyo.checkpoint()
    net.run_until_quiet()
    national.checkpoint()

    assert signed.seq == 2
    assert against_parent(net, INAGI, TOKYO) == []
    assert against_parent(net, TOKYO, "national") == []
    with inagi.engine.connect() as c, tokyo.engine.connect() as p:
        assert uncountersigned(c, p, INAGI) == []
    assert [e["target"] for e in entries(tokyo, "countersign_oplog_checkpoint")] == [f"{INAGI}:2"]
    for node in net.nodes.values():
        with node.engine.connect() as conn:
            assert check_connection(conn, node.node_id).holds, node.node_id


def test_a_checkpoint_its_sender_did_not_sign_is_refused_and_recorded(
    net: InProcessNetwork,
) -> None:
    """Sent by 藤沢市 about itself, to its own prefecture, but signed with another node's key."""
    fujisawa = net.nodes[FUJISAWA]
    parent = fujisawa.parent
    assert parent is not None
    at = "2025-04-01T09:00:00+09:00"
    forged = base64.b64encode(
        pki.sign(net.nodes[INAGI].identity.key, signed_bytes(FUJISAWA, 0, "0" * 64, at))
    ).decode()
    body = OplogCheckpoint(
        node_id=FUJISAWA, seq=0, entry_hash="0" * 64, signed_at=at, signature=forged
    )
    receiver = net.nodes[parent]
    with receiver.engine.connect() as conn:
        seq = store.last_received(conn, FUJISAWA) + 1
    now = receiver.clock.now()
    raw = (
        Envelope(
            message_id=uuid7(now, _rng),
            message_type=OPLOG_CHECKPOINT,
            schema_version=CURRENT_VERSION[OPLOG_CHECKPOINT],
            sender=FUJISAWA,
            recipient=parent,
            created_at=now.isoformat(),
            seq=seq,
            body=body_of(body),
        )
        .signed(fujisawa.identity.key)
        .to_bytes()
    )
    reply = receiver.receiver.receive(raw)
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "unauthorised")
    r = network_tables.net_refusals.c
    with receiver.engine.connect() as conn:
        detail = conn.execute(
            sa.select(r.detail).where(r.claimed_sender == FUJISAWA).order_by(r.refusal_id.desc())
        ).scalar()
    assert detail is not None and "not signed by 142051" in detail


def test_a_chain_rebuilt_end_to_end_is_caught_by_the_parents_countersigned_copy(
    net: InProcessNetwork,
) -> None:
    inagi = net.nodes[INAGI]
    inagi.checkpoint()
    net.run_until_quiet()
    assert against_parent(net, INAGI, TOKYO) == []

    rebuild_chain(inagi, 1, "nothing happened here")

    with inagi.engine.connect() as conn:
        assert check_connection(conn, INAGI).holds  # consistent with itself
    problems = against_parent(net, INAGI, TOKYO)
    assert problems, "the parent's copy must disagree"
    assert all("has another hash" in p.detail and TOKYO in p.detail for p in problems)


# -- the command line on a network directory ------------------------------------------------


def _deliver(nodes: dict[str, Node]) -> None:
    memory = MemoryTransport()
    for node in nodes.values():
        memory.register(node.node_id, node.receiver.receive)
        node.worker.transport = memory
    while any(node.step() for node in nodes.values()):
        pass


def test_verify_dir_checks_every_node_against_its_parent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from juki.nodes.bootstrap import bootstrap, close_node
    from juki.nodes.config import NetworkFiles
    from juki.nodes.netinit import init_network

    init_network(tmp_path / "net", layout="small", base_port=_rng.randrange(20000, 40000))
    files = NetworkFiles(tmp_path / "net")
    configs = {c.node_id: c for c in files.configs()}
    nodes = {node_id: bootstrap(c) for node_id, c in configs.items()}
    try:
        admin_api.disconnect(nodes[INAGI], DECISION)
        admin_api.reconnect(nodes[INAGI])
        checkpoint = ["oplog", "checkpoint", "--dir", str(files.root), "--node", INAGI]
        assert main(checkpoint) == 1  # no token: nothing signed
        assert "token" in capsys.readouterr().err
        tokens = ConsoleTokens(nodes[INAGI].engine)
        assert main([*checkpoint, "--token", tokens.token(Role.AUDITOR)]) == 1
        assert main(tokens.argv(checkpoint)) == 0
        logged = entries(nodes[INAGI], "checkpoint_oplog")
        assert [e["outcome"] for e in logged] == ["denied", "ok"]
        signed_seq = int(logged[-1]["detail"].removeprefix("entry "))
        _deliver(nodes)
        assert main(["oplog", "verify", "--dir", str(files.root)]) == 0
        capsys.readouterr()
        # the network host's check needs no operator token and is logged in every node
        for node in nodes.values():
            (check,) = entries(node, "view_oplog")
            assert check["target"] == "oplog:verify-network"
            assert check["role"] == "operations_manager"

        rebuild_chain(nodes[INAGI], 2, "rewritten")
        assert main(tokens.argv(["oplog", "verify", "--db", configs[INAGI].db])) == 0
        assert main(["oplog", "verify", "--dir", str(files.root), "--json"]) == 1
    finally:
        for node in nodes.values():
            close_node(node)
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{\n") :])
    broken = [n for n in report["nodes"] if not n["holds"]]
    assert [n["node_id"] for n in broken] == [INAGI]
    assert broken[0]["checkpoint_problems"][0]["seq"] == signed_seq
