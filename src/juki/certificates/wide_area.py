"""Wide-area issuance (広域交付, 住民基本台帳法 第12条の4), as services on both sides.

At the issuing municipality B, `issue_wide_area_certificate` checks the request, asks the home
municipality A for the content through B's CS (a `ContentSource`), checks that the answer is the
one asked for, then records, renders, signs and prints it like a counter certificate — the
register line naming A as the source. At A, `answer_wide_area_request` builds the content with
the same content rules (channel wide-area: a residence certificate of a current record, never
本籍・筆頭者; 支援措置 refuses, with no override from afar) and registers the request whatever the
outcome. Neither side does I/O here: B's CS and A's CS are behind ports.

The two parts of B's side are two oplog entries: asking A (logged when A answered or refused,
no transaction held while A is asked) and recording the certificate (one transaction, with its
numbers and register line), followed by producing it as at the counter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, NoReturn

from juki.certificates.content import build_content, check_request
from juki.certificates.fonts import GlyphCoverage
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Channel,
    Members,
    OptionalItem,
    Requester,
)
from juki.certificates.ports import (
    CertificateUnitOfWork,
    ContentSource,
    PrintSink,
    SuppliedContent,
    WideAreaAsk,
    WideAreaOutcome,
    WideAreaReplay,
    WideAreaRequestEntry,
)
from juki.certificates.services import (
    CertificateProducer,
    IssuedCertificate,
    PreparedCertificate,
    ensure_printable,
    fee_per_copy,
    parse_request_code,
    produce_certificate,
    record_certificate,
)
from juki.core.errors import DomainRuleError, NotFoundError, RuleViolation, ValidationError
from juki.core.identifiers import LgCode
from juki.registry.ports import RegistryUnitOfWork
from juki.security.actions import perform, perform_outside
from juki.security.actors import Actor
from juki.security.permissions import Permission, is_allowed

# Line keys that a wide-area copy can never carry (本籍・筆頭者; a removed record's items).
FORBIDDEN_KEYS: Final = frozenset({"honseki", "koseki_head", "removal_reason", "removed_on"})
REGISTER_LIMIT: Final = 5000


class WideAreaRefused(DomainRuleError):
    """広域交付 refused, naming the rule: by the home municipality, or before it was asked."""


class NotOnNetwork(DomainRuleError):
    """This registry has no CS to ask through (it runs alone, not as a network node)."""

    def __init__(self) -> None:
        super().__init__(
            "from_lg_code",
            "not_on_network",
            "this registry has no communication server: wide-area issuance needs the network",
            "この住民基本台帳は住基ネットに接続されていないため、広域交付できません",
        )


def refuse_off_network(uow: CertificateUnitOfWork, by: Actor) -> NoReturn:
    """A registry without a CS cannot ask: said once the operator's permission is checked, so
    a role without it is refused (403, logged) as on the network, and one with it is told."""

    def run(_: RegistryUnitOfWork) -> None:
        raise NotOnNetwork()

    perform(uow, by, Permission.REQUEST_WIDE_AREA_ISSUANCE, "wide_area:off_network", run)
    raise NotOnNetwork()  # not reached: `run` raised


# -- the issuing municipality (B) -----------------------------------------------------------------


def wide_area_request(request: CertificateRequest, home_lg_code: str) -> CertificateRequest:
    """Check everything B can check before asking anyone; the request as a wide-area one."""
    req = dataclasses.replace(request, channel=Channel.WIDE_AREA)
    try:
        LgCode.parse(home_lg_code)
    except ValidationError as exc:
        raise ValidationError("from_lg_code", exc.rule, exc.message_en, exc.message_ja) from exc
    parse_request_code(req)
    check_request(req)
    if req.requester is not Requester.SELF:
        raise WideAreaRefused(
            "requester",
            "wide_area_requester",
            "wide-area issuance is only for the person or a member of the same household",
            "広域交付は本人又は同一世帯の方の請求に限ります",
        )
    if req.support_override is not None:
        raise WideAreaRefused(
            "support_override",
            "wide_area_override",
            "a support-measure override cannot be given for a wide-area copy",
            "広域交付では支援措置の確認を省略できません（住所地の市区町村の窓口で請求してください）",
        )
    return req


def _own_municipality() -> WideAreaRefused:
    return WideAreaRefused(
        "from_lg_code",
        "own_municipality",
        "the resident lives here: issue at the counter instead",
        "当団体の住民です。通常の窓口交付で発行してください",
    )


def _asked_persons(members: Members) -> int | None:
    if members == ALL_MEMBERS:
        return None
    return max(1, len(members))


def check_supplied(
    supplied: SuppliedContent, req: CertificateRequest, home_lg_code: str
) -> SuppliedContent:
    """The answer is for the person asked about, from the municipality asked, and a wide-area
    residence certificate of the items asked for: one person's certificate can never come out
    for another, and nothing B did not ask for is printed."""
    content = supplied.content
    keys = {line.key for line in content.header} | {
        line.key for person in content.persons for line in person.lines
    }
    expected_persons = _asked_persons(req.members)
    problems = [
        supplied.resident_code != req.resident_code and "another person",
        supplied.home_lg_code != home_lg_code and "another municipality",
        content.record_lg_code != home_lg_code and "another municipality's record",
        content.kind is not CertificateKind.RESIDENCE and "another kind",
        content.channel is not Channel.WIDE_AREA and "not a wide-area copy",
        content.removed and "a removed record",
        keys & FORBIDDEN_KEYS and f"forbidden items {sorted(keys & FORBIDDEN_KEYS)}",
        set(content.items) != {i.value for i in req.items} and "other items",
        not content.persons and "nobody",
        expected_persons is not None
        and len(content.persons) != expected_persons
        and "other members",
    ]
    found = [p for p in problems if p]
    if found:
        raise WideAreaRefused(
            "resident_code",
            "wide_area_mismatch",
            f"the home municipality's answer does not match the request: {', '.join(found)}",
            "住所地の市区町村からの回答が請求内容と一致しないため交付できません",
        )
    return supplied


@dataclass(frozen=True, slots=True)
class WideAreaPreview:
    """What the counter confirms before asking: the checked request and the fee."""

    request: CertificateRequest
    home_lg_code: str
    fee_per_copy: int
    fee_yen: int


def preview_wide_area(
    uow: CertificateUnitOfWork, by: Actor, request: CertificateRequest, *, home_lg_code: str
) -> WideAreaPreview:
    """Check a wide-area request and price it here, without asking the home municipality.

    A is asked once, when the clerk issues: every question is registered at A as the
    resident's content leaving it, so a confirmation screen must not ask.
    """
    target = f"resident_code:{request.resident_code[:11]}@{home_lg_code[:6]}"

    def run(_: RegistryUnitOfWork) -> WideAreaPreview:
        req = wide_area_request(request, home_lg_code)
        if uow.municipality.lg_code == home_lg_code:
            raise _own_municipality()
        per_copy = fee_per_copy(uow, uow.municipality.lg_code, CertificateKind.RESIDENCE)
        return WideAreaPreview(req, home_lg_code, per_copy, per_copy * req.copies)

    return perform(
        uow,
        by,
        Permission.REQUEST_WIDE_AREA_ISSUANCE,
        target,
        run,
        describe=lambda p: f"preview wide-area residence certificate, fee {p.fee_yen}",
    )


def issue_wide_area_certificate(
    uow: CertificateUnitOfWork,
    by: Actor,
    request: CertificateRequest,
    *,
    home_lg_code: str,
    source: ContentSource,
    coverage: GlyphCoverage,
    producer: CertificateProducer,
    sink: PrintSink,
    verify_base_url: str,
) -> IssuedCertificate:
    """広域交付 at this counter: ask the home municipality, then record, render, sign, print."""
    target = f"resident_code:{request.resident_code[:11]}@{home_lg_code[:6]}"
    action = Permission.REQUEST_WIDE_AREA_ISSUANCE

    def ask() -> SuppliedContent:
        req = wide_area_request(request, home_lg_code)
        supplied = source.fetch(
            WideAreaAsk(
                home_lg_code=home_lg_code,
                resident_code=req.resident_code,
                members=req.members,
                items=tuple(sorted(i.value for i in req.items)),
                operator_id=by.actor_id,
            )
        )
        return check_supplied(supplied, req, home_lg_code)

    supplied = perform_outside(
        uow,
        by,
        action,
        target,
        ask,
        describe=lambda s: (
            f"content from {s.home_lg_code} (request {s.request_id}), "
            f"{len(s.content.persons)} person(s)"
        ),
    )
    req = dataclasses.replace(request, channel=Channel.WIDE_AREA)

    def record(_: RegistryUnitOfWork) -> PreparedCertificate:
        if uow.municipality.lg_code == home_lg_code:
            raise _own_municipality()
        ensure_printable(supplied.content, coverage)
        per_copy = fee_per_copy(uow, uow.municipality.lg_code, CertificateKind.RESIDENCE)
        return record_certificate(
            uow,
            by,
            req,
            supplied.content,
            per_copy,
            None,
            None,
            verify_base_url=verify_base_url,
            source=supplied,
        )

    prepared = perform(
        uow,
        by,
        action,
        target,
        record,
        describe=lambda p: (
            f"wide-area residence certificate {p.record.certificate_id} from "
            f"{home_lg_code} (request {supplied.request_id}), {p.record.copies} copies "
            f"{','.join(p.record.issue_numbers)}, {len(p.content.persons)} person(s)"
        ),
    )
    return produce_certificate(uow, by, prepared, producer, sink, action)


# -- the home municipality (A) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WideAreaQuestion:
    """A verified request from another municipality's CS (B), as A's services see it."""

    request_id: str
    requesting_lg_code: str
    requested_by: str
    resident_code: str
    members: Members
    items: frozenset[OptionalItem]


def _members_text(members: Members) -> str:
    if members == ALL_MEMBERS:
        return ALL_MEMBERS
    return ",".join(members) if members else "self"


def _refusal_for_wide_area(exc: RuleViolation | NotFoundError, home: str) -> WideAreaRefused:
    """The reason as B's staff should read it: not "ask for a 除票" or "a supervisor may
    override", which only A's own counter can do."""
    if isinstance(exc, NotFoundError) or exc.rule == "removed_record":
        return WideAreaRefused(
            "resident_code",
            "not_resident",
            f"not a resident of {home} (no record, or the record is removed)",
            f"{home}の住民ではありません（住民票がないか、転出・死亡等で消除されています）",
        )
    if exc.rule == "support_measure":
        return WideAreaRefused(
            exc.field,
            "support_measure",
            "a person on this certificate is under support measures (支援措置): "
            "no wide-area issuance",
            "支援措置の対象者が含まれるため広域交付できません（住所地の市区町村の窓口で請求してください）",
        )
    return WideAreaRefused(exc.field, exc.rule, exc.message_en, exc.message_ja)


