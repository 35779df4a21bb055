"""`streamrec replay`: backfill a topic range into another topic."""

from __future__ import annotations

import argparse
import asyncio
import time

from schemas.validate import parse_timestamp
from streamrec.replay import ReplayRange, replay
from streamrec.settings import Settings


def _time_ms(text: str) -> int:
    return int(parse_timestamp(text, "time") * 1000)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `replay` command."""
    parser = sub.add_parser(
        "replay",
        help="copy a topic's records between offsets or times into another topic",
        description="Backfill: copy records (key, value, timestamp) of SOURCE into TARGET. "
        "Offsets apply to every partition; times (ISO-8601 or epoch) select by record "
        "timestamp; ranges are [from, to). To rebuild every table from the start of the log, "
        "see the README (a worker with a new STREAMREC_APP_ID and an empty data dir).",
    )
    parser.add_argument("--source", default="events", help="topic to read (default events)")
    parser.add_argument("--target", required=True, help="topic to write (must exist)")
    parser.add_argument("--from-offset", type=int, help="first offset to copy, per partition")
    parser.add_argument("--to-offset", type=int, help="offset to stop before, per partition")
    parser.add_argument("--from-time", type=_time_ms, help="first record time to copy")
    parser.add_argument("--to-time", type=_time_ms, help="record time to stop before")
    parser.add_argument("--rate", type=float, help="at most this many records per second")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the copy and print the count and rate."""
    bounds = ReplayRange(args.from_offset, args.to_offset, args.from_time, args.to_time)
    started = time.perf_counter()
    count = asyncio.run(
        replay(
            Settings.from_env(),
            args.source,
            args.target,
            bounds,
            rate=args.rate,
            progress=not args.quiet,
        )
    )
    elapsed = max(time.perf_counter() - started, 1e-9)
    print(
        f"copied {count} record(s) from {args.source} to {args.target} in {elapsed:.2f} s "
        f"({count / elapsed:,.0f} records/s)"
    )
    return 0
