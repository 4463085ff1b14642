"""What a provision answers, pure: the identity_info a node holds, which of it a lookup finds,
and the answer cut down to the items the task allows (法30条の9〜30条の15, 番号法19条).

`IdentityFound` is one identity_info as a node keeps it (its copy, or a version from its change
history). A lookup by 住民票コード finds the person's current entry (the active one, else the
latest: a person who moved keeps a removed entry at the old municipality), or, with `as_of`,
the version in force that day. A lookup by the four items must find exactly one active person
(with `as_of`, one whose version in force that day fits); more is "ambiguous" and answered with
nothing, so a lookup never hands out a list of people.

A person who moved abroad (国外転出) has no active entry: the 附票連携 holds them
(`Source.FUHYO`, 附票本人確認情報, with the country). 法30条の44の6 (as in force 2024-10-01)
lets the prefecture use it only for 別表第五's tasks (and provide it for 別表第六's) "国外転出者に
係る事務を処理する場合に限る", and only "住民票コードを除く". So:

- Only a task whose register entry may use the 附票 (`rules.may_use_fuhyo`) is answered from
  it. For any other task the agency gets the answer it would get were the person in neither
  (`not_found`, nothing about the 附票), and the node records the lookup as refused under the
  article (`Answer.recorded_refusal`).
- An answer from the 附票 never carries the 住民票コード, nor the 個人番号 (the 附票 holds none),
  whatever the task allows; it names them as `omitted`, with the reason.
- A lookup by 住民票コード is never answered from the 附票: matching the code the agency holds
  against the code the 附票 keeps is a use (利用) of that code, which the article's "住民票コードを
  除く" takes out of what the prefecture may use — the limit is on use, not only on what is
  provided. Such a lookup is answered from identity_info alone (a removed entry, if that is
  all it holds); for a task that may use the 附票 the `not_found` says to ask by the four items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from juki.core.text import normalize_kana
from juki.provision.model import Item
from juki.provision.requests import Lookup, LookupRequest, address_key, name_key

# The fields of identity_info each item stands for; the address carries its municipality.
ITEM_FIELDS: Final = {
    Item.NAME: ("family_name", "given_name", "former_surname", "alias_name"),
    Item.NAME_KANA: (
        "family_name_kana",
        "given_name_kana",
        "former_surname_kana",
        "alias_name_kana",
    ),
    Item.BIRTH_DATE: ("birth_date",),
    Item.SEX: ("sex",),
    Item.ADDRESS: ("address", "lg_code"),
    Item.RESIDENT_CODE: ("resident_code",),
    Item.MY_NUMBER: ("my_number",),
    Item.CHANGE_INFO: ("status", "change_reason", "changed_on"),
}


# What an answer from 附票本人確認情報 never provides, and why, in English and Japanese.
NOT_FROM_FUHYO: Final = {
    Item.RESIDENT_CODE: (
        "the 住民票コード is not used or provided from 附票本人確認情報 (住基法30条の44の6第1項)",
        "附票本人確認情報の住民票コードは利用・提供しません（住基法30条の44の6第1項）",
    ),
    Item.MY_NUMBER: (
        "附票本人確認情報 holds no 個人番号",
        "附票本人確認情報に個人番号は含まれません",
    ),
}
ABROAD_FIELDS: Final = ("moved_abroad", "abroad_country")
# Recorded (not shown) when the 附票 would have answered a task that may not use it.
FUHYO_TASK_REFUSAL: Final = (
    "附票本人確認情報 not used: the task may not use it (住基法30条の44の6: 別表第五・第六, "
    "国外転出者に係る事務に限る)"
)
# Told to a task that may use the 附票 when a lookup of it cannot reach the 附票.
FUHYO_NOT_BY_CODE: Final = (
    "not found in identity_info; 附票本人確認情報 is not searched by 住民票コード "
    "(住基法30条の44の6第1項): ask by the four items / "
    "附票本人確認情報は住民票コードで検索しません。基本4情報で照会してください"
)
FUHYO_NOTHING_TO_GIVE: Final = (
    "not found in identity_info; 附票本人確認情報 cannot give the items asked "
    "(no 住民票コード, no 個人番号) / 附票本人確認情報からは求められた項目を提供できません"
)


class Source(StrEnum):
    IDENTITY = "identity_info"  # 本人確認情報 (the identity index)
    FUHYO = "fuhyo_identity_info"  # 附票本人確認情報 (附票連携)


class Outcome(StrEnum):
    PROVIDED = "provided"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class IdentityFound:
    lg_code: str
    resident_code: str
    my_number: str | None
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    address: str
    status: str
    change_reason: str
    changed_on: date
    former_surname: str | None = None
    former_surname_kana: str | None = None
    alias_name: str | None = None
    alias_name_kana: str | None = None
    order: int = 0  # among versions of one history: later received, higher
    source: Source = Source.IDENTITY
    moved_abroad: bool = False  # 附票: 国外転出者である旨
    abroad_country: str | None = None

    def rank(self) -> tuple[date, bool, int]:
        return (self.changed_on, self.status == "active", self.order)

    def reachable(self) -> bool:
        """Whether a lookup may find this entry: a resident (active), or, on the 附票, a
        person who moved abroad (the 附票 keeps them, its status removed)."""
        return self.moved_abroad if self.source is Source.FUHYO else self.status == "active"


@dataclass(frozen=True, slots=True)
class Answer:
    line: int
    lookup: Lookup
    outcome: Outcome
    reason: str | None = None
    as_of: date | None = None
    found: IdentityFound | None = None
    items: frozenset[Item] = frozenset()
    omitted: frozenset[Item] = frozenset()  # asked, allowed, not from the 附票 (NOT_FROM_FUHYO)
    # the agency is told `outcome`; the record says refused, with this reason (FUHYO_TASK_REFUSAL)
    recorded_refusal: str | None = None

    def identity(self) -> dict[str, Any]:
        """Only the items provided: nothing else of the person leaves the node."""
        if self.found is None:
            return {}
        out: dict[str, Any] = {}
        abroad = self.found.source is Source.FUHYO
        for item in sorted(self.items):
            fields = ITEM_FIELDS[item]
            if abroad and item is Item.ADDRESS:
                fields = (*fields, *ABROAD_FIELDS)
            for field in fields:
                value = getattr(self.found, field)
                out[field] = value.isoformat() if isinstance(value, date) else value
        return out

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "outcome": self.outcome.value}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.outcome is Outcome.PROVIDED and self.found is not None:
            out["source"] = self.found.source.value
            out["items"] = sorted(self.items)
            out["identity"] = self.identity()
            if self.omitted:
                out["omitted"] = sorted(self.omitted)
                out["omitted_reason"] = omitted_reason(self.omitted)
        return out

    def recorded_outcome(self) -> Outcome:
        """The outcome the node records: a lookup withheld from the 附票 is a refusal."""
        return Outcome.REFUSED if self.recorded_refusal is not None else self.outcome

    def source(self) -> Source | None:
        return None if self.found is None else self.found.source

    def asks_fuhyo(self) -> bool:
        """Whether the 附票 is to be read for this lookup: by the four items (never by code),
        and identity_info found no one (an ambiguous lookup stays so; a `not_found` with a
        reason already says why the 附票 is not asked)."""
        return (
            self.lookup is Lookup.BASIC_ITEMS
            and self.outcome is Outcome.NOT_FOUND
            and self.reason is None
            and self.recorded_refusal is None
        )


def omitted_reason(omitted: Iterable[Item]) -> str:
    """Why each item omitted from an answer from the 附票 is, English then Japanese."""
    why = [NOT_FROM_FUHYO[i] for i in sorted(omitted) if i in NOT_FROM_FUHYO]
    return "; ".join(en for en, _ in why) + " / " + "。".join(ja for _, ja in why)


def current(entries: Iterable[IdentityFound]) -> IdentityFound | None:
    """The person's entry now: the active one, else the one removed last."""
    found = list(entries)
    return max(found, key=lambda e: (e.status == "active", e.changed_on, e.order), default=None)


