"""SoftHSM2 operator cards for tests: a token directory of the run's own, and cards initialised
with `softhsm2-util` (a PIN manager's card printer, in a real office).

SOFTHSM2_CONF is read when the module is first loaded in a process, so it is set once per test
session (`softhsm_conf`) before any card is read; each card is a token found by its label.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

MODULE_CANDIDATES: Final = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
SO_PIN: Final = "12345678"


def softhsm_module() -> str:
    for candidate in MODULE_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise RuntimeError("SoftHSM2 is missing: run `bash scripts/setup.sh` (Debian softhsm2)")


def configure(root: Path) -> Path:
    """A SoftHSM2 configuration with its own token directory under `root`; set in the env."""
    tokens = root / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


def new_card(label: str, pin: str) -> None:
    """An empty card with `label` whose user PIN is `pin`."""
    util = shutil.which("softhsm2-util")
    if util is None:
        raise RuntimeError("softhsm2-util is missing: run `bash scripts/setup.sh`")
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
