"""What a card holder asks their municipality through the portal (docs/portal.md): to be told
when a third party obtains a certificate about them (本人通知: register or withdraw, the
counter's own services), or to have their record corrected (訂正の申出: kept in
`correction_requests` for the counter, `juki portal corrections`). The relay checked the card;
the municipality resolves it to its own resident and acts as the relay (`portal_relay`), each
action in its oplog, refusals too."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from juki.certificates.services.self_notice import register_self_notice, withdraw_self_notice
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.core.errors import RuleViolation
from juki.network.disclosure_messages import PortalActionAnswer, PortalActionRequest
from juki.network.envelope import Envelope
from juki.nodes.disclosure import holder_here, portal_relay_actor
from juki.portal.rules import check_correction
from juki.portal.tables import correction_requests
from juki.registry.corrections import open_requests
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission
from juki.security.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from juki.nodes.municipality import MunicipalityNode


def answer_portal_action(node: MunicipalityNode, env: Envelope, body: Any) -> PortalActionAnswer:
    q: PortalActionRequest = body
    code = holder_here(node, q.card_serial)
    by = portal_relay_actor(env.sender)
    try:
        if q.action == "correction":
            assert q.text is not None  # the schema: a correction says what is wrong
            file_correction(node, by, q, code)
        else:
            uow = SqlCertificateUnitOfWork(node.engine, clock=node.clock)
            if q.action == "register_self_notice":
                register_self_notice(uow, by, code)
            else:
                withdraw_self_notice(uow, by, code)
    except RuleViolation as exc:
        return PortalActionAnswer(
            request_id=q.request_id,
            card_serial=q.card_serial,
            lg_code=node.node_id,
            outcome="refused",
            rule=exc.rule if exc.rule.replace("_", "").isalpha() else "refused",
            message_ja=exc.message_ja[:200],
        )
    return PortalActionAnswer(
        request_id=q.request_id, card_serial=q.card_serial, lg_code=node.node_id, outcome="done"
    )


def file_correction(node: MunicipalityNode, by: Actor, q: PortalActionRequest, code: str) -> None:
    def run(u: SqlUnitOfWork) -> None:
        text = check_correction(q.text or "")  # a refusal is logged as rejected
        u.connection.execute(
            correction_requests.insert().values(
                request_id=q.request_id,
                filed_at=node.clock.now().isoformat(),
                resident_code=code,
                card_serial=q.card_serial,
                text=text,
                status="open",
            )
        )

    perform(
        SqlUnitOfWork(node.engine, clock=node.clock),
        by,
        Permission.FILE_CORRECTION_REQUEST,
        f"resident_code:{code}",
        run,
        describe=lambda _r: f"correction request {q.request_id[:12]}",
    )


def list_corrections(engine: sa.Engine, by: Actor, limit: int = 200) -> list[dict[str, Any]]:
    """The counter's queue: the open requests, oldest first (a reading of personal data:
    `view_record`, in the oplog; `juki.registry.corrections`, as the terminal's screen reads it)."""
    found = open_requests(SqlUnitOfWork(engine), by, limit)
    return [asdict(r) for r in found]
