"""The municipal certificate server answering the kiosk relay, on SQLite and PostgreSQL.

Each test takes a copy of the populated registry (tests/integration/certificates/conftest.py)
and asks as the relay (role kiosk_relay) for an authenticated card holder. The 2023 failures
are recreated here at the certificate server: two holders in the same second, a record update
committed during issuance, a seal certificate asked just after the seal was abolished, and a
residence certificate asked just after the person moved out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from juki.certificates.kiosk.messages import (
    AnswerMismatch,
    KioskAnswer,
    KioskRequest,
    new_request_id,
    open_answer,
)
from juki.certificates.kiosk.model import KioskRefused, RefusalCode
from juki.certificates.kiosk.ports import KioskRead
from juki.certificates.kiosk.services import (
    KioskProduction,
    abandon_kiosk_request,
    household_choices,
    issue_for_card_holder,
    record_kiosk_spoiled,
    relay_actor,
)
from juki.certificates.kiosk.store import SqlKioskReader, SqlKioskUnitOfWork
from juki.certificates.kiosk.tables import kiosk_requests
from juki.certificates.model import CertificateKind
from juki.certificates.render import DOCUMENT_NAME
from juki.certificates.services import certificate_status
from juki.certificates.tables import certificate_register, certificates
from juki.core.clock import JST, FixedClock
from juki.core.errors import PermissionDeniedError
from juki.registry import services as registry
from juki.registry.commands import ChangeName, RecordDeath, RecordMoveOut
from juki.registry.model import ResidentRecord
from juki.security import tables as security_tables
from support.cert_population import CLERK, NOW, CertEnv, person

RELAY = relay_actor("national-1")
Reader = Callable[[str, CertificateKind, str, datetime], KioskRead]


class Kiosk:
    """The relay's side of the certificate server, for one env (and one clock)."""

    def __init__(
        self, env: CertEnv, production: KioskProduction, clock: FixedClock | None = None
    ) -> None:
        self.env = env
        self.clock = clock or env.reg.clock
        self.reader: Any = SqlKioskReader(env.engine)
        self.production = production

    def uow(self) -> SqlKioskUnitOfWork:
        return SqlKioskUnitOfWork(self.env.engine, clock=self.clock)

    def ask(
        self, holder: ResidentRecord, kind: str = "residence", serial: str = "", **kw: Any
    ) -> tuple[KioskRequest, KioskAnswer]:
        request = KioskRequest(
            request_id=kw.pop("request_id", None) or new_request_id(),
            card_serial=serial or f"SN-{holder.resident_code}",
            lg_code=kw.pop("lg_code", "132250"),
            kind=kind,
            **kw,
        )
        answer = issue_for_card_holder(
            self.uow(),
            RELAY,
            holder.resident_code,
            request,
            reader=self.reader,
            production=self.production,
        )
        return request, answer


def content_of(env: CertEnv, certificate_id: str) -> dict[str, Any]:
    with env.engine.connect() as conn:
        text = conn.execute(
            sa.select(certificates.c.content).where(certificates.c.certificate_id == certificate_id)
        ).scalar_one()
    return dict(json.loads(text)["content"])


def line_keys(content: dict[str, Any]) -> set[str]:
    return {line["key"] for p in content["persons"] for line in p["lines"]}


def names_of(content: dict[str, Any]) -> list[str]:
    return [p["name"] for p in content["persons"]]


def issued(answer: KioskAnswer) -> str:
    assert answer.outcome == "issued", answer.refusal
    assert answer.certificate is not None
    return answer.certificate.certificate_id


def refused(answer: KioskAnswer) -> RefusalCode:
    assert answer.outcome == "refused" and answer.refusal is not None, answer
    assert answer.certificate is None and answer.refusal.message_ja
    return answer.refusal.code


def register_rows(env: CertEnv) -> dict[str, Any]:
    with env.engine.connect() as conn:
        rows = conn.execute(sa.select(kiosk_requests)).mappings().all()
    return {r["request_id"]: dict(r) for r in rows}


