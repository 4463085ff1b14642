"""What a provision answers, pure: the identity_info a node holds, which of it a lookup finds,
and the answer cut down to the items the task allows (法30条の9〜30条の15, 番号法19条).

`IdentityFound` is one identity_info as a node keeps it (its copy, or a version from its change
history). A lookup by 住民票コード finds the person's current entry (the active one, else the
latest: a person who moved keeps a removed entry at the old municipality), or, with `as_of`,
the version in force that day. A lookup by the four items must find exactly one active person;
more is "ambiguous" and answered with nothing, so a lookup never hands out a list of people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

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

    def rank(self) -> tuple[date, bool, int]:
        return (self.changed_on, self.status == "active", self.order)


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
        for item in sorted(self.items):
            for field in ITEM_FIELDS[item]:
                value = getattr(self.found, field)
                out[field] = value.isoformat() if isinstance(value, date) else value
        return out

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "outcome": self.outcome.value}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.outcome is Outcome.PROVIDED:
            out["items"] = sorted(self.items)
            out["identity"] = self.identity()
        return out


def current(entries: Iterable[IdentityFound]) -> IdentityFound | None:
    """The person's entry now: the active one, else the one removed last."""
    found = list(entries)
    return max(found, key=lambda e: (e.status == "active", e.changed_on, e.order), default=None)


def as_of(history: Iterable[IdentityFound], day: date) -> IdentityFound | None:
    """The version in force on `day`: the latest change on or before it (on one day, the
    active entry after the removal it replaced; then the later received)."""
    return max((v for v in history if v.changed_on <= day), key=IdentityFound.rank, default=None)


def matches(entry: IdentityFound, request: LookupRequest) -> bool:
    """Whether an active entry found by reading and birth date fits the rest of the four
    items: sex, the name without variation selectors, the address as a prefix."""
    if entry.status != "active" or entry.birth_date != request.birth_date:
        return False
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


def answer(
    request: LookupRequest, candidates: Sequence[IdentityFound], allowed: frozenset[Item]
) -> Answer:
    """The answer to one lookup the task may make, from what the node found for its key (by
    code: every entry, or the history with `as_of`; by the four items: reading + birth date)."""
    asked = allowed if request.items is None else request.items
    if not asked <= allowed:
        extra = ", ".join(sorted(asked - allowed))
        return refused(request, f"items not allowed for the task: {extra}")
    if request.lookup is Lookup.RESIDENT_CODE:
        hit = current(candidates) if request.as_of is None else as_of(candidates, request.as_of)
        if hit is None:
            return Answer(request.line, request.lookup, Outcome.NOT_FOUND, None, request.as_of)
        return Answer(
            request.line, request.lookup, Outcome.PROVIDED, None, request.as_of, hit, asked
        )
    fitting = [c for c in candidates if matches(c, request)]
    if len(fitting) != 1:
        why = None if not fitting else f"ambiguous: {len(fitting)} persons match"
        return Answer(request.line, request.lookup, Outcome.NOT_FOUND, why)
    return Answer(request.line, request.lookup, Outcome.PROVIDED, None, None, fitting[0], asked)
