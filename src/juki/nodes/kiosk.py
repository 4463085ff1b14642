"""コンビニ交付 at the municipality's end of the relay: its kiosk key and its answers.

`MunicipalKiosk` holds the municipality's kiosk key (X25519, made in memory when the service
starts and never written anywhere: a restart makes a new one, announced afresh) and its
certificate desk. For the relay on the national node it

- answers `kiosk_key_request` with the key signed by this node's key (`KeyStatement`);
- answers `kiosk_request`: opens the request sealed to its key (bound to the request id, card
  serial and municipality the relay forwarded in clear), resolves the card serial to its own
  resident (`juki.cards.resident_for_card`: a card not working here is `not_at_kiosk`), asks
  the certificate desk (`CertificateDesk.answer_kiosk`) and seals the whole answer to the kiosk
  session's ephemeral key; only the outcome, kind, copies and fee go back in clear;
- answers `kiosk_offer_request` with what its kiosks offer now (`kiosk_offer`: kinds, fees,
  hours, open or why not; nothing personal), advice the relay passes to the kiosk before the
  customer chooses (the request is checked again when it comes);
- applies `kiosk_void`: a session that gave up (`abandon_kiosk_request`: the certificate is
  void, nothing charged) or a spoiled page (`record_kiosk_spoiled`), bound to request id + serial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pydantic
import sqlalchemy as sa
import structlog
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from juki.cards.services import resident_for_card
from juki.cards.store import SqlCardUnitOfWork
from juki.certificates.desk import CertificateDesk
from juki.certificates.kiosk.messages import KioskAnswer, KioskRequest
from juki.certificates.kiosk.model import RefusalCode
from juki.certificates.kiosk.services import (
    abandon_kiosk_request,
    kiosk_offer,
    record_kiosk_spoiled,
    relay_actor,
)
from juki.certificates.kiosk.store import SqlKioskUnitOfWork
from juki.core.errors import DomainRuleError, JukiError
from juki.kiosk.sealing import (
    TO_KIOSK,
    TO_MUNICIPALITY,
    SealError,
    b64,
    binding,
    key_statement_data,
    open_sealed,
    public_from_raw,
    raw_public,
    seal,
    unb64,
)
from juki.network import pki
from juki.network.envelope import Envelope
from juki.network.kiosk_messages import (
    KioskKeyResponse,
    KioskOfferAnswer,
    KioskOfferedKind,
    KioskRelayAnswer,
    KioskRelayRequest,
    KioskVoid,
)
from juki.nodes.queries import QueryRejected

if TYPE_CHECKING:
    from juki.nodes.municipality import MunicipalityNode

log = structlog.get_logger("juki.nodes.kiosk")


class MunicipalKiosk:
    def __init__(self, node: MunicipalityNode, desk: CertificateDesk) -> None:
        self.node = node
        self.desk = desk
        self._key = X25519PrivateKey.generate()
        self._statement: KioskKeyResponse | None = None

    def key_response(self) -> KioskKeyResponse:
        """The kiosk key as this node signs it: the key is fixed for the process, so it is
        signed once and the same statement answers every session."""
        if self._statement is None:
            node = self.node
            public = raw_public(self._key)
            signature = pki.sign(node.identity.key, key_statement_data(node.node_id, public))
            self._statement = KioskKeyResponse(
                lg_code=node.node_id,
                public_key=b64(public),
                signature=b64(signature),
                node_certificate=pki.cert_to_pem(node.identity.certificate).decode("ascii"),
            )
        return self._statement

    def _opened(self, q: KioskRelayRequest) -> KioskRequest:
        aad = binding(TO_MUNICIPALITY, q.request_id, q.card_serial, q.lg_code)
        try:
            inner = open_sealed(self._key, q.sealed_request, aad)
            request = KioskRequest.model_validate_json(inner)
        except (SealError, pydantic.ValidationError) as exc:
            raise QueryRejected("unreadable_request", type(exc).__name__) from exc
        if (request.request_id, request.card_serial, request.lg_code) != (
            q.request_id,
            q.card_serial,
            q.lg_code,
        ):
            raise QueryRejected("request_mismatch", "the sealed request is for another request")
        return request

    def answer(self, env: Envelope, q: KioskRelayRequest) -> KioskRelayAnswer:
        try:
            session = public_from_raw(unb64(q.session_key))
        except (SealError, ValueError) as exc:
            raise QueryRejected("bad_session_key", "not an X25519 public key") from exc
        request = self._opened(q)
        node = self.node
        try:
            holder = resident_for_card(
                SqlCardUnitOfWork(node.engine, clock=node.clock),
                node.system_actor(),
                q.card_serial,
            )
        except DomainRuleError as exc:
            log.info("kiosk: card not usable here", node=node.node_id, rule=exc.rule)
            answer = KioskAnswer.refused(request, RefusalCode.NOT_AT_KIOSK)
        else:
            try:
                answer = self.desk.answer_kiosk(relay_actor(env.sender), holder, request)
            except JukiError as exc:  # a certificate that could not be made is void already
                log.error("kiosk: not answered", node=node.node_id, error=type(exc).__name__)
                answer = KioskAnswer.refused(request, RefusalCode.NOT_AT_KIOSK)
        aad = binding(TO_KIOSK, q.request_id, q.card_serial, q.lg_code)
        sealed = seal(session, answer.model_dump_json().encode("utf-8"), aad)
        issued = answer.certificate if answer.outcome == "issued" else None
        try:
            return KioskRelayAnswer(
                request_id=q.request_id,
                card_serial=q.card_serial,
                lg_code=node.node_id,
                outcome=answer.outcome,
                kind=request.kind if issued else None,
                copies=issued.copies if issued else None,
                fee_yen=issued.fee_yen if issued else None,
                sealed_answer=sealed,
            )
        except pydantic.ValidationError as exc:  # too large for one envelope: never half-sent
            if issued is not None:
                uow = SqlKioskUnitOfWork(node.engine, clock=node.clock)
                abandon_kiosk_request(uow, relay_actor(env.sender), q.request_id, q.card_serial)
            raise QueryRejected("answer_too_large", f"{len(sealed)} characters sealed") from exc

    def offer(self, env: Envelope) -> KioskOfferAnswer:
        offer = kiosk_offer(self.desk.kiosk_uow(), relay_actor(env.sender))
        assert offer.opens is not None and offer.closes is not None  # always, from settings
        return KioskOfferAnswer.model_validate(
            {
                "lg_code": self.node.node_id,
                "status": offer.status.value,
                "kinds": [KioskOfferedKind(kind=k, fee_yen=fee) for k, fee in offer.fees],
                "opens": f"{offer.opens:%H:%M}",
                "closes": f"{offer.closes:%H:%M}",
            }
        )

    def void(self, conn: sa.Connection, env: Envelope, body: KioskVoid) -> None:
        node = self.node
        uow = SqlKioskUnitOfWork(node.engine, clock=node.clock, connection=conn)
        by = relay_actor(env.sender)
        if body.action == "abandon":
            abandon_kiosk_request(uow, by, body.request_id, body.card_serial)
        else:
            assert body.issue_number is not None  # the schema: a spoiled page names it
            record_kiosk_spoiled(uow, by, body.request_id, body.card_serial, body.issue_number)


def _kiosk_of(node: MunicipalityNode) -> MunicipalKiosk:
    if node.kiosk is None:
        raise QueryRejected("no_kiosk_service", f"{node.node_id} offers no コンビニ交付")
    return node.kiosk


def answer_key_request(node: MunicipalityNode, env: Envelope, body: Any) -> KioskKeyResponse:
    return _kiosk_of(node).key_response()


def answer_offer_request(node: MunicipalityNode, env: Envelope, body: Any) -> KioskOfferAnswer:
    return _kiosk_of(node).offer(env)


def answer_kiosk_request(node: MunicipalityNode, env: Envelope, body: Any) -> KioskRelayAnswer:
    return _kiosk_of(node).answer(env, body)


def on_kiosk_void(node: MunicipalityNode, conn: sa.Connection, env: Envelope, body: Any) -> None:
    if node.kiosk is None:
        raise DomainRuleError("lg_code", "no_kiosk_service", "no コンビニ交付 here", "対象外")
    node.kiosk.void(conn, env, body)
