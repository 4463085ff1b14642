"""The card CA on the national node, and how a municipality reaches it.

National (`answer_card_request`): answers a municipality's `card_certificate_request` — certify
a card's keys for one of that municipality's active residents (the signing certificate's
基本4情報 from the national identity index), revoke a card's certificates, or say whose card a
serial is — as a signed `card_certificate_response`. `revoke_on_identity_change` is called
where the national node applies identity_info (`NationalNode._on_identity`): a change of name,
address, birth date or sex revokes the signing certificate; death, a move abroad or removal
revokes both.

Municipality (`NetworkCertifier`, the cards' `CardCertifier` port): asks national and binds the
answer to its question, turning every failure into `CertifierRefused` naming the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from juki.cards import ca_store
from juki.cards.ca import CardAuthority, SigningItems
from juki.cards.model import KeyKind, revocations_for
from juki.cards.ports import CardHolder, CertificationRequest, IssuedCertificates
from juki.cards.tables import card_certificates
from juki.core.errors import DomainRuleError
from juki.network.card_messages import (
    CARD_CERTIFICATE_RESPONSE,
    CardCertificateRequest,
    CardCertificateResponse,
)
from juki.network.messages import IdentityInfoBody
from juki.network.receiver import UNAUTHORISED
from juki.network.transport import QueryRefused, TransportError
from juki.nodes.queries import AnswerRejected, QueryRejected
from juki.nodes.tables import identity_copies
from juki.security.actors import Actor
from juki.security.permissions import Role

if TYPE_CHECKING:
    from juki.nodes.municipality import MunicipalityNode
    from juki.nodes.national import NationalNode

log = structlog.get_logger("juki.nodes.cards")
ic = identity_copies.c
cc = card_certificates.c


class CertifierRefused(DomainRuleError):
    def __init__(self, rule: str, message_en: str, message_ja: str) -> None:
        super().__init__("card_serial", rule, message_en, message_ja)


# -- national: answering ------------------------------------------------------------------------


def _refusal(rule: str, en: str, ja: str) -> dict[str, Any]:
    return {"outcome": "refused", "rule": rule, "message_en": en, "message_ja": ja}


def _resident_row(conn: sa.Connection, resident_code: str) -> Any:
    """The national index's latest row for the resident (any municipality)."""
    return conn.execute(
        sa.select(identity_copies)
        .where(ic.resident_code == resident_code)
        .order_by(ic.updated_at.desc())
        .limit(1)
    ).first()


def _public_key(pem: str | None) -> rsa.RSAPublicKey | None:
    if pem is None:
        return None
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise QueryRejected("bad_key", "a card key is RSA-2048")
    return key


def _pem(cert: x509.Certificate | None) -> str | None:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii") if cert else None


def _certify(
    conn: sa.Connection, ca: CardAuthority, q: CardCertificateRequest, now: datetime
) -> dict[str, Any]:
    row = _resident_row(conn, q.resident_code)
    if row is None or row.lg_code != q.lg_code or row.status != "active":
        return _refusal(
            "not_a_resident_here",
            f"{q.resident_code} is not an active resident of {q.lg_code} in the identity index",
            "全国の本人確認情報で当団体の住民として確認できません",
        )
    live = ca_store.holder(conn, q.card_serial, now)
    if live is not None and live.live:
        return _refusal(
            "card_certified",
            "the card already has a live certificate: revoke it first",
            "このカードには有効な電子証明書があります",
        )
    auth, signing = _public_key(q.auth_public_key), _public_key(q.signing_public_key)
    assert auth is not None  # the schema: a certify request carries it
    items = None
    if signing is not None:
        name = f"{row.family_name}\u3000{row.given_name}"
        items = SigningItems(name, row.birth_date, row.sex, row.address)
    issued = ca_store.issue(
        conn,
        ca,
        CertificationRequest(q.card_serial, q.resident_code, q.lg_code, auth, signing, items),
        now,
    )
    return {
        "outcome": "done",
        "auth_certificate": _pem(issued.auth),
        "signing_certificate": _pem(issued.signing),
    }


def _revoke(conn: sa.Connection, q: CardCertificateRequest, now: datetime) -> dict[str, Any]:
    owner = conn.execute(
        sa.select(cc.resident_code, cc.lg_code).where(cc.card_serial == q.card_serial).limit(1)
    ).first()
    row = _resident_row(conn, q.resident_code)
    here = row is not None and row.lg_code == q.lg_code
    if (
        owner is None
        or owner.resident_code != q.resident_code
        or not (here or owner.lg_code == q.lg_code)
    ):
        return _refusal(
            "not_your_card",
            "the card is not this municipality's resident's",
            "当団体の住民のカードとして確認できません",
        )
    done = ca_store.revoke(conn, now, q.reason or "revoked", card_serial=q.card_serial)
    return {"outcome": "done", "revoked": done}


