"""`juki kiosk stress` against the package's running network (CI's small run of the issue's
1000 × 100): demo cards and the demo store are prepared with `juki kiosk cards`, then six
sessions, three at once, with client timeouts injected, go through the national node's relay
over mutual TLS; no page names anyone but its card holder and the relay keeps nothing."""

from __future__ import annotations

import json
import stat

import pytest

from juki.cli import main
from juki.nodes.kiosk_demo import KioskFiles
from support.small_network import SmallNetwork


def test_kiosk_stress_prints_only_for_the_card_holder_and_the_relay_keeps_nothing(
    small_network: SmallNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(small_network.files.root)
    assert main(["kiosk", "cards", "--dir", root, "--residents", "1"]) == 0
    issued = json.loads(capsys.readouterr().out)["issued"]
    assert len(issued) == 3 and all(n == 1 for n in issued.values())
    kiosk = KioskFiles(small_network.files.root)
    for secret in (kiosk.manifest, kiosk.store_key):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    argv = ["kiosk", "stress", "--dir", root, "--sessions", "6", "--concurrency", "3"]
    code = main([*argv, "--faults", "timeouts", "--json"])
    said = capsys.readouterr()
    report = json.loads(said.out)  # the JSON alone on stdout; progress on stderr
    assert code == 0, report
    assert "セッション 6/6" in said.err
    assert report["sessions"] == 6
    assert report["wrong_person"] == 0 and report["relay_retained_bytes"] == 0
    assert report["printed"] >= 1 and report["aborted"] >= 1, report
    assert report["printed"] + report["refused"] + report["aborted"] == 6
