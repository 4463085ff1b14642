"""What each level answers the portal relay about one card holder (docs/portal.md).

- The card's municipality (`answer_disclosure`): resolves the serial to its own resident (a
  working card only, `resident_for_card`) and gathers, in one transaction with its oplog entry
  (`disclose_to_holder`, by the relay): its CS's copy of their identity_info; every certificate
  about them issued here (counter, kiosk, for a third party) and every 広域交付 content it gave
  another municipality's counter; every operator's view of their record (role and
  municipality, never the operator); the 本人通知 due to them and whether they are registered.
  A 支援措置 protecting them changes nothing here: it hides them from others, not from themself.
  It hides them from the rest of their household: a view of the household (which shows the
  protected person) is left out of every other member's answer.
- The prefecture (`answer_identity_disclosure`): its copy, and its provisions to agencies.
- National (`national_part`): its copy, and its provisions to agencies.

Nothing is kept: the question's only trace is its oplog entry at each node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final, TypeVar

import sqlalchemy as sa

from juki.cards.services import resident_for_card
from juki.cards.store import SqlCardUnitOfWork
from juki.certificates.tables import (
    certificate_register,
    certificates,
    self_notice_registrations,
    self_notices,
    wide_area_requests,
)
from juki.core.errors import DomainRuleError
from juki.network.disclosure_messages import (
    MAX_ENTRIES,
    DisclosedCertificate,
    DisclosedCorrection,
    DisclosedNotice,
    DisclosedProvision,
    DisclosedView,
    DisclosureAnswer,
    DisclosureRequest,
    IdentityDisclosureAnswer,
    IdentityDisclosureRequest,
)
from juki.network.envelope import Envelope
from juki.network.messages import IdentityInfoBody
from juki.nodes.node import Node
from juki.nodes.queries import QueryRejected
from juki.nodes.tables import identity_copies
from juki.portal.rules import VIEW_ACTIONS, is_operator_view
from juki.provision.tables import provision_records
from juki.registry.corrections import for_resident as corrections_for
from juki.registry.support.model import protected_records
from juki.registry.support.store import measures_for_records
from juki.registry.tables import resident_records
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from juki.nodes.municipality import MunicipalityNode

PORTAL_TERMINAL: Final = "portal"
T = TypeVar("T")
_IDENTITY_FIELDS: Final = tuple(IdentityInfoBody.model_fields)


def portal_relay_actor(relay_node_id: str) -> Actor:
    """The national portal relay acting here for a card holder it authenticated."""
    return Actor(f"portal:{relay_node_id}"[:64], Role.PORTAL_RELAY, PORTAL_TERMINAL)


def disclosed(node: Node, by: Actor, target: str, gather: Callable[[sa.Connection], T]) -> T:
    """Gather under the relay's permission, with this node's oplog entry in the same
    transaction (a refusal is logged too). The entry says the person's own 個人番号 was shown."""
    uow = SqlUnitOfWork(node.engine, clock=node.clock)
    return perform(
        uow,
        by,
        Permission.DISCLOSE_TO_HOLDER,
        target,
        lambda u: gather(u.connection),
        describe=lambda _r: "disclosed to the card holder",
        shows_my_number=lambda _r: True,
    )


def holdings_of(conn: sa.Connection, resident_code: str) -> tuple[IdentityInfoBody, ...]:
    c = identity_copies.c
    rows = conn.execute(
        sa.select(identity_copies).where(c.resident_code == resident_code).order_by(c.lg_code)
    ).mappings()
    return tuple(IdentityInfoBody.model_validate({k: r[k] for k in _IDENTITY_FIELDS}) for r in rows)


def provisions_of(
    conn: sa.Connection, node_id: str, resident_code: str
) -> list[DisclosedProvision]:
    p = provision_records.c
    rows = conn.execute(
        sa.select(provision_records)
        .where((p.resident_code == resident_code) & (p.outcome == "provided"))
        .order_by(p.at.desc(), p.record_id.desc())
        .limit(MAX_ENTRIES)
    ).mappings()
    return [
        DisclosedProvision(
            at=_stamp(r["at"]),
            node_id=node_id,
            agency_id=r["agency_id"],
            task_ref=r["task_ref"],
            purpose=r["purpose"],
            items=r["items"],
            as_of=r["as_of"],
        )
        for r in rows
    ]


