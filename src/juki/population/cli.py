"""`juki seed`: create or migrate a registry and add a synthetic population, with progress."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from tqdm import tqdm

from juki.core.clock import SystemClock
from juki.core.console import EXIT_OK, Subparsers, as_dict, fail
from juki.core.identifiers import LgCode
from juki.core.settings import Settings
from juki.population.seeding import MAX_RESIDENTS, seed_registry
from juki.security.actors import Actor
from juki.storage.cli import db_arg
from juki.storage.engine import make_engine


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    p = sub.add_parser(name, help="create or migrate a registry and add a synthetic population")
    db_arg(p, settings)
    p.add_argument("--municipality", required=True, metavar="LGCODE")
    p.add_argument("--residents", required=True, type=int, metavar="N")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.set_defaults(handler=cmd_seed)


def progress_bar(total: int, desc: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    bar = tqdm(total=total, desc=desc, unit="人", file=sys.stderr, disable=None)

    def update(n: int) -> None:
        bar.update(n)

    return update, bar.close


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    LgCode.parse(args.municipality)  # refuse before anything is created
    if not 1 <= args.residents <= MAX_RESIDENTS:
        return fail(f"residents: must be between 1 and {MAX_RESIDENTS} [range]")
    engine = make_engine(args.db)
    update, close = progress_bar(args.residents, "住民を作成中")
    try:
        result = seed_registry(
            engine,
            lg_code=args.municipality,
            residents=args.residents,
            seed=args.seed,
            # Synthetic people, made by the system: the oplog says "seed", no operator.
            by=Actor.system("seed"),
            clock=SystemClock(),
            progress=update,
        )
    finally:
        close()
        engine.dispose()
    print(json.dumps(as_dict(result), ensure_ascii=False))
    return EXIT_OK
