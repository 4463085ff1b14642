"""The terminal's two forms as posted — issuance at the counter and 広域交付 — read into requests.

Each form is kept as posted (so a refused form comes back filled in) and turned into a
`CertificateRequest` in one place; the shape of a value is checked here, with a Japanese message
naming the field, and every rule about what may be issued is left to the services.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import Depends, Form

from juki.certificates.content import ALLOWED_ITEMS
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    Members,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.terminal.requester import RequesterForm, requester_form
from juki.core.errors import RuleViolation, ValidationError
from juki.web.text import CleanStr

# 広域交付: what the clerk may choose. 本籍・筆頭者 is not offered at all (a wide-area copy never
# carries it; a crafted post is still refused by the rule).
# Only a residence certificate is issued wide-area: the items a 写し may be asked for.
WIDE_AREA_ITEMS: Final = tuple(
    i
    for i in OptionalItem
    if i in ALLOWED_ITEMS[CertificateKind.RESIDENCE] and i is not OptionalItem.HONSEKI
)
MEMBER_MODES: Final = ("self", "all", "chosen")
MAX_CHOSEN: Final = 20


def items_and_copies(items: Sequence[str], copies: str) -> tuple[frozenset[OptionalItem], int]:
    """The optional items and the number of copies as both forms post them."""
    try:
        chosen = frozenset(OptionalItem(i) for i in items)
    except ValueError:
        raise invalid("items", "記載事項の指定が正しくありません") from None
    if not re.fullmatch(r"[0-9]{1,2}", copies.strip()):
        raise invalid("copies", "部数は1〜10の数字で入力してください")
    return chosen, int(copies.strip())


@dataclass(frozen=True, slots=True)
class RequestForm:
    """The issuance form as posted; turned into a `CertificateRequest` in one place."""

    resident_code: str
    kind: str
    members: list[str]
    items: list[str]
    copies: str
    requester: str
    removed: str
    override_reason: str
    third: RequesterForm = field(default_factory=RequesterForm)  # 第三者請求: the requester

    def to_request(self, household: Sequence[str]) -> CertificateRequest:
        try:
            kind = CertificateKind(self.kind)
        except ValueError:
            raise invalid("kind", "証明書の種類を選択してください") from None
        items, copies = items_and_copies(self.items, self.copies)
        members: Members
        chosen = [m for m in self.members if m]
        # 戸籍の附票の写し: the subject's own, from the 附票 kept here as their 本籍 (the household
        # here is not the 戸籍; whether the 住民票 is removed says nothing of the 附票)
        fuhyo = kind is CertificateKind.FUHYO
        if kind is CertificateKind.SEAL or self.removed or fuhyo:
            members = ()
        elif not chosen:
            raise invalid("members", "記載する世帯員を1人以上選択してください")
        elif len(household) > 1 and sorted(chosen) == sorted(household):
            members = ALL_MEMBERS
        elif chosen == [self.resident_code]:
            members = ()
        else:
            members = tuple(chosen)
        reason = self.override_reason.strip()
        third_party = self.requester == Requester.THIRD_PARTY.value
        return CertificateRequest(
            kind=kind,
            resident_code=self.resident_code,
            members=members,
            items=items,
            copies=copies,
            requester=Requester.THIRD_PARTY if third_party else Requester.SELF,
            removed=bool(self.removed) and not fuhyo,
            support_override=SupportOverride(approved_by="", reason=reason) if reason else None,
            third_party=self.third.to_third_party() if third_party else None,
        )


def invalid(field: str, message_ja: str) -> RuleViolation:
    """A value of the wrong shape, named for the clerk (the services judge the rest)."""
    return ValidationError(field, "invalid", f"{field} is invalid", message_ja)


def request_form(
    resident_code: Annotated[CleanStr, Form(max_length=11)],
    third: Annotated[RequesterForm, Depends(requester_form)],
    kind: Annotated[CleanStr, Form(max_length=32)] = "",
    members: Annotated[list[CleanStr] | None, Form(max_length=11)] = None,
    items: Annotated[list[CleanStr] | None, Form(max_length=32)] = None,
    copies: Annotated[CleanStr, Form(max_length=4)] = "1",
    requester: Annotated[CleanStr, Form(max_length=32)] = "self",
    removed: Annotated[CleanStr, Form(max_length=4)] = "",
    override_reason: Annotated[CleanStr, Form(max_length=200)] = "",
) -> RequestForm:
    return RequestForm(
        resident_code=resident_code,
        kind=kind,
        members=(members or [])[:50],
        items=(items or [])[: len(OptionalItem)],
        copies=copies,
        requester=requester,
        removed=removed,
        override_reason=override_reason,
        third=third,
    )


PostedRequest = Annotated[RequestForm, Depends(request_form)]


@dataclass(frozen=True, slots=True)
class WideAreaForm:
    """The 広域交付 form as posted: home municipality, applicant, members, items, copies."""

    from_lg_code: str
    resident_code: str
    members_mode: str
    member_codes: str
    items: list[str]
    copies: str

    @property
    def chosen(self) -> list[str]:
        return [c for c in re.split(r"[\s,、，]+", self.member_codes) if c]

    def to_request(self) -> CertificateRequest:
        items, copies = items_and_copies(self.items, self.copies)
        if self.members_mode not in MEMBER_MODES:
            raise invalid("members", "記載する世帯員を選択してください")
        members: Members = ()
        if self.members_mode == "all":
            members = ALL_MEMBERS
        elif self.members_mode == "chosen":
            chosen = self.chosen
            if not chosen:
                raise invalid("members", "記載する世帯員の住民票コードを入力してください")
            if len(chosen) > MAX_CHOSEN:
                raise invalid("members", f"指定できる世帯員は{MAX_CHOSEN}人までです")
            members = () if chosen == [self.resident_code.strip()] else tuple(chosen)
        return CertificateRequest(
            kind=CertificateKind.RESIDENCE,
            resident_code=self.resident_code.strip(),
            members=members,
            items=items,
            copies=copies,
        )


def wide_area_form(
    from_lg_code: Annotated[CleanStr, Form(max_length=32)],
    resident_code: Annotated[CleanStr, Form(max_length=32)],
    members_mode: Annotated[CleanStr, Form(max_length=16)] = "self",
    member_codes: Annotated[CleanStr, Form(max_length=600)] = "",
    items: Annotated[list[CleanStr] | None, Form(max_length=32)] = None,
    copies: Annotated[CleanStr, Form(max_length=4)] = "1",
) -> WideAreaForm:
    return WideAreaForm(
        from_lg_code=from_lg_code.strip(),
        resident_code=resident_code.strip(),
        members_mode=members_mode,
        member_codes=member_codes,
        items=(items or [])[: len(OptionalItem)],
        copies=copies,
    )


PostedWideArea = Annotated[WideAreaForm, Depends(wide_area_form)]
