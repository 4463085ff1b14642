"""Queries between nodes (`juki.nodes.queries`): a signed question, a signed answer, while
someone waits. Tried on an in-process network with each node's own key and migrated database:
藤沢市 asks 稲城市 for a resident's certificate content (広域交付), the query type both take.

`answer` passes a query exactly the receiver's checks and its sender's authority, then the
handler's word; `ask` holds the answer to the same checks; every refusal is recorded where it
is decided (net_refusals: who claimed to send it, its id, the reason and the detail)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from juki.certificates import tables as certificate_tables
from juki.core.clock import JST, FixedClock
from juki.network import tables as network_tables
from juki.network.authority import NotAuthorised
from juki.network.card_messages import CardCertificateRequest
from juki.network.envelope import Envelope
from juki.network.messages import CURRENT_VERSION, MessageBody
from juki.network.transport import QueryRefused, Reply, ReplyStatus
from juki.network.wide_area_messages import (
    CERTIFICATE_CONTENT_REQUEST,
    CERTIFICATE_CONTENT_RESPONSE,
    QUERY_SEQ,
    CertificateContentRequest,
    CertificateContentResponse,
)
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.node import Node
from juki.nodes.queries import AnswerRejected, QueryRejected, signed
from juki.registry import services as svc
from juki.registry.commands import MoveInOrigin, NewHousehold, PersonalItems, RecordMoveIn
from juki.registry.model import ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, FUJISAWA, NAGANO, TOKYO = "132250", "142051", "202011", "130001"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where = tmp_path_factory.mktemp("queries")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(
        small_layout(), lambda node_id: f"sqlite:///{where}/{node_id}.db", clock, seed=19
    )
    network.national.allot(INAGI, 100)
    network.run_until_quiet()
    yield network
    network.dispose()


@pytest.fixture(scope="module")
def taro(net: InProcessNetwork) -> ResidentRecord:
    """A resident of 稲城市, whose certificate content 藤沢市 may ask for."""
    inagi = net.municipality(INAGI)
    record = svc.record_move_in(
        SqlRegistryUnitOfWork(inagi.engine, clock=inagi.clock),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                "照会", "太郎", "ショウカイ", "タロウ", date(1980, 1, 2), Sex.MALE
            ),
            origin=MoveInOrigin.ABROAD,
            address="東京都稲城市東長沼2111番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="アメリカ合衆国",
            placement=NewHousehold(),
        ),
    )
    net.run_until_quiet()
    return record


def request(resident_code: str, asker: str = FUJISAWA, asked: str = INAGI) -> MessageBody:
    return CertificateContentRequest(
        resident_code=resident_code,
        members="all",
        items=[],
        from_lg_code=asker,
        to_lg_code=asked,
        operator_id="clerk",
    )


def resigned(env: Envelope, key_of: Node, **changes: Any) -> bytes:
    """`env` with `changes`, validly signed with `key_of`'s own key."""
    return replace(env, **changes, signature="").signed(key_of.identity.key).to_bytes()


def refusals(node: Node) -> list[tuple[str, str, str, str]]:
    """What `node` recorded refusing: (claimed sender, claimed message id, reason, detail)."""
    r = network_tables.net_refusals.c
    with node.engine.connect() as conn:
        rows = conn.execute(
            sa.select(r.claimed_sender, r.claimed_message_id, r.reason, r.detail).order_by(
                r.refusal_id
            )
        )
        return [tuple(row) for row in rows]


def refused_as(reply: bytes | Reply, reason: str) -> Reply:
    """`reply` is a refusal for `reason`, not an answer."""
    assert isinstance(reply, Reply), reply
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, reason)
    return reply


def registered(net: InProcessNetwork, request_id: str) -> int:
    """How many wide-area requests 稲城市's register holds under `request_id`."""
    w = certificate_tables.wide_area_requests.c
    with net.municipality(INAGI).engine.connect() as conn:
        query = sa.select(sa.func.count()).where(w.request_id == request_id)
        return int(conn.execute(query).scalar_one())