def _holder(conn: sa.Connection, q: CardCertificateRequest, now: datetime) -> dict[str, Any]:
    held = ca_store.holder(conn, q.card_serial, now)
    row = _resident_row(conn, q.resident_code)
    if (
        held is None
        or held.resident_code != q.resident_code
        or row is None
        or row.lg_code != q.lg_code
        or row.status != "active"
    ):
        return _refusal(
            "not_your_card",
            "the card is not this municipality's resident's",
            "当団体の住民のカードとして確認できません",
        )
    return {"outcome": "done", "holder_lg_code": held.lg_code, "live": held.live}


def _continue(conn: sa.Connection, q: CardCertificateRequest, now: datetime) -> dict[str, Any]:
    """継続利用: only the municipality the identity index says the resident now lives in may
    take the card over (a validly signed request from any other is refused and recorded)."""
    here = conn.execute(
        sa.select(ic.status).where(
            (ic.resident_code == q.resident_code) & (ic.lg_code == q.lg_code)
        )
    ).scalar_one_or_none()
    if here != "active":
        raise QueryRejected(
            UNAUTHORISED,
            f"{q.lg_code} is not {q.resident_code}'s municipality in the identity index",
        )
    held = ca_store.holder(conn, q.card_serial, now)
    if held is None or held.resident_code != q.resident_code or not held.live:
        return _refusal(
            "not_continuable",
            "the card is not this resident's working card",
            "このカードはご本人の有効なカードとして確認できません",
        )
    ca_store.move(conn, q.card_serial, q.lg_code)
    return {"outcome": "done", "holder_lg_code": held.lg_code, "live": True}


def _hold(conn: sa.Connection, q: CardCertificateRequest, now: datetime) -> dict[str, Any]:
    """一時停止 or its end, by the municipality the card routes to (its holder's)."""
    held = ca_store.holder(conn, q.card_serial, now)
    if held is None or held.resident_code != q.resident_code or held.lg_code != q.lg_code:
        return _refusal(
            "not_your_card",
            "the card is not this municipality's resident's",
            "当団体の住民のカードとして確認できません",
        )
    done = ca_store.hold(conn, now, q.card_serial, held=q.action == "hold")
    return {"outcome": "done", "revoked": done}


Answer = Callable[[sa.Connection, CardCertificateRequest, datetime], dict[str, Any]]
ANSWERS: dict[str, Answer] = {"revoke": _revoke, "holder": _holder, "continue": _continue}
ANSWERS |= {"hold": _hold, "release": _hold}


def answer_card_request(node: NationalNode, env: Any, body: Any) -> CardCertificateResponse:
    q: CardCertificateRequest = body
    common = {
        "request_id": env.message_id,
        "card_serial": q.card_serial,
        "resident_code": q.resident_code,
        "lg_code": q.lg_code,
    }
    if node.card_ca is None:
        answer = _refusal(
            "no_card_ca", "the national node runs no card CA", "電子証明書を発行できません"
        )
        return CardCertificateResponse(**common, **answer)
    now = node.clock.now()
    # A replayed certify finds the card's live certificate and is refused; revoke is
    # idempotent and holder reads: a replay changes nothing.
    with node.engine.begin() as conn:
        if q.action == "certify":
            answer = _certify(conn, node.card_ca, q, now)
        else:
            answer = ANSWERS[q.action](conn, q, now)
        node.log_operation(
            conn,
            Actor("card_ca", Role.SYSTEM, env.sender),
            f"card_{q.action}",
            f"card:{q.card_serial}",
            detail=str(answer.get("rule") or answer["outcome"]),
        )
    return CardCertificateResponse(**common, **answer)


NAME_FIELDS = ("family_name", "given_name", "former_surname", "alias_name")


# Built once: national asks it before every identity_info it applies.
_LIVE_CERTIFICATE = (
    sa.select(sa.literal(1))
    .where((cc.resident_code == sa.bindparam("k_code")) & cc.revoked_at.is_(None))
    .limit(1)
)


def with_live_certificates(conn: sa.Connection, codes: Sequence[str]) -> set[str]:
    """Which of these residents hold a live card certificate (one query for a batch)."""
    return set(
        conn.execute(
            sa.select(cc.resident_code)
            .where(cc.resident_code.in_(sorted(set(codes))) & cc.revoked_at.is_(None))
            .distinct()
        ).scalars()
    )


