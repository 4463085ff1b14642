"""The certificate server's answers to the kiosk relay, and the kiosk settings.

`issue_for_card_holder` answers one request for one card holder the relay authenticated:

1. `perform_outside` (authorised, logged): one read transaction (`KioskReader`) takes the
   settings and the holder's record, household, seal or 附票 as one snapshot; the kiosk rules
   (`kiosk.rules`) and then the counter's own content rules build the certificate from it;
2. `perform` (one transaction, logged): the request id is registered, bound to the card
   serial (a replay is refused by the primary key), and the certificate is numbered and
   recorded exactly as at the counter (`services.recording.record_certificate`);
3. outside any transaction the recorded content is rendered and signed
   (`services.issuing.produce_certificate`, which voids it if that fails) and returned in an
   answer that repeats the request id and the card serial.

A refusal is registered (with its precise rule) in a transaction of its own and answered with
a machine code and the kiosk screen's Japanese text; it changes nothing else.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from juki.certificates.content import build_content, check_request
from juki.certificates.fonts import GlyphCoverage
from juki.certificates.fuhyo import fuhyo_content
from juki.certificates.kiosk import rules
from juki.certificates.kiosk.messages import KioskAnswer, KioskCertificate, KioskRequest
from juki.certificates.kiosk.model import (
    DEFAULT_SETTINGS,
    KioskRefused,
    KioskSettings,
    RefusalCode,
    settings_to_json,
)
from juki.certificates.kiosk.offer import KioskOffer, offer_of
from juki.certificates.kiosk.ports import (
    Gate,
    KioskReader,
    KioskRequestEntry,
    KioskUnitOfWork,
)
from juki.certificates.model import (
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    carries_my_number,
)
from juki.certificates.ports import CertificateState, RegisterEntry
from juki.certificates.services.issuing import (
    CertificateProducer,
    IssuedCertificate,
    ensure_printable,
    produce_certificate,
)
from juki.certificates.services.recording import (
    PreparedCertificate,
    record_certificate,
)
from juki.certificates.services.register import spoil_copy, void_record
from juki.core.clock import JST
from juki.core.errors import NotFoundError, RuleViolation
from juki.core.identifiers import ResidentCode
from juki.security.actions import perform, perform_outside
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role

KIOSK_TERMINAL = "kiosk"
ABANDONED_REASON = "コンビニ交付：タイムアウト等により中断（印刷せず、手数料なし）"
ALL_SPOILED_REASON = "コンビニ交付：全部数書損"
SPOILED_DISPOSAL = "コンビニ交付：印刷不良（用紙詰まり等）により書損、店舗で無効処理"


def relay_actor(relay_node_id: str) -> Actor:
    """The relay node acting here for a card holder it authenticated (not a person)."""
    return Actor(f"relay:{relay_node_id}"[:64], Role.KIOSK_RELAY, KIOSK_TERMINAL)


@dataclass(frozen=True, slots=True)
class KioskProduction:
    """What rendering and signing need: the font's coverage, the producer, the QR's base URL."""

    coverage: GlyphCoverage
    producer: CertificateProducer
    verify_base_url: str


@dataclass(frozen=True, slots=True)
class _Built:
    request: CertificateRequest
    content: CertificateContent
    per_copy: int
    seal_png: bytes | None
    record_id: str | None


class _AnswerSink:
    """The kiosk's copy is not printed here: it goes back in the answer, to the relay."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def print(self, pdf: bytes, name: str) -> str:
        return f"kiosk:{self.request_id[:8]}"


def _target(holder: str) -> str:
    return f"resident_code:{holder[:11]}"


def _gate(kind: CertificateKind, now: datetime) -> Gate:
    """Refuse before anything personal is read: a replay, a closed kiosk, a kind not offered."""

    def gate(settings: KioskSettings, seen: bool) -> None:
        if seen:
            raise KioskRefused(RefusalCode.REPLAY, "replay", "this request id was used before")
        rules.check_service(settings, kind, now)

    return gate


