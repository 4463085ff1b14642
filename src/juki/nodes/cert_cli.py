"""`juki cert …` at a network municipality's console: `juki.certificates.cli`, with `cert
issue` able to use the node — its database and network-issued signing key (`--node-config`),
and 広域交付 through its CS (`--from-lg-code`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from juki.certificates import cli as certificates_cli
from juki.certificates.desk import CertificateDesk, FilePrintSink
from juki.certificates.model import CertificateRequest
from juki.core.console import EXIT_OK, ConsoleError, Subparsers, fail
from juki.core.settings import Settings, masked_url
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.config import ConfigError, NodeConfig
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.wide_area import CsContentSource
from juki.security.permissions import Role
from juki.storage.engine import require_schema


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    certificates_cli.register(sub, name, settings, issue=cmd_issue)


def _node_config(args: argparse.Namespace, settings: Settings) -> NodeConfig:
    """The node's configuration; `--db`, if given, must be the node's own database."""
    config = NodeConfig.load(Path(args.node_config))
    if args.db not in (settings.db_url, config.db):
        raise ConsoleError(f"db: the node's own database is used ({masked_url(config.db)})")
    return config


def cmd_issue(args: argparse.Namespace, settings: Settings) -> int:
    request = certificates_cli.request_of(args)
    if args.from_lg_code is not None:
        return _issue_wide_area(args, settings, request)
    if args.node_config is None:
        return certificates_cli.issue_from(
            args.db, certificates_cli.with_public_url(settings, args), args, request
        )
    # At a network municipality's console: its database and its network-issued key.
    try:
        config = _node_config(args, settings)
    except ConfigError as exc:
        return fail(f"node-config: {exc}")
    if config.signing_key is None:
        return fail(f"node-config: {config.node_id} is not a municipality with a signing key")
    node_settings = certificates_cli.with_public_url(config.certificate_settings(), args)
    return certificates_cli.issue_from(config.db, node_settings, args, request)


def _issue_wide_area(
    args: argparse.Namespace, settings: Settings, request: CertificateRequest
) -> int:
    """広域交付 from the console of the issuing municipality's node: this CS asks the home one.

    The node's configuration gives its database, key and directory; the question goes over
    HTTPS with mutual TLS, as the running node's would.
    """
    if args.node_config is None:
        return fail(
            "node-config: 広域交付 asks through this municipality's CS; give its node.json "
            "(DIR/<lg_code>/node.json from `juki network init`)"
        )
    out = certificates_cli.out_file(args)
    try:
        config = _node_config(args, settings)
        node = bootstrap(config)
    except ConfigError as exc:
        return fail(f"node-config: {exc}")
    try:
        if not isinstance(node, MunicipalityNode):
            return fail(
                f"node-config: {config.node_id} is a {config.kind.value}, not a municipality"
            )
        require_schema(node.engine, config.db)
        node.refresh_directory()  # the current 離脱 status of the home municipality
        node_settings = certificates_cli.with_public_url(config.certificate_settings(), args)
        desk = CertificateDesk(node.engine, node_settings)
        by = certificates_cli.actor_for(node.engine, args, Role.COUNTER_CLERK, settings)
        try:
            issued = desk.issue_wide_area(
                by,
                request,
                home_lg_code=args.from_lg_code,
                source=CsContentSource(node),
                sink=FilePrintSink(out),
            )
        except certificates_cli.SETUP_ERRORS as exc:
            return fail(f"setup: {exc}")
    finally:
        close_node(node)
    print(f"広域交付: content from {issued.content.record_municipality} ({args.from_lg_code})")
    certificates_cli.print_issued(issued)
    return EXIT_OK