def answer_wide_area_request(
    uow: CertificateUnitOfWork, by: Actor, question: WideAreaQuestion
) -> CertificateContent:
    """Build one applicant's wide-area content for B, and register that B asked.

    A refusal is registered too (in a transaction of its own, after the oplog's "rejected"
    entry) and raised as `WideAreaRefused`; a request id seen before — or registered by a
    concurrent answer to the same request while this one ran — is refused as `WideAreaReplay`
    and not registered again, so duplicates racing in are refused, never a storage failure.
    """
    try:
        return perform(
            uow,
            by,
            Permission.ANSWER_WIDE_AREA_REQUEST,
            f"resident_code:{question.resident_code[:11]}",
            lambda _: _answer(uow, question),
            describe=lambda c: (
                f"wide-area content for {question.requesting_lg_code} "
                f"(request {question.request_id}, operator {question.requested_by}), "
                f"{len(c.persons)} person(s)"
            ),
        )
    except RuleViolation as exc:
        if isinstance(exc, WideAreaReplay):
            raise
        _register_refusal(uow, question, exc)
        if isinstance(exc, WideAreaRefused):
            raise
        raise WideAreaRefused(exc.field, exc.rule, exc.message_en, exc.message_ja) from exc


def _answer(uow: CertificateUnitOfWork, question: WideAreaQuestion) -> CertificateContent:
    """The content for B by the same rules as at A's counter, registered as answered."""
    if uow.certificates.wide_area_request_seen(question.request_id):
        raise WideAreaReplay()
    request = CertificateRequest(
        kind=CertificateKind.RESIDENCE,
        resident_code=question.resident_code,
        members=question.members,
        items=question.items,
        channel=Channel.WIDE_AREA,
    )
    home = uow.municipality.address_prefix
    parse_request_code(request)
    check_request(request)
    try:
        snapshot = uow.certificates.snapshot(
            question.resident_code,
            removed=False,
            with_seal=False,
            municipality=uow.municipality,
            read_at=uow.clock.now(),
        )
    except NotFoundError as exc:
        raise _refusal_for_wide_area(exc, home) from exc
    try:
        content = build_content(request, snapshot)
    except RuleViolation as exc:
        raise _refusal_for_wide_area(exc, home) from exc
    uow.certificates.add_wide_area_request(
        _register_entry(uow, question, WideAreaOutcome.ANSWERED, len(content.persons), None)
    )
    return content