def _build(
    holder: str, request: KioskRequest, reader: KioskReader, coverage: GlyphCoverage, now: datetime
) -> _Built:
    """Step 1: one read, the kiosk's rules, then the counter's content rules on that read."""
    ResidentCode.parse(holder)
    kind = CertificateKind(request.kind)
    items = frozenset(request.items)
    try:
        rules.check_options(kind, request.members, items)
        read = reader.read(holder, kind, request.request_id, now, _gate(kind, now))
        if read.snapshot.municipality.lg_code != request.lg_code:
            raise KioskRefused(
                RefusalCode.WRONG_MUNICIPALITY, "wrong_municipality", "not this municipality"
            )
        rules.check_holder(read.snapshot.subject, read.snapshot.read_at.astimezone(JST).date())
        members = rules.members_of(request.members, read.snapshot)
        req = rules.certificate_request(holder, kind, members, items, request.copies)
        check_request(req)
        if kind is CertificateKind.FUHYO:
            assert read.fuhyo is not None
            content = fuhyo_content(req, read.fuhyo)
        else:
            content = build_content(req, read.snapshot)
        ensure_printable(content, coverage)
    except NotFoundError as exc:
        raise KioskRefused(RefusalCode.NOT_AT_KIOSK, "not_resident", "no record here") from exc
    except RuleViolation as exc:
        raise rules.refusal_of(exc) from exc
    seal = read.snapshot.seal
    return _Built(
        request=req,
        content=content,
        per_copy=read.settings.fee(kind),
        seal_png=seal.image_png if content.seal_sha256 and seal else None,
        record_id=None if kind is CertificateKind.FUHYO else read.snapshot.subject.record_id,
    )


def _record(
    uow: KioskUnitOfWork, by: Actor, request: KioskRequest, built: _Built, verify_base_url: str
) -> PreparedCertificate:
    """Step 2, in the action's transaction: bind the request id to the card, record."""
    prepared = record_certificate(
        uow,
        by,
        built.request,
        built.content,
        built.per_copy,
        built.seal_png,
        built.record_id,
        verify_base_url=verify_base_url,
    )
    uow.kiosk.add_request(
        KioskRequestEntry(
            request_id=request.request_id,
            card_serial=request.card_serial,
            at=uow.clock.now().isoformat(),
            subject_resident_code=built.request.resident_code,
            kind=built.request.kind,
            outcome="issued",
            certificate_id=prepared.record.certificate_id,
        )
    )
    return prepared


def _register_refusal(
    uow: KioskUnitOfWork, holder: str, request: KioskRequest, exc: KioskRefused
) -> None:
    """The refusal in the register, in a transaction of its own (a replay is not registered
    again: its id already names the first request)."""
    if exc.code is RefusalCode.REPLAY:
        return
    with uow:
        try:
            uow.kiosk.add_request(
                KioskRequestEntry(
                    request_id=request.request_id,
                    card_serial=request.card_serial,
                    at=uow.clock.now().isoformat(),
                    subject_resident_code=holder[:11],
                    kind=CertificateKind(request.kind),
                    outcome="refused",
                    code=exc.code.value,
                    rule=exc.rule[:64],
                )
            )
        except KioskRefused:
            return  # a twin of this request registered first
        uow.commit()


def issue_for_card_holder(
    uow: KioskUnitOfWork,
    by: Actor,
    holder_resident_code: str,
    request: KioskRequest,
    *,
    reader: KioskReader,
    production: KioskProduction,
) -> KioskAnswer:
    """Answer the relay's request for the card holder `holder_resident_code` (the resident the
    municipality's card link gives for `request.card_serial`): the certificate, or a refusal."""
    target = _target(holder_resident_code)
    tag = f"kiosk request {request.request_id[:8]}… card {request.card_serial[:16]}"
    try:
        built = perform_outside(
            uow,
            by,
            Permission.ANSWER_KIOSK_REQUEST,
            target,
            lambda: _build(
                holder_resident_code, request, reader, production.coverage, uow.clock.now()
            ),
            describe=lambda b: f"{tag}: read {b.content.kind.value}, {len(b.content.persons)}人",
        )
        prepared = perform(
            uow,
            by,
            Permission.ANSWER_KIOSK_REQUEST,
            target,
            lambda _: _record(uow, by, request, built, production.verify_base_url),
            describe=lambda p: (
                f"{tag}: {p.record.kind.value} certificate {p.record.certificate_id}, "
                f"copies {','.join(p.record.issue_numbers)}, {len(p.content.persons)} person(s), "
                f"items [{','.join(p.content.items)}], fee {p.record.fee_yen}"
            ),
            shows_my_number=lambda p: carries_my_number(p.content),
        )
    except KioskRefused as exc:
        _register_refusal(uow, holder_resident_code, request, exc)
        return KioskAnswer.refused(request, exc.code)
    issued = produce_certificate(
        uow,
        by,
        prepared,
        production.producer,
        _AnswerSink(request.request_id),
        Permission.ANSWER_KIOSK_REQUEST,
    )
    return _answer(request, issued)


