"""The counter's life-event forms as posted, read into the registry's commands.

Each screen (`EntryScreen`) names its fields once: the template draws them from that list (one
macro per kind of field), the confirmation screen lists them, and the form is read back through
`Posted`, which checks the shape of a value (a date, a choice, no forbidden character) and names
the field in Japanese. Every rule about what may be recorded is the registry's, checked when the
change is filed; its error names a command field, which `field_of` maps back to the form's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final, TypeVar

from juki.core.errors import ValidationError
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.web.text import MESSAGE_JA, first_forbidden

E = TypeVar("E", bound=StrEnum)

MAX_VALUE: Final = 500  # characters in any one posted value
MAX_VALUES: Final = 40  # values under one name (members, relationships)
REL_PREFIX: Final = "rel."  # `rel.<record_id>`: a member's 続柄 after the change

SEX_OPTIONS: Final = tuple((s.value, s.label_ja) for s in Sex)
RELATIONSHIP_OPTIONS: Final = tuple(
    (r.value, r.label_ja) for r in Relationship if r is not Relationship.HOUSEHOLDER
)


@dataclass(frozen=True, slots=True)
class Field:
    """One input: `kind` is text, date, select, members (check boxes of the household's
    members), member (one of them, or none) or relationships (a 続柄 per member)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    max_length: int = 200
    future: bool = False  # a date that may lie ahead (転出予定日)


@dataclass(frozen=True, slots=True)
class Context:
    """What a form is read against: the resident it was opened from, the members of their
    household, today, and how a householder's 住民票コード leads to their household."""

    subject: ResidentRecord | None
    members: Sequence[ResidentRecord]
    today: date
    household_of_code: Callable[[str], str]


class Posted:
    """A posted form: every value under each name, read by the screen's fields."""

    def __init__(self, values: Mapping[str, Sequence[str]], fields: Sequence[Field]) -> None:
        self.values = values
        self.labels = {f.name: f.label for f in fields}

    def _checked(self, name: str, value: str) -> str:
        if len(value) > MAX_VALUE:
            raise invalid(name, f"{self.labels.get(name, name)}は{MAX_VALUE}文字までです")
        if first_forbidden(value) is not None:
            raise invalid(name, MESSAGE_JA)
        return value.strip()

    def many(self, name: str) -> list[str]:
        found = [self._checked(name, v) for v in self.values.get(name, ())]
        if len(found) > MAX_VALUES:
            raise invalid(name, f"{self.labels.get(name, name)}は{MAX_VALUES}件までです")
        return [v for v in found if v]

    def optional(self, name: str) -> str | None:
        found = self.many(name)
        return found[0] if found else None

    def text(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise invalid(name, f"{self.labels.get(name, name)}を入力してください", "required")
        return value

    def date(self, name: str) -> date:
        text = self.text(name)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise invalid(
                name, f"{self.labels.get(name, name)}は「2025-04-01」の形式で入力してください"
            ) from None

    def choice(self, name: str, enum: type[E]) -> E:
        text = self.text(name)
        try:
            return enum(text)
        except ValueError:
            raise invalid(name, f"{self.labels.get(name, name)}を選択してください") from None

    def relationships(self, members: Sequence[ResidentRecord]) -> dict[str, Relationship]:
        """Each member's new 続柄, where one was chosen (`rel.<record_id>`)."""
        chosen: dict[str, Relationship] = {}
        for m in members:
            value = self.optional(f"{REL_PREFIX}{m.record_id}")
            if value is None:
                continue
            try:
                chosen[m.record_id] = Relationship(value)
            except ValueError:
                raise invalid("relationships", "続柄を選択してください") from None
        return chosen

    def echo(
        self, fields: Sequence[Field], members: Sequence[ResidentRecord]
    ) -> dict[str, list[str]]:
        """The values of the screen's own fields, as the form and the confirmation redraw them."""
        names = [f.name for f in fields if f.kind != "relationships"]
        if any(f.kind == "relationships" for f in fields):
            names += [f"{REL_PREFIX}{m.record_id}" for m in members]
        return {n: [v[:MAX_VALUE] for v in self.values.get(n, ())][:MAX_VALUES] for n in names}


def invalid(name: str, message_ja: str, rule: str = "invalid") -> ValidationError:
    return ValidationError(name, rule, f"{name} is {rule}", message_ja)


def display(f: Field, values: Sequence[str], members: Sequence[ResidentRecord]) -> str:
    """A field's value as the confirmation screen shows it."""
    names = {m.record_id: m.full_name for m in members}
    chosen = [v for v in values if v]
    if f.kind in ("members", "member"):
        return "、".join(names.get(v, v) for v in chosen) or "（なし）"
    if f.kind == "select":
        labels = dict(f.options)
        return "、".join(labels.get(v, v) for v in chosen) or "（なし）"
    return "、".join(chosen) or "（なし）"


def relationships_shown(
    form: Mapping[str, Sequence[str]], members: Sequence[ResidentRecord]
) -> str:
    labels = dict(RELATIONSHIP_OPTIONS)
    shown = []
    for m in members:
        value = next(iter(form.get(f"{REL_PREFIX}{m.record_id}", ())), "")
        if value in labels:
            shown.append(f"{m.full_name}：{labels[value]}")
    return "、".join(shown) or "（変更なし）"
