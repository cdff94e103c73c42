"""`python -m bench [--quick | --large] [--events N] [--duration S] [--only A,B] [--keep]`: see bench/README.md."""
import argparse
import sys
from dataclasses import replace
from pathlib import Path

from .report import SCENARIOS
from .run import RESULTS, main
from .sizes import DEFAULT, LARGE, QUICK


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny sizes: every scenario in well under a minute")
    size.add_argument("--large", action="store_true", help="a 10,000,000-event ledger")
    parser.add_argument("--events", type=int, help="events to load into the ledger (scenario 4)")
    parser.add_argument("--duration", type=int, help="seconds of each timed posting load")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database at the end")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14",
                        help="Redis database for the broker and cache (emptied during the run)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON result")
    parser.add_argument("--seed", type=int, help="seed of the random choices (default: a fresh one, recorded)")
    parser.add_argument("--only", type=_scenario_list, help=f"comma-separated scenarios to run, of: {', '.join(SCENARIOS)}")
    return parser.parse_args(argv)


def _scenario_list(text: str) -> set[str]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(SCENARIOS)
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    return names


def sizes_for(options: argparse.Namespace):
    sizes = QUICK if options.quick else LARGE if options.large else DEFAULT
    if options.events is not None:
        sizes = replace(sizes, events=options.events)
    if options.duration is not None:
        sizes = replace(sizes, duration=options.duration)
    return sizes


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    sys.exit(main(sizes_for(options), keep=options.keep, redis_url=options.redis, results=options.results,
                  seed=options.seed, only=options.only))
