"""The national population written straight as PostgreSQL COPY text: no model per person.

`national_population` makes an `IdentityInfoBody` per version (pydantic validation, a model
copy per field swap) and the loader then turns each into a row and its JSON: ≈ 20 k persons/s,
so a national-size run would spend most of its time in Python. Here each pool resident's parts
are rendered once — COPY-escaped columns and JSON-encoded values — and a person's row is a join
of their parts' pieces: the same people (`plan_chunks`), the same bytes the loader would have
written for their bodies (a test compares them), at ≥ 50 k persons/s on one core.

Two kinds of row: the **current** version (CURRENT_COLUMNS: the identity_info fields and the
reading's search key) and **every version** (VERSION_COLUMNS: the key and the body as
`model_dump_json` writes it). The node's own columns (when, which message) are not here: the
loader gives them one value for the whole load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

from juki.core.text import normalize_kana
from juki.network.messages import IdentityInfoBody
from juki.population.national import FIRST_BODY, Pool, plan_chunks
from juki.registry.model import ChangeReason

CURRENT_COLUMNS: Final = (
    "lg_code", "resident_code", "my_number",
    "family_name", "family_name_kana",
    "given_name", "given_name_kana", "former_surname", "former_surname_kana",
    "alias_name", "alias_name_kana", "sex", "status",
    "birth_date", "change_reason", "changed_on",
    "address", "name_kana_key",
)  # fmt: skip
VERSION_COLUMNS: Final = ("lg_code", "resident_code", "body", "name_kana_key", "birth_date")
_RELOCATION: Final = ChangeReason.RELOCATION.value
_KATAKANA: Final = range(ord("ァ"), ord("ヺ") + 1)
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str | None) -> str:
    """One value as a COPY text column: backslash, tab and line ends escaped, NULL as \\N."""
    return "\\N" if value is None else value.translate(_COPY_ESCAPES)


def _json(value: object) -> str:
    """A value as pydantic's `model_dump_json` writes it (compact, UTF-8), COPY-escaped."""
    return copy_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


@dataclass(frozen=True, slots=True)
class CopyChunk:
    """A chunk's rows as COPY text: one current row per person, one version row per version."""

    persons: int
    versions: int
    current: bytes
    history: bytes


def _given_columns(p: IdentityInfoBody) -> tuple[str | None, ...]:
    """What a person takes from the resident whose given name they have."""
    return (
        p.given_name, p.given_name_kana, p.former_surname, p.former_surname_kana,
        p.alias_name, p.alias_name_kana, p.sex, p.status,
    )  # fmt: skip


class _Parts:
    """Each pool resident's pieces, rendered once: columns for the current row, JSON for bodies."""

    def __init__(self, people: list[IdentityInfoBody]) -> None:
        t = copy_text
        self.lg = [t(p.lg_code) for p in people]
        self.family = [f"{t(p.family_name)}\t{t(p.family_name_kana)}" for p in people]
        self.given = ["\t".join(t(v) for v in _given_columns(p)) for p in people]
        self.birth = [p.birth_date.isoformat() for p in people]
        self.born = [
            f"{p.birth_date.isoformat()}\t{t(p.change_reason)}\t{p.changed_on.isoformat()}"
            for p in people
        ]
        self.address = [t(p.address) for p in people]
        self.family_json = [
            (_json(p.family_name), _json(p.family_name_kana), normalize_kana(p.family_name_kana))
            for p in people
        ]
        self.given_json = [
            (
                _json(p.given_name),
                _json(p.given_name_kana),
                _json(p.sex),
                _json(p.status),
                ",".join(
                    f'"{k}":{_json(getattr(p, k))}'
                    for k in ("former_surname", "former_surname_kana", "alias_name")
                )
                + f',"alias_name_kana":{_json(p.alias_name_kana)}',
            )
            for p in people
        ]
        # A reading's key is the family part's key then the given part's when the given
        # reading starts with a katakana letter (nothing at the seam normalises differently).
        self.given_key = [
            normalize_kana(p.given_name_kana)
            if p.given_name_kana and ord(p.given_name_kana[0]) in _KATAKANA
            else None
            for p in people
        ]
        self.kana = [(p.family_name_kana, p.given_name_kana) for p in people]
        self.born_json = [
            (f'"{p.birth_date.isoformat()}"', _json(p.change_reason), f'"{p.changed_on}"')
            for p in people
        ]
        self.address_json = [_json(p.address) for p in people]

    def key(self, family: int, given: int) -> str:
        given_key = self.given_key[given]
        if given_key is None:
            return copy_text(normalize_kana(self.kana[family][0] + self.kana[given][1]))
        return copy_text(self.family_json[family][2] + given_key)


def _body(
    parts: _Parts, code: str, number: str, f: int, g: int, b: int, h: int, change: tuple[str, str]
) -> str:
    """The version's body exactly as `IdentityInfoBody.model_dump_json` writes it."""
    fn, fk, _ = parts.family_json[f]
    gn, gk, sex, status, extra = parts.given_json[g]
    reason, changed_on = change
    return (
        f'{{"resident_code":"{code}","my_number":"{number}","family_name":{fn},'
        f'"given_name":{gn},"family_name_kana":{fk},"given_name_kana":{gk},'
        f'"birth_date":{parts.born_json[b][0]},"sex":{sex},"address":{parts.address_json[h]},'
        f'"status":{status},"lg_code":"{parts.lg[h]}","change_reason":{reason},'
        f'"changed_on":{changed_on},{extra}}}'
    )


def copy_chunks(
    pool: Pool, persons: int, *, seed: int, today: date, first_body: int = FIRST_BODY
) -> Iterator[CopyChunk]:
    """The people `national_population` makes with the same arguments, as COPY text (`pool`
    from `national_pool` with them)."""
    parts = _Parts(pool.people)
    for chunk in plan_chunks(pool, persons, seed=seed, today=today, first_body=first_body):
        current: list[str] = []
        history: list[str] = []
        for j, g in enumerate(chunk.given):
            code, number = f"{chunk.resident_codes[j]:011d}", f"{chunk.my_numbers[j]:012d}"
            f, b, h = chunk.family[j], chunk.born[j], chunk.home[j]
            lg, before = parts.lg[h], chunk.before[j]
            head = f"{lg}\t{code}\t"
            key = parts.key(f, g)
            tail = f"\t{key}\t{parts.birth[b]}\n"  # each version's reading key and birth date
            born = parts.born_json[b]
            if before < 0:
                current_born = parts.born[b]
                history.append(head + _body(parts, code, number, f, g, b, h, born[1:]) + tail)
            else:
                moved = date.fromordinal(chunk.moved_on[j]).isoformat()
                current_born = f"{parts.birth[b]}\t{_RELOCATION}\t{moved}"
                history.append(head + _body(parts, code, number, f, g, b, before, born[1:]) + tail)
                history.append(
                    head
                    + _body(parts, code, number, f, g, b, h, (f'"{_RELOCATION}"', f'"{moved}"'))
                    + tail
                )
            current.append(
                f"{head}{number}\t{parts.family[f]}\t{parts.given[g]}\t{current_born}\t"
                f"{parts.address[h]}\t{key}\n"
            )
        yield CopyChunk(
            len(current),
            len(history),
            "".join(current).encode(),
            "".join(history).encode(),
        )
