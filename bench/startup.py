"""How fast `juki` commands start, next to a bare `python -c pass` measured in the same run.

Each command is run `--runs` times, the commands interleaved so that the machine's other work
falls on all of them alike; printed are the median wall time, the median CPU time (user +
system, which other work inflates less) and the number of modules the command imports (from
`-X importtime`). Light commands import only what they use (`juki.cli`): the goal is
`juki --help` and `juki id validate` under 0.3 s. Bytecode must be compiled as `make setup`
does (these machines set PYTHONDONTWRITEBYTECODE): from source every start costs seconds.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import table
from juki.core.identifiers import IdentifierKind, complete_identifier

GOAL_S = 0.3


def _juki() -> list[str]:
    script = Path(sys.executable).parent / "juki"
    return [str(script)] if script.exists() else [sys.executable, "-m", "juki"]


def commands() -> dict[str, list[str]]:
    code = str(complete_identifier(IdentifierKind.RESIDENT_CODE, "1234567890"))
    juki = _juki()
    return {
        "python -c pass (raw)": [sys.executable, "-c", "pass"],
        "juki --help": [*juki, "--help"],
        "juki id validate": [*juki, "id", "validate", "resident-code", code],
        "juki network --help": [*juki, "network", "--help"],
    }


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (the CPU of this process's waited-for children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def modules_imported(argv: list[str]) -> int:
    """How many modules a run imports, counted by `-X importtime` (PYTHONPROFILEIMPORTTIME)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return sum(1 for line in done.stderr.decode().splitlines() if line.startswith("import time:"))


def main(runs: int) -> None:
    load = os.getloadavg()
    print(
        f"startup: each command {runs} times, interleaved "
        f"(load average before: {load[0]:.1f} on {os.cpu_count()} cores)"
    )
    found = commands()
    walls: dict[str, list[float]] = {name: [] for name in found}
    cpus: dict[str, list[float]] = {name: [] for name in found}
    for argv in found.values():  # a first run of each, not counted: the file cache
        _run(argv)
    for _ in range(runs):
        for name, argv in found.items():
            wall, cpu = _run(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    raw_wall = statistics.median(walls["python -c pass (raw)"])
    raw_modules = modules_imported(found["python -c pass (raw)"])
    rows: list[list[object]] = []
    for name, argv in found.items():
        wall = statistics.median(walls[name])
        rows.append(
            [
                name,
                f"{wall:.3f}",
                f"{statistics.median(cpus[name]):.3f}",
                f"{wall / raw_wall:.1f}",
                modules_imported(argv) - (0 if name.startswith("python") else raw_modules),
            ]
        )
    print(table(["command", "wall s", "cpu s", "× raw", "modules (beyond python's)"], rows))
    print(
        f"goal: juki --help and juki id validate under {GOAL_S} s wall; load average after: "
        f"{os.getloadavg()[0]:.1f}. The machine is shared: wall times move with other work, "
        "the CPU time and the ratio to a bare python less."
    )
