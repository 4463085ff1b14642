"""One small network of node processes for every module of this package.

Created and started once with the operator's commands (`juki network init --layout small
--demo`, `juki network up`): national; 東京都 with 稲城市, 神奈川県 with 藤沢市, 長野県 with
長野市. Starting it costs about as much as all the tests that use it, so the modules share it:
`make test`'s scheduler (tests/conftest.py) sends this package to one pytest-xdist worker as a
whole, and the fixture is package-scoped, so the nodes stop as soon as its last test is done
(idle nodes would otherwise poll on while the worker runs other modules).

Every test leaves its node processes running, and every module starts once the levels agree
(`settled`: what an earlier module did a moment ago has reached every level). No test relies
on another having run before it, or on not having run after one: the modules run in any order,
so a test that needs people in a state other modules change (no card, no provision, no
certificate yet) makes them (`support.small_network.newcomers`) instead of taking the first
residents, and checks what it made, not that nothing else is there. Every node process is
stopped in teardown, with SIGKILL if it must.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator

import pytest

from juki.cli import main
from juki.nodes.config import NetworkFiles
from juki.nodes.console import Console
from juki.nodes.netinit import free_ports
from juki.nodes.supervisor import running_pid
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine
from support.review_off import applied_as_filed
from support.small_network import (
    ADMIN,
    INAGI,
    MUNICIPALITIES,
    QUIET_TIMEOUT,
    SmallNetwork,
    kiosks_all_day,
)


def _kill_all(files: NetworkFiles) -> None:
    for node_id in files.node_ids():
        pid = running_pid(files, node_id)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)


def _token(files: NetworkFiles, lg: str, operator_id: str, name: str, role: Role) -> str:
    engine = make_engine(f"sqlite:///{files.root / lg}/node.db")
    try:
        return create_operator(SqlUnitOfWork(engine), ADMIN, operator_id, name, role)
    finally:
        engine.dispose()


@pytest.fixture(scope="package")
def small_network(tmp_path_factory: pytest.TempPathFactory, softhsm: str) -> Iterator[SmallNetwork]:
    """`softhsm`: `--demo` issues operator cards in the session's SoftHSM2 token store (this
    process may load the module once only)."""
    root = tmp_path_factory.mktemp("network") / "net"
    # Below Linux's ephemeral range (32768-60999), where outgoing connections take ports; each
    # pytest-xdist worker draws from its own range, so two networks never race for a port.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    low = 20000 + (worker % 4) * 3000
    base = free_ports(random.randrange(low, low + 2900), 1)[0]
    init = ["network", "init", "--dir", str(root), "--layout", "small", "--demo"]
    assert main([*init, "--residents", "20", "--base-port", str(base)]) == 0
    files = NetworkFiles(root.resolve())
    # these modules are about the network and the node's surfaces, not review (仮登録 → 本登録:
    # tests/e2e/test_review_browser.py)
    applied_as_filed(files, MUNICIPALITIES)
    kiosks_all_day(files)
    # a supervisor (審査): the tests read the 個人番号 the network generated, which a counter
    # clerk's record view hides (docs/operators.md, "Who sees what")
    supervisors = {
        lg: _token(files, lg, "e2e-super", "審査 試験", Role.REGISTRY_SUPERVISOR)
        for lg in MUNICIPALITIES
    }
    clerk = _token(files, INAGI, "e2e-clerk", "窓口 試験", Role.COUNTER_CLERK)
    try:
        assert main(["network", "up", "--dir", str(root), "--timeout", "90"]) == 0
        yield SmallNetwork(files, supervisors, clerk)
    finally:
        try:
            main(["network", "down", "--dir", str(root), "--timeout", "10"])
        finally:
            _kill_all(files)


@pytest.fixture(scope="module", autouse=True)
def settled(small_network: SmallNetwork) -> None:
    """Before a module's first test: nothing pending anywhere (an earlier module's last
    move-in may still be on its way up), so every level holds what national names."""
    with Console(small_network.files) as console:
        assert console.wait_quiet(QUIET_TIMEOUT), console.statuses()
