"""The register as a file: the format `juki task load` reads and the repository ships.

A JSON document (`data/register.json`):

    {"format": "juki-provision-register/1",
     "agencies": [{"id": "nenkin", "name": "日本年金機構", "kind": "corporation"}, …],
     "tasks": [{"table": "第一", "row": "九十一", "title": "…", "items": ["name", …],
                "my_number_task": true, "agencies": ["nenkin"],
                "effective_from": "2002-08-05", "withdrawn_on": null,
                "basis": "法別表第一 九十一の項", "verified": false, "note": "…"}, …]}

`fuhyo` (default false) lets a task be answered from 附票本人確認情報 for a person abroad; only a
row of 別表第五 or 第六 may have it (法30条の44の6: "国外転出者に係る事務を処理する場合に限る").

Every fault is a `RuleViolation` whose field names where it is: `line 3` for a JSON syntax
error, else the path (`tasks[4].items[1]`) and the row's reference when it has one, with the
rule broken in English and Japanese. Unknown keys are faults too, so a misspelt
`withdrawn_on` cannot silently leave a withdrawn task in force. Pure: the caller reads the file.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from juki.core.errors import RuleViolation
from juki.core.text import is_noncharacter
from juki.provision.model import FUHYO_TABLES, TABLES, AgencyKind, Item, PermittedTask

FORMAT: Final = "juki-provision-register/1"
MAX_BYTES: Final = 4 * 1024 * 1024
AGENCY_ID: Final = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
KANJI_NUMBER: Final = "[一二三四五六七八九十百]+"
ROW: Final = re.compile(rf"^{KANJI_NUMBER}(の{KANJI_NUMBER})*$")
TOP_KEYS: Final = frozenset({"format", "agencies", "tasks"})
AGENCY_KEYS: Final = frozenset({"id", "name", "kind", "note"})
TASK_REQUIRED: Final = frozenset(
    {"table", "row", "title", "items", "my_number_task", "agencies", "effective_from"}
)
TASK_KEYS: Final = TASK_REQUIRED | {"withdrawn_on", "basis", "verified", "note", "fuhyo"}


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    agency_id: str
    name: str
    kind: AgencyKind


@dataclass(frozen=True, slots=True)
class RegisterFile:
    agencies: tuple[AgencyEntry, ...]
    tasks: tuple[PermittedTask, ...]


def fault(where: str, rule: str, en: str, ja: str) -> RuleViolation:
    return RuleViolation(where, rule, en, ja)


def check_agency_id(where: str, value: object) -> str:
    if not isinstance(value, str) or not AGENCY_ID.fullmatch(value):
        raise fault(
            where,
            "agency_id",
            "an agency id is 1-32 of A-Z, a-z, 0-9, _ and -",
            "機関IDは英数字・_・- の1〜32文字で指定してください",
        )
    return value


def check_text(where: str, value: object, max_len: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise fault(where, "type", "must be a string", "文字列で指定してください")
    text = value.strip()
    if required and not text:
        raise fault(where, "required", "must not be empty", "必須の項目です")
    if len(text) > max_len:
        raise fault(
            where, "length", f"at most {max_len} characters", f"{max_len}文字以内にしてください"
        )
    for c in text:
        if unicodedata.category(c) in ("Cc", "Cs") or is_noncharacter(c):
            raise fault(
                where,
                "forbidden_character",
                "holds a control character, a surrogate or a noncharacter",
                "使用できない文字（制御文字、サロゲート、非文字）が含まれています",
            )
    return text


def _date(where: str, value: object) -> date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise fault(
            where, "date", "must be a date YYYY-MM-DD", "日付は YYYY-MM-DD で指定してください"
        ) from None


def _keys(where: str, value: object, allowed: frozenset[str], required: frozenset[str]) -> None:
    if not isinstance(value, Mapping):
        raise fault(where, "type", "must be an object", "オブジェクトで指定してください")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise fault(
            f"{where}.{unknown[0][:40]}",
            "unknown_key",
            f"unknown key (allowed: {', '.join(sorted(allowed))})",
            "不明な項目です",
        )
    missing = sorted(required - set(value))
    if missing:
        raise fault(f"{where}.{missing[0]}", "required", "is required", "必須の項目です")


def _list(where: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise fault(where, "type", "must be a list", "配列で指定してください")
    return value


def _bool(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise fault(where, "type", "must be true or false", "true か false で指定してください")
    return value


def _agency(where: str, raw: Any) -> AgencyEntry:
    _keys(where, raw, AGENCY_KEYS, frozenset({"id", "name", "kind"}))
    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in set(AgencyKind):
        raise fault(
            f"{where}.kind",
            "agency_kind",
            f"one of {', '.join(AgencyKind)}",
            "機関の種別が不正です（national_government・prefecture・municipality・corporation）",
        )
    if "note" in raw:
        check_text(f"{where}.note", raw["note"], 500, required=False)
    return AgencyEntry(
        check_agency_id(f"{where}.id", raw["id"]),
        check_text(f"{where}.name", raw["name"], 100),
        AgencyKind(kind),
    )


def _items(where: str, raw: object) -> frozenset[Item]:
    values = _list(where, raw)
    if not values:
        raise fault(where, "required", "name at least one item", "項目を1つ以上指定してください")
    items: set[Item] = set()
    for i, value in enumerate(values):
        if not isinstance(value, str) or value not in set(Item) or value in items:
            raise fault(
                f"{where}[{i}]",
                "item",
                f"an item of identity_info, once each: {', '.join(Item)}",
                "本人確認情報の項目を重複なく指定してください",
            )
        items.add(Item(value))
    return frozenset(items)


def _task(where: str, raw: Any, known: frozenset[str]) -> PermittedTask:
    _keys(where, raw, TASK_KEYS, TASK_REQUIRED)
    if not isinstance(raw["table"], str) or raw["table"] not in TABLES:
        raise fault(f"{where}.table", "table", "one of 第一 … 第六", "別表は第一〜第六です")
    row = check_text(f"{where}.row", raw["row"], 40)
    if not ROW.fullmatch(row):
        raise fault(
            f"{where}.row",
            "row",
            "the row's number in kanji as the law writes it (九十一, 九十一の二)",
            "項の番号は法令どおり漢数字で指定してください（例: 九十一、九十一の二）",
        )
    at = f"{where} (別表{raw['table']} の {row})"
    items = _items(f"{at}.items", raw["items"])
    my_number_task = _bool(f"{at}.my_number_task", raw["my_number_task"])
    if Item.MY_NUMBER in items and not my_number_task:
        raise fault(
            f"{at}.items",
            "my_number_not_allowed",
            "only a 個人番号利用事務 (my_number_task: true) may receive my_number",
            "個人番号は個人番号利用事務に限り提供できます",
        )
    fuhyo = _bool(f"{at}.fuhyo", raw.get("fuhyo", False))
    if fuhyo and raw["table"] not in FUHYO_TABLES:
        raise fault(
            f"{at}.fuhyo",
            "fuhyo_not_allowed",
            "only a task of 別表第五 or 第六 concerning 国外転出者 may use 附票本人確認情報"
            " (住基法30条の44の6)",
            "附票本人確認情報を利用できるのは別表第五・第六の国外転出者に係る事務に限ります"
            "（住基法30条の44の6）",
        )
    agencies = _list(f"{at}.agencies", raw["agencies"])
    ids = [check_agency_id(f"{at}.agencies[{i}]", a) for i, a in enumerate(agencies)]
    for i, agency_id in enumerate(ids):
        if agency_id not in known:
            raise fault(
                f"{at}.agencies[{i}]",
                "unknown_agency",
                f"agency {agency_id} is not among the file's agencies",
                "ファイルの agencies にない機関です",
            )
    start = _date(f"{at}.effective_from", raw["effective_from"])
    end_raw = raw.get("withdrawn_on")
    end = None if end_raw is None else _date(f"{at}.withdrawn_on", end_raw)
    if end is not None and end <= start:
        raise fault(
            f"{at}.withdrawn_on",
            "period",
            "must be after effective_from",
            "廃止日は施行日より後の日付にしてください",
        )
    return PermittedTask(
        table=raw["table"],
        row=row,
        title=check_text(f"{at}.title", raw["title"], 200),
        items=items,
        my_number_task=my_number_task,
        agencies=frozenset(ids),
        effective_from=start,
        withdrawn_on=end,
        basis=check_text(f"{at}.basis", raw.get("basis", ""), 200, required=False),
        verified=_bool(f"{at}.verified", raw.get("verified", False)),
        fuhyo=fuhyo,
    )


def _document(text: str) -> Any:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise fault("file", "size", f"at most {MAX_BYTES} bytes", "ファイルが大きすぎます")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fault(
            f"line {exc.lineno}",
            "json",
            f"not JSON: {exc.msg} (column {exc.colno})",
            f"JSONとして読めません（{exc.lineno}行 {exc.colno}列）",
        ) from None
    except RecursionError:
        raise fault("file", "json", "nested too deeply", "入れ子が深すぎます") from None


def parse_register(text: str) -> RegisterFile:
    """The register the file holds, or the first fault, named by its place."""
    doc = _document(text)
    _keys("file", doc, TOP_KEYS, TOP_KEYS)
    if not isinstance(doc["format"], str) or doc["format"] != FORMAT:
        raise fault("format", "format", f"must be {FORMAT}", f"format は {FORMAT} です")
    agencies = tuple(
        _agency(f"agencies[{i}]", a) for i, a in enumerate(_list("agencies", doc["agencies"]))
    )
    known = frozenset(a.agency_id for a in agencies)
    if len(known) != len(agencies):
        raise fault("agencies", "duplicate", "an agency id twice", "機関IDが重複しています")
    tasks = tuple(
        _task(f"tasks[{i}]", t, known) for i, t in enumerate(_list("tasks", doc["tasks"]))
    )
    seen: set[tuple[str, date]] = set()
    for i, task in enumerate(tasks):
        if (task.ref, task.effective_from) in seen:
            raise fault(
                f"tasks[{i}] ({task.ref})",
                "duplicate",
                "the same row with the same effective_from twice",
                "同じ項・同じ施行日の事務が重複しています",
            )
        seen.add((task.ref, task.effective_from))
    return RegisterFile(agencies, tasks)
