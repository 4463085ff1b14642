"""One kiosk session (コンビニ交付), without a screen: the API the kiosk web UI and
`juki kiosk stress` call.

    session = KioskSession.start(relay, root_certificate, store_id="STORE-1", clock=clock)
    offer = session.offer(lg_code)              # what it offers now; advice, before the PIN
    session.authenticate(card, "1234")          # WrongPinAtKiosk (tries left) / CardLockedAtKiosk
    session.choose(lg_code, "residence", copies=1)
    result = session.request()                  # the PDF, only for this request and this card
                                                # (waiting its turn when the relay says so)
    session.spoiled(result.issue_numbers[0])    # a paper jam (書損), if any
    receipt = session.finish()                  # the fee to charge; everything erased

What the session keeps lives in this object only, and `finish`, `abandon` or a timeout erase
all of it (seed 003 (8)ウ). Each step checks the session's deadline; a hop that times out
(`HopTimeout`) or a session past its deadline aborts the whole issuance: the relay tells the
municipality to void the certificate, and the session charges nothing.

End to end: the request is sealed to the municipality's kiosk key, which the session accepts
only as signed by that municipality's node certificate under the network root; the answer
opens only with this session's ephemeral key and only for the request id and card serial it
sent, and `open_answer` checks both again before any page exists.

When the relay says the municipality is busy (`RelayBusy`: its place in line and when to ask
again), `request` waits that long (`pause`) and sends the very same request again — the card's
signed challenge was not used — until it is admitted or the session's deadline passes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, TypeVar

import pydantic
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from juki.cards.ca import card_serial_of
from juki.cards.rules import CardLocked, WrongPin, check_auth_pin
from juki.cards.token import CardToken, CardUnavailable
from juki.certificates.kiosk.messages import (
    AnswerMismatch,
    KioskAnswer,
    KioskRequest,
    new_request_id,
    open_answer,
)
from juki.certificates.kiosk.offer import KioskOffer, OfferStatus
from juki.core.clock import Clock
from juki.core.errors import DomainRuleError, ValidationError
from juki.kiosk.ports import HopTimeout, KioskCall, RelayAnswer, RelayBusy, RelayPort
from juki.kiosk.sealing import (
    TO_KIOSK,
    TO_MUNICIPALITY,
    SealError,
    binding,
    open_sealed,
    raw_public,
    seal,
)
from juki.kiosk.wire import first_error

SESSION_TIMEOUT: Final = timedelta(minutes=3)
T = TypeVar("T")


class Step(StrEnum):
    STARTED = "started"
    AUTHENTICATED = "authenticated"
    CHOSEN = "chosen"
    ANSWERED = "answered"
    ERASED = "erased"


class KioskStop(DomainRuleError):
    """The session cannot go on; `message_ja` is for the kiosk screen."""

    def __init__(self, rule: str, message_en: str, message_ja: str, field: str = "session") -> None:
        super().__init__(field, rule, message_en, message_ja)


class WrongPinAtKiosk(KioskStop):
    def __init__(self, tries_left: int) -> None:
        super().__init__(
            "wrong_pin",
            f"wrong PIN, {tries_left} tries left",
            f"暗証番号が違います。あと{tries_left}回間違えるとロックされます",
            "pin",
        )
        self.tries_left = tries_left


class CardLockedAtKiosk(KioskStop):
    def __init__(self) -> None:
        super().__init__(
            "card_locked",
            "the card's PIN is locked",
            "暗証番号がロックされています。市区町村の窓口で初期化してください",
            "pin",
        )


class SessionAborted(KioskStop):
    """The issuance was aborted (a timeout at any hop): nothing printed, nothing charged."""

    def __init__(self, why: str) -> None:
        super().__init__(
            "aborted",
            f"the issuance was aborted ({why}); nothing is charged",
            "時間内に処理が完了しなかったため中止しました。料金はかかりません",
        )


@dataclass(frozen=True, slots=True)
class KioskResult:
    """What the kiosk may print (`pdf`) and charge (`fee_yen`), or the refusal to show."""

    request_id: str
    outcome: str  # issued | refused
    pdf: bytes | None
    certificate_id: str | None
    issue_numbers: tuple[str, ...]
    fee_yen: int
    refusal_code: str | None
    message_ja: str | None


@dataclass(frozen=True, slots=True)
class Receipt:
    request_id: str
    printed: bool
    fee_yen: int  # charged: the copies printed, not the spoiled ones; 0 when none
    spoiled: tuple[str, ...]


class KioskSession:
    """One customer at one kiosk, from the start screen back to it."""

    def __init__(
        self,
        relay: RelayPort,
        root: x509.Certificate,
        store_id: str,
        clock: Clock,
        timeout: timedelta = SESSION_TIMEOUT,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._relay = relay
        self._pause = pause
        self._root = root
        self.store_id = store_id
        self._clock = clock
        self._deadline: datetime | None = clock.now() + timeout
        self._key: X25519PrivateKey | None = X25519PrivateKey.generate()
        self._challenge: bytes | None = None
        self._certificate: x509.Certificate | None = None
        self._signature: bytes | None = None
        self.card_serial: str | None = None
        self._request: KioskRequest | None = None
        self._result: KioskResult | None = None
        self._spoiled: list[str] = []
        self.step = Step.STARTED
        self.waits = 0  # how many times the relay said to wait (kept for the caller's figures)

    @classmethod
    def start(
        cls,
        relay: RelayPort,
        root: x509.Certificate,
        *,
        store_id: str,
        clock: Clock,
        timeout: timedelta = SESSION_TIMEOUT,
        pause: Callable[[float], None] = time.sleep,
    ) -> KioskSession:
        """A new session: a fresh ephemeral key here and a fresh challenge from the relay."""
        session = cls(relay, root, store_id, clock, timeout, pause)
        session._challenge = session._hop(relay.challenge)
        return session

    # -- guards ---------------------------------------------------------------------------------

    def _alive(self, *steps: Step) -> None:
        if self.step is Step.ERASED:
            raise KioskStop("session_over", "the session is over", "最初からやり直してください")
        if self._deadline is not None and self._clock.now() > self._deadline:
            self.abandon()
            raise SessionAborted("session timed out")
        if steps and self.step not in steps:
            raise KioskStop(
                "out_of_order", f"not allowed at step {self.step}", "操作の順序が正しくありません"
            )

    def _hop(self, call: Callable[[], T]) -> T:
        """One call across a hop: a timeout aborts the whole issuance, a refusal ends it."""
        try:
            return call()
        except HopTimeout as exc:
            self.abandon()
            raise SessionAborted(f"hop timed out: {exc}") from exc
        except RelayBusy:
            raise  # nothing was used: the same call may be sent again
        except DomainRuleError:
            # the relay refused (the card, the municipality) or aborted on its own timeout: the
            # session cannot go on, and a request the relay aborted is voided by the relay
            self._erase()
            raise

    # -- the steps ------------------------------------------------------------------------------

    def offer(self, lg_code: str) -> KioskOffer:
        """What the municipality chosen offers now (kinds, fees, open or why not), asked before
        the PIN so a closed or unreachable municipality is said first. A relay not answering
        in time is an unreachable offer; the session goes on only if the caller chooses."""
        self._alive(Step.STARTED)
        try:
            return self._relay.offer(lg_code)
        except HopTimeout:
            return KioskOffer(lg_code, OfferStatus.UNREACHABLE)

    def authenticate(self, card: CardToken, pin: str) -> str:
        """The card signs the relay's challenge with its 利用者証明用 key, opened by the PIN.
        A wrong PIN says how many tries are left; a locked card sends the resident to the
        counter (and ends the session)."""
        self._alive(Step.STARTED)
        check_auth_pin(pin)
        assert self._challenge is not None
        try:
            certificate = card.auth_certificate()
            signature = card.sign_auth(pin, self._challenge)
        except WrongPin as exc:
            raise WrongPinAtKiosk(exc.tries_left) from exc
        except CardLocked as exc:
            self.abandon()
            raise CardLockedAtKiosk() from exc
        except CardUnavailable as exc:
            raise KioskStop(
                "card_unreadable", str(exc), "カードを読み取れません。置き直してください", "card"
            ) from exc
        self._certificate, self._signature = certificate, signature
        self.card_serial = card_serial_of(certificate)
        self.step = Step.AUTHENTICATED
        return self.card_serial

    def choose(
        self,
        lg_code: str,
        kind: str,
        *,
        members: str | Sequence[str] = "self",
        items: Sequence[str] = (),
        copies: int = 1,
    ) -> KioskRequest:
        """The municipality, certificate, options and copies; a new request id for them."""
        self._alive(Step.AUTHENTICATED, Step.CHOSEN)
        assert self.card_serial is not None
        try:
            self._request = KioskRequest.model_validate(
                {
                    "request_id": new_request_id(),
                    "card_serial": self.card_serial,
                    "lg_code": lg_code,
                    "kind": kind,
                    "members": members if isinstance(members, str) else list(members),
                    "items": list(items),
                    "copies": copies,
                }
            )
        except pydantic.ValidationError as exc:
            where, why = first_error(exc)
            raise ValidationError(
                where, "kiosk_choice", f"{where}: {why}", "選択内容が正しくありません"
            ) from exc
        self.step = Step.CHOSEN
        return self._request

    def request(self) -> KioskResult:
        """Send the request through the relay and open the answer, for this request and this
        card only. An answer that names another request or card is never printed."""
        self._alive(Step.CHOSEN)
        request, key = self._request, self._key
        assert request is not None and key is not None and self.card_serial is not None
        assert self._certificate is not None and self._signature is not None
        assert self._challenge is not None
        lg = request.lg_code
        statement = self._hop(lambda: self._relay.municipality_key(lg))
        try:
            municipality_key = statement.verified(self._root, self._clock.now())
        except SealError as exc:
            self.abandon()
            raise KioskStop("municipality_key", str(exc), "市区町村を確認できませんでした") from exc
        aad = binding(TO_MUNICIPALITY, request.request_id, self.card_serial, lg)
        sealed = seal(municipality_key, request.model_dump_json().encode(), aad)
        call = KioskCall(
            self.store_id,
            request.request_id,
            lg,
            self._certificate,
            self._challenge,
            self._signature,
            raw_public(key),
            sealed,
        )
        self._challenge = None  # used: a new session needs a new one
        answer = self._admitted(call)
        self._result = self._opened(answer)
        self.step = Step.ANSWERED
        return self._result

    def _admitted(self, call: KioskCall) -> RelayAnswer:
        """Send the request; while the relay says the municipality is busy, wait as long as
        it says and send the same request again (within the session's deadline)."""
        while True:
            try:
                return self._hop(lambda: self._relay.request(call))
            except RelayBusy as busy:
                self.waits += 1
                self._alive(Step.CHOSEN)  # past the deadline: abandoned, nothing charged
                self._pause(busy.retry_after)

    def _opened(self, answer: RelayAnswer) -> KioskResult:
        request, key, serial = self._request, self._key, self.card_serial
        assert request is not None and key is not None and serial is not None
        try:
            if (answer.request_id, answer.card_serial) != (request.request_id, serial):
                raise AnswerMismatch()
            aad = binding(TO_KIOSK, request.request_id, serial, request.lg_code)
            plain = open_sealed(key, answer.sealed_answer, aad)
            opened = KioskAnswer.model_validate_json(plain)
            pdf = open_answer(opened, request.request_id, serial)
        except (AnswerMismatch, SealError, pydantic.ValidationError) as exc:
            self.abandon()
            raise KioskStop(
                "answer_mismatch",
                f"the answer is not for this request and card: {type(exc).__name__}",
                "証明書を確認できなかったため印刷しません。料金はかかりません",
            ) from exc
        cert, refusal = opened.certificate, opened.refusal
        return KioskResult(
            request_id=request.request_id,
            outcome=opened.outcome,
            pdf=pdf,
            certificate_id=cert.certificate_id if cert else None,
            issue_numbers=tuple(cert.issue_numbers) if cert else (),
            fee_yen=cert.fee_yen if cert else 0,
            refusal_code=refusal.code.value if refusal else None,
            message_ja=refusal.message_ja if refusal else None,
        )

    # -- after the answer -----------------------------------------------------------------------

    def spoiled(self, issue_number: str) -> None:
        """書損: a copy jammed; the municipality records it spoiled."""
        self._alive(Step.ANSWERED)
        result, request, serial = self._result, self._request, self.card_serial
        assert result is not None and request is not None and serial is not None
        if issue_number not in result.issue_numbers or issue_number in self._spoiled:
            raise ValidationError(
                "issue_number",
                "not_of_certificate",
                "not a copy of this certificate",
                "この証明書の発行番号ではありません",
            )
        self._hop(
            lambda: self._relay.spoiled(
                self.store_id, request.request_id, serial, request.lg_code, issue_number
            )
        )
        self._spoiled.append(issue_number)

    def finish(self) -> Receipt:
        """Back to the start screen: the fee of what was printed, and everything erased."""
        self._alive(Step.ANSWERED)
        result = self._result
        assert result is not None
        copies = len(result.issue_numbers)
        good = copies - len(self._spoiled)
        printed = result.outcome == "issued" and good > 0
        # a spoiled copy (書損) is not charged: the fee of the copies that came out
        fee = result.fee_yen * good // copies if printed else 0
        receipt = Receipt(result.request_id, printed, fee, tuple(self._spoiled))
        self._erase()
        return receipt

    def abandon(self) -> None:
        """Give up (a timeout, payment short, the customer left): a request already sent is
        voided at the municipality (best effort here; the relay's message is retried), nothing
        is charged, and everything is erased."""
        request, serial = self._request, self.card_serial
        sent = self.step in (Step.CHOSEN, Step.ANSWERED) and request is not None
        if sent and request is not None and serial is not None:
            # best effort: the relay aborts on its own timeout, and the municipality voids then
            with contextlib.suppress(HopTimeout, DomainRuleError):
                self._relay.abandon(self.store_id, request.request_id, serial, request.lg_code)
        self._erase()

    def _erase(self) -> None:
        self._key = None
        self._challenge = None
        self._certificate = None
        self._signature = None
        self.card_serial = None
        self._request = None
        self._result = None
        self._spoiled = []
        self._deadline = None
        self.step = Step.ERASED

    @property
    def erased(self) -> bool:
        return self.step is Step.ERASED and all(
            v is None
            for v in (
                self._key,
                self._challenge,
                self._certificate,
                self._signature,
                self.card_serial,
                self._request,
                self._result,
            )
        )