def as_of(history: Iterable[IdentityFound], day: date) -> IdentityFound | None:
    """The version in force on `day`: the latest change on or before it (on one day, the
    active entry after the removal it replaced; then the later received)."""
    return max((v for v in history if v.changed_on <= day), key=IdentityFound.rank, default=None)


def reading_key(entry: IdentityFound) -> str:
    """The reading as the stores key it (the read by reading already compared it, but not
    for the version in force on an `as_of` day)."""
    return normalize_kana(entry.family_name_kana + entry.given_name_kana)


def matches(entry: IdentityFound, request: LookupRequest) -> bool:
    """Whether an entry found by reading and birth date is one a lookup may find and fits the
    rest of the four items: sex, the name without variation selectors, the address as a prefix
    (for a person abroad, the last address in Japan the 附票 records)."""
    if not entry.reachable() or entry.birth_date != request.birth_date:
        return False
    if request.as_of is not None and request.name_kana_key != reading_key(entry):
        return False  # the version in force then may have had another reading
    if request.sex is not None and entry.sex != request.sex:
        return False
    if request.name_key is not None:
        names = {
            name_key(entry.family_name + entry.given_name),
            *(name_key(n + entry.given_name) for n in (entry.former_surname,) if n),
            *(name_key(n) for n in (entry.alias_name,) if n),
        }
        if request.name_key not in names:
            return False
    return request.address_key is None or address_key(entry.address).startswith(request.address_key)