def _stamp(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


# -- the card's municipality --------------------------------------------------------------------


def holder_here(node: MunicipalityNode, card_serial: str) -> str:
    """The resident code of this working card's holder, a resident here; else the query is
    refused (`card_not_usable`, `holder_not_resident`)."""
    try:
        return resident_for_card(
            SqlCardUnitOfWork(node.engine, clock=node.clock), node.system_actor(), card_serial
        )
    except DomainRuleError as exc:
        raise QueryRejected(exc.rule, exc.message_en) from exc


def answer_disclosure(node: MunicipalityNode, env: Envelope, body: Any) -> DisclosureAnswer:
    q: DisclosureRequest = body
    code = holder_here(node, q.card_serial)

    def gather(conn: sa.Connection) -> DisclosureAnswer:
        records = conn.execute(
            sa.select(resident_records.c.record_id, resident_records.c.household_id).where(
                resident_records.c.resident_code == code
            )
        ).all()
        record_ids = [r.record_id for r in records]
        households = [r.household_id for r in records]
        if _another_protected(conn, record_ids, households, node.clock.today()):
            households = []  # a view of the household may be of them: not the holder's to see
        certs = _certificates(conn, node.node_id, code)
        views = _views(conn, node.node_id, record_ids, households)
        notices = _notices(conn, code)
        return DisclosureAnswer(
            request_id=q.request_id,
            card_serial=q.card_serial,
            lg_code=node.node_id,
            resident_code=code,
            holdings=holdings_of(conn, code),
            certificates=tuple(certs[:MAX_ENTRIES]),
            views=tuple(views[:MAX_ENTRIES]),
            notices=tuple(notices[:MAX_ENTRIES]),
            self_notice_registered=_registered(conn, code),
            truncated=max(len(certs), len(views), len(notices)) > MAX_ENTRIES,
            corrections=_corrections(conn, code),
        )

    return disclosed(node, portal_relay_actor(env.sender), f"card:{q.card_serial}", gather)


def _corrections(conn: sa.Connection, code: str) -> tuple[DisclosedCorrection, ...]:
    return tuple(
        DisclosedCorrection(
            filed_at=r.filed_at, status=r.status, decided_at=r.handled_at, reason=r.decision_reason
        )
        for r in corrections_for(conn, code, MAX_ENTRIES)
    )


def _another_protected(
    conn: sa.Connection, record_ids: Sequence[str], household_ids: Sequence[str], day: date
) -> bool:
    """Whether someone else in the holder's household is under a 支援措置 in force `day`:
    then an operator's view of the household (which shows them) is theirs, not the holder's,
    and is left out; the protected person themself sees it, as everything of theirs."""
    if not household_ids:
        return False
    rr = resident_records.c
    others = conn.execute(
        sa.select(rr.record_id).where(
            rr.household_id.in_(household_ids) & rr.record_id.not_in(record_ids)
        )
    ).scalars()
    return bool(protected_records(measures_for_records(conn, list(others)), day))


def _certificates(conn: sa.Connection, lg: str, code: str) -> list[DisclosedCertificate]:
    r, c = certificate_register.c, certificates.c
    issued = conn.execute(
        sa.select(r.at, r.lg_code, r.kind, r.requester, r.copies, c.channel)
        .join(certificates, c.certificate_id == r.certificate_id)
        .where((r.subject_resident_code == code) & (r.event == "issued"))
        .order_by(r.at.desc())
        .limit(MAX_ENTRIES + 1)
    ).all()
    out = [
        DisclosedCertificate(
            at=_stamp(i.at),
            issued_by=i.lg_code,
            kind=i.kind,
            channel=i.channel,
            requester=i.requester,
            copies=i.copies,
        )
        for i in issued
        if i.lg_code == lg  # a 広域交付 copy issued here for another town's resident is theirs
    ]
    w = wide_area_requests.c
    answered = conn.execute(
        sa.select(w.at, w.requesting_lg_code)
        .where((w.subject_resident_code == code) & (w.outcome == "answered"))
        .order_by(w.at.desc())
        .limit(MAX_ENTRIES + 1)
    ).all()
    out += [
        DisclosedCertificate(
            at=_stamp(a.at),
            issued_by=a.requesting_lg_code,
            kind="residence",
            channel="wide_area",
            requester="self",
            copies=0,  # the other municipality's counter knows the copies; it told us no more
        )
        for a in answered
    ]
    return sorted(out, key=lambda d: d.at, reverse=True)


def _views(
    conn: sa.Connection, lg: str, record_ids: Sequence[str], household_ids: Sequence[str]
) -> list[DisclosedView]:
    targets = [f"record:{r}" for r in record_ids] + [f"household:{h}" for h in household_ids]
    if not targets:
        return []
    o = oplog.c
    rows = conn.execute(
        sa.select(o.at, o.role, o.action)
        .where(o.target.in_(targets) & o.action.in_(sorted(VIEW_ACTIONS)) & (o.outcome == "ok"))
        .order_by(o.seq.desc())
        .limit(4 * MAX_ENTRIES)
    ).all()
    return [
        DisclosedView(at=_stamp(v.at), lg_code=lg, role=v.role, action=v.action)
        for v in rows
        if is_operator_view(v.role, v.action)
    ]


def _notices(conn: sa.Connection, code: str) -> list[DisclosedNotice]:
    n = self_notices.c
    rows = conn.execute(
        sa.select(n.issued_on, n.kind, n.copies, n.basis)
        .where(n.resident_code == code)
        .order_by(n.created_at.desc())
        .limit(MAX_ENTRIES + 1)
    ).all()
    return [
        DisclosedNotice(issued_on=x.issued_on, kind=x.kind, copies=x.copies, basis=x.basis)
        for x in rows
    ]


def _registered(conn: sa.Connection, code: str) -> bool:
    s = self_notice_registrations.c
    found = conn.execute(
        sa.select(s.registration_id).where((s.resident_code == code) & s.withdrawn_at.is_(None))
    ).first()
    return found is not None


# -- the prefecture -----------------------------------------------------------------------------


def answer_identity_disclosure(node: Node, env: Envelope, body: Any) -> IdentityDisclosureAnswer:
    q: IdentityDisclosureRequest = body

    def gather(conn: sa.Connection) -> IdentityDisclosureAnswer:
        provisions = provisions_of(conn, node.node_id, q.resident_code)
        return IdentityDisclosureAnswer(
            request_id=q.request_id,
            resident_code=q.resident_code,
            node_id=node.node_id,
            holdings=holdings_of(conn, q.resident_code),
            provisions=tuple(provisions),
            truncated=len(provisions) >= MAX_ENTRIES,
        )

    target = f"resident_code:{q.resident_code}"
    return disclosed(node, portal_relay_actor(env.sender), target, gather)
