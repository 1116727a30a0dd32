"""``python -m fractalnb.reference {run,status,replay}``: train, check or replay reference runs.

Examples
--------
``python -m fractalnb.reference run --jobs 2`` trains what is missing or stale (resumable);
``python -m fractalnb.reference status`` lists every run's state and exits 1 unless all are
``ok``; ``python -m fractalnb.reference replay custom_cnn-seed0`` retrains its first epoch.
"""

from __future__ import annotations

import argparse
import sys
import time

from .execute import replay_first_epoch, run_reference
from .store import verify_results


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fractalnb.reference",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train the missing or stale reference runs")
    run.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    run.add_argument("--only", nargs="+", metavar="RUN_ID", help="only these runs")
    commands.add_parser("status", help="check every stored run; exit 1 unless all are ok")
    replay = commands.add_parser("replay", help="retrain the first epoch of a run")
    replay.add_argument("run_id")
    args = parser.parse_args(argv)
    if args.command == "run":
        start = time.perf_counter()
        table = run_reference(jobs=args.jobs, only=args.only)
        print(table.to_string(index=False))
        print(f"make reference: {(time.perf_counter() - start) / 60:.1f} min wall")
        return 0 if table["status"].eq("ok").all() else 1
    if args.command == "status":
        table = verify_results()
        print(table.to_string(index=False))
        return 0 if table["status"].eq("ok").all() else 1
    print(replay_first_epoch(args.run_id).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
