"""Light commands import only what they use: `juki id validate` and `juki --help`, each run in
a fresh interpreter, load neither the database, web and HTTP stacks nor the network, nor the
logging library (`juki.cli.SILENT`). What they load is read from the interpreter's
`sys.modules` after the command ran; nothing is timed (`python -m bench startup` times them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Runs the command as the console script does, then reports what was imported.
SCRIPT = """
import json, sys
from juki.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

HEAVY = (
    "sqlalchemy",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "pydantic",
    "cryptography",
    "structlog",
    "rich",
    "juki.network",
    "juki.nodes",
    "juki.storage",
    "juki.registry",
)


def _imported(*args: str) -> tuple[object, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], report["modules"], done.stdout


@pytest.mark.parametrize(
    ("args", "code", "printed"),
    [
        (("id", "validate", "resident-code", "12345678903"), 0, "valid"),
        (("id", "validate", "resident-code", "12345678901"), 1, "check digit"),
        (("--help",), 0, "validate or complete identifiers"),
    ],
    ids=["valid", "invalid", "help"],
)
def test_a_light_command_imports_no_heavy_module(
    args: tuple[str, ...], code: int, printed: str
) -> None:
    exit_code, modules, out = _imported(*args)
    assert exit_code == code
    assert printed in out
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert heavy == []
    assert "juki.core.identifiers" in modules or args == ("--help",)


# What the network's console commands never need: they speak HTTPS to the nodes (httpx,
# cryptography) and read the network's files, but hold no database, serve nothing, validate
# no message and log through no library.
NOT_FOR_THE_CONSOLE = (
    "sqlalchemy",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "structlog",
    "numpy",
    "juki.storage",
    "juki.registry",
    "juki.nodes.node",
    "juki.nodes.identity",
)


@pytest.mark.parametrize("command", ["status", "check", "disconnect", "reconnect"])
def test_the_network_consoles_commands_load_no_database_or_web_stack(command: str) -> None:
    exit_code, modules, out = _imported("network", command, "--help")
    assert exit_code == 0
    assert "usage: juki network" in out
    loaded = [
        m
        for m in modules
        if m.split(".")[0] in NOT_FOR_THE_CONSOLE or m.startswith(NOT_FOR_THE_CONSOLE)
    ]
    assert loaded == []