def _answer(request: KioskRequest, issued: IssuedCertificate) -> KioskAnswer:
    return KioskAnswer(
        request_id=request.request_id,
        card_serial=request.card_serial,
        lg_code=request.lg_code,
        outcome="issued",
        certificate=KioskCertificate(
            certificate_id=issued.certificate_id,
            kind=issued.kind.value,
            title=issued.content.title,
            issue_numbers=list(issued.issue_numbers),
            copies=len(issued.issue_numbers),
            fee_yen=issued.fee_yen,
            digest=issued.digest,
            pdf_base64=base64.b64encode(issued.pdf).decode("ascii"),
        ),
    )


# -- after the answer: a spoiled page -----------------------------------------------------------


def record_kiosk_spoiled(
    uow: KioskUnitOfWork, by: Actor, request_id: str, card_serial: str, issue_number: str
) -> RegisterEntry:
    """書損 at the store (seed 004: a jammed page is stamped 無効 and disposed of): the copy's
    number is recorded spoiled, and once every copy is, the certificate is void. Only for the
    request id and card serial the certificate was issued to; anything else changes nothing."""

    def run(_: object) -> RegisterEntry:
        entry = uow.kiosk.request(request_id)
        matches = (
            entry is not None
            and entry.certificate_id is not None
            and hmac.compare_digest(entry.card_serial.encode(), card_serial.encode())
        )
        if not matches or entry is None or entry.certificate_id is None:
            raise KioskRefused(RefusalCode.MISMATCH, "mismatch", "no such request for this card")
        spoiled = spoil_copy(uow, by, entry.certificate_id, issue_number, SPOILED_DISPOSAL)
        record = uow.certificates.get(entry.certificate_id)
        if set(uow.certificates.spoiled_numbers(record.certificate_id)) >= set(
            record.issue_numbers
        ):
            void_record(uow, by, record, ALL_SPOILED_REASON)
        return spoiled

    return perform(
        uow,
        by,
        Permission.ANSWER_KIOSK_REQUEST,
        f"kiosk_request:{request_id[:8]}",
        run,
        describe=lambda e: f"spoiled copy {issue_number} of certificate {e.certificate_id}",
    )


def abandon_kiosk_request(
    uow: KioskUnitOfWork, by: Actor, request_id: str, card_serial: str
) -> str | None:
    """The kiosk session gave up (a timeout at any hop): the certificate issued for this request
    is void and nothing is charged. Only for the request id and card serial it was issued to;
    a refusal has nothing to void (None); voiding twice is voiding once. A void that arrives
    before its request (the relay gave up while the request was still on its way) is kept as a
    `voided` line under the request id, so the late request is refused as already seen; the
    primary key decides a race between the two. Returns the voided certificate's id."""

    def run(_: object) -> str | None:
        entry = uow.kiosk.request(request_id)
        if entry is None:
            entry = _void_ahead(uow, request_id, card_serial)
        if entry is None:
            return None
        if not hmac.compare_digest(entry.card_serial.encode(), card_serial.encode()):
            raise KioskRefused(RefusalCode.MISMATCH, "mismatch", "no such request for this card")
        if entry.certificate_id is None:
            return None
        record = uow.certificates.get(entry.certificate_id)
        if record.status is CertificateState.VOID:
            return record.certificate_id
        return void_record(uow, by, record, ABANDONED_REASON).certificate_id

    return perform(
        uow,
        by,
        Permission.ANSWER_KIOSK_REQUEST,
        f"kiosk_request:{request_id[:8]}",
        run,
        describe=lambda c: (
            f"abandoned: certificate {c} void" if c else "abandoned: nothing to void"
        ),
    )


