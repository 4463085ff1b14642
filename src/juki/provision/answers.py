"""What a provision answers, pure: the identity_info a node holds, which of it a lookup finds,
and the answer cut down to the items the task allows (法30条の9〜30条の15, 番号法19条).

`IdentityFound` is one identity_info as a node keeps it (its copy, or a version from its change
history). A lookup by 住民票コード finds the person's current entry (the active one, else the
latest: a person who moved keeps a removed entry at the old municipality), or, with `as_of`,
the version in force that day. A lookup by the four items must find exactly one active person
(with `as_of`, one whose version in force that day fits); more is "ambiguous" and answered with
nothing, so a lookup never hands out a list of people.

A person who moved abroad (国外転出) has no active entry: the 附票連携 holds them
(`Source.FUHYO`, 附票本人確認情報, with the country). When identity_info finds no one active,
the 附票's entry that says 国外転出 answers under the same task rules, stating its source; it
carries no 個人番号, 旧氏 or 通称, so those are never among the items it provides.
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


# What a 附票本人確認情報 does not hold: an answer from it never provides these.
NOT_IN_FUHYO: Final = frozenset({Item.MY_NUMBER})
ABROAD_FIELDS: Final = ("moved_abroad", "abroad_country")


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
        return out

    def source(self) -> Source | None:
        return None if self.found is None else self.found.source

    def may_be_abroad(self) -> bool:
        """Whether the 附票 might answer this better: nobody found, or by code only an entry
        removed (a 国外転出 leaves the identity index so). An ambiguous lookup stays so."""
        if self.outcome is Outcome.NOT_FOUND:
            return self.reason is None
        found = self.found
        return self.outcome is Outcome.PROVIDED and found is not None and not found.reachable()


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


def _abroad(hit: IdentityFound | None) -> IdentityFound | None:
    return hit if hit is not None and hit.moved_abroad else None


def answer(
    request: LookupRequest,
    candidates: Sequence[IdentityFound],
    allowed: frozenset[Item],
    abroad: Sequence[IdentityFound] = (),
) -> Answer:
    """The answer to one lookup the task may make, from what the node found for its key (by
    code: every entry, or the history with `as_of`; by the four items: reading + birth date,
    with `as_of` the histories of everyone who had them). `abroad` is what the 附票連携 holds
    for the same key (`Source.FUHYO`), asked when identity_info finds no one reachable."""
    asked = allowed if request.items is None else request.items
    if not asked <= allowed:
        extra = ", ".join(sorted(asked - allowed))
        return refused(request, f"items not allowed for the task: {extra}")
    if request.lookup is Lookup.RESIDENT_CODE:
        hit = _by_code(request, candidates)
        if hit is None or not hit.reachable():
            hit = _abroad(_by_code(request, abroad)) or hit
        if hit is None:
            return Answer(request.line, request.lookup, Outcome.NOT_FOUND, None, request.as_of)
        return _provided(request, hit, asked)
    fitting = [c for c in _people(candidates, request.as_of) if matches(c, request)]
    if not fitting:
        fitting = [c for c in _people(abroad, request.as_of) if matches(c, request)]
    if len(fitting) != 1:
        why = None if not fitting else f"ambiguous: {len(fitting)} persons match"
        return Answer(request.line, request.lookup, Outcome.NOT_FOUND, why, request.as_of)
    return _provided(request, fitting[0], asked)


def _provided(request: LookupRequest, hit: IdentityFound, asked: frozenset[Item]) -> Answer:
    items = asked - NOT_IN_FUHYO if hit.source is Source.FUHYO else asked
    return Answer(request.line, request.lookup, Outcome.PROVIDED, None, request.as_of, hit, items)
