"""Synthetic 個人番号: a bijection from resident-code bodies to my_number bodies.

Its own module because it is the one piece of the synthetic population that other code relies
on by value (a resident's my_number is always `my_number_for` their resident-code body, so tests
and loaders can recompute it) and because its uniqueness argument stands on its own: no
database, no set of numbers drawn so far.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

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


_ROUND_MODULI: Final = (10**6, 10**5)  # even rounds add to hi (6 digits), odd rounds to lo (5)


def _mix_array(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """`_mix` over an array: uint64 products wrap modulo 2⁶⁴ exactly as `& _M64` does."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def my_numbers_for(resident_code_bodies: NDArray[np.int64]) -> NDArray[np.int64]:
    """`my_number_for` of many bodies at once, as 12-digit integers (check digit included):
    the national generator makes millions, and the Feistel rounds in Python cost ≈ 6 µs each."""
    bodies = np.asarray(resident_code_bodies, dtype=np.int64)
    if bodies.size and (bodies.min() < 0 or bodies.max() >= 10**10):
        raise ValueError("a resident-code body has 10 digits")
    hi, lo = (bodies // 10**5).astype(np.uint64), (bodies % 10**5).astype(np.uint64)
    for i, key in enumerate(_ROUND_KEYS):
        if i % 2 == 0:
            m = np.uint64(_ROUND_MODULI[0])
            hi = (hi + _mix_array(lo ^ np.uint64(key)) % m) % m
        else:
            m = np.uint64(_ROUND_MODULI[1])
            lo = (lo + _mix_array(hi ^ np.uint64(key)) % m) % m
    number = hi.astype(np.int64) * 10**5 + lo.astype(np.int64)
    return number * 10 + mod11_check_digits(number)


def mod11_check_digits(bodies: NDArray[np.int64]) -> NDArray[np.int64]:
    """The mod-11 check digit of 住民票コード and 個人番号 bodies (`identifiers._mod11_check`),
    for an array of bodies: Pn the n-th digit from the right, Qn = n+1 for n ≤ 6, else n−5."""
    total = np.zeros_like(bodies)
    rest = bodies.copy()
    for n in range(1, 12):
        total += (rest % 10) * (n + 1 if n <= 6 else n - 5)
        rest //= 10
    remainder = total % 11
    return np.where(remainder <= 1, 0, 11 - remainder)
