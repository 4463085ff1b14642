"""`make soak`: many seeds, each a full simulated run, on every core; report node-days/s.

    python -m juki.sim.soak --seeds 1-40 --days 10 --faults all --jobs 2

Each seed runs in its own process (a run is single-threaded by design, so seeds are what
parallelises). A seed that violates an invariant is printed with the command that replays it.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import time
from collections.abc import Sequence
from typing import Any

import structlog

from juki.sim.faults import parse_override


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.partition("-")
        out.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    return out


def _one(job: tuple[int, dict[str, Any]]) -> tuple[int, dict[str, Any], float]:
    from juki.sim.runner import SimConfig, run

    seed, options = job
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    started = time.perf_counter()
    result = run(SimConfig(seed=seed, **options))
    return seed, result, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m juki.sim.soak", description=__doc__)
    p.add_argument("--seeds", default="1-20", help="e.g. 1-40 or 3,7,9-12")
    p.add_argument("--days", type=int, default=10)
    p.add_argument("--municipalities", type=int, default=6)
    p.add_argument("--population", type=int, default=1200)
    p.add_argument("--faults", default="all")
    p.add_argument("--fault", action="append", default=[], metavar="NAME=RATE")
    p.add_argument("--event-scale", type=float, default=20.0)
    p.add_argument("--jobs", type=int, default=max(1, multiprocessing.cpu_count()))
    args = p.parse_args(argv)
    options = {
        "days": args.days,
        "municipalities": args.municipalities,
        "population": args.population,
        "faults": args.faults,
        "scale": args.event_scale,
        "overrides": tuple(parse_override(f) for f in args.fault),
    }
    seeds = _seeds(args.seeds)
    started = time.perf_counter()
    node_days = 0
    failed: list[int] = []
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for seed, result, elapsed in pool.imap(_one, [(s, options) for s in seeds]):
            nd = result["nodes"] * result["days"]
            node_days += nd
            verdict = "ok" if not result["violations"] else "VIOLATION"
            faults = sum(result["faults_injected"].values())
            print(
                f"seed {seed:>5}: {verdict:9} events {result['events']:>5} "
                f"messages {result['messages_sent']:>6} dup {result['duplicates_suppressed']:>4} "
                f"dead {result['dead_letters']:>3} faults {faults:>4}"
                f"  {elapsed:6.1f} s  {nd / elapsed:6.1f} node-days/s",
                flush=True,
            )
            for v in result["violations"]:
                print(f"    {v['invariant']}: {v['detail']}")
            if result["violations"]:
                failed.append(seed)
    wall = time.perf_counter() - started
    print(
        f"{len(seeds)} seeds, {node_days} node-days in {wall:.1f} s: "
        f"{node_days / wall:.1f} simulated node-days/s with {args.jobs} jobs"
    )
    for seed in failed:
        print(
            f"replay: juki sim --seed {seed} --days {args.days} --municipalities "
            f"{args.municipalities} --population {args.population} --faults {args.faults} "
            f"--event-scale {args.event_scale:g} "
            + "".join(f"--fault {f} " for f in args.fault)
            + "--replay"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
