"""A node's configuration file, `juki network init`, and `bootstrap`: the one wiring point.

A network directory holds everything a network of nodes on one machine needs:

    DIR/network.json            which nodes, in which layout
    DIR/root.pem                the network root certificate (public)
    DIR/console/                the operator console's client certificate (mutual TLS)
    DIR/<id>/node.json          the node's configuration (this module's `NodeConfig`)
    DIR/<id>/key.pem, cert.pem  the node's key (0600) and its root-issued certificate
    DIR/<id>/admin-token        the node's admin token (0600); node.json keeps only its SHA-256
    DIR/<id>/node.db            the node's own database
    DIR/national/root-key.pem   the root key (0600): only the national node signs the directory

Everything but `bootstrap` runs once, at init. `bootstrap(config)` builds a running node's
engine, key, transport, clock and random source, and nothing else builds them.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from juki.certificates.signing import CERT_FILE as SIGNING_CERT_FILE
from juki.certificates.signing import KEY_FILE as SIGNING_KEY_FILE
from juki.certificates.signing import SIGNER_KIND
from juki.core.clock import Clock, SystemClock
from juki.core.errors import JukiError
from juki.network import pki
from juki.network.directory import Directory, DirectoryEntry, NodeKind, NodeStatus
from juki.network.https import HttpsTransport
from juki.nodes import layout as layouts
from juki.nodes.layout import NodeSpec
from juki.nodes.memory import NODE_CLASSES
from juki.nodes.metrics import NodeMetrics
from juki.nodes.national import NationalNode
from juki.nodes.node import Node, NodeIdentity
from juki.registry.ports import Municipality
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.settings import Settings
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade
from juki.storage.registry_store import save_municipality

NETWORK_FILE: Final = "network.json"
NODE_FILE: Final = "node.json"
ROOT_CERT_FILE: Final = "root.pem"
ROOT_KEY_FILE: Final = "root-key.pem"
ADMIN_TOKEN_FILE: Final = "admin-token"  # noqa: S105 (a file name)
OPERATOR_TOKEN_FILE: Final = "operator-token"  # noqa: S105 (a file name)
CONSOLE_DIR: Final = "console"
RUN_DIR: Final = "run"
DEFAULT_BASE_PORT: Final = 8400
DEFAULT_ALLOTMENT: Final = 100_000
HOST: Final = "127.0.0.1"


class ConfigError(JukiError):
    """A configuration that cannot be used, with what to do about it."""


def small_layout() -> tuple[NodeSpec, ...]:
    """Three municipalities in three prefectures: enough for every flow, quick to start."""
    tokyo = layouts.prefecture("130001", "東京都")
    kanagawa = layouts.prefecture("140007", "神奈川県")
    nagano = layouts.prefecture("200000", "長野県")
    return (
        layouts.national(),
        tokyo,
        kanagawa,
        nagano,
        layouts.municipality("132250", tokyo, "稲城市"),
        layouts.municipality("142051", kanagawa, "藤沢市"),
        layouts.municipality("202011", nagano, "長野市"),
    )


LAYOUTS: Final[dict[str, Callable[[], tuple[NodeSpec, ...]]]] = {
    "demo": layouts.demo_layout,
    "small": small_layout,
}


# -- the configuration file -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeConfig:
    node_id: str
    kind: NodeKind
    name: str
    parent: str | None
    host: str
    port: int
    db: str
    key: str
    certificate: str
    root_certificate: str
    admin_token_sha256: str
    directory_url: str  # the national node, where the signed directory is fetched
    log: str
    root_key: str | None = None  # the national node only
    municipality: str = ""  # 稲城市, for municipalities
    prefecture: str = ""  # 東京都, for municipalities and prefectures
    # Municipalities: the certificate-issuing key (住民票の写し等に署名する鍵) and its certificate,
    # issued by the network root like the node key but of another kind, so neither can stand in
    # for the other.
    signing_key: str | None = None
    signing_cert: str | None = None

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def directory(self) -> Path:
        """The node's own directory (where its node.json is)."""
        return Path(self.key).parent

    def certificate_settings(self, log_level: str = "INFO") -> Settings:
        """What the municipality's certificate desk runs with: the network-issued signing key,
        the network root as the one trusted root, and its print sink and key directory in the
        node's own directory (never the working directory of whoever started it)."""
        return Settings(
            db_url=self.db,
            log_level=log_level,
            signing_key=self.signing_key,
            signing_cert=self.signing_cert,
            root_cert=self.root_certificate if self.signing_key else None,
            keys_dir=str(self.directory / "keys"),
            print_dir=str(self.directory / "print"),
            public_url=f"{self.endpoint}/registry",
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeConfig:
        try:
            values = {**data, "kind": NodeKind(data["kind"]), "port": int(data["port"])}
            config = cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"node configuration is incomplete or wrong: {exc}") from exc
        if config.kind is NodeKind.NATIONAL and not config.root_key:
            raise ConfigError("the national node's configuration must name its root_key")
        return config

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path} does not exist; run `juki network init` first") from exc
        except ValueError as exc:
            raise ConfigError(f"{path} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path} is not a node configuration")
        return cls.from_json(data)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NetworkFiles:
    """Where a network directory keeps things; what the CLI reads."""

    root: Path

    @property
    def network_file(self) -> Path:
        return self.root / NETWORK_FILE

    @property
    def root_certificate(self) -> Path:
        return self.root / ROOT_CERT_FILE

    @property
    def console_key(self) -> Path:
        return self.root / CONSOLE_DIR / "key.pem"

    @property
    def console_certificate(self) -> Path:
        return self.root / CONSOLE_DIR / "cert.pem"

    def node_file(self, node_id: str) -> Path:
        return self.root / node_id / NODE_FILE

    def admin_token(self, node_id: str) -> str:
        return (self.root / node_id / ADMIN_TOKEN_FILE).read_text(encoding="utf-8").strip()

    def pid_file(self, node_id: str) -> Path:
        return self.root / RUN_DIR / f"{node_id}.pid"

    def exists(self) -> bool:
        return self.network_file.exists()

    def node_ids(self) -> list[str]:
        try:
            data = json.loads(self.network_file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(
                f"{self.root} holds no network; run `juki network init --dir {self.root}`"
            ) from exc
        return [str(n) for n in data["nodes"]]

    def configs(self) -> list[NodeConfig]:
        return [NodeConfig.load(self.node_file(n)) for n in self.node_ids()]


# -- bootstrap: the one wiring point ------------------------------------------------------------


def bootstrap(config: NodeConfig, *, clock: Clock | None = None) -> Node:
    """Build a node from its configuration: engine, key, transport, clock, random source."""
    try:
        key = pki.key_from_pem(Path(config.key).read_bytes())
        certificate = pki.cert_from_pem(Path(config.certificate).read_bytes())
        root = pki.cert_from_pem(Path(config.root_certificate).read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{config.node_id}: cannot read its key or certificates: {exc}") from exc
    clock = clock or SystemClock()
    try:
        named = pki.check_issued_by(certificate, root, clock.now())
    except ValueError as exc:
        raise ConfigError(f"{config.node_id}: {exc}") from exc
    if (named.node_id, named.kind) != (config.node_id, config.kind.value):
        raise ConfigError(
            f"{config.node_id}: its certificate names {named.kind} {named.node_id}; "
            "the configuration and the certificate belong to different nodes"
        )
    transport = HttpsTransport.for_node(
        Path(config.certificate), Path(config.key), Path(config.root_certificate)
    )
    national = config.kind is NodeKind.NATIONAL
    node = NODE_CLASSES[config.kind](
        engine=make_engine(config.db),
        identity=NodeIdentity(config.node_id, config.kind, key, certificate),
        root=root,
        transport=transport,
        clock=clock,
        # Unpredictable in production (message ids, backoff jitter, my_numbers); the
        # simulator passes its own seeded Random to the same classes instead.
        rng=random.Random(random.SystemRandom().getrandbits(128)),
        fetch_directory=None
        if national
        else partial(transport.fetch_directory, config.directory_url),
        events=NodeMetrics(),
        query_transport=transport,
    )
    if isinstance(node, NationalNode):
        assert config.root_key is not None  # checked by NodeConfig.from_json
        try:
            node.root_key = pki.key_from_pem(Path(config.root_key).read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"national: cannot read the root key: {exc}") from exc
    return node


def close_node(node: Node) -> None:
    """Release what `bootstrap` opened."""
    transport = node.worker.transport
    if isinstance(transport, HttpsTransport):
        transport.close()
    node.engine.dispose()


# -- juki network init ----------------------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    """Create a file only its owner can read, without a moment of wider permissions."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def port_is_free(port: int, host: str = HOST) -> bool:
    """Could a server listen on it now? SO_REUSEADDR as uvicorn sets it, so connections left
    in TIME_WAIT by a node that was just killed do not count as "in use"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


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
) -> InitResult:
    """Create root, keys, certificates, configurations, databases and the first directory."""
    if layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {sorted(LAYOUTS)}")
    files = NetworkFiles(root_dir.resolve())
    if files.exists():
        raise ConfigError(f"{files.root} already holds a network; use another --dir")
    if files.root.exists() and any(files.root.iterdir()):
        raise ConfigError(f"{files.root} is not empty; use an empty or new --dir")
    specs = LAYOUTS[layout]()
    actor = by or Actor("network-init", Role.OPERATIONS_MANAGER, "console")
    clock = SystemClock()
    now = clock.now()
    files.root.mkdir(parents=True, exist_ok=True)
    files.root.chmod(0o700)

    root_key, root_cert = pki.create_root(now)
    files.root_certificate.write_bytes(pki.cert_to_pem(root_cert))
    _console_identity(files, root_key, root_cert, clock)

    ports = free_ports(base_port, len(specs))
    national_url = f"https://{HOST}:{ports[[s.kind for s in specs].index(NodeKind.NATIONAL)]}"
    configs = [
        _create_node(files, spec, port, national_url, root_key, root_cert, clock)
        for spec, port in zip(specs, ports, strict=True)
    ]
    progress("データベースを作成中 (migrating node databases)")
    for config, spec in zip(configs, specs, strict=True):
        _migrate(config, spec)
    progress("ディレクトリに署名中 (signing the directory)")
    _publish_directory(configs, allotment)
    seeded: dict[str, int] = {}
    if demo:
        for config in configs:
            if config.kind is NodeKind.MUNICIPALITY:
                progress(f"{config.name}: 住民{residents}人を作成中 (seeding)")
                seeded[config.node_id] = _seed_demo(config, residents, seed, actor, clock)
    # Written last: a network directory without it is an init that did not finish.
    files.network_file.write_text(
        json.dumps(
            {
                "layout": layout,
                "created_at": now.isoformat(),
                "nodes": [c.node_id for c in configs],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    return InitResult(configs, seeded)


def _console_identity(
    files: NetworkFiles, root_key: pki.PrivateKey, root_cert: x509.Certificate, clock: Clock
) -> None:
    """The operator console's client certificate: the CLI (and a browser) need one to talk to
    nodes that require mutual TLS. It is not in the directory, so it can sign no message."""
    console = files.root / CONSOLE_DIR
    console.mkdir(mode=0o700)
    key = pki.generate_key()
    cert = pki.issue_certificate(
        root_key,
        root_cert,
        node_id="console",
        kind="operator",
        public_key=key.public_key(),
        now=clock.now(),
    )
    _write_private(files.console_key, pki.key_to_pem(key))
    files.console_certificate.write_bytes(pki.cert_to_pem(cert))
    password = secrets.token_urlsafe(12)
    _write_private(console / "console.p12.password", (password + "\n").encode())
    bundle = pkcs12.serialize_key_and_certificates(
        b"juki console", key, cert, [root_cert], BestAvailableEncryption(password.encode())
    )
    _write_private(console / "console.p12", bundle)


def _create_node(
    files: NetworkFiles,
    spec: NodeSpec,
    port: int,
    national_url: str,
    root_key: pki.PrivateKey,
    root_cert: x509.Certificate,
    clock: Clock,
) -> NodeConfig:
    home = files.root / spec.node_id
    home.mkdir(mode=0o700)
    key = pki.generate_key()
    cert = pki.issue_certificate(
        root_key,
        root_cert,
        node_id=spec.node_id,
        kind=spec.kind.value,
        public_key=key.public_key(),
        now=clock.now(),
    )
    _write_private(home / "key.pem", pki.key_to_pem(key))
    (home / "cert.pem").write_bytes(pki.cert_to_pem(cert))
    token = secrets.token_urlsafe(32)
    _write_private(home / ADMIN_TOKEN_FILE, (token + "\n").encode())
    signing_key_path = signing_cert_path = None
    if spec.kind is NodeKind.MUNICIPALITY:
        signing_key = pki.generate_key()
        signing_cert = pki.issue_certificate(
            root_key,
            root_cert,
            node_id=spec.node_id,
            kind=SIGNER_KIND,
            public_key=signing_key.public_key(),
            now=clock.now(),
            hosts=(f"certificates.{spec.node_id}.juki.invalid",),
            ips=(),
        )
        _write_private(home / SIGNING_KEY_FILE, pki.key_to_pem(signing_key))
        (home / SIGNING_CERT_FILE).write_bytes(pki.cert_to_pem(signing_cert))
        signing_key_path = str(home / SIGNING_KEY_FILE)
        signing_cert_path = str(home / SIGNING_CERT_FILE)
    root_key_path: str | None = None
    if spec.kind is NodeKind.NATIONAL:
        _write_private(home / ROOT_KEY_FILE, pki.key_to_pem(root_key))
        root_key_path = str(home / ROOT_KEY_FILE)
    config = NodeConfig(
        node_id=spec.node_id,
        kind=spec.kind,
        name=spec.name,
        parent=spec.parent,
        host=HOST,
        port=port,
        db=f"sqlite:///{home / 'node.db'}",
        key=str(home / "key.pem"),
        certificate=str(home / "cert.pem"),
        root_certificate=str(files.root_certificate),
        admin_token_sha256=token_sha256(token),
        directory_url=national_url,
        log=str(home / "node.log"),
        root_key=root_key_path,
        municipality=spec.municipality,
        prefecture=spec.prefecture,
        signing_key=signing_key_path,
        signing_cert=signing_cert_path,
    )
    config.save(home / NODE_FILE)
    return config


def _migrate(config: NodeConfig, spec: NodeSpec) -> None:
    engine = make_engine(config.db)
    try:
        upgrade(engine)
        if spec.kind is NodeKind.MUNICIPALITY:
            with engine.begin() as conn:
                save_municipality(
                    conn, Municipality(spec.node_id, spec.prefecture, spec.municipality)
                )
    finally:
        engine.dispose()


def _publish_directory(configs: Sequence[NodeConfig], allotment: int) -> None:
    """Sign directory serial 1, install it in every node, and allot resident-code ranges.

    The allotments are queued in the national node's outbox: they reach the municipalities
    (through their prefectures) once the network is up.
    """
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
        for config in configs:
            if config.kind is NodeKind.MUNICIPALITY:
                national.allot(config.node_id, allotment)
    finally:
        for node in nodes:
            close_node(node)


def _seed_demo(config: NodeConfig, residents: int, seed: int, by: Actor, clock: Clock) -> int:
    """A synthetic population and a counter clerk whose token is kept next to the node."""
    from juki.registry.seeding import seed_registry
    from juki.security.operators import create_operator

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
        token = create_operator(engine, by, "demo-clerk", "デモ窓口担当", Role.COUNTER_CLERK, clock)
        _write_private(config.directory / OPERATOR_TOKEN_FILE, (token + "\n").encode())
    finally:
        engine.dispose()
    return result.residents