def test_the_holder_gets_their_own_certificate_under_the_counters_rules(
    env: CertEnv, production: KioskProduction
) -> None:
    kiosk, p = Kiosk(env, production), env.people
    request, answer = kiosk.ask(p.wife)
    assert (answer.request_id, answer.card_serial) == (request.request_id, request.card_serial)
    pdf = open_answer(answer, request.request_id, request.card_serial)
    assert pdf is not None and answer.certificate is not None
    doc = json.loads(PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_NAME][0])
    assert [x["name"] for x in doc["content"]["persons"]] == [p.wife.full_name]
    content = content_of(env, issued(answer))
    assert content["channel"] == "kiosk" and content["kind"] == "residence"
    assert {"former_surname", "former_surname_kana"} <= line_keys(content)  # 旧氏, unasked
    assert not line_keys(content) & {"resident_code", "my_number"}
    assert answer.certificate.fee_yen == 300
    for wrong in ((new_request_id(), request.card_serial), (request.request_id, "SN-other")):
        with pytest.raises(AnswerMismatch):
            open_answer(answer, *wrong)
    # 個人番号 only when chosen; the household for a 住民票の写し; never the 住民票コード.
    _, chosen = kiosk.ask(p.head, members="household", items=["my_number", "householder"])
    household = content_of(env, issued(chosen))
    assert names_of(household) == [
        p.head.full_name,
        p.wife.full_name,
        p.child_heisei.full_name,
        p.child_reiwa.full_name,
    ]
    assert "my_number" in line_keys(household) and "resident_code" not in line_keys(household)
    some = KioskRequest(
        request_id=new_request_id(), card_serial="SN-h", lg_code="132250", kind="residence"
    )
    choices = household_choices(kiosk.uow(), RELAY, p.head.resident_code, some, reader=kiosk.reader)
    assert [name for _, name in choices] == names_of(household)
    picked = [ref for ref, name in choices if name in (p.child_reiwa.full_name, p.wife.full_name)]
    _, part = kiosk.ask(p.head, members=picked)
    assert names_of(content_of(env, issued(part))) == [p.wife.full_name, p.child_reiwa.full_name]
    assert refused(kiosk.ask(p.head, items=["resident_code"])[1]) is RefusalCode.ITEM_NOT_OFFERED
    # A replayed request id is refused, whoever sends it, and registered once.
    assert refused(kiosk.ask(p.wife, request_id=request.request_id)[1]) is RefusalCode.REPLAY
    assert refused(kiosk.ask(p.head, request_id=request.request_id)[1]) is RefusalCode.REPLAY
    row = register_rows(env)[request.request_id]
    assert (row["card_serial"], row["outcome"]) == (request.card_serial, "issued")
    with env.engine.connect() as conn:
        entries = conn.execute(
            sa.select(security_tables.oplog.c.role, security_tables.oplog.c.outcome).where(
                security_tables.oplog.c.action == "answer_kiosk_request"
            )
        ).all()
    assert {e.role for e in entries} == {"kiosk_relay"} and len(entries) >= 6
    spoil_pages(env, kiosk)
    abandon_request(env, kiosk)
    with pytest.raises(PermissionDeniedError):  # a counter clerk is not the relay
        issue_for_card_holder(
            kiosk.uow(), CLERK, p.wife.resident_code, request, reader=kiosk.reader,
            production=kiosk.production,
        )  # fmt: skip


def spoil_pages(env: CertEnv, kiosk: Kiosk) -> None:
    """A spoiled page is voided only for the request and card that asked; once every copy is
    spoiled the certificate is void."""
    request, answer = kiosk.ask(env.people.sealed, copies=2)
    cid = issued(answer)
    assert answer.certificate is not None
    first, second = answer.certificate.issue_numbers
    before = env.state()
    for rid, serial in ((request.request_id, "SN-someone-else"), (new_request_id(), "SN-x")):
        with pytest.raises(KioskRefused) as wrong:
            record_kiosk_spoiled(kiosk.uow(), RELAY, rid, serial, first)
        assert wrong.value.code is RefusalCode.MISMATCH
    assert env.state() == before
    record_kiosk_spoiled(kiosk.uow(), RELAY, request.request_id, request.card_serial, first)
    status = certificate_status(env.desk.uow(), cid, answer.certificate.digest)
    assert status is not None and status.spoiled_issue_numbers == (first,)
    assert status.status == "valid"  # the other copy stands
    record_kiosk_spoiled(kiosk.uow(), RELAY, request.request_id, request.card_serial, second)
    status = certificate_status(env.desk.uow(), cid, answer.certificate.digest)
    assert status is not None and status.status == "void"
    # the register shows each 書損 copy, then the certificate's 無効 (one void_record for all)
    g = certificate_register.c
    with env.engine.connect() as conn:
        events = conn.execute(
            sa.select(g.event).where(g.certificate_id == cid).order_by(g.entry_id)
        ).scalars()
        assert list(events)[-3:] == ["spoiled", "spoiled", "voided"]


