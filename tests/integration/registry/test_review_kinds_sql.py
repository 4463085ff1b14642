"""The changes reviewed besides the life events (ADR 0007, "What is reviewed"), on SQLite and
PostgreSQL: 転出取消, 異動取消, 通称の記載/削除 and 住民票コードの変更.
Entered, each applies nothing — no record, no
history, no household, nothing in the outbox, the same 住民票の写し — until a supervisor other
than its clerk approves it; then its own service applies it, with both names in the history.

The machinery itself (locks, rejection, conflicts) is tested once, on a relocation, in
test_review_sql.py; the commands' round trip in tests/unit/registry/review.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date

import pytest

from juki.certificates.content import build_content
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateContent,
    CertificateKind,
    OptionalItem,
)
from juki.certificates.model import CertificateRequest as Req
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.core.errors import StateConflictError
from juki.registry import services as svc
from juki.registry.codes import random_code
from juki.registry.commands import (
    CancelChanges,
    ChangeResidentCode,
    DeleteAlias,
    ForeignItems,
    RecordAlias,
    RecordMoveOut,
    RecordRelocation,
    WithdrawMoveOut,
)
from juki.registry.model import ForeignResidentCategory, RecordStatus
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS
from juki.registry.review.model import ChangeStatus, ReviewPolicy
from juki.registry.review.rules import SelfApprovalRefused
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.backends import SqlBackend, assert_projection_is_fold, snapshot, sql_backend
from support.residents import (
    CLERK,
    PREFIX,
    SUPERVISOR,
    TODAY,
    family,
    get,
    history,
    move_in,
    person,
    seed,
)

SUPERVISOR_2 = Actor("super-2", Role.REGISTRY_SUPERVISOR, "T04")
APPLIED = ("resident_records", "record_changes", "households", "outbox")


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql
        assert_projection_is_fold(sql)


def certificate(backend: SqlBackend, resident_code: str) -> CertificateContent:
    """The 住民票の写し of the whole household, as the desk would build it now."""
    with SqlCertificateUnitOfWork(backend.engine, clock=backend.clock) as uow:
        read = uow.certificates.snapshot(
            resident_code,
            removed=False,
            with_seal=False,
            municipality=uow.municipality,
            read_at=backend.clock.now(),
        )
    items = frozenset({OptionalItem.RESIDENT_CODE})  # so a new code would show
    req = Req(CertificateKind.RESIDENCE, resident_code, members=ALL_MEMBERS, items=items)
    return build_content(req, read)


def entered_and_approved(
    backend: SqlBackend, by: Actor, kind: str, cmd: object, resident_code: str
) -> tuple[str, ...]:
    """Enter `cmd` as `by`; check it applied nothing; approve it as SUPERVISOR_2."""
    before, shown = snapshot(backend), certificate(backend, resident_code)
    change = review.enter_change(backend.uow(), by, KINDS[kind], cmd, policy=ReviewPolicy())
    after = snapshot(backend)
    for table in APPLIED:
        assert after[table] == before[table], (kind, table)
    assert certificate(backend, resident_code) == shown
    assert change.status is ChangeStatus.PENDING
    approved = review.approve_change(backend.uow(), SUPERVISOR_2, change.change_id)
    assert approved.status is ChangeStatus.APPROVED
    assert backend.rows("edit_locks") == []
    return approved.records


def test_a_move_out_withdrawal_waits_for_its_approval(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    ids = (head.record_id, wife.record_id, child.record_id)
    moved = RecordMoveOut(ids, "神奈川県藤沢市鵠沼石上1丁目1番1号", date(2025, 4, 10), TODAY)
    svc.record_move_out(backend.uow(), CLERK, moved)
    queued = len(backend.rows("outbox"))
    cmd = WithdrawMoveOut(ids, "転勤の取りやめ", TODAY)
    records = entered_and_approved(backend, CLERK, "move-out-withdrawal", cmd, head.resident_code)
    assert set(records) == set(ids)
    assert get(backend, head.record_id).status is RecordStatus.ACTIVE
    assert get(backend, head.record_id).move_out_planned_on is None
    last = history(backend, head.record_id)[-1]
    assert (last.actor_id, last.approved_by, last.change.note) == (
        "clerk-1",
        "super-2",
        "転勤の取りやめ",
    )
    assert len(backend.rows("outbox")) > queued  # the CS hears of it only now


def test_a_change_cancellation_waits_for_another_supervisor(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    ids = (head.record_id, wife.record_id, child.record_id)
    relocated = RecordRelocation(ids, f"{PREFIX}平尾3丁目1番1号", TODAY, TODAY)
    svc.record_relocation(backend.uow(), CLERK, relocated)
    # 異動取消 is a supervisor's: entered by one, it is approved by another, never by them
    cmd = CancelChanges(ids, "住所の誤記載")
    change = review.enter_change(
        backend.uow(), SUPERVISOR, KINDS["change-cancellation"], cmd, policy=ReviewPolicy()
    )
    with pytest.raises(SelfApprovalRefused):
        review.approve_change(backend.uow(), SUPERVISOR, change.change_id)
    review.withdraw_change(backend.uow(), SUPERVISOR, change.change_id)
    records = entered_and_approved(
        backend, SUPERVISOR, "change-cancellation", cmd, head.resident_code
    )
    assert set(records) == set(ids)
    assert get(backend, head.record_id).address == head.address
    last = history(backend, head.record_id)[-1]
    assert (last.actor_id, last.approved_by) == ("super-1", "super-2")
    assert last.change.note.startswith("住所の誤記載")


def test_an_alias_and_its_deletion_wait_for_their_approval(backend: SqlBackend) -> None:
    smith = move_in(
        backend,
        person(
            "SMITH",
            "JOHN",
            "スミス",
            "ジョン",
            date(1985, 3, 2),
            honseki=None,
            koseki_head=None,
            foreign=ForeignItems(
                nationality="アメリカ合衆国",
                category=ForeignResidentCategory.MID_LONG_TERM,
                residence_status="技術・人文知識・国際業務",
            ),
        ),
    )
    code = smith.resident_code
    cmd = RecordAlias(smith.record_id, "山田　ジョン", "ヤマダ　ジョン", TODAY, TODAY)
    assert entered_and_approved(backend, CLERK, "alias", cmd, code) == (smith.record_id,)
    assert get(backend, smith.record_id).alias_name == "山田　ジョン"
    gone = DeleteAlias(smith.record_id, TODAY, TODAY)
    assert entered_and_approved(backend, CLERK, "alias-deletion", gone, code) == (smith.record_id,)
    assert get(backend, smith.record_id).alias_name is None
    assert [h.approved_by for h in history(backend, smith.record_id)[-2:]] == ["super-2"] * 2


def test_a_resident_code_change_waits_and_its_notice_follows_the_approval(
    backend: SqlBackend,
) -> None:
    """法第30条の4: no new code on any certificate, no `resident_code_changed` for the CS and no
    住民票コード通知 until another supervisor approves; then all three."""
    head, _wife, _child = family(backend)
    backend.add_pool([random_code(random.Random(11))])
    cmd = ChangeResidentCode(head.record_id, "本人からの変更請求", TODAY)
    change = review.enter_change(
        backend.uow(), CLERK, KINDS["resident-code-change"], cmd, policy=ReviewPolicy()
    )
    with pytest.raises(StateConflictError):  # no notice before the 本登録
        review.resident_code_notice(backend.uow(), CLERK, change.change_id)
    review.withdraw_change(backend.uow(), CLERK, change.change_id)
    entered_and_approved(backend, CLERK, "resident-code-change", cmd, head.resident_code)
    new = get(backend, head.record_id).resident_code
    assert new != head.resident_code
    assert backend.rows("outbox")[-1]["message_type"] == "resident_code_changed"
    approved = review.list_changes(backend.uow(), CLERK, ChangeStatus.APPROVED)[-1]
    record_id, notice = review.resident_code_notice(backend.uow(), CLERK, approved.change_id)
    assert (record_id, notice.resident_code) == (head.record_id, new)
    assert history(backend, head.record_id)[-1].approved_by == "super-2"
