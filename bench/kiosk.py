"""コンビニ交付 end to end on a network of node processes over HTTPS, next to the raw limit.

* **raw**: the same kind of page (one person's 住民票の写し) laid out by WeasyPrint and signed by
  pyhanko with a loaded key, in this process — what every issuance must do at least once;
* **juki**: whole kiosk sessions (`KioskSession` over `HttpRelay`, as `juki kiosk stress` runs
  them) against the small network (national, three prefectures, three municipalities, each its
  own process, mutual TLS), `--concurrency` at once: a fresh challenge from the relay, the card
  signs it, the municipality's kiosk key, the sealed request through the relay to the
  municipality's certificate server and the sealed certificate back, opened and checked.

The hops come from the relay's `Server-Timing` header (durations only, nothing of the request):
the relay's own time, its wait on the municipality, and the municipality's time to make the
answer (open, check, render, sign, seal). kiosk ⇄ relay is the session's request call minus
the relay's wait on the municipality; relay ⇄ municipality is that wait minus the
municipality's own time. They are the hops of the request the relay admitted: a request beyond
the relay's slots for its municipality (`JUKI_KIOSK_SLOTS`, `--slots`) is told at once to wait
(503) and sent again (docs/kiosk.md "Capacity"); the bench reports the time to that first
answer, the time spent waiting in line, and Little's law (sessions at once ÷ sessions per
second = the mean time a session must take) next to the measured mean.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.certificates import raw_page, raw_render_sign
from bench.common import table
from juki.cards.soft import SoftCardToken
from juki.certificates.render import CertificateRenderer
from juki.certificates.signing import PdfCertificateSigner, load_signing_material
from juki.core.clock import SystemClock
from juki.core.errors import RuleViolation
from juki.core.settings import Settings
from juki.kiosk.http_relay import HttpRelay
from juki.kiosk.session import KioskSession, KioskStop
from juki.kiosk.wire import REQUESTS_PATH
from juki.network import pki
from juki.network.directory import NodeKind
from juki.nodes.config import NetworkFiles
from juki.nodes.kiosk_demo import DEMO_STORE, KioskFiles
from juki.nodes.kiosk_stress import _client

HOPS = (
    "kiosk ⇄ relay",
    "relay ⇄ municipality",
    "municipality: render, sign, seal",
    "session (start to receipt)",
    "first answer to the request (wait, or the certificate)",
    "waiting in line (0 when admitted at once)",
)


class TimedRelay(HttpRelay):
    """`HttpRelay` that keeps, per thread, the last call's time and, for the request, when the
    first and the last (admitted) call started and how long the first took to answer."""

    def __init__(self, client: httpx.Client, local: threading.local) -> None:
        super().__init__(client, 60.0)
        self.local = local

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        started = time.perf_counter()
        try:
            return super()._call(method, path, body)
        finally:
            took = time.perf_counter() - started
            self.local.took = took
            if path == REQUESTS_PATH:
                self.local.last_start = started
                if self.local.first is None:
                    self.local.first, self.local.first_start = took, started


def _timing(header: str | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in (header or "").split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            out[name] = float(dur) / 1000
    return out


def _juki(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "juki", *args], check=True, stdout=subprocess.DEVNULL)


def _free_base_port() -> int:
    """A base port with the next 20 free (the small network takes 14)."""
    for base in random.Random(os.getpid()).sample(range(20_000, 40_000, 20), 50):
        try:
            for port in range(base, base + 20):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports")


def _sessions(
    files: NetworkFiles, n: int, concurrency: int
) -> tuple[float, list[list[float]], Counter[str], list[int]]:
    kiosk = KioskFiles(files.root)
    cards = json.loads(kiosk.manifest.read_text())
    national = next(c for c in files.configs() if c.kind is NodeKind.NATIONAL)
    root = pki.cert_from_pem(files.root_certificate.read_bytes())
    locks = {c["serial"]: threading.Lock() for c in cards}
    local = threading.local()
    samples: list[list[float]] = []
    waits: list[int] = []  # per issued session: how many times it was told to wait
    failed: Counter[str] = Counter()
    guard = threading.Lock()

    def hook(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/requests"):
            local.timing = response.headers.get("server-timing")

    client = _client(files, kiosk, national.endpoint)
    client.event_hooks["response"] = [hook]

    def one(i: int) -> None:
        card = cards[i % len(cards)]
        with locks[card["serial"]]:
            token = SoftCardToken.load(kiosk.card(card["serial"]))
            relay = TimedRelay(client, local)
            started = time.perf_counter()
            local.timing, local.first = None, None
            try:
                session = KioskSession.start(relay, root, store_id=DEMO_STORE, clock=SystemClock())
                session.authenticate(token, card["pin"])
                session.choose(card["lg_code"], "residence", copies=1)
                result = session.request()
            except (KioskStop, RuleViolation) as exc:  # counted, not timed
                with guard:
                    failed[exc.rule] += 1
                return
            request_s, first_s = local.took, local.first
            waited = local.last_start - local.first_start
            timing = _timing(local.timing)
            session.finish()
            total = time.perf_counter() - started
        if result.outcome != "issued" or "municipality_hop" not in timing:
            with guard:
                failed[result.refusal_code or "no_timing"] += 1
            return
        hop, made = timing["municipality_hop"], timing.get("municipality", 0.0)
        with guard:
            samples.append([request_s - hop, hop - made, made, total, first_s, waited])
            waits.append(session.waits)

    first = {c["lg_code"]: i for i, c in reversed(list(enumerate(cards)))}
    with client, ThreadPoolExecutor(max_workers=concurrency) as pool:
        for i in first.values():  # warm up each certificate server alone: fonts, keys
            one(i)
        list(pool.map(one, range(concurrency)))  # and the connections
        samples.clear()
        waits.clear()
        failed.clear()
        started = time.perf_counter()
        step = max(1, n // 10)
        for k, _ in enumerate(pool.map(one, range(n)), 1):
            if k % step == 0 or k == n:
                print(f"  セッション {k}/{n} (sessions done)", file=sys.stderr, flush=True)
        elapsed = time.perf_counter() - started
    return len(samples) / elapsed, samples, failed, waits


def _pct(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main(sessions: int, concurrency: int, slots: int | None = None) -> None:
    if slots is not None:  # the national node started below reads it (juki.core.settings)
        os.environ["JUKI_KIOSK_SLOTS"] = str(slots)
    slots_now = Settings.from_env().kiosk_slots
    load = os.getloadavg()
    print(
        f"kiosk: {sessions} sessions, {concurrency} at once, small network of 7 node processes "
        f"over HTTPS, {slots_now} in flight per municipality (JUKI_KIOSK_SLOTS) "
        f"(load average before: {load[0]:.1f} on {os.cpu_count()} cores)"
    )
    with tempfile.TemporaryDirectory(prefix="juki-bench-kiosk-") as tmpdir:
        tmp = Path(tmpdir)
        material = load_signing_material(
            Settings(keys_dir=str(tmp / "raw-keys")), "132250", datetime.now(UTC)
        )
        renderer, signer = CertificateRenderer(), PdfCertificateSigner(material)
        raw_render_sign(renderer, signer, 3)  # warm up
        raw_before, cpu_before = raw_page(renderer, signer, 30)
        net = tmp / "net"
        port = str(_free_base_port())
        _juki("network", "init", "--dir", str(net), "--demo", "--layout", "small",
              "--residents", "60", "--base-port", port)  # fmt: skip
        _juki("network", "up", "--dir", str(net))
        try:
            per_lg = max(2, -(-concurrency // 3))  # enough cards for every session at once
            _juki("kiosk", "cards", "--dir", str(net), "--residents", str(per_lg))
            rate, samples, failed, waits = _sessions(NetworkFiles(net), sessions, concurrency)
        finally:
            _juki("network", "down", "--dir", str(net))
        raw_after, cpu_after = raw_page(renderer, signer, 30)
    raw = (raw_before + raw_after) / 2
    _report(rate, raw, samples, sessions, concurrency, failed, waits)
    print(
        f"raw = WeasyPrint + pyhanko on one page in this process, before and after the run "
        f"({raw_before:.1f} and {raw_after:.1f}/s; a page {cpu_before:.0f} and {cpu_after:.0f} ms "
        f"of CPU); load average after: {os.getloadavg()[0]:.1f}. "
        "Goal: p99 of each hop under 1 s. The machine is shared: absolute figures move 2–3× "
        "with other work, the ratio less."
    )
    sys.stdout.flush()


def _report(
    rate: float,
    raw: float,
    samples: list[list[float]],
    sessions: int,
    concurrency: int,
    failed: Counter[str],
    waits: list[int],
) -> None:
    rows: list[list[object]] = [
        [hop, _pct(col, 50), _pct(col, 90), _pct(col, 99)]
        for hop, col in zip(HOPS, zip(*samples, strict=True), strict=True)
    ]
    print(table(["hop", "p50 ms", "p90 ms", "p99 ms"], rows))
    print(
        table(
            ["flow", "per second", "raw render+sign/s", "ratio"],
            [["kiosk issuances end to end", rate, raw, rate / raw]],
        )
    )
    told = sum(1 for w in waits if w)
    mean_session = statistics.fmean(s[3] for s in samples)
    print(
        f"issued {len(samples)} of {sessions}; not issued: {dict(failed) or 'none'}; "
        f"told to wait: {told} sessions ({sum(waits)} answers 'wait')"
    )
    print(
        f"Little's law: at {concurrency} sessions at once and {rate:.2f} sessions/s a session "
        f"takes {concurrency / rate:.2f} s on average, whatever the hops do; measured mean "
        f"{mean_session:.2f} s, so {rate * mean_session:.1f} sessions were in the system on "
        f"average (fewer than {concurrency} while the run starts and drains); without its wait "
        f"in line a session took {statistics.fmean(s[3] - s[5] for s in samples):.2f} s"
    )