def _void_ahead(
    uow: KioskUnitOfWork, request_id: str, card_serial: str
) -> KioskRequestEntry | None:
    """Register the void before its request; None when registered, or the request's own line
    when the request won the race (it is then voided as usual)."""
    try:
        uow.kiosk.add_request(
            KioskRequestEntry(
                request_id=request_id,
                card_serial=card_serial,
                at=uow.clock.now().isoformat(),
                subject_resident_code="",
                kind=None,
                outcome="voided",
                rule="voided_before_request",
            )
        )
    except KioskRefused:
        return uow.kiosk.request(request_id)
    return None


# -- settings -----------------------------------------------------------------------------------


def kiosk_settings(uow: KioskUnitOfWork, by: Actor) -> KioskSettings:
    """This municipality's kiosk settings (the defaults until changed)."""
    return perform(
        uow,
        by,
        Permission.MANAGE_KIOSK_SETTINGS,
        "kiosk_settings",
        lambda _: uow.kiosk.settings(uow.municipality.lg_code) or DEFAULT_SETTINGS,
    )


def set_kiosk_settings(uow: KioskUnitOfWork, by: Actor, settings: KioskSettings) -> KioskSettings:
    """Change which certificates the kiosks offer, their fees and hours (validated, logged)."""

    def run(_: object) -> KioskSettings:
        checked = rules.validate_settings(settings)
        uow.kiosk.save_settings(
            uow.municipality.lg_code, checked, uow.clock.now().isoformat(), by.actor_id
        )
        return checked

    return perform(
        uow,
        by,
        Permission.MANAGE_KIOSK_SETTINGS,
        "kiosk_settings",
        run,
        describe=lambda s: settings_to_json(s)[:500],
    )


def kiosk_offer(uow: KioskUnitOfWork, by: Actor) -> KioskOffer:
    """What this municipality's kiosks offer now (kinds, fees, open or why not), for the relay
    to advise a kiosk before the customer chooses: nothing personal is read. Logged as the
    relay, as its requests are; the request itself is checked again (`_gate`)."""

    def run(_: object) -> KioskOffer:
        lg_code = uow.municipality.lg_code
        settings = uow.kiosk.settings(lg_code) or DEFAULT_SETTINGS
        return offer_of(lg_code, settings, uow.clock.now())

    return perform(
        uow,
        by,
        Permission.ANSWER_KIOSK_REQUEST,
        "kiosk_offer",
        run,
        describe=lambda o: o.status.value,
    )


def household_choices(
    uow: KioskUnitOfWork,
    by: Actor,
    holder_resident_code: str,
    request: KioskRequest,
    *,
    reader: KioskReader,
) -> Sequence[tuple[str, str]]:
    """The members a kiosk may offer for a 住民票の写し (世帯の一部): (reference, name) pairs,
    the reference an opaque record id for `KioskRequest.members`; refused like a request."""

    def run() -> Sequence[tuple[str, str]]:
        try:
            now = uow.clock.now()
            kind = CertificateKind.RESIDENCE
            read = reader.read(
                holder_resident_code, kind, request.request_id, now, _gate(kind, now)
            )
            rules.check_holder(read.snapshot.subject, read.snapshot.read_at.astimezone(JST).date())
        except NotFoundError as exc:
            raise KioskRefused(RefusalCode.NOT_AT_KIOSK, "not_resident", "no record") from exc
        except RuleViolation as exc:
            raise rules.refusal_of(exc) from exc
        members = read.snapshot.household_members
        if any(m.support_measure for m in members):
            raise KioskRefused(RefusalCode.NOT_AT_KIOSK, "support_measure", "a member is protected")
        return [(m.record_id, m.full_name) for m in members]

    return perform_outside(
        uow,
        by,
        Permission.ANSWER_KIOSK_REQUEST,
        _target(holder_resident_code),
        run,
        describe=lambda found: f"kiosk household choices: {len(found)} member(s)",
    )
