"""The portal relay on the national node: a card holder's questions about themself.

The resident portal app (`juki portal serve`) calls it over mutual TLS with its registered
credential (`juki.nodes.portal_credential`). The relay

1. checks the card as the kiosk relay does (`CardVerifier`: a challenge issued here and used
   once, the card CA's certificate within its validity, not revoked or held, the signature by
   its key) and opens a session for that card serial only (`HolderSessions`: in memory, 15
   minutes, nothing of the person);
2. on each page the portal shows, asks afresh, as signed queries: the municipality that issued
   the card (the CA's ledger) — which resolves the serial to its own resident and answers with
   its copy and its records about them (`disclosure_request`) — then that municipality's
   prefecture, for the resident code the municipality gave (`identity_disclosure_request`), and
   reads its own copy and provisions; so what is shown is what each level holds at that moment,
   and nothing is gathered into a store;
3. carries the holder's 本人通知 registration and correction requests to the municipality
   (`portal_action_request`).

Every call is in the national oplog as the portal app (refusals too); each level's answer is in
that level's oplog as the relay (`portal_relay`).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from cryptography import x509

from juki.cards import ca_store
from juki.cards.verify import CardRefused, CardVerifier, ChallengeBook
from juki.core.errors import DomainRuleError
from juki.network.directory import NodeKind
from juki.network.disclosure_messages import (
    DISCLOSURE_ANSWER,
    IDENTITY_DISCLOSURE_ANSWER,
    PORTAL_ACTION_ANSWER,
    DisclosureAnswer,
    DisclosureRequest,
    IdentityDisclosureAnswer,
    IdentityDisclosureRequest,
    PortalActionAnswer,
    PortalActionRequest,
)
from juki.network.transport import QueryRefused, TransportError
from juki.nodes.disclosure import disclosed, holdings_of, portal_relay_actor, provisions_of
from juki.nodes.queries import AnswerRejected
from juki.portal.rules import HolderSession, HolderSessions
from juki.portal.wire import ActionOut, DisclosureOut, LevelOut, ProvisionOut
from juki.provision.tables import provision_agencies
from juki.security.actors import Actor

if TYPE_CHECKING:
    from juki.nodes.national import NationalNode

UNREACHABLE_JA: Final = "市区町村に接続できませんでした。しばらくしてからもう一度お試しください"


class PortalRefused(DomainRuleError):
    """The relay will not (or could not) answer; `rule` says why, `message_ja` for the screen."""

    def __init__(self, rule: str, message_en: str, message_ja: str, field: str = "card") -> None:
        super().__init__(field, rule, message_en, message_ja)


def _request_id() -> str:
    return secrets.token_urlsafe(32)


class PortalRelay:
    def __init__(self, node: NationalNode) -> None:
        if node.card_ca is None:
            raise RuntimeError("the portal relay needs the card CA on this node")
        self.node = node
        self.verifier = CardVerifier(
            node.card_ca.certificate, node.card_crl, ChallengeBook(node.clock.now), node.clock.now
        )
        self.sessions = HolderSessions(node.clock.now)

    def _log(self, app: Actor, action: str, target: str, outcome: str, detail: str = "") -> None:
        with self.node.engine.begin() as conn:
            self.node.log_operation(
                conn, app, action, target, "ok" if outcome == "ok" else "rejected", detail
            )

    def challenge(self) -> bytes:
        return self.verifier.challenges.issue()

    def login(
        self, app: Actor, certificate: x509.Certificate, challenge: bytes, signature: bytes
    ) -> tuple[str, HolderSession]:
        """The card holder signed the challenge with the card's 利用者証明用 key: a session for
        that card (its municipality working and connected), or a logged refusal."""
        try:
            serial = self.verifier.verify(certificate, challenge, signature)
        except CardRefused as exc:
            self._log(app, "portal_login", "card:-", "rejected", f"card refused: {exc.rule}")
            raise
        target = f"card:{serial}"
        with self.node.engine.connect() as conn:
            held = ca_store.holder(conn, serial, self.node.clock.now())
        if held is None or not held.live:
            self._log(app, "portal_login", target, "rejected", "card_unknown")
            raise PortalRefused(
                "card_unknown", "no live card of this serial", "このカードは利用できません"
            )
        self._check_connected(app, target, held.lg_code)
        token, session = self.sessions.open(serial, held.lg_code)
        self._log(app, "portal_login", target, "ok", f"municipality {held.lg_code}")
        return token, session

    def _check_connected(self, app: Actor, target: str, lg: str) -> None:
        directory = self.node.directory()
        entry = directory.get(lg)
        if entry is None or entry.kind is not NodeKind.MUNICIPALITY or not directory.is_active(lg):
            self._log(app, "portal_login", target, "rejected", f"{lg} not connected")
            raise PortalRefused(
                "municipality_disconnected", f"{lg} is not connected", UNREACHABLE_JA, "lg_code"
            )

    def end(self, app: Actor, token: str) -> bool:
        ended = self.sessions.end(token)
        self._log(app, "portal_logout", "session", "ok", "ended" if ended else "none open")
        return ended

    # -- the disclosure ------------------------------------------------------------------------

    def disclosure(self, app: Actor, token: str) -> DisclosureOut:
        session = self._session(app, token, "portal_disclosure")
        target = f"card:{session.card_serial}"
        lg = session.lg_code
        question = DisclosureRequest(
            request_id=_request_id(), card_serial=session.card_serial, lg_code=lg
        )
        answer: DisclosureAnswer = self._ask(app, target, lg, question, DISCLOSURE_ANSWER)
        if (answer.request_id, answer.card_serial, answer.lg_code) != (
            question.request_id,
            question.card_serial,
            lg,
        ):
            self._log(app, "portal_disclosure", target, "rejected", "answer for another request")
            raise PortalRefused(
                "answer_mismatch", "the answer is not for this request", UNREACHABLE_JA
            )
        code = answer.resident_code
        prefecture = self._prefecture(lg, code)
        national = self._national(code)
        levels = (
            LevelOut(level="municipality", node_id=lg, answered=True, holdings=answer.holdings),
            prefecture[0],
            LevelOut(
                level="national", node_id=self.node.node_id, answered=True, holdings=national[0]
            ),
        )
        self._log(app, "portal_disclosure", target, "ok", f"municipality {lg}")
        return DisclosureOut(
            asked_on=self.node.clock.today(),
            lg_code=lg,
            resident_code=code,
            self_notice_registered=answer.self_notice_registered,
            levels=levels,
            provisions=tuple(sorted(prefecture[1] + national[1], key=lambda p: p.at, reverse=True)),
            certificates=answer.certificates,
            views=answer.views,
            notices=answer.notices,
            truncated=answer.truncated,
            corrections=answer.corrections,
        )

    def _session(self, app: Actor, token: str, action: str) -> HolderSession:
        try:
            return self.sessions.holder(token)
        except DomainRuleError:
            self._log(app, action, "session", "rejected", "session_ended")
            raise

    def _ask(self, app: Actor, target: str, peer: str, question: Any, answer_type: str) -> Any:
        try:
            _q, _env, body = self.node.ask(peer, question, answer_type)
        except QueryRefused as exc:
            reason = exc.reply.reason
            self._log(app, "portal_query", target, "rejected", f"{peer} refused: {reason}")
            if reason in ("card_not_usable", "holder_not_resident"):
                raise PortalRefused(
                    reason,
                    f"{peer}: {reason}",
                    "このカードは利用できません。市区町村の窓口にお問い合わせください",
                ) from exc
            raise PortalRefused("refused", f"{peer} refused: {reason}", UNREACHABLE_JA) from exc
        except (TransportError, AnswerRejected) as exc:
            self._log(app, "portal_query", target, "rejected", f"{peer}: {type(exc).__name__}")
            raise PortalRefused("unreachable", f"{peer}: {exc}", UNREACHABLE_JA) from exc
        return body

    def _prefecture(self, lg: str, code: str) -> tuple[LevelOut, list[ProvisionOut]]:
        """The prefecture's copy and provisions; a prefecture that does not answer is shown
        as such (the rest is still shown)."""
        parent = self.node.directory().require(lg).parent
        if parent is None:
            return LevelOut(level="prefecture", node_id="-", answered=False), []
        question = IdentityDisclosureRequest(
            request_id=_request_id(), resident_code=code, lg_code=lg
        )
        try:
            _q, _env, body = self.node.ask(parent, question, IDENTITY_DISCLOSURE_ANSWER)
        except (QueryRefused, TransportError, AnswerRejected):
            return LevelOut(level="prefecture", node_id=parent, answered=False), []
        answer: IdentityDisclosureAnswer = body
        if (answer.request_id, answer.resident_code) != (question.request_id, code):
            return LevelOut(level="prefecture", node_id=parent, answered=False), []
        level = LevelOut(
            level="prefecture", node_id=parent, answered=True, holdings=answer.holdings
        )
        return level, self._named(list(answer.provisions))

    def _national(self, code: str) -> tuple[tuple[Any, ...], list[ProvisionOut]]:
        node = self.node

        def gather(conn: sa.Connection) -> tuple[tuple[Any, ...], list[Any]]:
            return holdings_of(conn, code), provisions_of(conn, node.node_id, code)

        holdings, provisions = disclosed(
            node, portal_relay_actor(node.node_id), f"resident_code:{code}", gather
        )
        return holdings, self._named(provisions)

    def _named(self, provisions: list[Any]) -> list[ProvisionOut]:
        with self.node.engine.connect() as conn:
            names = dict(
                conn.execute(sa.select(provision_agencies.c.agency_id, provision_agencies.c.name))
                .tuples()
                .all()
            )
        return [
            ProvisionOut(**p.model_dump(), agency_name=names.get(p.agency_id, p.agency_id))
            for p in provisions
        ]

    # -- the holder's requests -----------------------------------------------------------------

    def act(self, app: Actor, token: str, action: str, text: str | None) -> ActionOut:
        session = self._session(app, token, "portal_action")
        target = f"card:{session.card_serial}"
        try:
            question = PortalActionRequest(
                request_id=_request_id(),
                card_serial=session.card_serial,
                lg_code=session.lg_code,
                action=action,  # the wire body's Literal checked it (and the schema again)
                text=text,
            )
        except ValueError as exc:
            self._log(app, "portal_action", target, "rejected", "malformed")
            raise PortalRefused(
                "format", "a correction needs its text", "内容を入力してください", "text"
            ) from exc
        answer: PortalActionAnswer = self._ask(
            app, target, session.lg_code, question, PORTAL_ACTION_ANSWER
        )
        if answer.request_id != question.request_id:
            raise PortalRefused("answer_mismatch", "another request's answer", UNREACHABLE_JA)
        self._log(app, "portal_action", target, "ok", f"{action}: {answer.outcome}")
        return ActionOut(outcome=answer.outcome, rule=answer.rule, message_ja=answer.message_ja)
