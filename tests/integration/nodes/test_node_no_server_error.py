"""No input to a node app gives a 500, on SQLite or PostgreSQL (issue 10 §4).

Two hypothesis properties drive the network door (`/net/v1`) of 稲城市 (a municipality, its
people on record) and of the national node, as other nodes and strangers reach it:

- anything at all — bytes, JSON of any shape, envelopes with a field missing, of the wrong type
  or too long, under any header — is refused before the signature is looked at (400, 403 or
  413, with a reason), and no refusal changes anything but the refusal log. This never reaches
  the registry, so it runs on SQLite alone;
- envelopes validly signed by a node of the network (or with the signature spoiled), addressed
  to the node or not, of any message type and version, with a body shaped like that type's
  schema but with any JSON at any place (NUL, noncharacters, dates out of range, integers past
  BIGINT), at the link's next sequence number or any other: every answer is a 4xx refusal, a
  gap (409) or an acknowledgement, and a body its schema refuses is never applied. This runs on
  both databases (the dead letter, the inbox and the handlers write to them).

Then schemathesis drives every operation of both nodes' OpenAPI schema (the admin API with the
admin token, the network door, the kiosk relay as a registered store, `/health`, `/metrics`;
the registry a municipality mounts has its own, tests/integration/registry/test_api_schema.py)
on SQLite: none answers 500.

The app raises instead of answering 500 here, so hypothesis shrinks the failing request and
shows the exception; a 503 (the database's own trouble, the sender retries) fails it too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from juki.core.settings import Settings
from juki.network import store
from juki.network.envelope import HEADER_FIELDS, Envelope
from juki.network.https import MESSAGES_PATH, QUERIES_PATH
from juki.network.messages import LINK_SKIP, SCHEMAS, SchemaError, parse_body
from juki.network.tables import net_dead_letters, net_inbox, net_links, net_refusals
from juki.nodes.apps import create_node_app
from juki.nodes.config import NodeConfig
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.node import Node
from juki.security.operators import token_sha256
from support.cert_population import Registry, fixed_clock, populate
from support.kiosk_world import registered_store
from support.no500 import ODD_NUMBERS, ODD_STRINGS, Shapes, json_values
from support.pgserver import DatabasePool

EXAMPLES = 30  # per property and database in CI; `make test-slow`: 500
SLOW_EXAMPLES = 500
INAGI = "132250"
DRIVEN = (INAGI, "national")  # the doors under test (on PostgreSQL in the postgres variant)
ADMIN_TOKEN = "node-fuzz-admin-token"
SENDERS = ("142051", "202011", "130001", "national", INAGI, "999999")
TYPES = [*sorted({name for name, _version in SCHEMAS}), "identity_info", "nope", "\x00"]


def config_for(node: Node) -> NodeConfig:
    return NodeConfig(
        node_id=node.node_id,
        kind=node.kind,
        name=node.node_id,
        parent=None,
        host="127.0.0.1",
        port=1,
        db="sqlite://",
        key="/nonexistent/key.pem",
        certificate="/nonexistent/cert.pem",
        root_certificate="/nonexistent/root.pem",
        admin_token_sha256=token_sha256(ADMIN_TOKEN),
        directory_url="https://127.0.0.1:1",
        log="/nonexistent/node.log",
    )


@dataclass
class Door:
    net: InProcessNetwork
    clients: dict[str, TestClient]
    pool: list[str]  # strings the bodies draw from: real resident codes, node ids
    shapes: Shapes


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def door(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Door]:
    tmp: Path = tmp_path_factory.mktemp("door")
    taken: list[str] = []
    pool: DatabasePool | None = None
    if request.param == "postgres":
        pool = request.getfixturevalue("pg_pool")

    def url(node_id: str) -> str:
        if pool is None or node_id not in DRIVEN:
            return f"sqlite:///{tmp}/{node_id}.db"
        taken.append(pool.take())
        return taken[-1]

    clock = fixed_clock()
    net = build_network(small_layout(), url, clock, seed=17)
    net.national.allot(INAGI, 1_000)
    net.run_until_quiet()
    people = populate(Registry(net.municipality(INAGI).engine, clock))
    net.run_until_quiet()
    apps: dict[str, FastAPI] = {
        n: create_node_app(net.nodes[n], config_for(net.nodes[n]), Settings()) for n in DRIVEN
    }
    records = [getattr(people, name) for name in vars(people)]
    strings = sorted({r.resident_code for r in records} | set(SENDERS) | {"1322500001"})
    components: dict[str, Any] = {}
    for schema in SCHEMAS.values():
        components.update(schema.model_json_schema(ref_template="#/{model}").get("$defs", {}))
    try:
        yield Door(
            net,
            {n: TestClient(app) for n, app in apps.items()},
            strings,
            Shapes({"components": {"schemas": components}}, strings),
        )
    finally:
        net.dispose()
        if pool is not None:
            for taken_url in taken:
                pool.give_back(taken_url)


def assert_refused_or_acknowledged(response: Any) -> dict[str, Any]:
    """Below 500, and the door's own answer: a Reply (or a signed answer to a query)."""
    assert response.status_code < 500, response.text
    if response.headers.get("content-type", "").startswith("application/juki-envelope"):
        assert response.status_code == 200
        return {"status": "answered"}
    reply: dict[str, Any] = response.json()
    assert reply["status"] in ("refused", "applied", "duplicate", "dead_letter", "gap"), reply
    if reply["status"] == "refused":
        assert response.status_code in (400, 403, 413) and reply["reason"], reply
    return reply


