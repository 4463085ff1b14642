"""The final checks are not vacuous: damage one thing in a finished network, and the check that
owns it says so (each tampering below breaks exactly what a bug in the node code would)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa

from juki.network.directory import NATIONAL_ID
from juki.network.tables import net_inbox
from juki.nodes.tables import (
    fuhyo_identity_changes,
    fuhyo_identity_copies,
    identity_changes,
    identity_copies,
)
from juki.registry.tables import fuhyo_entries, resident_records
from juki.security.tables import oplog, oplog_checkpoints
from juki.sim.cluster import Cluster
from juki.sim.invariants import FinalCheck
from juki.sim.runner import SimConfig, Simulation, run
from support.simulation import SMALL, WITHOUT_KIOSK

CONFIG = SimConfig(seed=2, **SMALL, **WITHOUT_KIOSK)


def _first(cluster: Cluster, node_id: str, stmt: sa.Select[Any]) -> Any:
    with cluster.node(node_id).engine.connect() as conn:
        row = conn.execute(stmt.limit(1)).first()
    assert row is not None, f"nothing to tamper with at {node_id}: {stmt}"
    return row


def _write(cluster: Cluster, node_id: str, stmt: Any) -> None:
    with cluster.node(node_id).engine.begin() as conn:
        assert conn.execute(stmt).rowcount == 1


def _muni(cluster: Cluster, i: int) -> str:
    return [n for n in cluster.order if cluster.specs[n].kind.value == "municipality"][i]


def _prefecture_copy_differs(c: Cluster) -> None:
    pref = c.specs[_muni(c, 0)].parent or ""
    code = _first(c, pref, sa.select(identity_copies.c.resident_code)).resident_code
    _write(
        c,
        pref,
        identity_copies.update()
        .where(identity_copies.c.resident_code == code)
        .values(family_name="改竄"),
    )


def _national_applied_a_change_twice(c: Cluster) -> None:
    row = _first(
        c,
        NATIONAL_ID,
        sa.select(identity_changes).order_by(identity_changes.c.change_id.desc()),
    )
    values = dict(row._mapping)
    del values["change_id"]
    values["message_id"] = "00000000-0000-7000-8000-00000000dup1"
    _write(c, NATIONAL_ID, identity_changes.insert().values(values))


def _the_dead_come_back(c: Cluster) -> None:
    r = resident_records.c
    for lg in [_muni(c, i) for i in range(4)]:
        with c.node(lg).engine.connect() as conn:
            dead = conn.execute(sa.select(r.record_id).where(r.removal_reason == "death")).first()
        if dead is not None:
            _write(
                c,
                lg,
                resident_records.update()
                .where(r.record_id == dead.record_id)
                .values(status="active", removal_reason=None),
            )
            return
    raise AssertionError("nobody died in this run")


def _an_inbox_row_is_lost(c: Cluster) -> None:
    row = _first(c, NATIONAL_ID, sa.select(net_inbox.c.message_id))
    _write(c, NATIONAL_ID, net_inbox.delete().where(net_inbox.c.message_id == row.message_id))


def _a_fuhyo_entry_is_lost(c: Cluster) -> None:
    for lg in [_muni(c, i) for i in range(4)]:
        with c.node(lg).engine.connect() as conn:
            row = conn.execute(sa.select(fuhyo_entries.c.entry_id)).first()
        if row is not None:
            _write(c, lg, fuhyo_entries.delete().where(fuhyo_entries.c.entry_id == row.entry_id))
            return
    raise AssertionError("no 附票 entry in this run")


def _a_fuhyo_link_copy_differs(c: Cluster) -> None:
    """National's copy of a 附票本人確認情報 says something the 附票 does not (附票連携)."""
    f = fuhyo_identity_copies.c
    row = _first(c, NATIONAL_ID, sa.select(f.lg_code, f.resident_code))
    _write(
        c,
        NATIONAL_ID,
        fuhyo_identity_copies.update()
        .where((f.lg_code == row.lg_code) & (f.resident_code == row.resident_code))
        .values(address="改竄"),
    )


def _a_fuhyo_link_change_is_applied_twice(c: Cluster) -> None:
    pref = c.specs[_muni(c, 0)].parent or ""
    h = fuhyo_identity_changes.c
    for node_id in (pref, NATIONAL_ID):
        with c.node(node_id).engine.connect() as conn:
            row = conn.execute(sa.select(fuhyo_identity_changes).order_by(h.change_id)).first()
        if row is not None:
            values = dict(row._mapping)
            del values["change_id"]
            values["message_id"] = "00000000-0000-7000-8000-00000000dup2"
            _write(c, node_id, fuhyo_identity_changes.insert().values(values))
            return
    raise AssertionError("no 附票本人確認情報 in this run")


def _a_confirmation_is_lost(c: Cluster) -> None:
    r = resident_records.c
    for lg in [_muni(c, i) for i in range(4)]:
        with c.node(lg).engine.connect() as conn:
            row = conn.execute(
                sa.select(r.record_id).where(r.move_out_confirmed_on.is_not(None))
            ).first()
        if row is not None:
            _write(
                c,
                lg,
                resident_records.update()
                .where(r.record_id == row.record_id)
                .values(move_out_confirmed_on=None, move_out_confirmed_address=None),
            )
            return
    raise AssertionError("no confirmed move-out in this run")


