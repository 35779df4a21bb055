"""`streamrec replay`: backfill a topic range into another topic."""

from __future__ import annotations

import argparse
import asyncio
import time

from cli.replay_range import ReplayRange, replay
from schemas.times import parse_timestamp
from streamrec.errors import InvalidRecord
from streamrec.settings import Settings


def time_ms(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time or epoch seconds/milliseconds."""
    try:
        return int(parse_timestamp(text, "time") * 1000)
    except InvalidRecord as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: {error.rule} (e.g. 2026-01-01T00:00:00Z or 1767225600)"
        ) from None


def offset(text: str) -> int:
    """A non-negative offset."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offset (an integer)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; offsets start at 0")
    return value


def rate(text: str) -> float:
    """A positive number of records per second."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive number of records per second")
    return value


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
    parser.add_argument("--from-offset", type=offset, help="first offset to copy, per partition")
    parser.add_argument("--to-offset", type=offset, help="offset to stop before, per partition")
    parser.add_argument(
        "--from-time", type=time_ms, help="first record time to copy (ISO-8601 or epoch)"
    )
    parser.add_argument("--to-time", type=time_ms, help="record time to stop before")
    parser.add_argument("--rate", type=rate, help="at most this many records per second")
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
