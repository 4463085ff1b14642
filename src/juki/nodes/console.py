"""The operator's console for a network directory: each node's admin API over mutual TLS, the
digest comparison of every level, and its repair (`juki network check`)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import httpx

from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError
from juki.network.https import mtls_client
from juki.nodes.check import Disagreement, compare, fuhyo_disagreements
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.digest import Digest

DEFAULT_DIR: Final = "var/demo-network"
DRAIN_TIMEOUT: Final = 120.0
POLL: Final = 0.2


class NodeRefused(ConsoleError):
    """The node answered and refused (an HTTP error status), as opposed to not answering."""


def _refusal_of(response: httpx.Response) -> str:
    """What a refusal says, in a line: the first field error's name and Japanese, or its detail."""
    try:
        data = response.json()
    except ValueError:
        return ""
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(p) for p in first.get("loc", [])[1:])
        return f": {where}: {first.get('msg_ja') or first.get('msg', '')}"
    if isinstance(data, dict) and (data.get("msg_ja") or isinstance(detail, str)):
        return f": {data.get('msg_ja') or detail}"
    return ""


class Console:
    """The operator's view of a network directory: configurations, tokens, an mTLS client."""

    def __init__(self, files: NetworkFiles, *, timeout: float = 10.0) -> None:
        self.files = files
        self.configs: dict[str, NodeConfig] = {c.node_id: c for c in files.configs()}
        self.client: httpx.Client = mtls_client(
            files.console_certificate,
            files.console_key,
            files.root_certificate,
            read_timeout=timeout,
        )
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def of_kind(self, kind: str) -> list[NodeConfig]:
        return [c for c in self.configs.values() if c.kind.value == kind]

    def node(self, node_id: str) -> NodeConfig:
        config = self.configs.get(node_id)
        if config is None:
            raise ConsoleError(
                f"{node_id} はこのネットワークのノードではありません (not a node here)"
            )
        return config

    def _token(self, node_id: str) -> str:
        if node_id not in self._tokens:
            try:
                self._tokens[node_id] = self.files.admin_token(node_id)
            except OSError as exc:
                raise ConsoleError(
                    f"{node_id}: 管理者トークンを読めません (admin token): {exc}"
                ) from exc
        return self._tokens[node_id]

    def admin(self, method: str, node_id: str, path: str, body: Any = None) -> Any:
        url = self.node(node_id).endpoint + "/admin/v1" + path
        try:
            response = self.client.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {self._token(node_id)}"},
            )
        except httpx.HTTPError as exc:
            raise ConsoleError(f"{node_id}: 到達できません (unreachable): {exc}") from exc
        if response.status_code >= 300:
            raise NodeRefused(
                f"{node_id}: {method} {path} → HTTP {response.status_code}" + _refusal_of(response)
            )
        return response.json()

    def healthy(self, node_id: str) -> bool:
        try:
            response = self.client.get(self.node(node_id).endpoint + "/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def statuses(self) -> dict[str, dict[str, Any] | None]:
        """Each node's admin status, or None for a node that does not answer."""
        out: dict[str, dict[str, Any] | None] = {}
        for node_id in self.configs:
            try:
                out[node_id] = self.admin("GET", node_id, "/status")
            except ConsoleError:
                out[node_id] = None
        return out

    def wait_quiet(self, timeout: float) -> bool:
        """Wait until no node has anything left to send, seen twice in a row.

        One pass reads the nodes one after another, so a message handed on between two reads
        could slip through; two quiet passes in a row rule that out in practice.
        """
        deadline = time.monotonic() + timeout
        quiet_passes = 0
        while time.monotonic() < deadline:
            if pending_messages(self.statuses()) == 0:
                quiet_passes += 1
                if quiet_passes >= 2:
                    return True
            else:
                quiet_passes = 0
            time.sleep(POLL)
        return False

    def refresh_directories(self, except_for: Iterable[str] = ()) -> None:
        skip = {"national", *except_for}
        for node_id in self.configs:
            if node_id not in skip:
                try:
                    self.admin("POST", node_id, "/directory/refresh")
                except ConsoleError as exc:
                    print(f"警告: {exc}", file=sys.stderr)

    def compare(self) -> list[Disagreement]:
        """identity_info's digests at every level, then the 附票本人確認情報's (附票連携)."""
        return self._compare("/digests") + fuhyo_disagreements(self._compare("/fuhyo-digests"))

    def _compare(self, route: str) -> list[Disagreement]:
        def digests(node_id: str) -> dict[str, Digest]:
            rows = self.admin("GET", node_id, route)
            return {r["lg_code"]: Digest(r["lg_code"], int(r["count"]), r["sha256"]) for r in rows}

        municipal = {c.node_id: digests(c.node_id)[c.node_id] for c in self.of_kind("municipality")}
        prefectures = {c.node_id: digests(c.node_id) for c in self.of_kind("prefecture")}
        prefectural = {
            lg: (parent, prefectures.get(parent, {}))
            for lg in municipal
            for parent in [self.configs[lg].parent or ""]
        }
        return compare(municipal, prefectural, ("national", digests("national")))


def pending_messages(statuses: dict[str, dict[str, Any] | None]) -> int:
    """Messages not yet delivered anywhere; a node that does not answer counts as busy."""
    total = 0
    for status in statuses.values():
        if status is None:
            total += 1
        else:
            total += int(status["pending"]) + int(status.get("registry_outbox", 0))
    return total


def require_member(console: Console, node_id: str) -> None:
    config = console.node(node_id)
    if config.kind.value == "national":
        raise ConsoleError("全国サーバは離脱できません (the national node cannot disconnect)")


def check_network(console: Console, *, repair: bool, timeout: float, wait: bool) -> int:
    """Compare digests at every level; with `repair`, resend the disagreeing municipalities."""
    if wait and not console.wait_quiet(timeout):
        print(
            f"警告: {timeout:.0f}秒待っても配送が終わりません (still delivering)", file=sys.stderr
        )
    statuses = console.statuses()
    down = sorted(n for n, s in statuses.items() if s is None)
    if down:
        print(
            f"error: 応答のないノードがあります (unreachable): {', '.join(down)}", file=sys.stderr
        )
        return EXIT_FAILED
    pending = pending_messages(statuses)
    if pending:
        print(
            f"警告: 未配送のメッセージが {pending} 件あります; 不一致は配送中のためかもしれません "
            f"({pending} messages still pending)",
            file=sys.stderr,
        )
    try:
        found = console.compare()
        if found and repair:
            lg_codes = sorted({d.lg_code for d in found})
            for lg in lg_codes:
                sent = console.admin("POST", lg, "/snapshot")
                print(f"{lg}: 本人確認情報 {sent['entries']} 件を再送しました (snapshot sent)")
            if not console.wait_quiet(timeout):
                print("警告: 修復の配送が終わりません (repair still delivering)", file=sys.stderr)
            pending = pending_messages(console.statuses())
            found = console.compare()
        _record(console, found, pending)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not found:
        count = len(console.of_kind("municipality"))
        print(f"全階層で一致しています (all levels agree): {count} municipalities")
        return EXIT_OK
    print(f"不一致 {len(found)} 件 (disagreements):")
    for d in found:
        print(f"  {d.describe()}")
    return EXIT_FAILED


def _record(console: Console, found: list[Disagreement], pending: int) -> None:
    summary = json.dumps(
        {
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "agree": not found,
            "pending": pending,
            "disagreements": [d.describe() for d in found],
        },
        ensure_ascii=False,
    )
    for node_id in console.configs:
        console.admin("POST", node_id, "/check-result", {"summary": summary[:4000]})