class Spy:
    """A query handler that says what it was given and answers as `answer` says."""

    def __init__(self, answer: Callable[[Envelope, Any], MessageBody]) -> None:
        self.calls: list[str] = []
        self.answer = answer

    def __call__(self, env: Envelope, body: Any) -> MessageBody:
        self.calls.append(env.message_id)
        return self.answer(env, body)


def handled_by(monkeypatch: pytest.MonkeyPatch, node: Node, handler: Spy) -> None:
    monkeypatch.setattr(node, "query_handlers", lambda: {CERTIFICATE_CONTENT_REQUEST: handler})


def not_called(env: Envelope, body: Any) -> MessageBody:
    raise AssertionError("the handler must not see this query")


# -- signed: the question as its node signs it ---------------------------------------------------


def test_signed_query_is_addressed_numbered_and_signed_by_its_node(
    net: InProcessNetwork,
) -> None:
    fujisawa = net.municipality(FUJISAWA)
    question = request("1" * 11)
    first, second = signed(fujisawa, INAGI, question), signed(fujisawa, INAGI, question)
    assert (first.sender, first.recipient, first.seq) == (FUJISAWA, INAGI, QUERY_SEQ)
    assert first.message_type == CERTIFICATE_CONTENT_REQUEST
    assert first.schema_version == CURRENT_VERSION[CERTIFICATE_CONTENT_REQUEST]
    assert first.created_at == fujisawa.clock.now().isoformat()
    assert first.body == question.model_dump(mode="json")
    directory = fujisawa.directory()
    assert first.has_valid_signature(directory.public_key(FUJISAWA))
    assert not first.has_valid_signature(directory.public_key(INAGI))
    assert first.message_id != second.message_id  # every question its own id


# -- answer: a valid query answered; everything else refused and recorded -----------------------


def test_answer_to_a_valid_query_is_signed_by_the_node_asked_for_the_asker(
    net: InProcessNetwork, taro: ResidentRecord
) -> None:
    inagi = net.municipality(INAGI)
    question = signed(net.municipality(FUJISAWA), INAGI, request(taro.resident_code))
    before = refusals(inagi)
    raw = inagi.answer(question.to_bytes())
    assert isinstance(raw, bytes), raw
    answer = Envelope.from_bytes(raw)
    assert (answer.sender, answer.recipient, answer.seq) == (INAGI, FUJISAWA, QUERY_SEQ)
    assert answer.message_type == CERTIFICATE_CONTENT_RESPONSE
    assert answer.has_valid_signature(inagi.directory().public_key(INAGI))
    body = CertificateContentResponse.model_validate(answer.body)
    assert (body.request_id, body.outcome) == (question.message_id, "answered")
    assert refusals(inagi) == before
    assert registered(net, question.message_id) == 1  # the handler ran: A's register says so


