"""Life events through the real services and storage, on SQLite and PostgreSQL: what needs the
database itself.

The registry's rules run on the fake unit of work (`tests/unit/registry/services/`), which
`test_repository_contract.py` holds to the SQL stores. Here stay the scenarios whose point is
the database: a failed oplog write rolling the change back, the outbox rows as stored, a name
that must survive the column, and two life stories end to end as a smoke test. The lost-update
race is in `test_lost_update.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest

from juki.core.errors import JukiError
from juki.registry import services as svc
from juki.registry.commands import (
    ConfirmMoveOut,
    MoveInOrigin,
    NewHousehold,
    RecordMoveIn,
    RecordMoveOut,
)
from juki.registry.identity_info import IDENTITY_FIELDS
from juki.registry.model import ChangeReason, RecordStatus, Relationship
from juki.registry.uow import SqlRegistryUnitOfWork
from support.backends import (
    SqlBackend,
    assert_projection_is_fold,
    counts,
    oplog_outcomes,
    outbox_payloads,
    outbox_types,
    sql_backend,
)
from support.residents import CLERK, CS, HOME, TODAY, family, get, history, move_in, person, seed


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql


# -- end to end ------------------------------------------------------------------------------


def test_move_in_creates_record_history_outbox_and_oplog(backend: SqlBackend) -> None:
    record = move_in(backend)
    assert record.is_active and record.relationship is Relationship.HOUSEHOLDER
    assert record.resident_since == date(2025, 3, 20)
    changes = history(backend, record.record_id)
    assert [h.change.reason for h in changes] == [ChangeReason.MOVE_IN]
    assert changes[0].actor_id == "clerk-1"
    assert outbox_types(backend) == ["identity_info_changed", "fuhyo_notice", "move_in_notice"]
    assert oplog_outcomes(backend)[0] == "ok"
    assert_projection_is_fold(backend)


def test_move_out_then_confirmation_keeps_the_planned_values(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    moved = svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut(
            record_ids=(head.record_id, wife.record_id, child.record_id),
            destination_address="神奈川県藤沢市鵠沼石上1丁目1番1号",
            planned_on=date(2025, 4, 10),
            notified_on=TODAY,
        ),
    )
    assert {r.status for r in moved} == {RecordStatus.REMOVED}
    confirm = ConfirmMoveOut(
        head.resident_code, "神奈川県藤沢市鵠沼石上1丁目1番2号", date(2025, 3, 31), TODAY
    )
    svc.confirm_move_out(backend.uow(), CS, confirm)
    latest = svc.confirm_move_out(
        backend.uow(), CS, dataclasses.replace(confirm, confirmed_on=TODAY)
    )
    assert latest.move_out_planned_address == "神奈川県藤沢市鵠沼石上1丁目1番1号"
    assert latest.move_out_confirmed_address == "神奈川県藤沢市鵠沼石上1丁目1番2号"
    assert latest.move_out_confirmed_on == TODAY
    reasons = [h.change.reason for h in history(backend, head.record_id)]
    assert reasons[-3:] == [
        ChangeReason.MOVE_OUT_PLANNED,
        ChangeReason.MOVE_OUT_CONFIRMED,
        ChangeReason.MOVE_OUT_CONFIRMED,
    ]
    assert_projection_is_fold(backend)


# -- what the database keeps -----------------------------------------------------------------


def test_name_with_ivs_survives_storage(backend: SqlBackend) -> None:
    name = "葛\U000e0102西"
    record = move_in(backend, person(family=name, family_kana="カサイ"))
    assert get(backend, record.record_id).family_name == name
    assert get(backend, record.record_id).family_name != "葛西"


class _BrokenOpLog:
    def append(self, entry: object) -> None:
        raise JukiError("oplog disk full")


class _UowWithBrokenLog(SqlRegistryUnitOfWork):
    def __enter__(self) -> _UowWithBrokenLog:
        super().__enter__()
        self.oplog = _BrokenOpLog()  # type: ignore[assignment]
        return self


def test_a_failed_oplog_write_rolls_the_change_back(backend: SqlBackend) -> None:
    move_in_cmd = RecordMoveIn(
        person=person(),
        origin=MoveInOrigin.ABROAD,
        address=HOME,
        moved_on=date(2025, 3, 20),
        notified_on=date(2025, 3, 25),
        previous_address="アメリカ合衆国",
        placement=NewHousehold(),
    )
    with pytest.raises(JukiError, match="oplog disk full"):
        svc.record_move_in(
            _UowWithBrokenLog(backend.engine, clock=backend.clock), CLERK, move_in_cmd
        )
    assert counts(backend) == dict.fromkeys(counts(backend), 0)


# identity_info v2's 旧氏 and 通称 (part of 氏名): the 附票 notice does not carry them
NAME_ADDITIONS = ("former_surname", "former_surname_kana", "alias_name", "alias_name_kana")


def test_outbox_carries_identity_info_only(backend: SqlBackend) -> None:
    """The registry's outbox is its whole interface to the CS: identity_info and notices."""
    family(backend)
    identity = set(IDENTITY_FIELDS) | {"lg_code", "change_reason", "changed_on"}
    allowed = {
        "identity_info_changed": {"identity"},
        # 転入通知 (法第9条第1項), with the four items the old municipality checks
        "move_in_notice": {
            "resident_code",
            "family_name",
            "given_name",
            "birth_date",
            "sex",
            "previous_address",
            "new_address",
            "moved_on",
            "notified_on",
            "from_lg_code",
            "to_lg_code",
        },
        # 附票記載事項通知 (法第19条) is the one notice that carries 本籍 and 筆頭者.
        "fuhyo_notice": (identity - {"my_number", "lg_code", *NAME_ADDITIONS})
        | {
            "honseki",
            "koseki_head",
            "address_since",
            "from_lg_code",
            "moved_abroad",  # 国外転出者である旨 (法第17条)
            "support_measure",  # 支援措置: 附票の写し refused to third parties
            "support_starts_on",  # …and its period, so the 本籍 knows when it lapses (v3)
            "support_ends_on",
            "abroad_country",  # the country of a 国外転出 (v4), passed on by 附票連携
        },
    }
    types = set(outbox_types(backend))
    assert types == set(allowed)
    for message_type, keys in allowed.items():
        for payload in outbox_payloads(backend, message_type):
            assert set(payload) == keys
    for payload in outbox_payloads(backend, "identity_info_changed"):
        assert set(payload["identity"]) == identity
