"""A bounded record of what happened, indexed by the people, messages and nodes it concerns.

When an invariant fails, the run prints the trail of the subjects it names (a person's life
events and every message that carried their data; a node's crashes and faults) rather than the
whole run: short enough to read, and every line a thing that happened, with its simulated time.
With `echo` (`juki sim --replay`) every event is also written to stderr as it happens.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TextIO

PER_KEY: Final = 60
RECENT: Final = 400
MAX_KEYS: Final = 200_000


@dataclass(frozen=True, slots=True)
class TraceEvent:
    seq: int
    at: datetime
    text: str

    def line(self) -> str:
        return f"{self.at.isoformat(timespec='milliseconds')} #{self.seq} {self.text}"


class Trace:
    def __init__(self, echo: TextIO | None = None) -> None:
        self._seq = 0
        self._by_key: dict[str, deque[TraceEvent]] = {}
        self._recent: deque[TraceEvent] = deque(maxlen=RECENT)
        self._links: dict[str, set[str]] = {}
        self.echo = echo

    def add(self, at: datetime, text: str, keys: Iterable[str]) -> None:
        self._seq += 1
        event = TraceEvent(self._seq, at, text)
        self._recent.append(event)
        for key in keys:
            bucket = self._by_key.get(key)
            if bucket is None:
                if len(self._by_key) >= MAX_KEYS:
                    continue
                bucket = self._by_key[key] = deque(maxlen=PER_KEY)
            bucket.append(event)
        if self.echo is not None:
            self.echo.write(event.line() + "\n")

    def link(self, key: str, other: str) -> None:
        """Say that `other`'s events explain `key` too (a message carried this person's data)."""
        linked = self._links.setdefault(key, set())
        if len(linked) < PER_KEY:
            linked.add(other)

    def trail(self, keys: Iterable[str], limit: int = 30) -> list[str]:
        """The events of `keys` and of what is linked to them, oldest first, the last `limit`."""
        wanted: set[str] = set()
        for key in keys:
            wanted.add(key)
            wanted.update(self._links.get(key, ()))
        events: dict[int, TraceEvent] = {}
        for key in sorted(wanted):
            for event in self._by_key.get(key, ()):
                events[event.seq] = event
        ordered = [events[s] for s in sorted(events)]
        if not ordered:
            ordered = list(self._recent)
        return [e.line() for e in ordered[-limit:]]