# -- anything at all, before the signature ----------------------------------------------------

HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/juki-envelope+json",
            "text/plain",
            "",
            "multipart/form-data",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
).map(lambda v: v.encode("latin-1"))  # bytes: what a client may put on the wire


def envelope_like(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with some of the envelope's fields, each of any value, and maybe others."""
    names = [*HEADER_FIELDS, "body", "signature"]
    return st.fixed_dictionaries(
        {}, optional=dict.fromkeys(names, values) | {"extra": values, "\x00": values}
    )


def raw_bodies(pool: list[str]) -> st.SearchStrategy[bytes]:
    anything = json_values(pool)
    return st.one_of(
        st.binary(max_size=600),
        anything.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
        envelope_like(anything).map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
        st.sampled_from([b"", b"{", b"\xff\xfe", b"null", b"[]", b'{"protocol":1}']),
    )


@pytest.mark.parametrize("door", ["sqlite"], indirect=True)
def test_anything_unsigned_is_refused_never_a_server_error(door: Door) -> None:
    before = {n: _counts(door.net.nodes[n]) for n in DRIVEN}

    @settings(
        max_examples=EXAMPLES,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        node_id=st.sampled_from(DRIVEN),
        path=st.sampled_from([MESSAGES_PATH, QUERIES_PATH]),
        raw=raw_bodies(door.pool),
        headers=st.dictionaries(
            st.sampled_from(["content-type", "accept", "x-forwarded-for", "x-juki-node", "expect"]),
            HEADER_VALUES,
            max_size=3,
        ),
    )
    def run(node_id: str, path: str, raw: bytes, headers: dict[str, bytes]) -> None:
        response = door.clients[node_id].post(path, content=raw, headers=headers)
        reply = assert_refused_or_acknowledged(response)
        assert reply["status"] == "refused", reply

    run()
    for n in DRIVEN:  # each refusal recorded, nothing else
        refusals, others = _counts(door.net.nodes[n])
        assert refusals > before[n][0]
        assert others == before[n][1]


@pytest.mark.parametrize("door", ["sqlite"], indirect=True)
def test_a_claimed_id_or_sender_no_database_can_store_is_refused_and_recorded_escaped(
    door: Door,
) -> None:
    """A lone surrogate (a JSON escape no UTF-8 text holds) in what a malformed envelope claims
    to be: refused, and recorded as its escape (it had made the refusal log fail, a 500)."""
    node_id = DRIVEN[0]
    for raw in (b'{"message_id":"\\ud800"}', b'{"sender":"\\udfff","message_id":"x\\ud83d"}'):
        response = door.clients[node_id].post(MESSAGES_PATH, content=raw)
        assert assert_refused_or_acknowledged(response)["status"] == "refused"
    with door.net.nodes[node_id].engine.connect() as conn:
        last = conn.execute(
            sa.select(net_refusals.c.claimed_sender, net_refusals.c.claimed_message_id)
            .order_by(net_refusals.c.refusal_id.desc())
            .limit(2)
        ).all()
    assert [tuple(r) for r in last] == [("\\udfff", "x\\ud83d"), ("?", "\\ud800")]


def _counts(node: Node) -> tuple[int, dict[str, int]]:
    """Rows in the refusal log, and in the inbox, dead letters and links."""
    tables = (net_refusals, net_inbox, net_dead_letters, net_links)
    with node.engine.connect() as conn:
        n = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in tables
        }
    return n.pop("net_refusals"), n


