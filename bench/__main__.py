"""`python -m bench NAME [--residents N] …`, NAME one of seed, events, network, certificates,
oplog, kiosk, topology, all, provision, standby, connections, national, idle, startup.

`provision`, `standby` and `national` load a national-size index (a million persons by default;
`standby` then reads it on a hot standby made of it; `connections` measures what each server
connection holds after provision work on it), `idle`
watches an idle demo network for a minute (`--seconds`): none of them is part of `all`.
`startup` times light commands next to a bare `python -c pass`. `network --processes` runs the
network benchmark's backlog with each node in a process of its own.
"""

from __future__ import annotations

import argparse

from bench import (
    certificates,
    connections,
    events,
    idle,
    kiosk,
    national,
    network,
    network_processes,
    oplog,
    provision,
    seed,
    standby,
    startup,
    topology,
)
from juki.core.logs import configure_console


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "which",
        choices=[
            "seed",
            "events",
            "network",
            "certificates",
            "oplog",
            "kiosk",
            "topology",
            "provision",
            "standby",
            "connections",
            "idle",
            "startup",
            "national",
            "all",
        ],
    )
    parser.add_argument("--residents", type=int, default=20_000, help="residents to seed")
    parser.add_argument("--events", type=int, default=500, help="events of each kind")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--lg-code", default="132250", help="municipality (default 稲城市)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changes", type=int, default=300, help="relocations through the network")
    parser.add_argument(
        "--backlog", type=int, default=10_000, help="identity_info queued during a 離脱 (network)"
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="network: national, 東京都 and 稲城市 as node processes over HTTPS (the backlog only)",
    )
    parser.add_argument("--certificates", type=int, default=100, help="certificates to issue")
    parser.add_argument("--sessions", type=int, default=300, help="kiosk sessions")
    parser.add_argument("--concurrency", type=int, default=30, help="kiosk sessions at once")
    parser.add_argument("--persons", type=int, default=1_000_000, help="national index size")
    parser.add_argument("--batch", type=int, default=10_000, help="lookups of each kind")
    parser.add_argument("--lookups", type=int, default=5_000, help="persons looked up (national)")
    parser.add_argument(
        "--partitions", type=int, default=0, help="hash partitions to measure (national)"
    )
    parser.add_argument(
        "--raw-every", type=int, default=1, help="bare COPY of every Nth chunk (national)"
    )
    parser.add_argument(
        "--slots", type=int, default=None, help="kiosk requests in flight per municipality"
    )
    parser.add_argument("--clients", type=int, default=200, help="connections (connections)")
    parser.add_argument("--seconds", type=float, default=60.0, help="idle: seconds measured")
    parser.add_argument("--runs", type=int, default=10, help="startup: runs of each command")
    args = parser.parse_args(argv)
    configure_console("WARNING")  # a log line per message would measure the terminal
    if args.which in ("seed", "all"):
        seed.main(args.residents, args.backend, args.lg_code, args.seed)
    if args.which in ("events", "all"):
        events.main(args.residents, args.events, args.backend, args.lg_code, args.seed)
    if args.which in ("network", "all") and args.processes:
        network_processes.main(args.backlog, args.backend)
    elif args.which in ("network", "all"):
        network.main(min(args.residents, 5_000), args.changes, args.backend, args.backlog)
    if args.which in ("oplog", "all"):
        oplog.main(min(args.residents, 5_000), args.events, args.backend, args.seed)
    if args.which in ("certificates", "all"):
        certificates.main(min(args.residents, 5_000), args.certificates, args.backend)
    if args.which in ("kiosk", "all"):
        kiosk.main(args.sessions, args.concurrency, args.slots)
    if args.which in ("topology", "all"):
        topology.main()
    if args.which in ("startup", "all"):
        startup.main(args.runs)
    if args.which == "provision":  # a national-size load: not part of `all`
        provision.main(args.persons, args.batch, args.seed)
    if args.which == "standby":  # a national-size load and a base backup: not part of `all`
        standby.main(args.persons, args.batch, args.seed)
    if args.which == "connections":  # a server of its own and a loaded index: not part of `all`
        connections.main(args.persons, args.clients, args.seed)
    if args.which == "idle":  # a minute of an idle network: not part of `all`
        idle.main(args.seconds, min(args.residents, 100), args.backend)
    if args.which == "national":
        national.main(
            args.persons, args.lookups, args.backend, args.seed, args.partitions, args.raw_every
        )


if __name__ == "__main__":
    main()
