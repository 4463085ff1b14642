"""`juki network init`: the root, every node's keys and certificates, configurations,
databases and the first signed directory — and, for the demo, synthetic residents."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from juki.certificates.signing import CERT_FILE as SIGNING_CERT_FILE
from juki.certificates.signing import KEY_FILE as SIGNING_KEY_FILE
from juki.certificates.signing import SIGNER_KIND
from juki.core.clock import Clock, SystemClock
from juki.core.files import write_private
from juki.core.settings import DEFAULT_ADMIN_TOKEN_DAYS
from juki.network import pki
from juki.network.directory import Directory, DirectoryEntry, NodeKind, NodeStatus
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.codes import POOL_BATCH
from juki.nodes.config import (
    ADMIN_TOKEN_FILE,
    CONSOLE_DIR,
    DEFAULT_ALLOTMENT,
    DEFAULT_BASE_PORT,
    HOST,
    NODE_FILE,
    OPERATOR_TOKEN_FILE,
    ROOT_KEY_FILE,
    ConfigError,
    NetworkFiles,
    NodeConfig,
    port_is_free,
)
from juki.nodes.demo_operators import set_up_demo_operators
from juki.nodes.layout import LAYOUTS, NodeSpec
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.provision_register import load_shipped_register
from juki.population.seeding import seed_registry
from juki.registry.model import Municipality
from juki.registry.store.codes import NATIONAL, receive_pool
from juki.registry.store.municipality import save_municipality
from juki.security.actors import Actor
from juki.security.operators import create_operator, new_token, token_sha256
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated


def free_ports(base: int, count: int) -> list[int]:
    """`count` ports from `base` up that nothing listens on now (checked again at `up`)."""
    ports: list[int] = []
    port = base
    while len(ports) < count:
        if port > 65535:
            raise ConfigError(f"no {count} free ports from {base}")
        if port_is_free(port):
            ports.append(port)
        port += 1
    return ports


@dataclass(frozen=True, slots=True)
class InitResult:
    configs: list[NodeConfig]
    seeded: dict[str, int]  # lg_code → residents added


def init_network(
    root_dir: Path,
    *,
    layout: str = "demo",
    demo: bool = False,
    residents: int = 300,
    seed: int = 1,
    base_port: int = DEFAULT_BASE_PORT,
    allotment: int = DEFAULT_ALLOTMENT,
    by: Actor | None = None,
    progress: Callable[[str], None] = lambda _: None,
    admin_token_days: int = DEFAULT_ADMIN_TOKEN_DAYS,
    db_url: Callable[[str], str] | None = None,
) -> InitResult:
    """Create root, keys, certificates, configurations, databases and the first directory.
    Each node's database is a SQLite file in its directory, or `db_url(node_id)` (an empty
    PostgreSQL database, say: `python -m bench idle --backend postgres`)."""
    if layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {sorted(LAYOUTS)}")
    files = _new_network_files(root_dir)
    specs = LAYOUTS[layout]()
    actor = by or Actor("network-init", Role.OPERATIONS_MANAGER, "console")
    clock = SystemClock()
    now = clock.now()
    files.root.mkdir(parents=True, exist_ok=True)
    files.root.chmod(0o700)

    root_key, root_cert = pki.create_root(now)
    files.root_certificate.write_bytes(pki.cert_to_pem(root_cert))
    _console_identity(files, root_key, root_cert, clock)

    municipalities = sum(1 for s in specs if s.kind is NodeKind.MUNICIPALITY)
    ports = free_ports(base_port, len(specs) + municipalities)
    public_ports = iter(ports[len(specs) :])  # each municipality's public listener
    ports = ports[: len(specs)]
    national_url = f"https://{HOST}:{ports[[s.kind for s in specs].index(NodeKind.NATIONAL)]}"
    configs = [
        _create_node(
            files,
            spec,
            port,
            national_url,
            root_key,
            root_cert,
            clock,
            public_port=next(public_ports) if spec.kind is NodeKind.MUNICIPALITY else None,
            admin_token_days=admin_token_days,
            db=db_url(spec.node_id) if db_url else None,
        )
        for spec, port in zip(specs, ports, strict=True)
    ]
    progress("データベースを作成中 (migrating node databases)")
    for config, spec in zip(configs, specs, strict=True):
        _migrate(config, spec)
    progress("ディレクトリに署名中 (signing the directory)")
    _publish_directory(configs, max(allotment, residents + POOL_BATCH) if demo else allotment)
    seeded: dict[str, int] = {}
    if demo:
        for config in configs:
            if config.kind is NodeKind.MUNICIPALITY:
                progress(f"{config.name}: 住民{residents}人を作成中 (seeding)")
                seeded[config.node_id] = _seed_demo(config, residents, seed, actor, clock)
        progress("端末・操作者・操作者カードを登録中 (demo terminals and operators)")
        configs = _demo_registers(files, configs, clock)
    # Written last: a network directory without it is an init that did not finish.
    files.network_file.write_text(
        json.dumps(
            {
                "layout": layout,
                "created_at": now.isoformat(),
                "nodes": [c.node_id for c in configs],
                "demo": demo,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    return InitResult(configs, seeded)


def _demo_registers(
    files: NetworkFiles, configs: list[NodeConfig], clock: Clock
) -> list[NodeConfig]:
    """The demo's operators and cards, and national's register of agencies and tasks."""
    set_up_demo_operators(files, configs)
    _load_provision_register(files, configs, clock)
    return [NodeConfig.load(files.node_file(c.node_id)) for c in configs]


def _load_provision_register(files: NetworkFiles, configs: list[NodeConfig], clock: Clock) -> None:
    """The demo's national node holds the shipped register of agencies and permitted tasks,
    loaded by a national operator as `juki task load` would; the agencies' keys are in
    `agencies/` of the network directory. Each prefecture loads the same register itself, as
    its operator would (`--node`): its agencies with the certificates national issued."""
    national = [c for c in configs if c.kind is NodeKind.NATIONAL]
    prefectures = [c for c in configs if c.kind is NodeKind.PREFECTURE]
    for config in national + prefectures:
        node = bootstrap(config, clock=clock)
        try:
            role = (
                Role.NATIONAL_OPERATOR
                if node.kind is NodeKind.NATIONAL
                else Role.PREFECTURE_OPERATOR
            )
            load_shipped_register(node, Actor("network-init", role, "console"), files.agencies_dir)
        finally:
            close_node(node)


def _console_identity(
    files: NetworkFiles, root_key: pki.PrivateKey, root_cert: x509.Certificate, clock: Clock
) -> None:
    """The operator console's client certificate: the CLI (and a browser) need one to talk to
    nodes that require mutual TLS. It is not in the directory, so it can sign no message."""
    console = files.root / CONSOLE_DIR
    console.mkdir(mode=0o700)
    key, cert = pki.issue_key_pair(
        root_key, root_cert, node_id="console", kind="operator", now=clock.now()
    )
    write_private(files.console_key, pki.key_to_pem(key))
    files.console_certificate.write_bytes(pki.cert_to_pem(cert))
    password = secrets.token_urlsafe(12)
    write_private(console / "console.p12.password", (password + "\n").encode())
    bundle = pkcs12.serialize_key_and_certificates(
        b"juki console", key, cert, [root_cert], BestAvailableEncryption(password.encode())
    )
    write_private(console / "console.p12", bundle)


def _new_network_files(root_dir: Path) -> NetworkFiles:
    """The files of a network about to be created: the directory must be new or empty."""
    files = NetworkFiles(root_dir.resolve())
    if files.exists():
        raise ConfigError(f"{files.root} already holds a network; use another --dir")
    if files.root.exists() and any(files.root.iterdir()):
        raise ConfigError(f"{files.root} is not empty; use an empty or new --dir")
    return files


def _create_node(
    files: NetworkFiles,
    spec: NodeSpec,
    port: int,
    national_url: str,
    root_key: pki.PrivateKey,
    root_cert: x509.Certificate,
    clock: Clock,
    *,
    public_port: int | None = None,
    admin_token_days: int = DEFAULT_ADMIN_TOKEN_DAYS,
    db: str | None = None,
) -> NodeConfig:
    home = files.root / spec.node_id
    home.mkdir(mode=0o700)
    key, cert = pki.issue_key_pair(
        root_key, root_cert, node_id=spec.node_id, kind=spec.kind.value, now=clock.now()
    )
    write_private(home / "key.pem", pki.key_to_pem(key))
    (home / "cert.pem").write_bytes(pki.cert_to_pem(cert))
    token = new_token()
    write_private(home / ADMIN_TOKEN_FILE, (token + "\n").encode())
    signing_key_path = signing_cert_path = None
    if spec.kind is NodeKind.MUNICIPALITY:
        signing_key, signing_cert = pki.issue_key_pair(
            root_key,
            root_cert,
            node_id=spec.node_id,
            kind=SIGNER_KIND,
            now=clock.now(),
            hosts=(f"certificates.{spec.node_id}.juki.invalid",),
            ips=(),
        )
        write_private(home / SIGNING_KEY_FILE, pki.key_to_pem(signing_key))
        (home / SIGNING_CERT_FILE).write_bytes(pki.cert_to_pem(signing_cert))
        signing_key_path = str(home / SIGNING_KEY_FILE)
        signing_cert_path = str(home / SIGNING_CERT_FILE)
    root_key_path: str | None = None
    if spec.kind is NodeKind.NATIONAL:
        write_private(home / ROOT_KEY_FILE, pki.key_to_pem(root_key))
        root_key_path = str(home / ROOT_KEY_FILE)
    config = NodeConfig(
        node_id=spec.node_id,
        kind=spec.kind,
        name=spec.name,
        parent=spec.parent,
        host=HOST,
        port=port,
        db=db or f"sqlite:///{home / 'node.db'}",
        key=str(home / "key.pem"),
        certificate=str(home / "cert.pem"),
        root_certificate=str(files.root_certificate),
        admin_token_sha256=token_sha256(token),
        admin_token_expires_at=(clock.now() + timedelta(days=admin_token_days)).isoformat(),
        directory_url=national_url,
        log=str(home / "node.log"),
        root_key=root_key_path,
        municipality=spec.municipality,
        prefecture=spec.prefecture,
        signing_key=signing_key_path,
        signing_cert=signing_cert_path,
        public_port=public_port,
    )
    config.save(home / NODE_FILE)
    return config


def _migrate(config: NodeConfig, spec: NodeSpec) -> None:
    create_migrated(config.db)
    engine = make_engine(config.db)
    try:
        if spec.kind is NodeKind.MUNICIPALITY:
            with engine.begin() as conn:
                save_municipality(
                    conn, Municipality(spec.node_id, spec.prefecture, spec.municipality)
                )
    finally:
        engine.dispose()


def _publish_directory(configs: Sequence[NodeConfig], allotment: int) -> None:
    """Sign directory serial 1, install it in every node, and give each municipality its first
    pool of random resident codes (ADR 0006)."""
    entries = tuple(
        DirectoryEntry(
            node_id=c.node_id,
            kind=c.kind,
            name=c.name,
            parent=c.parent,
            endpoint=c.endpoint,
            certificate_pem=Path(c.certificate).read_text(encoding="ascii"),
            status=NodeStatus.ACTIVE,
        )
        for c in configs
    )
    nodes = [bootstrap(c) for c in configs]
    try:
        national = next(n for n in nodes if isinstance(n, NationalNode))
        signed = national.publish(
            Directory(serial=1, issued_at=national.clock.now().isoformat(), entries=entries)
        )
        for node in nodes:
            if node is not national:
                node.install_directory(signed.to_bytes())
        for node in nodes:
            if isinstance(node, MunicipalityNode):
                _install_pool(national, node, allotment)
    finally:
        for node in nodes:
            close_node(node)


def _install_pool(national: NationalNode, node: MunicipalityNode, count: int) -> None:
    """The first pool of resident codes, put straight into the municipality's database: init
    holds every node's database, and the demo seeds each registry from its pool before the
    network runs (later pools travel as messages, `NationalNode._send_pool`)."""
    pools = national.allot(node.node_id, count, send=False)
    with node.engine.begin() as conn:
        for pool in pools:
            receive_pool(
                conn,
                pool.codes,
                source=NATIONAL,
                allotted_by=f"national via {national.node_id} (init)",
                now=national.clock.now().isoformat(),
            )


def _seed_demo(config: NodeConfig, residents: int, seed: int, by: Actor, clock: Clock) -> int:
    """A synthetic population and a counter clerk whose token is kept next to the node."""
    engine = make_engine(config.db)
    try:
        result = seed_registry(
            engine,
            lg_code=config.node_id,
            residents=residents,
            seed=seed + int(config.node_id),
            by=by,
            clock=clock,
        )
        token = create_operator(
            SqlUnitOfWork(engine, clock=clock), by, "demo-clerk", "デモ窓口担当", Role.COUNTER_CLERK
        )
        write_private(config.directory / OPERATOR_TOKEN_FILE, (token + "\n").encode())
    finally:
        engine.dispose()
    return result.residents
