"""A node's configuration file (`node.json`) and the files of a network directory.

A network directory holds everything a network of nodes on one machine needs:

    DIR/network.json            which nodes, in which layout
    DIR/root.pem                the network root certificate (public)
    DIR/console/                the operator console's client certificate (mutual TLS)
    DIR/<id>/node.json          the node's configuration (this module's `NodeConfig`)
    DIR/<id>/key.pem, cert.pem  the node's key (0600) and its root-issued certificate
    DIR/<id>/admin-token        the node's admin token (0600); node.json keeps only its SHA-256
    DIR/<id>/node.db            the node's own database
    DIR/national/root-key.pem   the root key (0600): only the national node signs the directory

`juki network init` (`juki.nodes.netinit`) writes them once; `juki.nodes.bootstrap` builds a
running node from its `node.json`.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from juki.core.errors import JukiError
from juki.core.settings import Settings
from juki.network.directory import NodeKind

NETWORK_FILE: Final = "network.json"
NODE_FILE: Final = "node.json"
ROOT_CERT_FILE: Final = "root.pem"
ROOT_KEY_FILE: Final = "root-key.pem"
ADMIN_TOKEN_FILE: Final = "admin-token"  # noqa: S105 (a file name)
OPERATOR_TOKEN_FILE: Final = "operator-token"  # noqa: S105 (a file name)
CONSOLE_DIR: Final = "console"
RUN_DIR: Final = "run"
DEFAULT_BASE_PORT: Final = 8400
DEFAULT_ALLOTMENT: Final = 2_000  # the first pool of random resident codes (ADR 0006)
HOST: Final = "127.0.0.1"
DEFAULT_CHECKPOINT_INTERVAL_S: Final = 3600


class ConfigError(JukiError):
    """A configuration that cannot be used, with what to do about it."""


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
    # Municipalities: the public listener (ordinary TLS, no client certificate) that serves
    # certificate verification to anyone, and the public base URL printed on certificates and
    # in their QR codes — the municipality's own address for it when it has one (a web server
    # in front), else this listener's.
    public_port: int | None = None
    public_url: str = ""
    # The admin token's end (ISO 8601; empty in a configuration from before tokens expired) and
    # the digests of the admin tokens revoked before it (`juki.nodes.admin_token`).
    admin_token_expires_at: str = ""
    revoked_admin_tokens: tuple[str, ...] = ()
    # How often the node signs a checkpoint of its oplog chain for its parent, when the chain
    # grew (`juki.nodes.checkpoints`); 0: only on demand.
    checkpoint_interval_s: int = DEFAULT_CHECKPOINT_INTERVAL_S
    # Municipalities: 仮登録 → 本登録 (juki.registry.review), on unless turned off here;
    # docs/operators.md says when a municipality may.
    change_review: bool = True
    # Municipalities: operator verification at the terminal — the operator card's PKCS#11
    # module and (SoftHSM2) its configuration file, and the WebAuthn relying party's id, the
    # host name the terminal is reached by. Empty: the process's own settings
    # (JUKI_PKCS11_MODULE, SOFTHSM2_CONF, JUKI_WEBAUTHN_RP_ID). The demo sets them.
    pkcs11_module: str = ""
    softhsm2_conf: str = ""
    webauthn_rp_id: str = ""
    # National and prefectures on PostgreSQL: a hot standby of `db` (streaming replication)
    # that provision reads from once it has caught up (juki.storage.standby, docs/scale.md).
    # Checked at start: in recovery, and a copy of `db`. Empty: provision reads `db`.
    standby_db: str = ""

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def public_base_url(self) -> str:
        """Where certificates send their readers: `public_url`, else the public listener's
        `/registry`, else (a configuration from before public listeners) the node's own."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.public_port:
            return f"https://{self.host}:{self.public_port}/registry"
        return f"{self.endpoint}/registry"

    @property
    def directory(self) -> Path:
        """The node's own directory (where its node.json is)."""
        return Path(self.key).parent

    def certificate_settings(self, base: Settings | None = None) -> Settings:
        """What the municipality's certificate desk and terminal run with: the network-issued
        signing key, the network root as the one trusted root, its print sink and key directory
        in the node's own directory (never the working directory of whoever started it), and
        operator verification from this configuration, else from `base` (the process's
        settings: log level, card module, relying party, lockout and idle limits)."""
        base = base or Settings()
        return dataclasses.replace(
            base,
            db_url=self.db,
            pkcs11_module=self.pkcs11_module or base.pkcs11_module,
            webauthn_rp_id=self.webauthn_rp_id or base.webauthn_rp_id,
            signing_key=self.signing_key,
            signing_cert=self.signing_cert,
            root_cert=self.root_certificate if self.signing_key else None,
            keys_dir=str(self.directory / "keys"),
            print_dir=str(self.directory / "print"),
            public_url=self.public_base_url,
            change_review=self.change_review,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeConfig:
        try:
            values = {
                **data,
                "kind": NodeKind(data["kind"]),
                "port": int(data["port"]),
                "revoked_admin_tokens": tuple(data.get("revoked_admin_tokens", ())),
                "checkpoint_interval_s": int(
                    data.get("checkpoint_interval_s", DEFAULT_CHECKPOINT_INTERVAL_S)
                ),
                "change_review": data.get("change_review", True) is not False,
            }
            config = cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"node configuration is incomplete or wrong: {exc}") from exc
        if config.checkpoint_interval_s < 0:
            raise ConfigError("checkpoint_interval_s must be 0 (on demand only) or more seconds")
        if config.kind is NodeKind.NATIONAL and not config.root_key:
            raise ConfigError("the national node's configuration must name its root_key")
        if config.standby_db and config.kind not in (NodeKind.NATIONAL, NodeKind.PREFECTURE):
            raise ConfigError("standby_db: only the national node and prefectures provide")
        return config

    def to_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    def save(self, path: Path) -> None:
        path.write_text(self.to_text())

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

    @property
    def agencies_dir(self) -> Path:
        """The demo's recipient agencies' keys and client certificates (本人確認情報の提供)."""
        return self.root / "agencies"

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