def abandon_request(env: CertEnv, kiosk: Kiosk) -> None:
    """A session that gave up (a timeout at any hop) voids its certificate, nothing charged:
    only for the request id and card serial that asked; a second time changes nothing."""
    request, answer = kiosk.ask(env.people.sealed)
    cid = issued(answer)
    assert answer.certificate is not None
    before = env.state()
    with pytest.raises(KioskRefused) as wrong:
        abandon_kiosk_request(kiosk.uow(), RELAY, request.request_id, "SN-someone-else")
    assert wrong.value.code is RefusalCode.MISMATCH
    assert env.state() == before
    # a void before its request (the relay gave up while the request was on its way): kept,
    # so the late request is refused and no certificate is made for it
    early = new_request_id()
    assert abandon_kiosk_request(kiosk.uow(), RELAY, early, "SN-x") is None
    row = register_rows(env)[early]
    assert (row["outcome"], row["kind"], row["card_serial"]) == ("voided", None, "SN-x")
    _late, late = kiosk.ask(env.people.sealed, serial="SN-x", request_id=early)
    assert refused(late) is RefusalCode.REPLAY
    assert register_rows(env)[early]["certificate_id"] is None
    assert abandon_kiosk_request(kiosk.uow(), RELAY, early, "SN-x") is None  # twice: once
    for _ in range(2):
        done = abandon_kiosk_request(kiosk.uow(), RELAY, request.request_id, request.card_serial)
        assert done == cid
    status = certificate_status(env.desk.uow(), cid, answer.certificate.digest)
    assert status is not None and status.status == "void"


def _move_out(env: CertEnv, r: ResidentRecord, on: date) -> None:
    registry.record_move_out(
        env.reg.uow(),
        CLERK,
        RecordMoveOut((r.record_id,), "神奈川県藤沢市朝日町1番地の1", on, date(2025, 4, 1)),
    )


def _adult(env: CertEnv, family: str, given: str, address: str) -> ResidentRecord:
    return env.reg.move_in(
        person(family, given, "シケン", "タロウ", date(1970, 1, 1)), address=address
    )


def test_each_refusal_names_its_reason_and_changes_nothing_else(
    env: CertEnv, production: KioskProduction
) -> None:
    p = env.people
    moved = _adult(env, "転出", "済", "東京都稲城市大丸1番地")
    leaving = _adult(env, "転出", "予定", "東京都稲城市大丸2番地")
    dead = _adult(env, "死亡", "者", "東京都稲城市大丸3番地")
    _move_out(env, moved, date(2025, 4, 1))  # today: a 除票 from today
    _move_out(env, leaving, date(2025, 4, 10))  # filed, still here
    registry.record_death(
        env.reg.uow(), CLERK, RecordDeath(dead.record_id, date(2025, 3, 31), date(2025, 4, 1))
    )
    stranger = env.reg.move_in(person("他", "人", "タ", "ヒト", date(1980, 1, 1)))
    kiosk = Kiosk(env, production)
    cases: list[tuple[ResidentRecord, dict[str, Any], RefusalCode, str]] = [
        (moved, {}, RefusalCode.MOVED_OUT, "moved_out"),
        (leaving, {}, RefusalCode.MOVE_OUT_PLANNED, "move_out_planned"),
        (dead, {}, RefusalCode.NOT_AT_KIOSK, "deceased"),
        (p.removed, {}, RefusalCode.NOT_AT_KIOSK, "removed"),
        (p.supported, {}, RefusalCode.NOT_AT_KIOSK, "support_measure"),
        (p.child_heisei, {}, RefusalCode.UNDER_15, "under_15"),
        (p.abolished, {"kind": "seal"}, RefusalCode.NO_LIVE_SEAL, "no_live_seal"),
        (p.head, {"kind": "seal"}, RefusalCode.NO_LIVE_SEAL, "no_live_seal"),
        (p.head, {"kind": "fuhyo"}, RefusalCode.KIND_NOT_OFFERED, "kind_not_offered"),
        (p.head, {"kind": "record_items", "members": "household"},
         RefusalCode.MEMBERS_NOT_OFFERED, "members_not_offered"),
        (p.head, {"members": [stranger.record_id]}, RefusalCode.NOT_IN_HOUSEHOLD,
         "not_in_household"),
        (p.head, {"lg_code": "142051"}, RefusalCode.WRONG_MUNICIPALITY, "wrong_municipality"),
    ]  # fmt: skip
    before = env.state()
    for holder, options, code, rule in cases:
        request, answer = kiosk.ask(holder, **options)
        assert refused(answer) is code, (holder.full_name, options)
        row = register_rows(env)[request.request_id]
        assert (row["outcome"], row["code"], row["rule"]) == ("refused", code.value, rule)
    late = Kiosk(env, production, FixedClock(datetime(2025, 4, 1, 23, 0, tzinfo=JST)))
    assert refused(late.ask(p.head)[1]) is RefusalCode.OUTSIDE_HOURS
    holiday = Kiosk(env, production, FixedClock(datetime(2025, 12, 30, 12, 0, tzinfo=JST)))
    assert refused(holiday.ask(p.head)[1]) is RefusalCode.CLOSED_DAY
    assert env.state() == before  # no certificate, number, register line or print