def _register_refusal(
    uow: CertificateUnitOfWork, question: WideAreaQuestion, exc: RuleViolation
) -> None:
    """Register a refused request, in a transaction of its own (the answer's was rolled back)."""
    with uow:
        # A twin of this request may have been registered since `_answer` looked: refuse this
        # one as the replay it is (the store does the same when both insert at once).
        if uow.certificates.wide_area_request_seen(question.request_id):
            raise WideAreaReplay() from exc
        uow.certificates.add_wide_area_request(
            _register_entry(uow, question, WideAreaOutcome.REFUSED, 0, exc.rule)
        )
        uow.commit()


def _register_entry(
    uow: CertificateUnitOfWork,
    question: WideAreaQuestion,
    outcome: WideAreaOutcome,
    persons: int,
    rule: str | None,
) -> WideAreaRequestEntry:
    return WideAreaRequestEntry(
        request_id=question.request_id,
        at=uow.clock.now().isoformat(),
        requesting_lg_code=question.requesting_lg_code,
        requested_by=question.requested_by,
        subject_resident_code=question.resident_code,
        members=_members_text(question.members)[:600],
        items=",".join(sorted(i.value for i in question.items)),
        outcome=outcome,
        persons=persons,
        rule=rule,
    )


def wide_area_register(
    uow: CertificateUnitOfWork,
    by: Actor,
    limit: int = 500,
    *,
    since: date | None = None,
    until: date | None = None,
) -> Sequence[WideAreaRequestEntry]:
    """広域交付の照会記録, newest first: who asked for which resident's content, and the answer.

    The register is personal data (whose content went where), so each reading is authorised
    and logged like any other action; bad bounds are refused, not silently clamped.
    """

    def run(_: RegistryUnitOfWork) -> Sequence[WideAreaRequestEntry]:
        if not 1 <= limit <= REGISTER_LIMIT:
            raise ValidationError(
                "limit",
                "range",
                f"limit must be 1-{REGISTER_LIMIT}",
                f"表示件数は1〜{REGISTER_LIMIT}件で指定してください",
            )
        if since is not None and until is not None and since > until:
            raise ValidationError(
                "since", "range", "since is after until", "開始日が終了日より後になっています"
            )
        return uow.certificates.wide_area_requests(limit, since, until)

    span = f"{since.isoformat() if since else ''}..{until.isoformat() if until else ''}"
    rows = perform(
        uow,
        by,
        Permission.VIEW_CERTIFICATE_REGISTER,
        f"wide_area_register:{span if since or until else 'recent'}",
        run,
        describe=lambda rows: f"{len(rows)} entries",
    )
    if is_allowed(by.role, Permission.VIEW_RESIDENT_CODE):
        return rows
    # 住民票コード hidden from a role that may not see it: the subject's, and the members'.
    return [
        dataclasses.replace(
            e,
            subject_resident_code=None,
            members=e.members if e.members in ("self", ALL_MEMBERS) else None,
        )
        for e in rows
    ]
