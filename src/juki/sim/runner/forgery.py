"""The `forge` fault: a municipality's CS sends, validly signed, what it has no authority to send.

A node that is compromised, or misconfigured, holds a real key: its messages pass every check
of the signature. What stops it is the rule per message type (`juki.network.authority`). At
random times a municipality queues, in its own outbox, one of: another municipality's resident
as its own identity_info, alone or a run of them (`identity_info_changes`), a 住民票コード
allotment for another municipality, a 個人番号 request for another municipality's resident, a
転出取消 of a card-based move in another municipality's name (`move_out_withdrawn`). The
receiver must refuse each (`unauthorised`) and apply nothing; the sender keeps it as a dead
letter (`juki.sim.invariants.messages.forgeries_refused`).

The draws come from an rng of their own, taken from the run's only when forging is on, so runs
without it keep their seeded course.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Final

from juki.core.identifiers import ResidentCode
from juki.network import store
from juki.network.directory import NATIONAL_ID, NodeKind
from juki.network.envelope import uuid7
from juki.network.identity_runs import IdentityInfoChanges
from juki.network.messages import (
    CURRENT_VERSION,
    IdentityInfoBody,
    IdentityInfoChanged,
    MessageBody,
    MoveOutWithdrawn,
    MyNumberRequest,
    ResidentCodeAllotment,
    body_of,
    type_of,
)
from juki.registry.codes import random_code
from juki.sim.cluster import Cluster
from juki.sim.faults import Forgery
from juki.sim.trace import Trace

KINDS: Final = (
    "identity_of_another",
    "allotment",
    "my_number_of_another",
    "withdrawal_in_anothers_name",
    "run_of_another",
)


class Forger:
    def __init__(self, cluster: Cluster, trace: Trace, rng: random.Random) -> None:
        self.cluster = cluster
        self.trace = trace
        self.rng = rng
        self.forged: dict[str, Forgery] = {}  # message id → what was forged

    def forge(self, now: datetime) -> None:
        """Queue one forged message at an up municipality (whose CS then sends it as usual)."""
        municipalities = [
            n
            for n in self.cluster.order
            if self.cluster.specs[n].kind is NodeKind.MUNICIPALITY and self.cluster.up(n)
        ]
        if len(municipalities) < 2:
            return
        sender, victim = self.rng.sample(municipalities, 2)
        kind = KINDS[self.rng.randrange(len(KINDS))]
        peer, message = self._message(kind, sender, victim, now.date())
        if peer is None:
            return
        node = self.cluster.node(sender)
        message_id = uuid7(now, self.rng)
        name = type_of(message)
        with node.engine.begin() as conn:
            store.enqueue(
                conn,
                peer=peer,
                message_type=name,
                schema_version=CURRENT_VERSION[name],
                body=body_of(message),
                message_id=message_id,
                now=now,
            )
        self.forged[message_id] = Forgery(sender, peer, name)
        self.trace.add(
            now,
            f"{sender} forges {name} ({kind}, about {victim}) to {peer}",
            [f"node:{sender}", f"msg:{message_id}"],
        )

    def _message(
        self, kind: str, sender: str, victim: str, today: date
    ) -> tuple[str | None, MessageBody]:
        if kind == "allotment":
            codes = sorted({random_code(self.rng) for _ in range(100)})
            return victim, ResidentCodeAllotment(lg_code=victim, codes=codes)
        code = ResidentCode.complete(f"{self.rng.randrange(10**9, 10**10):010d}").value
        if kind == "my_number_of_another":
            return NATIONAL_ID, MyNumberRequest(resident_code=code, lg_code=victim)
        if kind == "withdrawal_in_anothers_name":
            return victim, MoveOutWithdrawn(
                resident_code=code,
                planned_on=today,
                withdrawn_on=today,
                reason="move_out_withdrawn",
                from_lg_code=victim,  # as if the victim had recorded the move-out
                to_lg_code=victim,
            )
        parent = self.cluster.specs[sender].parent
        if kind == "run_of_another":
            other = ResidentCode.complete(f"{self.rng.randrange(10**9, 10**10):010d}").value
            run = [self._identity(victim, c, today) for c in (code, other)]
            return parent, IdentityInfoChanges(lg_code=victim, changes=run)
        return parent, IdentityInfoChanged(identity=self._identity(victim, code, today))

    def _identity(self, victim: str, code: str, today: date) -> IdentityInfoBody:
        """A resident of `victim`'s, as a forger would report one."""
        return IdentityInfoBody(
            resident_code=code,
            my_number=None,
            family_name="偽造",
            given_name="太郎",
            family_name_kana="ギゾウ",
            given_name_kana="タロウ",
            birth_date=date(1980, 1, 1),
            sex="male",
            address=f"{self.cluster.specs[victim].name}1番地",
            status="active",
            lg_code=victim,
            change_reason="move_in",
            changed_on=today,
        )
