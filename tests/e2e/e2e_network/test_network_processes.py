"""The network as separate processes on loopback, over HTTPS with mutual TLS.

One small network (national; 東京都 with 稲城市, 神奈川県 with 藤沢市, 長野県 with 長野市) is
created and started once for the package (its conftest), through the same commands an operator uses
(`juki network init/up/check/disconnect/reconnect/down`). Every test leaves the levels in
agreement. Every node process is stopped in teardown, with SIGKILL if it must.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from juki.cards.tables import cards
from juki.cli import main
from juki.core.clock import JST
from juki.network import pki
from juki.network import tables as network_tables
from juki.network.envelope import Envelope
from juki.network.https import mtls_client
from juki.nodes import tables as node_tables
from juki.nodes.config import NetworkFiles, NodeConfig, port_is_free
from juki.nodes.console import Console
from juki.nodes.supervisor import running_pid
from juki.registry import tables as registry_tables
from support.backends import card_row
from support.small_network import FUJISAWA, INAGI, NAGANO, SmallNetwork

QUIET_TIMEOUT = 90.0
API = "/registry/api/v1"


@dataclass
class Net:
    files: NetworkFiles
    console: Console
    tokens: dict[str, str]
    engines: dict[str, sa.Engine] = field(default_factory=dict)

    @property
    def dir(self) -> str:
        return str(self.files.root)

    def cli(self, *args: str) -> int:
        return main([*args, "--dir", self.dir])

    def api(self, lg: str, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.console.client.request(
            method,
            self.console.node(lg).endpoint + API + path,
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[lg]}", "X-Juki-Terminal": "E2E"},
        )

    def admin(self, method: str, node_id: str, path: str, body: Any = None) -> Any:
        return self.console.admin(method, node_id, path, body)

    def wait_quiet(self) -> None:
        assert self.console.wait_quiet(QUIET_TIMEOUT), self.console.statuses()

    def db(self, node_id: str) -> sa.Engine:
        """Read a node's database directly (SQLite in WAL mode: readers never block it)."""
        if node_id not in self.engines:
            self.engines[node_id] = sa.create_engine(
                f"sqlite:///{self.files.root / node_id}/node.db"
            )
        return self.engines[node_id]

    def rows(self, node_id: str, stmt: Any) -> list[Any]:
        with self.db(node_id).connect() as conn:
            return list(conn.execute(stmt).all())


def _today() -> date:
    return datetime.now(JST).date()


@pytest.fixture(scope="module")
def net(small_network: SmallNetwork) -> Iterator[Net]:
    console = Console(small_network.files)
    network = Net(small_network.files, console, small_network.supervisors)
    try:
        network.wait_quiet()
        yield network
    finally:
        console.close()  # idle keep-alive connections would hold up a graceful shutdown
        for engine in network.engines.values():
            engine.dispose()


# -- helpers --------------------------------------------------------------------------------


def person(given: str, kana: str, honseki: str = "東京都稲城市東長沼2111番地") -> dict[str, Any]:
    return {
        "family_name": "試験",
        "given_name": given,
        "family_name_kana": "シケン",
        "given_name_kana": kana,
        "birth_date": "1985-06-07",
        "sex": "female",
        "honseki": honseki,
        "koseki_head": "試験　一郎",
    }


def arrive_from_abroad(net: Net, lg: str, given: str, kana: str, address: str) -> dict[str, Any]:
    today = _today().isoformat()
    r = net.api(
        lg,
        "POST",
        "/events/move-in",
        {
            "person": person(given, kana),
            "origin": "abroad",
            "address": address,
            "moved_on": today,
            "notified_on": today,
            "previous_address": "アメリカ合衆国",
            "placement": {"kind": "new_household"},
        },
    )
    assert r.status_code == 201, r.text
    record: dict[str, Any] = r.json()
    return record


def copy_at(net: Net, node_id: str, lg: str, code: str) -> Any:
    c = node_tables.identity_copies.c
    found = net.rows(
        node_id,
        sa.select(node_tables.identity_copies).where((c.lg_code == lg) & (c.resident_code == code)),
    )
    return found[0] if found else None


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


# -- tests ----------------------------------------------------------------------------------


