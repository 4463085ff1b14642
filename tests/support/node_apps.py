"""A node's configuration as an in-process app needs it: nothing on disk, one admin token."""

from __future__ import annotations

from juki.nodes.config import NodeConfig
from juki.nodes.node import Node
from juki.security.operators import token_sha256


def app_config(node: Node, admin_token: str) -> NodeConfig:
    """For `create_node_app` around an in-process node (its files are never read)."""
    return NodeConfig(
        node_id=node.node_id,
        kind=node.kind,
        name=node.node_id,
        parent=None,
        host="127.0.0.1",
        port=1,
        db="sqlite://",
        key="/nonexistent/key.pem",
        certificate="/nonexistent/cert.pem",
        root_certificate="/nonexistent/root.pem",
        admin_token_sha256=token_sha256(admin_token),
        directory_url="https://127.0.0.1:1",
        log="/nonexistent/node.log",
    )