def revoke_on_identity_change(conn: sa.Connection, info: IdentityInfoBody, now: datetime) -> int:
    """Before `info` is applied at national: revoke what the change makes untrue. Only for a
    resident with a live card certificate (one indexed look-up otherwise)."""
    live = conn.execute(_LIVE_CERTIFICATE, {"k_code": info.resident_code}).first()
    if live is None:
        return 0
    before = _resident_row(conn, info.resident_code)
    changed: set[str] = set()
    if before is not None:
        if any(getattr(before, f) != getattr(info, f) for f in NAME_FIELDS):
            changed.add("name")
        for item in ("address", "birth_date", "sex"):
            if getattr(before, item) != getattr(info, item):
                changed.add(item)
    kinds = revocations_for(frozenset(changed), info.change_reason)
    if not kinds:
        return 0
    return ca_store.revoke(
        conn, now, info.change_reason, resident_code=info.resident_code, kinds=kinds
    )


# -- municipality: asking -----------------------------------------------------------------------


class NetworkCertifier:
    """`CardCertifier` through the national node: a signed query, a verified, bound answer."""

    def __init__(self, node: MunicipalityNode) -> None:
        self.node = node

    def _ask(self, question: CardCertificateRequest) -> CardCertificateResponse:
        try:
            request, _env, body = self.node.ask("national", question, CARD_CERTIFICATE_RESPONSE)
        except TransportError as exc:
            raise CertifierRefused(
                "ca_unreachable",
                f"the national card CA could not be reached: {exc}",
                "電子証明書の発行元（機構）に接続できません。時間をおいて再度お試しください",
            ) from exc
        except (QueryRefused, AnswerRejected) as exc:
            raise CertifierRefused(
                "ca_refused_request",
                f"the national card CA refused or answered unverifiably: {exc}",
                "電子証明書の発行元（機構）が要求を受け付けませんでした",
            ) from exc
        answer: CardCertificateResponse = body
        if (
            answer.request_id != request.message_id
            or answer.card_serial != question.card_serial
            or answer.resident_code != question.resident_code
        ):
            raise CertifierRefused(
                "answer_mismatch",
                "the card CA's answer is not for this request",
                "電子証明書の発行元（機構）からの回答が要求と一致しません",
            )
        if answer.outcome == "refused":
            raise CertifierRefused(
                answer.rule or "refused", answer.message_en or "", answer.message_ja or ""
            )
        return answer

    def _question(self, action: str, serial: str, code: str, **kw: Any) -> CardCertificateRequest:
        return CardCertificateRequest.model_validate(
            {
                "action": action,
                "card_serial": serial,
                "resident_code": code,
                "lg_code": self.node.node_id,
                **kw,
            }
        )

    def certify(self, request: CertificationRequest) -> IssuedCertificates:
        def pem(key: rsa.RSAPublicKey | None) -> str | None:
            if key is None:
                return None
            return key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode("ascii")

        answer = self._ask(
            self._question(
                "certify",
                request.card_serial,
                request.resident_code,
                auth_public_key=pem(request.auth_key),
                signing_public_key=pem(request.signing_key),
            )
        )
        if answer.auth_certificate is None:
            raise CertifierRefused("answer_mismatch", "no certificate in the answer", "回答不備")
        auth = x509.load_pem_x509_certificate(answer.auth_certificate.encode("ascii"))
        signing = (
            x509.load_pem_x509_certificate(answer.signing_certificate.encode("ascii"))
            if answer.signing_certificate
            else None
        )
        return IssuedCertificates(auth, signing)

    def revoke(self, card_serial: str, resident_code: str, lg_code: str, reason: str) -> int:
        answer = self._ask(self._question("revoke", card_serial, resident_code, reason=reason))
        return answer.revoked or 0

    def holder(self, card_serial: str, resident_code: str, lg_code: str) -> CardHolder:
        return self._holder_of(self._ask(self._question("holder", card_serial, resident_code)))

    def take_over(self, card_serial: str, resident_code: str, lg_code: str) -> CardHolder:
        return self._holder_of(self._ask(self._question("continue", card_serial, resident_code)))

    def hold(self, card_serial: str, resident_code: str, lg_code: str, *, held: bool) -> int:
        action = "hold" if held else "release"
        return self._ask(self._question(action, card_serial, resident_code)).revoked or 0

    def _holder_of(self, answer: CardCertificateResponse) -> CardHolder:
        card_serial, resident_code = answer.card_serial, answer.resident_code
        return CardHolder(
            card_serial,
            resident_code,
            answer.holder_lg_code or "",
            bool(answer.live),
            self.node.clock.now(),
        )


__all__ = ["KeyKind", "NetworkCertifier", "answer_card_request", "revoke_on_identity_change"]
