"""The kiosk relay (証明書交付センター) on the national node.

A kiosk session at a store asks the relay for a fresh challenge, has the card sign it, and
sends its request: the card's 利用者証明用 certificate, the challenge and signature, the
municipality chosen, its ephemeral X25519 key and the request sealed to that municipality's
kiosk key (`juki.kiosk.sealing`). The relay

1. checks the card (`CardVerifier`: the challenge issued here and used once, the certificate
   the card CA's and within its validity, not revoked, the signature by its key);
2. routes by the card serial to the municipality that issued the card (the card CA's own
   register), refusing a municipality chosen that is not the card's, or one disconnected;
3. forwards the sealed request as a signed `kiosk_request` query and passes back the sealed
   answer it cannot read, recording only the issuance (`kiosk_issuances`: time, store,
   municipality, kind, copies, fee, request id);
4. on a timeout or an unverifiable answer, aborts: it sends the municipality a `kiosk_void`
   (through the outbox, retried until acknowledged) so the certificate is void and nothing is
   charged, and tells the kiosk the issuance was aborted.

Before the customer chooses, `offer` asks the municipality chosen what its kiosks offer now
(`kiosk_offer_request`: kinds, fees, open or why not); a municipality disconnected or not
answering is an offer saying so, for the kiosk to show before the PIN. Advice only: the
municipality checks everything again at request time.

Before any of that, admission (`juki.nodes.kiosk_admission`): at most a few requests in flight
per municipality; any other is told at once its place in line and when to send the same
request again (`RelayBusy`, logged once per request), its challenge unused.

Nothing of the request or the certificate is stored here, and challenges live in memory.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import time as clock_time
from typing import TYPE_CHECKING, Final

import pydantic
import sqlalchemy as sa
import structlog

from juki.cards import ca_store
from juki.cards.verify import CardRefused, CardVerifier, ChallengeBook
from juki.certificates.kiosk.offer import KioskOffer, OfferStatus
from juki.kiosk.ports import KioskCall, RelayAnswer, RelayBusy, RelayRefused
from juki.kiosk.sealing import KeyStatement, SealError, b64, unb64
from juki.kiosk.wire import first_error
from juki.network import pki
from juki.network.directory import NodeKind
from juki.network.kiosk_messages import (
    KIOSK_ANSWER,
    KIOSK_KEY_RESPONSE,
    KIOSK_OFFER,
    KioskKeyRequest,
    KioskKeyResponse,
    KioskOfferAnswer,
    KioskOfferRequest,
    KioskRelayAnswer,
    KioskRelayRequest,
    KioskVoid,
)
from juki.network.transport import QueryRefused, TransportError
from juki.nodes.kiosk_admission import DEFAULT_SLOTS, HOLD_S, KioskAdmission
from juki.nodes.kiosk_stores import store_actor
from juki.nodes.queries import AnswerRejected
from juki.nodes.tables import kiosk_issuances
from juki.security.actors import Actor

if TYPE_CHECKING:
    from juki.nodes.national import NationalNode

log = structlog.get_logger("juki.nodes.kiosk_relay")
ki = kiosk_issuances.c
STORE_ID: Final = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
LG_CODE: Final = re.compile(r"^[0-9]{6}$")
REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
UNREACHABLE_JA: Final = (
    "市区町村に接続できませんでした。料金はかかりません。最初からやり直してください"
)


def _check(pattern: re.Pattern[str], value: str, field: str) -> str:
    if not pattern.fullmatch(value):
        raise RelayRefused(
            "format", f"{field} is malformed", f"{field} の形式が正しくありません", field
        )
    return value


def _malformed(exc: pydantic.ValidationError) -> RelayRefused:
    where, _why = first_error(exc)
    return RelayRefused("format", f"{where} is malformed", "要求の形式が正しくありません", where)


class KioskRelay:
    def __init__(self, node: NationalNode, *, slots: int = DEFAULT_SLOTS) -> None:
        if node.card_ca is None:
            raise RuntimeError("the kiosk relay needs the card CA on this node")
        self.node = node
        self.admission = KioskAdmission(slots)
        self._timing = threading.local()  # per request thread: `last_timing`
        self.verifier = CardVerifier(
            node.card_ca.certificate, node.card_crl, ChallengeBook(node.clock.now), node.clock.now
        )

    def _actor(self, store_id: str) -> Actor:
        return store_actor(store_id)

    def _log(self, store_id: str, target: str, outcome: str, detail: str) -> None:
        with self.node.engine.begin() as conn:
            self.node.log_operation(
                conn,
                self._actor(store_id),
                "kiosk_relay",
                target,
                "ok" if outcome == "ok" else "rejected",
                detail,
            )

    # -- the session's first steps --------------------------------------------------------------

    def challenge(self) -> bytes:
        """A fresh single-use challenge for a card to sign (kept in memory only)."""
        return self.verifier.challenges.issue()

    def municipality_key(self, lg_code: str) -> KeyStatement:
        """The municipality's kiosk key as it signed it (the session verifies the signature)."""
        lg = self._active_municipality(_check(LG_CODE, lg_code, "lg_code"))
        try:
            _q, _env, body = self.node.ask(lg, KioskKeyRequest(lg_code=lg), KIOSK_KEY_RESPONSE)
        except (TransportError, QueryRefused, AnswerRejected) as exc:
            raise RelayRefused("municipality_unreachable", str(exc), UNREACHABLE_JA) from exc
        answer: KioskKeyResponse = body
        try:
            return KeyStatement(
                lg,
                unb64(answer.public_key),
                unb64(answer.signature),
                pki.cert_from_pem(answer.node_certificate),
            )
        except (SealError, ValueError) as exc:
            raise RelayRefused("answer_not_verified", str(exc), UNREACHABLE_JA) from exc

    def offer(self, lg_code: str) -> KioskOffer:
        """What the municipality's kiosks offer now, as it answered; a municipality
        disconnected, not answering or refusing the query is an offer saying it cannot serve."""
        lg = _check(LG_CODE, lg_code, "lg_code")
        try:
            self._active_municipality(lg)
        except RelayRefused as exc:
            if exc.rule != "municipality_disconnected":
                raise
            return KioskOffer(lg, OfferStatus.DISCONNECTED)
        try:
            _q, _env, body = self.node.ask(lg, KioskOfferRequest(lg_code=lg), KIOSK_OFFER)
        except QueryRefused as exc:
            log.info("kiosk relay: offer refused", lg=lg, reason=exc.reply.reason)
            status = OfferStatus.NOT_OFFERED
            if exc.reply.reason != "no_kiosk_service":
                status = OfferStatus.UNREACHABLE
            return KioskOffer(lg, status)
        except (TransportError, AnswerRejected) as exc:
            log.info("kiosk relay: offer not answered", lg=lg, error=type(exc).__name__)
            return KioskOffer(lg, OfferStatus.UNREACHABLE)
        answer: KioskOfferAnswer = body
        return KioskOffer(
            lg,
            OfferStatus(answer.status),
            tuple((k.kind, k.fee_yen) for k in answer.kinds),
            clock_time.fromisoformat(answer.opens),
            clock_time.fromisoformat(answer.closes),
        )

    def _active_municipality(self, lg_code: str) -> str:
        entry = self.node.directory().get(lg_code)
        if entry is None or entry.kind is not NodeKind.MUNICIPALITY:
            raise RelayRefused(
                "unknown_municipality",
                f"{lg_code} is not a municipality on the network",
                "選択された市区町村はご利用いただけません",
                "lg_code",
            )
        if not self.node.directory().is_active(lg_code):
            raise RelayRefused(
                "municipality_disconnected",
                f"{lg_code} is disconnected from the network",
                "選択された市区町村は現在接続されていません。料金はかかりません",
                "lg_code",
            )
        return lg_code

    # -- the request ----------------------------------------------------------------------------

    def request(self, call: KioskCall) -> RelayAnswer:
        """Admit the request (or tell it to wait, `RelayBusy`), then carry it."""
        started = time.perf_counter()
        self._timing.last = None
        store = _check(STORE_ID, call.store_id, "store_id")
        _check(REQUEST_ID, call.request_id, "request_id")
        lg = self._active_municipality(_check(LG_CODE, call.lg_code, "lg_code"))
        target = f"kiosk_request:{call.request_id[:8]}"
        turn = self.admission.enter(lg, call.request_id, hold=HOLD_S)
        if not turn.admitted:
            if turn.first:  # once per request, not once per knock
                self._log(store, target, "rejected", f"{lg} busy: told to wait, {turn.position}")
            raise RelayBusy(turn.position, turn.retry_after)
        try:
            return self._carry(call, store, target, started)
        finally:
            self.admission.leave(lg, time.perf_counter() - started)

    def _carry(self, call: KioskCall, store: str, target: str, started: float) -> RelayAnswer:
        try:
            serial = self.verifier.verify(call.card_certificate, call.challenge, call.signature)
        except CardRefused as exc:
            self._log(store, target, "rejected", f"card refused: {exc.rule}")
            raise
        lg = self._route(serial, call.lg_code)
        question = self._question(call, serial, lg)
        asked = time.perf_counter()
        answer = self._forward(store, target, question)
        self._timed(started, asked)
        if answer.outcome == "issued":
            with self.node.engine.begin() as conn:
                conn.execute(
                    kiosk_issuances.insert().values(
                        request_id=call.request_id,
                        at=self.node.clock.now().isoformat(),
                        store_id=store,
                        lg_code=lg,
                        kind=answer.kind,
                        copies=answer.copies,
                        fee_yen=answer.fee_yen,
                        status="issued",
                    )
                )
                self.node.log_operation(
                    conn,
                    self._actor(store),
                    "kiosk_relay",
                    target,
                    detail=f"issued by {lg}: {answer.kind} x{answer.copies}, {answer.fee_yen} yen",
                )
        else:
            self._log(store, target, "ok", f"refused by {lg}")
        return RelayAnswer(
            call.request_id,
            serial,
            lg,
            answer.outcome,
            answer.kind,
            answer.copies,
            answer.fee_yen,
            answer.sealed_answer,
        )

    def _timed(self, started: float, asked: float) -> None:
        """This thread's last request's timing, for the relay's `Server-Timing` header: the
        time waiting on the municipality and, when its answer said, how long it took to make it
        (render, sign, seal). Durations only, nothing of the request."""
        now = time.perf_counter()
        timing = [f"relay;dur={(now - started) * 1000:.1f}"]
        timing.append(f"municipality_hop;dur={(now - asked) * 1000:.1f}")
        last = getattr(self.node.query_transport, "last_server_timing", None)
        answer = last() if callable(last) else None
        if isinstance(answer, str) and answer.startswith("answer;dur="):
            timing.append("municipality;dur=" + answer.removeprefix("answer;dur="))
        self._timing.last = ", ".join(timing)

    def last_timing(self) -> str | None:
        return getattr(self._timing, "last", None)

    def _route(self, serial: str, chosen: str) -> str:
        with self.node.engine.connect() as conn:
            held = ca_store.holder(conn, serial, self.node.clock.now())
        if held is None or not held.live:
            raise RelayRefused(
                "card_unknown", "no live card of this serial", "このカードは利用できません", "card"
            )
        if held.lg_code != chosen:
            raise RelayRefused(
                "wrong_municipality",
                f"the card was issued by {held.lg_code}, not {chosen}",
                "このカードをお持ちの方の住所地の市区町村を選んでください",
                "lg_code",
            )
        return self._active_municipality(held.lg_code)

    def _question(self, call: KioskCall, serial: str, lg: str) -> KioskRelayRequest:
        try:
            return KioskRelayRequest(
                request_id=call.request_id,
                card_serial=serial,
                lg_code=lg,
                store_id=call.store_id,
                session_key=b64(call.session_key),
                sealed_request=call.sealed_request,
            )
        except pydantic.ValidationError as exc:
            raise _malformed(exc) from exc

    def _forward(self, store: str, target: str, question: KioskRelayRequest) -> KioskRelayAnswer:
        lg = question.lg_code
        try:
            _request, _env, body = self.node.ask(lg, question, KIOSK_ANSWER)
        except QueryRefused as exc:
            self._log(store, target, "rejected", f"{lg} refused: {exc.reply.reason}")
            raise RelayRefused(
                "municipality_refused",
                f"{lg} refused the request: {exc.reply.reason}",
                "市区町村が要求を受け付けませんでした。料金はかかりません",
            ) from exc
        except (TransportError, AnswerRejected) as exc:
            self._abort(store, target, question, f"{type(exc).__name__}: {exc}")
            raise RelayRefused("aborted", f"{lg}: {exc}", UNREACHABLE_JA) from exc
        answer: KioskRelayAnswer = body
        if (answer.request_id, answer.card_serial) != (question.request_id, question.card_serial):
            self._abort(store, target, question, "answer for another request")
            raise RelayRefused("aborted", "the answer is not for this request", UNREACHABLE_JA)
        return answer

    def _abort(self, store: str, target: str, q: KioskRelayRequest, why: str) -> None:
        log.warning("kiosk relay: aborted", lg=q.lg_code, why=why)
        self._void(
            store,
            target,
            KioskVoid(
                request_id=q.request_id,
                card_serial=q.card_serial,
                lg_code=q.lg_code,
                action="abandon",
            ),
            f"aborted ({why[:200]})",
        )

    def _void(self, store: str, target: str, void: KioskVoid, detail: str) -> None:
        with self.node.engine.begin() as conn:
            self.node.send(conn, void.lg_code, void)
            if void.action == "abandon":
                conn.execute(
                    kiosk_issuances.update()
                    .where((ki.request_id == void.request_id) & (ki.store_id == store))
                    .values(status="abandoned")
                )
            self.node.log_operation(conn, self._actor(store), "kiosk_relay", target, detail=detail)

    # -- after the answer -------------------------------------------------------------------------

    def abandon(self, store_id: str, request_id: str, card_serial: str, lg_code: str) -> None:
        """The session gave up (its own timeout, payment short, the customer left): the
        municipality voids the certificate and nothing is charged."""
        void = self._void_message(request_id, card_serial, lg_code, "abandon", None)
        store = _check(STORE_ID, store_id, "store_id")
        self._void(store, f"kiosk_request:{request_id[:8]}", void, "abandoned by the kiosk")

    def spoiled(
        self, store_id: str, request_id: str, card_serial: str, lg_code: str, issue_number: str
    ) -> None:
        """書損 at the store: the municipality records the copy spoiled."""
        void = self._void_message(request_id, card_serial, lg_code, "spoiled", issue_number)
        store = _check(STORE_ID, store_id, "store_id")
        # which copy stays with the municipality: an issue number is the resident's, not the relay's
        self._void(store, f"kiosk_request:{request_id[:8]}", void, "spoiled one copy (書損)")

    def _void_message(
        self, request_id: str, card_serial: str, lg_code: str, action: str, number: str | None
    ) -> KioskVoid:
        try:
            return KioskVoid.model_validate(
                {
                    "request_id": request_id,
                    "card_serial": card_serial,
                    "lg_code": lg_code,
                    "action": action,
                    "issue_number": number,
                }
            )
        except pydantic.ValidationError as exc:
            raise _malformed(exc) from exc

    def retained(self) -> list[dict[str, object]]:
        """The relay's whole record (for auditors and `juki kiosk stress`)."""
        with self.node.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(kiosk_issuances))]