def test_answer_refuses_a_query_with_a_bad_signature(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed by 長野市's key in 藤沢市's name: refused before the handler, and recorded."""
    inagi = net.municipality(INAGI)
    spy = Spy(not_called)
    handled_by(monkeypatch, inagi, spy)
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    refused_as(inagi.answer(resigned(question, net.nodes[NAGANO])), "bad_signature")
    assert refusals(inagi)[-1] == (
        FUJISAWA,
        question.message_id,
        "bad_signature",
        "signature does not verify",
    )
    assert spy.calls == []


def test_answer_refuses_a_query_changed_after_it_was_signed(net: InProcessNetwork) -> None:
    inagi = net.municipality(INAGI)
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    data = json.loads(question.to_bytes())
    data["body"]["operator_id"] = "someone-else"
    refused_as(inagi.answer(json.dumps(data, ensure_ascii=False).encode()), "bad_signature")


def test_answer_refuses_a_query_for_another_node(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question 藤沢市 signed for 長野市, handed to 稲城市."""
    inagi = net.municipality(INAGI)
    spy = Spy(not_called)
    handled_by(monkeypatch, inagi, spy)
    question = signed(net.municipality(FUJISAWA), NAGANO, request("1" * 11, asked=NAGANO))
    refused_as(inagi.answer(question.to_bytes()), "misaddressed")
    assert refusals(inagi)[-1] == (
        FUJISAWA,
        question.message_id,
        "misaddressed",
        f"addressed to {NAGANO}",
    )
    assert spy.calls == []


def test_answer_refuses_a_query_over_a_connection_of_another_node(net: InProcessNetwork) -> None:
    """The TLS client certificate names 長野市; the envelope, 藤沢市."""
    inagi = net.municipality(INAGI)
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    refused_as(inagi.answer(question.to_bytes(), tls_peer=NAGANO), "sender_mismatch")
    assert refusals(inagi)[-1][:3] == (FUJISAWA, question.message_id, "sender_mismatch")


def test_answer_refuses_a_stale_query(net: InProcessNetwork) -> None:
    inagi = net.municipality(INAGI)
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    old = (inagi.clock.now() - timedelta(minutes=6)).isoformat()
    refused_as(inagi.answer(resigned(question, net.nodes[FUJISAWA], created_at=old)), "stale")


def test_answer_refuses_a_query_type_the_node_does_not_answer(net: InProcessNetwork) -> None:
    """The card CA's question is national's to answer, not a municipality's."""
    inagi = net.municipality(INAGI)
    question = signed(
        net.municipality(FUJISAWA),
        INAGI,
        CardCertificateRequest(
            action="revoke",
            card_serial="CARD-1",
            resident_code="1" * 11,
            lg_code=FUJISAWA,
            reason="lost",
        ),
    )
    reply = refused_as(inagi.answer(question.to_bytes()), "unhandled")
    assert reply.detail == f"{INAGI} answers no card_certificate_request"
    assert refusals(inagi)[-1] == (FUJISAWA, question.message_id, "unhandled", reply.detail)


def test_answer_refuses_a_query_whose_body_fails_its_schema(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    inagi = net.municipality(INAGI)
    spy = Spy(not_called)
    handled_by(monkeypatch, inagi, spy)
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    body = {k: v for k, v in question.body.items() if k != "operator_id"}
    reply = refused_as(inagi.answer(resigned(question, net.nodes[FUJISAWA], body=body)), "schema")
    assert "operator_id" in reply.detail
    assert refusals(inagi)[-1][:3] == (FUJISAWA, question.message_id, "schema")
    assert spy.calls == []


@pytest.mark.parametrize(
    ("asker", "question", "detail"),
    [
        (
            TOKYO,
            lambda: request("1" * 11, asker=TOKYO),
            "a prefecture node may not send certificate_content_request",
        ),
        (
            NAGANO,
            lambda: request("1" * 11, asker=FUJISAWA),
            f"{NAGANO} asked as {FUJISAWA}",
        ),
    ],
    ids=["a prefecture", "a municipality in another's name"],
)
def test_answer_refuses_a_sender_without_authority_for_the_query_type(
    net: InProcessNetwork,
    monkeypatch: pytest.MonkeyPatch,
    asker: str,
    question: Callable[[], MessageBody],
    detail: str,
) -> None:
    """Validly signed by the asker's own key, but not its question to ask."""
    inagi = net.municipality(INAGI)
    spy = Spy(not_called)
    handled_by(monkeypatch, inagi, spy)
    env = signed(net.nodes[asker], INAGI, question())
    reply = inagi.answer(env.to_bytes())
    assert isinstance(reply, Reply)
    assert (reply.status, reply.reason, reply.detail) == (
        ReplyStatus.REFUSED,
        "unauthorised",
        detail,
    )
    assert refusals(inagi)[-1] == (asker, env.message_id, "unauthorised", detail)
    assert spy.calls == []


def test_answer_refuses_a_replayed_query_id(net: InProcessNetwork, taro: ResidentRecord) -> None:
    """The handler keeps the ids it answered (A's register): the same question again, even
    validly signed and fresh, is refused and recorded, and registered only once."""
    inagi = net.municipality(INAGI)
    question = signed(net.municipality(FUJISAWA), INAGI, request(taro.resident_code))
    assert isinstance(inagi.answer(question.to_bytes()), bytes)
    again = inagi.answer(question.to_bytes())
    assert isinstance(again, Reply)
    assert (again.status, again.reason) == (ReplyStatus.REFUSED, "replay")
    assert refusals(inagi)[-1] == (
        FUJISAWA,
        question.message_id,
        "replay",
        f"request {question.message_id} was answered before",
    )
    assert registered(net, question.message_id) == 1


def test_answer_passes_on_what_the_handler_rejects_and_records_it(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    inagi = net.municipality(INAGI)

    def reject(env: Envelope, body: Any) -> MessageBody:
        raise QueryRejected("not_for_us", "nothing to say about this one")

    spy = Spy(reject)
    handled_by(monkeypatch, inagi, spy)
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    reply = inagi.answer(question.to_bytes())
    assert isinstance(reply, Reply)
    assert (reply.status, reply.reason, reply.detail) == (
        ReplyStatus.REFUSED,
        "not_for_us",
        "nothing to say about this one",
    )
    assert refusals(inagi)[-1] == (
        FUJISAWA,
        question.message_id,
        "not_for_us",
        "nothing to say about this one",
    )
    assert spy.calls == [question.message_id]


@pytest.mark.parametrize(
    ("fault", "reason", "detail"),
    [
        (NotAuthorised("稲城市 keeps nothing for this asker"), "unauthorised", None),
        (RuntimeError("a handler's bug"), "handler_failed", "RuntimeError"),
    ],
)
def test_answer_refuses_and_records_a_query_whose_handler_fails(
    net: InProcessNetwork,
    monkeypatch: pytest.MonkeyPatch,
    fault: Exception,
    reason: str,
    detail: str | None,
) -> None:
    """Not a 500: the asker reads why, and the answering node keeps the refusal."""
    inagi = net.municipality(INAGI)

    def failing(env: Envelope, body: Any) -> MessageBody:
        raise fault

    handled_by(monkeypatch, inagi, Spy(failing))
    question = signed(net.municipality(FUJISAWA), INAGI, request("1" * 11))
    reply = refused_as(inagi.answer(question.to_bytes()), reason)
    expected = detail if detail is not None else "稲城市 keeps nothing for this asker"
    assert reply.detail == expected
    assert refusals(inagi)[-1] == (FUJISAWA, question.message_id, reason, expected)


def test_answer_is_unavailable_when_the_handlers_database_fails_and_records_no_refusal(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database, not the query, is at fault: the asker may ask again."""
    inagi = net.municipality(INAGI)

    def locked(env: Envelope, body: Any) -> MessageBody:
        raise sa.exc.OperationalError("SELECT …", {}, Exception("database is locked"))

    handled_by(monkeypatch, inagi, Spy(locked))
    before = refusals(inagi)
    reply = inagi.answer(signed(net.municipality(FUJISAWA), INAGI, request("1" * 11)).to_bytes())
    assert isinstance(reply, Reply)
    assert (reply.status, reply.reason, reply.detail) == (
        ReplyStatus.UNAVAILABLE,
        "storage",
        "OperationalError",
    )
    assert refusals(inagi) == before


# -- ask: the answer passes the same checks, or nothing of it is used ---------------------------


class Between:
    """The query transport, with something between the nodes that changes the answer."""

    def __init__(self, net: InProcessNetwork, change: Callable[[Envelope], bytes]) -> None:
        self.inner = net.transport
        self.change = change

    def query(self, peer: str, endpoint: str, raw: bytes) -> bytes:
        return self.change(Envelope.from_bytes(self.inner.query(peer, endpoint, raw)))


def ask_through(
    net: InProcessNetwork,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Envelope], bytes],
    resident_code: str,
) -> AnswerRejected:
    fujisawa = net.municipality(FUJISAWA)
    monkeypatch.setattr(fujisawa, "query_transport", Between(net, change))
    with pytest.raises(AnswerRejected) as rejected:
        fujisawa.ask(INAGI, request(resident_code), CERTIFICATE_CONTENT_RESPONSE)
    return rejected.value


def test_ask_returns_the_question_and_the_verified_answer(
    net: InProcessNetwork, taro: ResidentRecord
) -> None:
    fujisawa = net.municipality(FUJISAWA)
    before = refusals(fujisawa)
    question, answer, body = fujisawa.ask(
        INAGI, request(taro.resident_code), CERTIFICATE_CONTENT_RESPONSE
    )
    directory = fujisawa.directory()
    assert (question.sender, question.recipient) == (FUJISAWA, INAGI)
    assert question.has_valid_signature(directory.public_key(FUJISAWA))
    assert (answer.sender, answer.recipient, answer.message_type) == (
        INAGI,
        FUJISAWA,
        CERTIFICATE_CONTENT_RESPONSE,
    )
    assert answer.has_valid_signature(directory.public_key(INAGI))
    assert isinstance(body, CertificateContentResponse)
    assert (body.request_id, body.resident_code) == (question.message_id, taro.resident_code)
    assert (body.from_lg_code, body.to_lg_code, body.outcome) == (INAGI, FUJISAWA, "answered")
    assert body.content is not None and body.content.record_lg_code == INAGI
    assert refusals(fujisawa) == before
    assert registered(net, question.message_id) == 1


def test_ask_without_a_query_transport_is_rejected(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    fujisawa = net.municipality(FUJISAWA)
    monkeypatch.setattr(fujisawa, "query_transport", None)
    with pytest.raises(AnswerRejected) as rejected:
        fujisawa.ask(INAGI, request("1" * 11), CERTIFICATE_CONTENT_RESPONSE)
    assert (rejected.value.reason, rejected.value.detail) == (
        "no_query_transport",
        f"{FUJISAWA} cannot send queries",
    )


def test_ask_lets_a_refusal_of_the_question_through(net: InProcessNetwork) -> None:
    """稲城市 refuses a question in 長野市's name: the caller sees its `Reply`."""
    fujisawa = net.municipality(FUJISAWA)
    with pytest.raises(QueryRefused) as refused:
        fujisawa.ask(INAGI, request("1" * 11, asker=NAGANO), CERTIFICATE_CONTENT_RESPONSE)
    assert (refused.value.reply.status, refused.value.reply.reason) == (
        ReplyStatus.REFUSED,
        "unauthorised",
    )
    assert refusals(net.municipality(INAGI))[-1][0] == FUJISAWA


def test_ask_rejects_an_answer_changed_on_the_way(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch, taro: ResidentRecord
) -> None:
    def rename(answer: Envelope) -> bytes:
        data = json.loads(answer.to_bytes())
        data["body"]["content"]["persons"][0]["name"] = "別人　太郎"
        return json.dumps(data, ensure_ascii=False).encode()

    fujisawa = net.municipality(FUJISAWA)
    err = ask_through(net, monkeypatch, rename, taro.resident_code)
    assert (err.reason, err.detail) == ("bad_signature", "signature does not verify")
    assert refusals(fujisawa)[-1][::2] == (INAGI, "bad_signature")


def test_ask_rejects_an_answer_for_another_node(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """稲城市's own signature, but addressed to 長野市."""
    inagi = net.nodes[INAGI]
    err = ask_through(net, monkeypatch, lambda a: resigned(a, inagi, recipient=NAGANO), "1" * 11)
    assert (err.reason, err.detail) == ("misaddressed", f"addressed to {NAGANO}")
    assert refusals(net.municipality(FUJISAWA))[-1][::2] == (INAGI, "misaddressed")


def test_ask_rejects_a_stale_answer(net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    inagi = net.nodes[INAGI]
    old = (inagi.clock.now() - timedelta(minutes=6)).isoformat()
    err = ask_through(net, monkeypatch, lambda a: resigned(a, inagi, created_at=old), "1" * 11)
    assert err.reason == "stale"


def test_ask_rejects_an_answer_from_a_node_not_asked(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """長野市 answers, validly signed, a question put to 稲城市."""
    nagano = net.nodes[NAGANO]
    err = ask_through(net, monkeypatch, lambda a: resigned(a, nagano, sender=NAGANO), "1" * 11)
    assert (err.reason, err.detail) == (
        "unexpected_answer",
        f"{CERTIFICATE_CONTENT_RESPONSE} from {NAGANO}",
    )
    sender, _id, reason, detail = refusals(net.municipality(FUJISAWA))[-1]
    assert (sender, reason, detail) == (NAGANO, "unexpected_answer", CERTIFICATE_CONTENT_RESPONSE)


def test_ask_rejects_an_answer_of_another_type(net: InProcessNetwork) -> None:
    """The node asked answers, but not with what the caller waits for."""
    fujisawa = net.municipality(FUJISAWA)
    with pytest.raises(AnswerRejected) as rejected:
        fujisawa.ask(INAGI, request("1" * 11), "card_certificate_response")
    assert (rejected.value.reason, rejected.value.detail) == (
        "unexpected_answer",
        f"{CERTIFICATE_CONTENT_RESPONSE} from {INAGI}",
    )
    sender, _id, reason, detail = refusals(fujisawa)[-1]
    assert (sender, reason, detail) == (INAGI, "unexpected_answer", CERTIFICATE_CONTENT_RESPONSE)


def test_ask_rejects_an_answer_whose_body_fails_its_schema(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    inagi = net.nodes[INAGI]

    def unanswered(answer: Envelope) -> bytes:
        return resigned(answer, inagi, body={**answer.body, "outcome": "perhaps"})

    err = ask_through(net, monkeypatch, unanswered, "1" * 11)
    assert err.reason == "schema"
    assert "outcome" in err.detail
    _sender, _id, reason, detail = refusals(net.municipality(FUJISAWA))[-1]
    assert (reason, detail) == ("schema", err.detail)


def test_ask_rejects_an_answer_without_authority(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """稲城市's signature on an answer that says it is for 長野市."""
    inagi = net.nodes[INAGI]

    def misdirected(answer: Envelope) -> bytes:
        return resigned(answer, inagi, body={**answer.body, "to_lg_code": NAGANO})

    err = ask_through(net, monkeypatch, misdirected, "1" * 11)
    assert (err.reason, err.detail) == ("unauthorised", f"answered to {NAGANO}, not {FUJISAWA}")
    sender, _id, reason, detail = refusals(net.municipality(FUJISAWA))[-1]
    assert (sender, reason, detail) == (INAGI, "unauthorised", err.detail)


def test_ask_from_a_disconnected_node_sends_no_question(
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch, taro: ResidentRecord
) -> None:
    """離脱 set here, before the directory says so: the question is not sent, so 稲城市
    neither answers nor registers it (it would have, and only the answer been refused)."""
    fujisawa = net.municipality(FUJISAWA)
    sent: list[str] = []

    def unchanged(answer: Envelope) -> bytes:
        return answer.to_bytes()

    class Recording(Between):
        def query(self, peer: str, endpoint: str, raw: bytes) -> bytes:
            sent.append(Envelope.from_bytes(raw).message_id)
            return super().query(peer, endpoint, raw)

    monkeypatch.setattr(fujisawa, "query_transport", Recording(net, unchanged))
    fujisawa.set_disconnected(True)
    try:
        with pytest.raises(AnswerRejected) as rejected:
            fujisawa.ask(INAGI, request(taro.resident_code), CERTIFICATE_CONTENT_RESPONSE)
    finally:
        fujisawa.set_disconnected(False)
    assert rejected.value.reason == "disconnected"
    assert sent == []
