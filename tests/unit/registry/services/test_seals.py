"""印鑑登録 (`juki.registry.services.seals`), and the seals life events abolish, on the fake."""

from __future__ import annotations

import pytest

from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.registry import services as svc
from juki.registry.commands import AbolishSeal, RecordDeath, RecordMoveOut, RegisterSeal
from juki.registry.seal import SealStatus
from support.backends import FakeBackend, refused
from support.residents import CLERK, TODAY, family, move_in, png


def test_seal_register_abolish_and_rules(backend: FakeBackend) -> None:
    head, _, child = family(backend)
    seal = svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, png(), TODAY))
    assert seal.is_live and seal.registration_number == "00000001"
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, png(80), TODAY))
    assert err.value.rule == "one_seal"
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.register_seal(backend.uow(), CLERK, RegisterSeal(child.record_id, png(), TODAY))
    assert err.value.rule == "seal_min_age"
    with refused(backend), pytest.raises(ValidationError) as verr:
        svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, b"GIF89a....", TODAY))
    assert (verr.value.field, verr.value.rule) == ("image_png", "png")
    gone = svc.abolish_seal(
        backend.uow(), CLERK, AbolishSeal(seal.registration_number, TODAY, "紛失")
    )
    assert gone.status is SealStatus.ABOLISHED and gone.abolish_reason == "紛失"
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.abolish_seal(backend.uow(), CLERK, AbolishSeal(seal.registration_number, TODAY, "x"))
    assert err.value.rule == "already_abolished"
    again = svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, png(80), TODAY))
    # Refused registrations drew no number: the register stays gap-free.
    assert again.registration_number == "00000002"
    assert svc.live_seal(backend.uow(), CLERK, head.record_id) == again


def test_abolishing_an_unknown_seal_is_not_found(backend: FakeBackend) -> None:
    with refused(backend), pytest.raises(NotFoundError):
        svc.abolish_seal(backend.uow(), CLERK, AbolishSeal("00000099", TODAY, "紛失"))


def test_death_abolishes_the_live_seal(backend: FakeBackend) -> None:
    head = move_in(backend)
    seal = svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, png(), TODAY))
    svc.record_death(backend.uow(), CLERK, RecordDeath(head.record_id, TODAY, TODAY))
    assert svc.live_seal(backend.uow(), CLERK, head.record_id) is None
    (row,) = backend.rows("seal_registrations")
    assert (row["registration_number"], row["status"]) == (seal.registration_number, "abolished")
    assert (row["abolished_on"], row["abolish_reason"]) == (TODAY, "死亡")


def test_move_out_abolishes_the_live_seal(backend: FakeBackend) -> None:
    head = move_in(backend)
    svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, png(), TODAY))
    svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut((head.record_id,), "神奈川県藤沢市鵠沼石上1丁目1番1号", TODAY, TODAY),
    )
    assert svc.live_seal(backend.uow(), CLERK, head.record_id) is None
    (row,) = backend.rows("seal_registrations")
    assert row["abolish_reason"] == "転出予定"