def _a_withdrawal_never_arrived(c: Cluster, truth: Any) -> None:
    """The simulator's record says it withdrew a card move-out whose destination holds nothing
    of it (the 転出証明書情報 and its `move_out_withdrawn` lost on the way)."""
    from juki.sim.population import WithdrawnCardMove

    origin, destination = _muni(c, 0), _muni(c, 1)
    r = resident_records.c
    with c.node(origin).engine.connect() as conn:
        code = conn.execute(
            sa.select(r.resident_code).where(r.status == "active").order_by(r.resident_code)
        ).scalar()
    assert code is not None
    truth.withdrawn_card_moves.append(
        WithdrawnCardMove(code, origin, destination, date(2025, 4, 9))
    )


def _two_people_share_a_number(c: Cluster) -> None:
    lg = _muni(c, 1)
    r = resident_records.c
    with c.node(lg).engine.connect() as conn:
        a, b = conn.execute(
            sa.select(r.record_id, r.my_number)
            .where(r.my_number.is_not(None) & (r.status == "active"))
            .order_by(r.record_id)
            .limit(2)
        ).all()
    _write(
        c,
        lg,
        resident_records.update().where(r.record_id == b.record_id).values(my_number=a.my_number),
    )


def _an_applied_message_was_forged(c: Cluster, truth: Any) -> None:
    """The simulator's record says a municipality forged a message its prefecture applied."""
    from juki.sim.faults import Forgery

    lg = _muni(c, 0)
    prefecture = c.specs[lg].parent
    assert prefecture is not None
    i = net_inbox.c
    with c.node(prefecture).engine.connect() as conn:
        row = conn.execute(
            sa.select(i.message_id, i.message_type).where(
                (i.sender == lg) & (i.outcome == "applied")
            )
        ).first()
    assert row is not None
    truth.forged[row.message_id] = Forgery(lg, prefecture, row.message_type)


def _a_retired_code_is_in_use(c: Cluster, truth: Any) -> None:
    """A registry kept using a code the person changed away from (法第30条の4): the simulator
    saw the change accepted, the network still holds the former code."""
    lg = _muni(c, 2)
    r = resident_records.c
    code = _first(c, lg, sa.select(r.resident_code).where(r.status == "active")).resident_code
    truth.change_code(code, "99999999995")


def _an_oplog_entry_is_rewritten(c: Cluster) -> None:
    lg = _muni(c, 2)
    row = _first(c, lg, sa.select(oplog.c.seq).order_by(oplog.c.seq.desc()))
    _write(c, lg, oplog.update().where(oplog.c.seq == row.seq).values(detail="rewritten"))


def _a_countersigned_checkpoint_is_lost(c: Cluster) -> None:
    lg = _muni(c, 3)
    parent = c.specs[lg].parent or ""
    cp = oplog_checkpoints.c
    row = _first(
        c, parent, sa.select(cp.checkpoint_id).where((cp.kind == "child") & (cp.node_id == lg))
    )
    _write(c, parent, oplog_checkpoints.delete().where(cp.checkpoint_id == row.checkpoint_id))


TAMPERING: dict[str, Callable[[Cluster], None]] = {
    "levels_agree": _prefecture_copy_differs,
    "resident_of_one_municipality": _the_dead_come_back,
    "messages_accounted": _an_inbox_row_is_lost,
    "fuhyo_matches_addresses": _a_fuhyo_entry_is_lost,
    "move_outs_end_confirmed": _a_confirmation_is_lost,
    "my_numbers_unique": _two_people_share_a_number,
    "oplog_chain": _an_oplog_entry_is_rewritten,
    "checkpoints_countersigned": _a_countersigned_checkpoint_is_lost,
    "fuhyo_link_agrees": _a_fuhyo_link_copy_differs,
}


def test_every_final_check_catches_the_damage_it_owns(monkeypatch: Any) -> None:
    found: dict[str, set[str]] = {}
    finish = Simulation._finish

    def finish_then_tamper(self: Simulation) -> bool:
        converged = finish(self)
        assert FinalCheck(self.cluster, self.truth, faults=False).run() == []
        before: set[str] = set()
        forged = ("forgeries_refused", lambda c: _an_applied_message_was_forged(c, self.truth))
        retired = (
            "retired_codes_never_reissued",
            lambda c: _a_retired_code_is_in_use(c, self.truth),
        )
        lost = (
            "card_withdrawals_reach_the_destination",
            lambda c: _a_withdrawal_never_arrived(c, self.truth),
        )
        for invariant, tamper in [
            *TAMPERING.items(),
            forged,
            retired,
            lost,
            ("twice", _national_applied_a_change_twice),
            ("fuhyo_twice", _a_fuhyo_link_change_is_applied_twice),
        ]:
            tamper(self.cluster)
            seen = FinalCheck(self.cluster, self.truth, faults=False).run()
            found[invariant] = {v.invariant for v in seen if v.detail not in before}
            before |= {v.detail for v in seen}
        return converged

    monkeypatch.setattr(Simulation, "_finish", finish_then_tamper)
    result = run(CONFIG)
    assert result["violations"] == []
    for invariant in [
        *TAMPERING,
        "forgeries_refused",
        "retired_codes_never_reissued",
        "card_withdrawals_reach_the_destination",
    ]:
        assert invariant in found[invariant], (invariant, found[invariant])
    assert found["twice"] == {"levels_agree"}  # the national history has one change too many
    assert found["fuhyo_twice"] == {"fuhyo_link_agrees"}