# -- envelopes signed by a node of the network, malformed after the signature ------------------


@dataclass(frozen=True)
class Draft:
    """What the property chose: the envelope is signed when sent, at the link's next number
    unless `seq` says otherwise."""

    to: str
    path: str
    sender: str
    recipient: str
    message_type: str
    schema_version: int
    seq: int | None
    message_id: str
    created_at: str | None
    body: dict[str, Any]
    spoil: bool


def drafts(door: Door) -> st.SearchStrategy[Draft]:
    def body_for(message_type: str, version: int) -> st.SearchStrategy[dict[str, Any]]:
        schema = SCHEMAS.get((message_type, version))
        anything = st.dictionaries(st.sampled_from(door.pool), json_values(door.pool), max_size=4)
        if schema is None:
            return anything
        shaped = door.shapes.of(schema.model_json_schema(ref_template="#/{model}"))
        return st.one_of(shaped.filter(lambda v: isinstance(v, dict)), anything)

    @st.composite
    def draft(draw: st.DrawFn) -> Draft:
        to = draw(st.sampled_from(DRIVEN))
        message_type = draw(st.sampled_from(TYPES))
        version = draw(st.one_of(st.sampled_from([1, 2]), st.sampled_from(ODD_NUMBERS)))
        if not isinstance(version, int) or version < 0:
            version = 1
        return Draft(
            to=to,
            path=draw(st.sampled_from([MESSAGES_PATH, QUERIES_PATH])),
            sender=draw(st.sampled_from(SENDERS)),
            recipient=draw(st.sampled_from([to, to, to, "142051", "national"])),
            message_type=message_type,
            schema_version=version,
            seq=draw(st.none() | st.sampled_from([0, 1, 2**31, 2**63, 2**64, 10**30])),
            message_id=str(draw(st.uuids())),
            created_at=draw(st.none() | st.sampled_from(ODD_STRINGS)),
            body=draw(body_for(message_type, version)),
            spoil=draw(st.sampled_from([False, False, False, True])),
        )

    return draft()


def send(door: Door, d: Draft) -> Any:
    receiver = door.net.nodes[d.to]
    key_holder = door.net.nodes.get(d.sender, door.net.nodes["142051"])
    with receiver.engine.connect() as conn:
        next_seq = store.last_received(conn, d.sender) + 1
    envelope = Envelope(
        message_id=d.message_id,
        message_type=d.message_type,
        schema_version=d.schema_version,
        sender=d.sender,
        recipient=d.recipient,
        created_at=d.created_at or receiver.clock.now().isoformat(),
        seq=next_seq if d.seq is None else d.seq,
        body=d.body,
    )
    try:
        signed = envelope.signed(key_holder.identity.key)
    except ValueError:  # a lone surrogate cannot be signed: sent as written, signature spoiled
        signed = replace(envelope, signature="AAAA")
    raw = _spoiled(signed) if d.spoil or signed.signature == "AAAA" else signed.to_bytes()
    return door.clients[d.to].post(d.path, content=raw)


def _spoiled(envelope: Envelope) -> bytes:
    """The envelope with its number changed after signing (or unsignable), as JSON that may
    carry a lone surrogate's escape."""
    data: dict[str, Any] = {name: getattr(envelope, name) for name in HEADER_FIELDS}
    data.update(body=dict(envelope.body), signature=envelope.signature, seq=envelope.seq + 1)
    return json.dumps(data).encode("ascii")


