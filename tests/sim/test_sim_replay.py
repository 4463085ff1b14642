"""The same seed gives the same run: the JSON is identical byte for byte, across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from juki.cli import main

ARGS = [
    "sim", "--seed", "7", "--days", "2", "--municipalities", "3", "--population", "45",
    "--faults", "all", "--event-scale", "300", "--kiosk-scale", "200", "--json",
]  # fmt: skip


def juki(*args: str, hash_seed: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.Popen(
        [sys.executable, "-m", "juki", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def finished(process: subprocess.Popen[bytes]) -> subprocess.CompletedProcess[bytes]:
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_same_seed_prints_the_same_json_in_two_processes() -> None:
    # the two run side by side; set and dict-of-str order differ between them
    running = [juki(*ARGS, hash_seed="1"), juki(*ARGS, hash_seed="2")]
    first, second = (finished(p) for p in running)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    assert first.stdout == second.stdout
    result = json.loads(first.stdout)
    for key in (
        "seed",
        "days",
        "events",
        "messages_sent",
        "messages_applied",
        "duplicates_suppressed",
        "dead_letters",
        "violations",
        "converged",
    ):
        assert key in result
    assert result["violations"] == []
    assert result["kiosk"]["sessions"] > 0  # コンビニ交付 replays too
    assert result["converged"] is True


def test_an_unknown_fault_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In process: refused while the arguments are read (the import of a second process would
    cost more than the whole check)."""
    assert main(["sim", "--seed", "3", "--days", "1", "--fault", "nosuchfault=1"]) == 2
    assert "unknown fault 'nosuchfault'" in capsys.readouterr().err
