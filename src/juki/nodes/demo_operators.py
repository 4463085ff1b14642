"""The demo network's operators at the terminal — demo only.

`juki demo` (and `juki network init --demo`) gives each municipality what a trainer needs to
sign in at its terminal with both factors: a registered terminal (`DEMO-01`), a counter clerk
and a supervisor (審査) with enrolment codes for their 照合情報 and, when SoftHSM2 is installed
(scripts/setup.sh), an operator card each — a SoftHSM2 token opened by a demo PIN. The node
configurations name the card module, its SoftHSM2 configuration and the WebAuthn relying party
(`localhost`: browsers refuse WebAuthn on an IP address), so the node processes use them. How
to sign in is written to `DIR/demo-sign-in.txt` (owner only) and printed by `juki demo`.

The PIN and the enrolment codes are in that file in the clear: a demonstration with synthetic
residents, never a deployment (docs/operators.md).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from juki.core.files import write_private
from juki.network.directory import NodeKind
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger
from juki.storage.engine import make_engine

DEMO_TERMINAL: Final = "DEMO-01"
DEMO_PIN: Final = "1234"
DEMO_SO_PIN: Final = "12345678"
RP_ID: Final = "localhost"
GUIDE_FILE: Final = "demo-sign-in.txt"
# The clerk (its token beside the node: netinit.OPERATOR_TOKEN_FILE) and a supervisor.
CLERK: Final = "demo-clerk"
SUPERVISOR: Final = "demo-supervisor"
SOFTHSM_MODULES: Final = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
_ACCESS = Actor("demo-setup", Role.ACCESS_MANAGER, "console")
_PINS = Actor("demo-pin-manager", Role.PIN_MANAGER, "console")
_SYSADMIN = Actor("demo-sysadmin", Role.SYSTEM_ADMINISTRATOR, "console")


@dataclass(frozen=True, slots=True)
class DemoOperator:
    operator_id: str
    role: Role
    enrolment_code: str
    card_label: str | None  # None: no SoftHSM2, no card


@dataclass(frozen=True, slots=True)
class DemoOffice:
    lg_code: str
    name: str
    terminal_url: str  # https://localhost:PORT/registry/terminal
    operators: tuple[DemoOperator, ...]


def softhsm_module() -> str | None:
    found = [m for m in SOFTHSM_MODULES if Path(m).exists()]
    return found[0] if found and shutil.which("softhsm2-util") else None


def _softhsm_conf(root: Path) -> str:
    """SOFTHSM2_CONF when set (a process that has loaded the module keeps reading that one),
    else a configuration with its own token directory under the network directory."""
    if os.environ.get("SOFTHSM2_CONF"):
        return os.environ["SOFTHSM2_CONF"]
    tokens = root / "softhsm" / "tokens"
    tokens.mkdir(parents=True, mode=0o700)
    conf = root / "softhsm" / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return str(conf)


def _new_card(module: str, label: str) -> str:
    """A SoftHSM2 token `label` opened by the demo PIN, with a key pair; its public key."""
    from juki.security.verification.cards import Pkcs11Reader

    util = shutil.which("softhsm2-util") or "softhsm2-util"
    pins = ("--so-pin", DEMO_SO_PIN, "--pin", DEMO_PIN)
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, *pins],
        check=True,
        capture_output=True,
    )
    return Pkcs11Reader(module).make_key(label, DEMO_PIN)


def _office(config: NodeConfig, module: str | None) -> DemoOffice:
    engine = make_engine(config.db)
    try:

        def uow() -> SqlUnitOfWork:
            return SqlUnitOfWork(engine)

        ledger.register_terminal(uow(), _SYSADMIN, DEMO_TERMINAL, config.node_id, "デモ端末")
        codes = {
            CLERK: ledger.new_enrolment_code(uow(), _ACCESS, CLERK, "デモ用の照合情報登録"),
            SUPERVISOR: ledger.register_operator(
                uow(), _ACCESS, SUPERVISOR, "デモ審査担当", Role.REGISTRY_SUPERVISOR
            ),
        }
        operators = []
        for operator_id, role in (
            (CLERK, Role.COUNTER_CLERK),
            (SUPERVISOR, Role.REGISTRY_SUPERVISOR),
        ):
            label = None
            if module is not None:
                label = f"demo-{config.node_id}-{operator_id.removeprefix('demo-')}"
                public_key = _new_card(module, label)
                ledger.issue_card(uow(), _PINS, operator_id, label, public_key, "デモ用カード")
            operators.append(DemoOperator(operator_id, role, codes[operator_id], label))
    finally:
        engine.dispose()
    url = f"https://{RP_ID}:{config.port}/registry/terminal"
    return DemoOffice(config.node_id, config.name, url, tuple(operators))


def set_up_demo_operators(files: NetworkFiles, configs: Sequence[NodeConfig]) -> list[DemoOffice]:
    """Terminals, operators and cards for every municipality; the node configurations name
    the card module and the relying party; the guide is written. The offices set up."""
    module = softhsm_module()
    conf = _softhsm_conf(files.root) if module is not None else ""
    offices = []
    for config in configs:
        if config.kind is not NodeKind.MUNICIPALITY:
            continue
        offices.append(_office(config, module))
        dataclasses.replace(
            config, pkcs11_module=module or "", softhsm2_conf=conf, webauthn_rp_id=RP_ID
        ).save(files.node_file(config.node_id))
    write_private(files.root / GUIDE_FILE, guide(files, offices, module is not None).encode())
    return offices


def guide(files: NetworkFiles, offices: Sequence[DemoOffice], cards: bool) -> str:
    """How a trainer signs in at each municipality's terminal (Japanese first)."""
    p12 = files.root / "console" / "console.p12"
    lines = [
        "デモ専用 (demo only): 端末へのサインイン / signing in at a terminal",
        "",
        f"1. ブラウザにクライアント証明書 {p12} を取り込む",
        f"   (パスワード: {p12}.password)。ノードの証明書はネットワークのルート",
        f"   {files.root_certificate} が発行したもの。",
        "2. 照合情報の登録: 端末の /enrol を開き、照合ID・登録コード・端末ID を入力して、",
        "   ブラウザの認証器（指紋・顔・端末のPIN）で登録する（登録コードは7日間有効。",
        "   新しいコード: juki operator enrolment --db URL --id ID --reason TEXT）。",
        f"3. サインイン: 端末の /login で照合ID・カードの暗証番号・端末ID {DEMO_TERMINAL} を入力。",
    ]
    if cards:
        lines.append(f"   操作者カード: SoftHSM2 のトークン、暗証番号 {DEMO_PIN}")
    else:
        lines += [
            "   SoftHSM2 がないため操作者カードはありません: bash scripts/setup.sh の後に",
            "   juki operator card で交付してください (JUKI_PKCS11_MODULE)。",
        ]
    lines.append("")
    for office in offices:
        lines.append(f"{office.name} ({office.lg_code}): {office.terminal_url}/login")
        for op in office.operators:
            card = f"  カード {op.card_label}" if op.card_label else ""
            lines.append(
                f"  {op.operator_id} ({op.role.value}) 登録コード {op.enrolment_code}{card}"
            )
    return "\n".join(lines) + "\n"
