"""住民票コード drawn at random (施行規則第1条, ADR 0006): valid, unused, and in no order."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from juki.core.identifiers import ResidentCode
from juki.registry.code_notice import ResidentCodeNotice
from juki.registry.codes import draw_unused, random_code
from juki.registry.commands import ChangeResidentCode
from juki.registry.model import Municipality
from juki.registry.services.codes import change_resident_code
from support.backends import FakeBackend
from support.residents import CLERK, INAGI, TODAY, family, seed


@given(st.integers(min_value=0, max_value=2**64))
@settings(max_examples=100)
def test_a_random_code_is_a_valid_code_of_any_body(seed_value: int) -> None:
    code = random_code(random.Random(seed_value))
    assert ResidentCode.parse(code).value == code


def test_codes_spread_over_the_whole_space_and_reveal_no_municipality() -> None:
    rng = random.Random(1)
    codes = [random_code(rng) for _ in range(2000)]
    assert len({c[0] for c in codes}) == 10  # every leading digit: no block per municipality
    assert len({c[:5] for c in codes}) > 1900


def test_draws_avoid_taken_codes_and_come_in_random_order() -> None:
    taken: set[str] = set()
    asked: list[int] = []

    def is_taken(candidates: Iterable[str]) -> set[str]:
        batch = set(candidates)
        asked.append(len(batch))
        return batch & taken

    first = draw_unused(random.Random(2), 50, is_taken)
    taken.update(first[:40])
    # the same source again: the first 40 candidates are now taken and are drawn around
    again = draw_unused(random.Random(2), 50, is_taken)
    assert len(set(again)) == 50 and not set(again) & taken
    assert first != sorted(first) and again != sorted(again)
    assert asked[0] == 50  # asked about each batch at once, not code by code


def test_a_change_takes_a_pool_code_and_retires_the_old_one() -> None:
    backend = FakeBackend()
    seed(backend)
    head, _, _ = family(backend)
    backend.add_pool([ResidentCode.complete("8023456719").value])
    change = change_resident_code(
        backend.uow(), CLERK, ChangeResidentCode(head.record_id, "本人の請求", TODAY)
    )
    assert change.record.resident_code == ResidentCode.complete("8023456719").value
    assert [r["resident_code"] for r in backend.rows("retired_codes")] == [head.resident_code]


def test_the_notice_names_the_new_code_grouped_the_date_in_the_era_and_the_mayor() -> None:
    notice = ResidentCodeNotice(
        recipient_name="山田　太郎",
        recipient_address="東京都稲城市東長沼1丁目1番1号",
        resident_code="80234567197",
        recorded_on=date(2025, 4, 1),
        signatory=Municipality("132250", "東京都", "稲城市", None, "石田　光子").signatory,
    )
    text = notice.text_ja
    assert "住民票コード　8023 4567 197" in text
    assert "令和7年4月1日" in text and "山田　太郎様" in text
    assert text.rstrip().endswith("東京都稲城市長\u3000石田　光子")
    assert INAGI.lg_code not in text
