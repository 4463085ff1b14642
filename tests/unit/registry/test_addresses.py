"""Municipalities and town areas come from Japan Post's data, looked up by lg_code."""

from __future__ import annotations

import pytest

from juki.core.errors import ValidationError
from juki.core.identifiers import LgCode
from juki.population.addresses import municipality_from_lg_code, town_areas


@pytest.mark.parametrize(
    ("lg_code", "prefecture", "name"),
    [
        ("132250", "東京都", "稲城市"),
        ("352063", "山口県", "防府市"),
        ("142051", "神奈川県", "藤沢市"),
        ("132292", "東京都", "西東京市"),
        ("202011", "長野県", "長野市"),
    ],
)
def test_municipality_from_lg_code(lg_code: str, prefecture: str, name: str) -> None:
    m = municipality_from_lg_code(lg_code)
    assert (m.lg_code, m.prefecture, m.name) == (lg_code, prefecture, name)
    assert m.address_prefix == prefecture + name


def test_inagi_towns_are_its_real_town_areas() -> None:
    towns = {t.town: t for t in town_areas("132250")}
    assert set(towns) == {
        "大丸", "東長沼", "向陽台", "百村", "押立", "矢野口", "坂浜", "長峰", "平尾", "若葉台",
    }  # fmt: skip
    assert towns["向陽台"].town_kana == "コウヨウダイ"
    assert towns["向陽台"].chome
    assert towns["大丸"].postal_code == "2060801"
    assert all(t.prefecture == "東京都" and t.city == "稲城市" for t in towns.values())


@pytest.mark.parametrize("lg_code", ["352063", "142051", "132292", "202011", "132250"])
def test_town_names_carry_no_notes_or_catch_alls(lg_code: str) -> None:
    towns = town_areas(lg_code)
    assert len(towns) >= 5
    names = [t.town for t in towns]
    assert len(names) == len(set(names))
    for name in names:
        assert name
        assert "以下に掲載がない場合" not in name
        assert not any(c in name for c in "（）()、")


def test_designated_city_is_known_by_its_wards() -> None:
    assert municipality_from_lg_code("141011").name == "横浜市鶴見区"
    with pytest.raises(ValidationError) as err:
        municipality_from_lg_code("141003")  # 横浜市 as a whole: no postal codes of its own
    assert err.value.rule == "unknown_municipality"


@pytest.mark.parametrize("lg_code", ["990000", "470007"])
def test_unknown_code_is_a_validation_error(lg_code: str) -> None:
    valid = LgCode.complete(lg_code[:5]).value
    with pytest.raises(ValidationError) as err:
        municipality_from_lg_code(valid)
    assert (err.value.field, err.value.rule) == ("lg_code", "unknown_municipality")
    with pytest.raises(ValidationError):
        town_areas(valid)


def test_bad_check_digit_is_rejected_before_lookup() -> None:
    with pytest.raises(ValidationError) as err:
        municipality_from_lg_code("132251")
    assert (err.value.field, err.value.rule) == ("lg_code", "check_digit")
