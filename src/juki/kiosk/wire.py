"""What crosses the kiosk ↔ relay hop over HTTP (`/kiosk/v1/*` on the national node): the JSON
bodies both `juki.nodes.kiosk_api` (the relay's endpoints) and `juki.kiosk.http_relay` (the
kiosk's client) use. Binary values are base64url, certificates PEM; every field is bounded."""

from __future__ import annotations

from datetime import time
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from juki.certificates.kiosk.offer import KioskOffer, OfferStatus
from juki.kiosk.ports import RelayAnswer

PREFIX: Final = "/kiosk/v1"
CHALLENGE_PATH: Final = f"{PREFIX}/challenge"
KEY_PATH: Final = PREFIX + "/municipalities/{lg_code}/key"
OFFER_PATH: Final = PREFIX + "/municipalities/{lg_code}/offer"
REQUESTS_PATH: Final = f"{PREFIX}/requests"
SPOILED_PATH: Final = PREFIX + "/requests/{request_id}/spoiled"
ABANDON_PATH: Final = PREFIX + "/requests/{request_id}/abandon"

B64: Final = r"^[A-Za-z0-9_=-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChallengeOut(_Strict):
    challenge: str


class KeyStatementOut(_Strict):
    lg_code: str
    public_key: str
    signature: str
    node_certificate: str


class OfferedKindOut(_Strict):
    kind: Literal["residence", "record_items", "seal", "fuhyo"]
    fee_yen: int = Field(ge=0, le=100_000)


class OfferOut(_Strict):
    """What the municipality's kiosks offer now: advice for the screens, never authority."""

    lg_code: str = Field(pattern=r"^[0-9]{6}$")
    status: OfferStatus = Field(
        description="open; outside_hours; closed_day; not_offered; disconnected; unreachable"
    )
    kinds: list[OfferedKindOut] = Field(default=[], max_length=4)
    opens: time | None = None
    closes: time | None = Field(default=None, description="00:00: until midnight")

    @classmethod
    def of(cls, o: KioskOffer) -> OfferOut:
        return cls(
            lg_code=o.lg_code,
            status=o.status,
            kinds=[OfferedKindOut(kind=k, fee_yen=fee) for k, fee in o.fees],
            opens=o.opens,
            closes=o.closes,
        )

    def offer(self) -> KioskOffer:
        fees = tuple((k.kind, k.fee_yen) for k in self.kinds)
        return KioskOffer(self.lg_code, self.status, fees, self.opens, self.closes)


class KioskCallIn(_Strict):
    request_id: str = Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")
    lg_code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]+$")
    card_certificate: str = Field(min_length=1, max_length=8000)
    challenge: str = Field(min_length=1, max_length=200, pattern=B64)
    signature: str = Field(min_length=1, max_length=400, pattern=B64)
    session_key: str = Field(min_length=1, max_length=100, pattern=B64)
    sealed_request: str = Field(min_length=1, max_length=200_000)


class BusyOut(_Strict):
    """503 to a request the relay cannot admit yet: its place in line (1 = next) and when to
    send the same request again; nothing of it was checked or used."""

    type: Literal["busy"]
    detail: str = Field(max_length=500)
    msg_ja: str = Field(max_length=500)
    position: int = Field(ge=1, le=100_000)
    retry_after_ms: int = Field(ge=0, le=60_000)


BUSY_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    503: {
        "description": "The municipality is busy: wait `retry_after_ms` and send the same "
        "request again (混み合っています。このままお待ちください)",
        "model": BusyOut,
    }
}


class RelayAnswerOut(_Strict):
    request_id: str
    card_serial: str
    lg_code: str
    outcome: str
    kind: str | None
    copies: int | None
    fee_yen: int | None
    sealed_answer: str

    @classmethod
    def of(cls, a: RelayAnswer) -> RelayAnswerOut:
        return cls(
            request_id=a.request_id,
            card_serial=a.card_serial,
            lg_code=a.lg_code,
            outcome=a.outcome,
            kind=a.kind,
            copies=a.copies,
            fee_yen=a.fee_yen,
            sealed_answer=a.sealed_answer,
        )

    def answer(self) -> RelayAnswer:
        return RelayAnswer(
            self.request_id,
            self.card_serial,
            self.lg_code,
            self.outcome,
            self.kind,
            self.copies,
            self.fee_yen,
            self.sealed_answer,
        )


class VoidIn(_Strict):
    card_serial: str = Field(min_length=1, max_length=64)
    lg_code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]+$")
    issue_number: str | None = Field(default=None, min_length=1, max_length=64)


class Done(_Strict):
    status: str = "ok"


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first error of a validation as (field path, message): the one field a kiosk or
    relay refusal names (session choices, relay requests and voids)."""
    first = exc.errors()[0]
    return ".".join(str(p) for p in first["loc"]), str(first["msg"])