def test_two_holders_in_the_same_second_never_cross(
    env: CertEnv, production: KioskProduction
) -> None:
    """2023: two requests within one second overwrote each other. Here every request is read,
    recorded and answered on its own; the fixed clock puts them all in the same second."""
    kiosk, p = Kiosk(env, production), env.people
    holders = [p.head, p.wife] * 2

    def ask(holder: ResidentRecord) -> tuple[ResidentRecord, KioskRequest, KioskAnswer]:
        return holder, *kiosk.ask(holder)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(ask, holders))
    for holder, request, answer in results:
        pdf = open_answer(answer, request.request_id, request.card_serial)
        assert pdf is not None
        doc = json.loads(PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_NAME][0])
        assert [x["name"] for x in doc["content"]["persons"]] == [holder.full_name]
        assert names_of(content_of(env, issued(answer))) == [holder.full_name]
        for _, other, _ in results:
            if other.request_id != request.request_id:
                with pytest.raises(AnswerMismatch):
                    open_answer(answer, other.request_id, other.card_serial)
    assert len({issued(a) for _, _, a in results}) == len(holders)


class UpdateAfterRead:
    """Reads, then — before the certificate is recorded and rendered — commits a record update
    on another connection, as a data sync colliding with issuance did in 2023."""

    def __init__(self, inner: SqlKioskReader, update: Callable[[], None]) -> None:
        self.inner, self.update = inner, update

    def read(self, *args: Any) -> KioskRead:
        read = self.inner.read(*args)
        self.update()
        return read


def test_a_record_update_during_issuance_is_wholly_before_or_after(
    env: CertEnv, production: KioskProduction
) -> None:
    kiosk, p = Kiosk(env, production), env.people

    def rename_household() -> None:  # both adults' names change in one transaction each
        for r, given in ((p.head, "新一"), (p.wife, "新子")):
            registry.change_name(
                env.reg.uow(),
                CLERK,
                ChangeName(
                    r.record_id, "新井", given, "アライ", "シンイチ", NOW.date(), NOW.date()
                ),
            )

    kiosk.reader = UpdateAfterRead(SqlKioskReader(env.engine), rename_household)
    _, during = kiosk.ask(p.head, members="household")
    before = content_of(env, issued(during))
    assert names_of(before)[:2] == [p.head.full_name, p.wife.full_name]
    kana = [ln["value"] for x in before["persons"] for ln in x["lines"] if ln["key"] == "name_kana"]
    assert kana[:2] == [p.head.full_name_kana, p.wife.full_name_kana]
    kiosk.reader = SqlKioskReader(env.engine)
    _, after = kiosk.ask(p.head, members="household")
    assert names_of(content_of(env, issued(after)))[:2] == ["新井\u3000新一", "新井\u3000新子"]


def test_just_after_the_seal_is_abolished_or_the_person_moved_out_is_refused(
    env: CertEnv, production: KioskProduction
) -> None:
    kiosk = Kiosk(env, production)
    holder = _adult(env, "印鑑", "登録者", "東京都稲城市押立1番地")
    number = env.reg.seal(holder)
    assert kiosk.ask(holder, "seal")[1].outcome == "issued"
    env.reg.abolish_seal(number)
    assert refused(kiosk.ask(holder, "seal")[1]) is RefusalCode.NO_LIVE_SEAL
    assert kiosk.ask(holder)[1].outcome == "issued"
    _move_out(env, holder, date(2025, 4, 1))
    assert refused(kiosk.ask(holder)[1]) is RefusalCode.MOVED_OUT
