"""The card CA's questions and answers (issue 12): a municipality asks the national node, as a
query while the resident waits at the counter, to certify a card's keys, to revoke a card's
certificates, or whose card a serial is; to take a card over (継続利用 after a move-in: the
card then routes to the municipality the resident moved to), and to hold or release its
certificates (一時停止 and its end: on and off the CRL).

What crosses: the card serial, the resident code and the public keys. The 基本4情報 of a
signing certificate do not travel in the question: the national node takes them from its own
copy of identity_info, so the certificate says exactly what the identity index holds (and is
revoked when that changes). No PIN and no private key ever travels.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from juki.network.message_base import LgCodeStr, MessageBody, ResidentCodeStr

CARD_CERTIFICATE_REQUEST: Final = "card_certificate_request"
CARD_CERTIFICATE_RESPONSE: Final = "card_certificate_response"

CardSerialStr = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{4,32}$")]
PublicKeyPem = Annotated[
    str, Field(min_length=64, max_length=1200, pattern=r"^-----BEGIN PUBLIC KEY-----")
]
CertificatePem = Annotated[
    str, Field(min_length=64, max_length=6000, pattern=r"^-----BEGIN CERTIFICATE-----")
]
RuleStr = Annotated[str, Field(pattern=r"^[a-z_]{1,64}$")]
MessageStr = Annotated[str, Field(min_length=1, max_length=300)]


class CardCertificateRequest(MessageBody):
    action: Literal["certify", "revoke", "holder", "continue", "hold", "release"]
    card_serial: CardSerialStr
    resident_code: ResidentCodeStr
    lg_code: LgCodeStr  # the asking municipality
    auth_public_key: PublicKeyPem | None = None  # certify
    signing_public_key: PublicKeyPem | None = None  # certify, from age 15
    reason: RuleStr | None = None  # revoke

    @model_validator(mode="after")
    def _fits_action(self) -> CardCertificateRequest:
        certify = self.action == "certify"
        if certify != (self.auth_public_key is not None):
            raise ValueError("a certify request carries the auth key, and only it does")
        if not certify and self.signing_public_key is not None:
            raise ValueError("only a certify request carries a signing key")
        if (self.action == "revoke") != (self.reason is not None):
            raise ValueError("a revoke request carries its reason, and only it does")
        return self


class CardCertificateResponse(MessageBody):
    request_id: Annotated[str, Field(min_length=36, max_length=36)]
    card_serial: CardSerialStr
    resident_code: ResidentCodeStr
    lg_code: LgCodeStr  # the municipality that asked
    outcome: Literal["done", "refused"]
    auth_certificate: CertificatePem | None = None
    signing_certificate: CertificatePem | None = None
    revoked: Annotated[int, Field(ge=0, le=100)] | None = None  # revoke, hold, release
    holder_lg_code: LgCodeStr | None = None
    live: bool | None = None
    rule: RuleStr | None = None
    message_en: MessageStr | None = None
    message_ja: MessageStr | None = None

    @model_validator(mode="after")
    def _answer_or_reason(self) -> CardCertificateResponse:
        if self.outcome == "refused" and not (self.rule and self.message_en and self.message_ja):
            raise ValueError("a refusal carries a rule and messages")
        if self.outcome == "refused" and (self.auth_certificate or self.signing_certificate):
            raise ValueError("a refusal carries no certificate")
        return self
