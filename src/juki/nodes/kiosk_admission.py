"""Admission control at the kiosk relay: a few requests in flight per municipality, the rest
told to wait, in the order they came.

A municipality's certificate server renders one page at a time per CPU core it has: a kiosk
request that arrives while it is busy would wait inside the hop, behind every other waiting
request — at 30 sessions on a few cores, seconds (docs/kiosk.md, "Capacity"). Instead the relay
lets at most `slots` requests per municipality be in flight; any other request is answered at
once with its place in line and when to ask again (`RelayBusy`), before the relay checks or uses
anything of it (the card's challenge stays unused, so the kiosk sends the same request again
and the customer need not enter the PIN twice). A place is kept for the request id that asked,
first come first served; a request that stops asking for `patience` seconds loses its place
(the kiosk gave up, or went away), and a line is at most `max_line` long. The one next in line
(position 1) is held at the relay for up to `hold` seconds instead, and admitted the moment a
slot frees: the slot does not stand idle until its next knock, and that request's hop is
longer by at most `hold`.

What the relay holds here, in memory only: per municipality, the number in flight, the recent
time a request took, and the waiting request ids with when each last asked — no content of any
request, nothing of the card or the person, and nothing written anywhere.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from juki.core.settings import DEFAULT_KIOSK_SLOTS

DEFAULT_SLOTS: Final = DEFAULT_KIOSK_SLOTS  # JUKI_KIOSK_SLOTS
PATIENCE_S: Final = 10.0
HOLD_S: Final = 0.25
MAX_LINE: Final = 500
# When to ask again: the expected wait for one's place, within these bounds.
MIN_RETRY_S: Final = 0.05
MAX_RETRY_S: Final = 2.0
FIRST_GUESS_S: Final = 0.5  # a request's time before any was measured
SMOOTHING: Final = 0.2


@dataclass(frozen=True, slots=True)
class Turn:
    """The answer to one knock: admitted, or the place in line (1 = next) and when to ask."""

    admitted: bool
    position: int = 0
    retry_after: float = 0.0
    first: bool = False  # the first time this request id was told to wait


@dataclass(slots=True)
class _Line:
    in_flight: int = 0
    took: float = FIRST_GUESS_S  # smoothed time of one request in flight
    waiting: OrderedDict[str, float] = field(default_factory=OrderedDict)  # id -> last asked


class KioskAdmission:
    def __init__(
        self,
        slots: int = DEFAULT_SLOTS,
        *,
        patience: float = PATIENCE_S,
        max_line: int = MAX_LINE,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self._patience = patience
        self._max_line = max_line
        self._now = now
        self._lines: dict[str, _Line] = {}
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)

    def enter(self, lg_code: str, request_id: str, hold: float = 0.0) -> Turn:
        """Admit `request_id` to `lg_code` now, or tell it its place in line; the next in line
        waits up to `hold` seconds (real time) for a slot to free before being told."""
        until = time.monotonic() + hold
        with self._lock:
            turn = self._knock(lg_code, request_id)
            first = turn.first
            while not turn.admitted and turn.position == 1 and until > time.monotonic():
                self._freed.wait(until - time.monotonic())
                turn = self._knock(lg_code, request_id)
            return turn if turn.admitted else replace(turn, first=first)

    def _knock(self, lg_code: str, request_id: str) -> Turn:
        """One look at the line (under the lock)."""
        line = self._lines.setdefault(lg_code, _Line())
        waiting = line.waiting
        now = self._now()
        for stale in [r for r, asked in waiting.items() if now - asked > self._patience]:
            del waiting[stale]
        first = request_id not in waiting
        if first and len(waiting) >= self._max_line:
            return Turn(False, len(waiting) + 1, MAX_RETRY_S, first=False)
        waiting[request_id] = now  # a newcomer goes to the end; a known one keeps its place
        place = list(waiting).index(request_id)
        free = self.slots - line.in_flight
        if place < free:
            del waiting[request_id]
            line.in_flight += 1
            return Turn(True)
        position = place - free + 1
        wait = line.took * position / self.slots
        return Turn(False, position, min(MAX_RETRY_S, max(MIN_RETRY_S, wait)), first)

    def leave(self, lg_code: str, took: float) -> None:
        """A request admitted to `lg_code` is done (answered, refused or failed) in `took` s."""
        with self._lock:
            line = self._lines[lg_code]
            line.in_flight = max(0, line.in_flight - 1)
            line.took += SMOOTHING * (max(0.0, took) - line.took)
            self._freed.notify_all()

    def in_flight(self, lg_code: str) -> int:
        with self._lock:
            line = self._lines.get(lg_code)
            return line.in_flight if line else 0

    def waiting(self, lg_code: str) -> int:
        with self._lock:
            line = self._lines.get(lg_code)
            return len(line.waiting) if line else 0
