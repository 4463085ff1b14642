"""Which nodes a network has: ids, kinds, names and parents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from juki.network.directory import NATIONAL_ID, NodeKind


@dataclass(frozen=True, slots=True)
class NodeSpec:
    node_id: str
    kind: NodeKind
    name: str  # as addresses begin: 東京都稲城市, 東京都
    parent: str | None
    prefecture: str = ""  # for municipalities: 東京都
    municipality: str = ""  # for municipalities: 稲城市


def national() -> NodeSpec:
    return NodeSpec(NATIONAL_ID, NodeKind.NATIONAL, "地方公共団体情報システム機構", None)


def prefecture(lg_code: str, name: str) -> NodeSpec:
    return NodeSpec(lg_code, NodeKind.PREFECTURE, name, NATIONAL_ID, prefecture=name)


def municipality(lg_code: str, prefecture_spec: NodeSpec, name: str) -> NodeSpec:
    return NodeSpec(
        lg_code,
        NodeKind.MUNICIPALITY,
        prefecture_spec.name + name,
        prefecture_spec.node_id,
        prefecture=prefecture_spec.name,
        municipality=name,
    )


def demo_layout() -> tuple[NodeSpec, ...]:
    """The demo network of the seeds: 稲城市 and 西東京市 (東京都), 藤沢市 (神奈川県),
    防府市 (山口県), 長野市 (長野県)."""
    tokyo = prefecture("130001", "東京都")
    kanagawa = prefecture("140007", "神奈川県")
    yamaguchi = prefecture("350001", "山口県")
    nagano = prefecture("200000", "長野県")
    return (
        national(),
        tokyo,
        kanagawa,
        yamaguchi,
        nagano,
        municipality("132250", tokyo, "稲城市"),
        municipality("132292", tokyo, "西東京市"),
        municipality("142051", kanagawa, "藤沢市"),
        municipality("352063", yamaguchi, "防府市"),
        municipality("202011", nagano, "長野市"),
    )


DEMO_MUNICIPALITIES: Final = ("132250", "132292", "142051", "352063", "202011")


def small_layout() -> tuple[NodeSpec, ...]:
    """Three municipalities in three prefectures: enough for every flow, quick to start."""
    tokyo = prefecture("130001", "東京都")
    kanagawa = prefecture("140007", "神奈川県")
    nagano = prefecture("200000", "長野県")
    return (
        national(),
        tokyo,
        kanagawa,
        nagano,
        municipality("132250", tokyo, "稲城市"),
        municipality("142051", kanagawa, "藤沢市"),
        municipality("202011", nagano, "長野市"),
    )


LAYOUTS: Final[dict[str, Callable[[], tuple[NodeSpec, ...]]]] = {
    "demo": demo_layout,
    "small": small_layout,
}