def schema_accepts(d: Draft) -> bool:
    try:
        parse_body(d.message_type, d.schema_version, dict(d.body))
    except SchemaError:
        return False
    return True


def pinned(
    message_type: str, version: int, path: str = MESSAGES_PATH, created_at: str | None = None
) -> Draft:
    return Draft(
        INAGI,
        path,
        "142051",
        INAGI,
        message_type,
        version,
        None,
        str(uuid.uuid4()),
        created_at,
        {},
        False,
    )


# What the property found, kept as examples it always tries first.
PINNED = (
    pinned("nope", 2**63),  # past BIGINT: SQLite could not bind the dead letter's version
    pinned("\x00", 1),  # NUL in the type: PostgreSQL refused the dead letter (a 503)
    pinned("\x00", 1, QUERIES_PATH),
    pinned("fuhyo_notice", 2, created_at="2025-04-01T10:00:00"),  # no offset: naive minus aware
    pinned("fuhyo_notice", 2, QUERIES_PATH, created_at="0001-01-01"),
)


def drive_signed(door: Door, examples: int) -> None:
    @settings(max_examples=examples, suppress_health_check=list(HealthCheck), database=None)
    @given(d=drafts(door))
    def run(d: Draft) -> None:
        reply = assert_refused_or_acknowledged(send(door, d))
        if reply["status"] in ("applied", "answered") and d.message_type != LINK_SKIP:
            assert schema_accepts(d), (d, reply)

    for draft in PINNED:
        run = example(d=draft)(run)
    run()


def test_signed_envelopes_are_refused_or_acknowledged_never_a_server_error(door: Door) -> None:
    drive_signed(door, EXAMPLES)


@pytest.mark.slow
def test_signed_envelopes_never_a_server_error_long_run(door: Door) -> None:
    drive_signed(door, SLOW_EXAMPLES)


# -- schemathesis: every operation of the node's own schema -------------------------------------

SCHEMA_EXAMPLES = 3  # per operation, both generation modes; `make test-slow`: 150
SCHEMA_SLOW_EXAMPLES = 150


def drive_schema(door: Door, examples: int) -> list[str]:
    def reconnect() -> None:
        """A `disconnect` example leaves the node 離脱: the door would answer every later one
        with its documented 503, hiding the operation's own answer."""
        for node in door.net.nodes.values():
            if node.is_disconnected():
                node.set_disconnected(False)

    labels = []
    for node_id, client in door.clients.items():
        loaded = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        for result in loaded.get_all_operations():
            operation = result.ok()
            labels.append(f"{node_id} {operation.label}")
            strategy = st.one_of([operation.as_strategy(generation_mode=m) for m in GenerationMode])

            @settings(max_examples=examples, suppress_health_check=list(HealthCheck), database=None)
            @given(case=strategy)
            def run(case: Any) -> None:
                headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
                reconnect()

            run()
    return labels


# Last in the module: its examples change the nodes (statuses in the directory, snapshots).
@pytest.mark.parametrize("door", ["sqlite"], indirect=True)
def test_no_operation_of_the_node_schema_answers_500(door: Door) -> None:
    # the kiosk relay's calls come from a registered store (its client certificate), so the
    # examples reach the relay itself, not only the store check
    registered_store(door.net, door.clients["national"].app, "STORE-FUZZ")  # type: ignore[arg-type]
    labels = drive_schema(door, SCHEMA_EXAMPLES)
    assert "national POST /kiosk/v1/requests" in labels
    for expected in ("132250 POST /net/v1/messages", "national POST /provision/v1/requests"):
        assert expected in labels
    assert "132250 POST /admin/v1/snapshot" in labels
    assert "national POST /admin/v1/snapshot" not in labels


@pytest.mark.slow
@pytest.mark.parametrize("door", ["sqlite"], indirect=True)
def test_no_operation_of_the_node_schema_answers_500_long_run(door: Door) -> None:
    drive_schema(door, SCHEMA_SLOW_EXAMPLES)
