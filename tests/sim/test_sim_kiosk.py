"""コンビニ交付 in the simulator: the invariant that every printed page names its card holder is
not vacuous. A municipality whose certificate server answers a card with another resident's
certificate (the 2023 failure: someone else's residence certificate at the store) is caught.

The invariants holding under every fault class are checked by CI's `all` preset run
(`tests/sim/test_sim_presets.py`, with `support.simulation.KIOSK`); this file breaks the code on
purpose, in a one-day run."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from juki.cards import services as card_services
from juki.cards.store import SqlCardUnitOfWork
from juki.nodes import kiosk as municipal_kiosk
from juki.registry.tables import resident_records
from juki.security.actors import Actor
from juki.sim.runner import SimConfig, run
from support.simulation import SMALL

_real = card_services.resident_for_card


def _someone_else(uow: SqlCardUnitOfWork, by: Actor, card_serial: str) -> str:
    """The card's holder resolved right, then swapped for a resident of another household."""
    holder = _real(uow, by, card_serial)
    r = resident_records.c
    with uow.engine.connect() as conn:
        household = conn.execute(
            sa.select(r.household_id).where(r.resident_code == holder).limit(1)
        ).scalar_one()
        other = conn.execute(
            sa.select(r.resident_code)
            .where((r.status == "active") & (r.household_id != household))
            .order_by(r.resident_code)
            .limit(1)
        ).scalar_one_or_none()
    return other or holder


def test_a_municipality_answering_with_another_residents_certificate_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(municipal_kiosk, "resident_for_card", _someone_else)
    config = SMALL | {"days": 1, "kiosk_scale": 90.0}  # a few sessions on day one
    result: dict[str, Any] = run(SimConfig(seed=2, faults="none", **config))
    assert result["kiosk"]["printed"] > 0
    wrong = [v for v in result["violations"] if v["invariant"] == "kiosk_pages_name_the_holder"]
    assert wrong, [v["invariant"] for v in result["violations"]]
    assert "the holder was" in wrong[0]["detail"]
    assert any("card SIM-" in line for line in wrong[0]["trail"])
