"""Synthetic 個人番号: a bijection from resident-code bodies to my_number bodies.

Its own module because it is the one piece of the synthetic population that other code relies
on by value (a resident's my_number is always `my_number_for` their resident-code body, so tests
and loaders can recompute it) and because its uniqueness argument stands on its own: no
database, no set of numbers drawn so far.
"""

from __future__ import annotations

from typing import Final

from juki.core.identifiers import MyNumber

_M64: Final = (1 << 64) - 1
_ROUND_KEYS: Final = (
    0x9E3779B97F4A7C15, 0xD1B54A32D192ED03, 0x8CB92BA72F3D8DD7, 0xA24BAED4963EE407,
    0xB492B66FBE98F273, 0x9FB21C651E98DF25,
)  # fmt: skip


def _mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def my_number_for(resident_code_body: int) -> str:
    """The synthetic 個人番号 of a resident code: a fixed, keyed permutation of 0 … 10¹¹−1.

    J-LIS derives a person's number from their 住民票コード; here a six-round decimal Feistel
    network does it. Because it is a bijection and resident codes are unique (they come from
    allotments that never overlap), my_numbers are unique too — across seeding runs, seeds and
    municipalities — without reading the database or keeping a set of numbers drawn so far.
    """
    if not 0 <= resident_code_body < 10**10:
        raise ValueError("a resident-code body has 10 digits")
    hi, lo = divmod(resident_code_body, 10**5)  # hi < 10**6, lo < 10**5
    for i, key in enumerate(_ROUND_KEYS):
        if i % 2 == 0:
            hi = (hi + _mix(lo ^ key)) % 10**6
        else:
            lo = (lo + _mix(hi ^ key)) % 10**5
    return MyNumber.complete(f"{hi * 10**5 + lo:011d}").value