def refused(request: LookupRequest, reason: str) -> Answer:
    return Answer(request.line, request.lookup, Outcome.REFUSED, reason, request.as_of)


def _people(versions: Iterable[IdentityFound], day: date | None) -> list[IdentityFound]:
    """One entry per person among `versions`: now (`current`), or the version in force `day`."""
    by_code: dict[str, list[IdentityFound]] = {}
    for v in versions:
        by_code.setdefault(v.resident_code, []).append(v)
    pick = current if day is None else (lambda vs: as_of(vs, day))
    return [hit for vs in by_code.values() if (hit := pick(vs)) is not None]


def _by_code(request: LookupRequest, found: Sequence[IdentityFound]) -> IdentityFound | None:
    return current(found) if request.as_of is None else as_of(found, request.as_of)


def answer(
    request: LookupRequest,
    candidates: Sequence[IdentityFound],
    allowed: frozenset[Item],
    abroad: Sequence[IdentityFound] = (),
    *,
    fuhyo: bool = False,
) -> Answer:
    """The answer to one lookup the task may make, from what the node found for its key (by
    code: every entry, or the history with `as_of`; by the four items: reading + birth date,
    with `as_of` the histories of everyone who had them). `abroad` is what the 附票連携 holds
    for the four items (`Source.FUHYO`), read when identity_info found no one
    (`Answer.asks_fuhyo`); `fuhyo` is whether the task may use it (`rules.may_use_fuhyo`)."""
    asked = allowed if request.items is None else request.items
    if not asked <= allowed:
        extra = ", ".join(sorted(asked - allowed))
        return refused(request, f"items not allowed for the task: {extra}")
    if request.lookup is Lookup.RESIDENT_CODE:
        hit = _by_code(request, candidates)
        if hit is not None:
            return _provided(request, hit, asked)
        why = FUHYO_NOT_BY_CODE if fuhyo else None
        return Answer(request.line, request.lookup, Outcome.NOT_FOUND, why, request.as_of)
    fitting = [c for c in _people(candidates, request.as_of) if matches(c, request)]
    if not fitting:
        return _from_fuhyo(request, asked, abroad, fuhyo=fuhyo)
    if len(fitting) != 1:
        why = f"ambiguous: {len(fitting)} persons match"
        return Answer(request.line, request.lookup, Outcome.NOT_FOUND, why, request.as_of)
    return _provided(request, fitting[0], asked)


def _from_fuhyo(
    request: LookupRequest, asked: frozenset[Item], abroad: Sequence[IdentityFound], *, fuhyo: bool
) -> Answer:
    """A lookup by the four items identity_info found no one for, asked of the 附票's entries
    that say 国外転出: answered for a task that may use it; for another, `not_found` to the
    agency (the same as for no one: not even "ambiguous") and refused in the record."""
    line, lookup, day = request.line, request.lookup, request.as_of
    if not asked - NOT_FROM_FUHYO.keys():
        why = FUHYO_NOTHING_TO_GIVE if fuhyo else None
        return Answer(line, lookup, Outcome.NOT_FOUND, why, day)
    fitting = [c for c in _people(abroad, day) if matches(c, request)]
    if len(fitting) == 1 and fuhyo:
        return _provided(request, fitting[0], asked)
    if len(fitting) == 1:
        return Answer(
            line, lookup, Outcome.NOT_FOUND, None, day, recorded_refusal=FUHYO_TASK_REFUSAL
        )
    why = f"ambiguous: {len(fitting)} persons match" if fitting and fuhyo else None
    return Answer(line, lookup, Outcome.NOT_FOUND, why, day)


def _provided(request: LookupRequest, hit: IdentityFound, asked: frozenset[Item]) -> Answer:
    """Only the items asked; from the 附票, never the 住民票コード or the 個人番号 (named as
    omitted)."""
    omitted = asked & NOT_FROM_FUHYO.keys() if hit.source is Source.FUHYO else frozenset()
    return Answer(
        request.line, request.lookup, Outcome.PROVIDED, None, request.as_of, hit,
        asked - omitted, frozenset(omitted),
    )  # fmt: skip