def test_a_client_without_a_root_issued_certificate_cannot_connect(
    net: Net, tmp_path: Path
) -> None:
    url = net.console.node("national").endpoint + "/health"
    no_cert = ssl.create_default_context(cafile=str(net.files.root_certificate))
    with httpx.Client(verify=no_cert, timeout=5) as client, pytest.raises(httpx.TransportError):
        client.get(url)

    now = datetime.now(UTC)
    other_key, other_root = pki.create_root(now, name="not the network root")
    key = pki.generate_key()
    cert = pki.issue_certificate(
        other_key,
        other_root,
        node_id="132250",  # claims to be 稲城市
        kind="municipality",
        public_key=key.public_key(),
        now=now,
    )
    (tmp_path / "cert.pem").write_bytes(pki.cert_to_pem(cert))
    (tmp_path / "key.pem").write_bytes(pki.key_to_pem(key))
    forged = ssl.create_default_context(cafile=str(net.files.root_certificate))
    forged.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    with httpx.Client(verify=forged, timeout=5) as client, pytest.raises(httpx.TransportError):
        client.post(
            net.console.node(INAGI).endpoint + "/net/v1/messages",
            content=b"{}",
        )
    assert net.console.healthy("national")  # the console's root-issued certificate works


def test_a_move_from_inagi_to_fujisawa_reaches_every_level_and_a_notice_applies_once(
    net: Net,
) -> None:
    today = _today().isoformat()
    arrived = arrive_from_abroad(net, INAGI, "花子", "ハナコ", "東京都稲城市東長沼1番地")
    net.wait_quiet()
    record = net.api(INAGI, "GET", f"/residents/{arrived['record_id']}").json()
    code, my_number = record["resident_code"], record["my_number"]
    assert my_number is not None  # generated by the national node, over the network
    # The card-based 転出届 needs a working card in 稲城市's card register (a my_number is not a
    # card); the card's own issue through the national CA is tests/integration/cards'.
    with net.db(INAGI).begin() as conn:
        conn.execute(cards.insert().values(card_row(code, datetime.now(JST).isoformat())))

    new_address = "神奈川県藤沢市鵠沼石上1丁目1番1号"
    r = net.api(
        INAGI,
        "POST",
        "/events/move-out",
        {
            "record_ids": [record["record_id"]],
            "destination_address": new_address,
            "planned_on": today,
            "notified_on": today,
            "destination_lg_code": FUJISAWA,
            "card": True,
        },
    )
    assert r.status_code == 201, r.text
    net.wait_quiet()

    # 藤沢市 holds its traffic (its own flag only), so this test can deliver the notice itself.
    net.admin("POST", FUJISAWA, "/disconnect", {"decided_by": "藤沢市長", "reason": "試験"})
    r = net.api(
        FUJISAWA,
        "POST",
        "/events/move-in",
        {
            "person": person("花子", "ハナコ"),
            "origin": "card",
            "address": new_address,
            "moved_on": today,
            "notified_on": today,
            "previous_address": "東京都稲城市東長沼1番地",
            "placement": {"kind": "new_household"},
            "resident_code": code,
            "my_number": my_number,
            "previous_lg_code": INAGI,
        },
    )
    assert r.status_code == 201, r.text
    moved_in = r.json()
    wait_for(lambda: net.admin("GET", FUJISAWA, "/status")["registry_outbox"] == 0)
    o = network_tables.net_outbox.c
    queued = net.rows(
        FUJISAWA,
        sa.select(network_tables.net_outbox)
        .where((o.peer == INAGI) & (o.status == "pending"))
        .order_by(o.seq),
    )
    assert "move_in_notice" in [m.message_type for m in queued]
    key = pki.key_from_pem((net.files.root / FUJISAWA / "key.pem").read_bytes())
    inagi_door = net.console.node(INAGI).endpoint + "/net/v1/messages"
    # 藤沢市's own TLS identity: a node's envelope over another's connection is refused
    fujisawa = NodeConfig.load(net.files.node_file(FUJISAWA))
    fujisawa_tls = mtls_client(
        Path(fujisawa.certificate), Path(fujisawa.key), net.files.root_certificate
    )
    for m in queued:  # in sequence order, each sent twice with the very same bytes
        raw = (
            Envelope(
                message_id=m.message_id,
                message_type=m.message_type,
                schema_version=m.schema_version,
                sender=FUJISAWA,
                recipient=INAGI,
                created_at=datetime.now(JST).isoformat(),
                seq=m.seq,
                body=json.loads(m.body),
            )
            .signed(key)
            .to_bytes()
        )
        headers = {"content-type": "application/juki-envelope+json"}
        first = fujisawa_tls.post(inagi_door, content=raw, headers=headers)
        second = fujisawa_tls.post(inagi_door, content=raw, headers=headers)
        assert (first.status_code, first.json()["status"]) == (200, "applied"), first.text
        assert (second.status_code, second.json()["status"]) == (200, "duplicate")
    fujisawa_tls.close()
    net.admin("POST", FUJISAWA, "/reconnect")
    net.wait_quiet()  # 藤沢市's own copies are acknowledged as duplicates

    old = net.api(INAGI, "GET", f"/residents/{record['record_id']}").json()
    assert old["status"] == "removed"
    history = net.api(INAGI, "GET", f"/residents/{record['record_id']}/history").json()
    assert [h["reason"] for h in history].count("move_out_confirmed") == 1
    new = net.api(FUJISAWA, "GET", f"/residents/{moved_in['record_id']}").json()
    assert (new["status"], new["my_number"]) == ("active", my_number)

    assert copy_at(net, "130001", INAGI, code).status == "removed"
    assert copy_at(net, "140007", FUJISAWA, code).address == new_address
    assert copy_at(net, "national", INAGI, code).status == "removed"
    at_fujisawa = copy_at(net, "national", FUJISAWA, code)
    assert (at_fujisawa.status, at_fujisawa.address) == ("active", new_address)
    assert at_fujisawa.my_number == my_number

    outcomes = net.rows(
        FUJISAWA,
        sa.select(o.outcome).where((o.peer == INAGI) & (o.message_type == "move_in_notice")),
    )
    assert [row.outcome for row in outcomes][-1] == "duplicate"
    assert net.cli("network", "check") == 0


