"""住民票コード drawn at random (住民基本台帳法施行規則第1条): pure rules, no I/O.

A code must reveal neither the municipality that assigned it nor when it was assigned, so it is
a uniformly random 10-digit body plus its check digit (`ResidentCode.complete`), drawn from a
random source the caller passes: `random.SystemRandom` (the OS CSPRNG) in production, a seeded
`random.Random` in the simulator and tests, as message ids are (ADR 0006).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Final

from juki.core.identifiers import ResidentCode

BODIES: Final = 10**10  # 10-digit bodies: 0000000000 … 9999999999
MAX_DRAWS: Final = 64  # a draw that keeps hitting taken codes means the space is nearly full


def random_code(rng: random.Random) -> str:
    """One uniformly random resident code (10-digit body, mod-11 check digit)."""
    return ResidentCode.complete(f"{rng.randrange(BODIES):010d}").value


def draw_unused(
    rng: random.Random, n: int, taken: Callable[[Iterable[str]], set[str]]
) -> list[str]:
    """`n` distinct random codes none of which `taken` reports as in use.

    `taken` is asked about each batch of candidates at once (one query per batch on a
    database), so a draw of a million codes costs a few thousand lookups, not a million. The
    codes come back in random order: handed out in that order, they reveal none.
    """
    chosen: dict[str, None] = {}
    for _ in range(MAX_DRAWS):
        want = n - len(chosen)
        if want <= 0:
            break
        candidates = {random_code(rng) for _ in range(want)} - chosen.keys()
        for code in sorted(candidates - taken(candidates)):
            chosen[code] = None
    if len(chosen) < n:
        raise RuntimeError(f"could not draw {n} unused resident codes")
    drawn = list(chosen)[:n]
    rng.shuffle(drawn)  # in the order they are handed out, codes say nothing of that order
    return drawn
