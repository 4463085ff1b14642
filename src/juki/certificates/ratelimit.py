"""Per-client rate limiting of the public verification page and API: a token bucket in memory.

Verification is open to anyone, and a PDF check costs a signature validation (≈ 5 ms), so one
client must not be able to take the server for itself, nor walk certificate ids. Each client
address has a bucket of `burst` tokens refilled at `rate` per second; a lookup costs one token,
a PDF upload `PDF_COST`. An empty bucket answers 429 with `Retry-After` (whole seconds until
the request would pass). Buckets live in this process only: a municipality runs one public
listener per node, and a restart forgetting who asked is harmless. The clock is injected
(`time.monotonic` in production), so tests step time instead of sleeping.

No library: the well-kept ones (`limits`, `slowapi`) read the wall clock themselves or want a
storage backend; this is forty lines with a clock we control.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

DEFAULT_RATE: Final = 1.0  # tokens per second: a sustained lookup a second per client
DEFAULT_BURST: Final = 30.0  # a person checking a few certificates never waits
PDF_COST: Final = 3.0  # a PDF check costs three lookups
MAX_CLIENTS: Final = 10_000  # buckets kept; the least recently seen full one goes first


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per client key (the client's address)."""

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: float = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens of `client`'s bucket: 0 when allowed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(client, None)
            if bucket is None:
                bucket = _Bucket(self.burst, now)
                self._forget_one()
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets[client] = bucket
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (min(cost, self.burst) - bucket.tokens) / self.rate

    def _forget_one(self) -> None:
        """Keep memory bounded: drop the least recently seen client (its bucket would have
        refilled, or it is the oldest of many, an address flood this cannot stop anyway)."""
        if len(self._buckets) >= self.max_clients:
            self._buckets.popitem(last=False)


class RateLimited(Exception):
    """Too many requests from one client; `retry_after` is in whole seconds (at least 1)."""

    def __init__(self, wait: float) -> None:
        super().__init__("rate limited")
        self.retry_after = max(1, math.ceil(wait))