@dataclass
class Burst:
    """Relocations through 稲城市's API from a thread; counts what is known to have happened."""

    net: Net
    record_id: str
    total: int
    successes: int = 0
    ambiguous: int = 0  # sent, but the answer was lost: applied or not, we cannot know
    other: list[str] = field(default_factory=list)

    def run(self) -> None:
        today = _today().isoformat()
        deadline = time.monotonic() + 120
        for i in range(self.total):
            body = {
                "record_ids": [self.record_id],
                "new_address": f"東京都稲城市百村{i + 1}番地",
                "moved_on": today,
                "notified_on": today,
            }
            while time.monotonic() < deadline:
                try:
                    r = self.net.api(INAGI, "POST", "/events/relocation", body)
                except httpx.ConnectError:  # nothing was sent: try the same one again
                    time.sleep(0.1)
                    continue
                except httpx.TransportError:
                    self.ambiguous += 1
                    break
                if r.status_code == 201:
                    self.successes += 1
                else:
                    self.other.append(f"{r.status_code} {r.text[:200]}")
                break


# CPython 3.11's ssl.SSLSocket._create leaks the socket it has taken over when the peer resets the
# connection before the handshake (getpeername/recv raise, and it re-raises without closing it): a
# connection accepted by the kernel just before the node died. The leak is in the standard library,
# so only its ResourceWarning is ignored, and only in the test that kills a node under load.
@pytest.mark.filterwarnings("ignore:unclosed <ssl.SSLSocket:ResourceWarning")
def test_a_node_killed_mid_burst_loses_nothing_and_applies_nothing_twice(net: Net) -> None:
    person_ = arrive_from_abroad(net, INAGI, "次子", "ツギコ", "東京都稲城市東長沼2番地")
    net.wait_quiet()
    record_id = person_["record_id"]
    code = person_["resident_code"]
    burst = Burst(net, record_id, total=200)
    thread = threading.Thread(target=burst.run)
    thread.start()
    try:
        wait_for(lambda: burst.successes >= 60, timeout=60)
        pid = running_pid(net.files, INAGI)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        at_kill = (
            net.rows(
                INAGI,
                sa.select(sa.func.count())
                .select_from(network_tables.net_outbox)
                .where(network_tables.net_outbox.c.status == "pending"),
            )[0][0]
            + net.rows(
                INAGI,
                sa.select(sa.func.count())
                .select_from(registry_tables.outbox)
                .where(registry_tables.outbox.c.delivered_at.is_(None)),
            )[0][0]
        )
        print(f"killed after {burst.successes} relocations; {at_kill} changes not yet delivered")
        # gone from the process table's point of view (its cmdline is empty as soon as its memory
        # is released), and its listening sockets closed, which the kernel does a moment later
        inagi = NodeConfig.load(net.files.node_file(INAGI))
        wait_for(
            lambda: (
                running_pid(net.files, INAGI) is None
                and all(port_is_free(p, inagi.host) for p in (inagi.port, inagi.public_port) if p)
            ),
            timeout=60,
        )
        assert net.cli("network", "up", "--timeout", "60") == 0  # restarts only 稲城市
    finally:
        thread.join(timeout=180)
    assert not thread.is_alive()
    print(f"burst: {burst.successes} answered, {burst.ambiguous} lost answers")
    assert burst.other == []
    assert burst.successes + burst.ambiguous == 200
    net.wait_quiet()

    history = net.api(INAGI, "GET", f"/residents/{record_id}/history").json()
    relocations = [h for h in history if h["reason"] == "relocation"]
    assert burst.successes <= len(relocations) <= burst.successes + burst.ambiguous
    final_address = net.api(INAGI, "GET", f"/residents/{record_id}").json()["address"]

    ch = node_tables.identity_changes.c
    for node_id in ("130001", "national"):
        bodies = [
            json.loads(row.body)
            for row in net.rows(
                node_id,
                sa.select(ch.body, ch.message_id)
                .where((ch.lg_code == INAGI) & (ch.resident_code == code))
                .order_by(ch.change_id),
            )
        ]
        moved = [b["address"] for b in bodies if b["change_reason"] == "relocation"]
        # every relocation arrived, once, in order
        assert moved == [h["fields"]["address"] for h in relocations], node_id
        assert copy_at(net, node_id, INAGI, code).address == final_address
    for node_id in ("130001", "national"):
        i = network_tables.net_inbox.c
        total, distinct = net.rows(
            node_id,
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(i.sender + ":" + sa.cast(i.seq, sa.String))),
            ).select_from(network_tables.net_inbox),
        )[0]
        assert total == distinct  # no (sender, seq) applied under two message ids
    assert net.cli("network", "check") == 0


def test_disconnected_nagano_catches_up_after_reconnect(net: Net) -> None:
    with pytest.raises(SystemExit):  # no decision without who decided and why
        net.cli("network", "disconnect", NAGANO)
    blank = ["--decided-by", "長野市長", "--reason", "  "]
    assert net.cli("network", "disconnect", NAGANO, *blank) == 1  # refused before anything
    assert net.admin("GET", NAGANO, "/status")["disconnected"] is False
    decision = ["--decided-by", "長野市長", "--reason", "庁内LANとの接続を点検するため"]
    assert net.cli("network", "disconnect", NAGANO, *decision) == 0
    assert net.cli("network", "decisions") == 0
    local = arrive_from_abroad(net, NAGANO, "三子", "ミツコ", "長野県長野市大字鶴賀1番地")
    elsewhere = arrive_from_abroad(net, INAGI, "四子", "ヨツコ", "東京都稲城市東長沼4番地")
    wait_for(lambda: copy_at(net, "national", INAGI, elsewhere["resident_code"]) is not None)
    assert copy_at(net, "national", NAGANO, local["resident_code"]) is None
    nagano = net.admin("GET", NAGANO, "/status")
    assert nagano["disconnected"] is True
    assert nagano["pending"] > 0  # waiting in its outbox
    assert net.cli("network", "check") == 1  # the levels disagree about 長野市 until it is back

    assert net.cli("network", "reconnect", NAGANO, "--timeout", "90") == 0  # drains, then checks
    copy = copy_at(net, "national", NAGANO, local["resident_code"])
    assert copy is not None
    record = net.api(NAGANO, "GET", f"/residents/{local['record_id']}").json()
    assert record["my_number"] is not None and copy.my_number == record["my_number"]
    assert net.admin("GET", NAGANO, "/status")["disconnected"] is False
    [ended] = net.admin("GET", NAGANO, "/disconnections")[-1:]
    assert (ended["decided_by"], ended["body_kind"]) == ("長野市長", "municipality")
    assert ended["reason"] == "庁内LANとの接続を点検するため" and ended["ended_at"] is not None
    statuses = net.console.statuses()
    assert all(s is not None and s["pending"] == 0 for s in statuses.values())
    assert all(json.loads(s["last_digest_check"])["agree"] for s in statuses.values() if s)
