"""`streamrec publish FILE --topic events|items`: validate a file and publish it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from cli.ingest import Validated, read_frame, validate_events, validate_items
from schemas.times import InputLimits
from streamrec import topics
from streamrec.errors import RecsysError
from streamrec.kafka import producer, send_all
from streamrec.settings import Settings

SHOWN_ERRORS = 10


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `publish` command."""
    parser = sub.add_parser(
        "publish",
        help="validate a JSONL, CSV or Parquet file and publish it to a topic",
        description="Validate every record of FILE (JSONL, CSV or Parquet) against the records "
        "of the topic it targets, then publish them in batches. A file whose columns belong to "
        "the other topic (events sent to items) is refused whole. By default nothing is "
        "published if any record is invalid; the first errors are shown with their row "
        "numbers (1-based). Ratings must lie in STREAMREC_RATING_MIN..STREAMREC_RATING_MAX and "
        "times at most STREAMREC_MAX_FUTURE_S ahead.",
    )
    parser.add_argument("file", type=Path, help="input file (.jsonl, .csv or .parquet)")
    parser.add_argument("--topic", choices=[topics.EVENTS, topics.ITEMS], default=topics.EVENTS)
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="publish the valid records and write the invalid ones with reasons to --rejects",
    )
    parser.add_argument(
        "--rejects", type=Path, help="where --skip-invalid writes rejects (FILE.rejects.jsonl)"
    )
    parser.add_argument("--rate", type=float, help="at most this many records per second")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def validate_file(path: Path, topic: str, settings: Settings) -> Validated:
    """Read a file and validate it against the records of the topic it targets."""
    frame = read_frame(path)
    if topic != topics.EVENTS:
        return validate_items(frame)
    limits = InputLimits(settings.rating_min, settings.rating_max, settings.max_future_s)
    return validate_events(frame, limits)


def write_rejects(path: Path, validated: Validated) -> None:
    """Write rejected rows with reasons as JSON lines."""
    with path.open("w") as out:
        for reject in validated.rejects:
            out.write(json.dumps(reject, default=str) + "\n")


def _refuse(path: Path, validated: Validated) -> None:
    lines = [f"row {r['row']}: {r['reason']}" for r in validated.rejects[:SHOWN_ERRORS]]
    more = len(validated.rejects) - SHOWN_ERRORS
    if more > 0:
        lines.append(f"... and {more} more")
    raise RecsysError(
        f"{path}: {len(validated.rejects)} invalid record(s), nothing published "
        "(use --skip-invalid to publish the valid ones):\n  " + "\n  ".join(lines)
    )


async def publish(
    settings: Settings, topic: str, validated: Validated, args: argparse.Namespace
) -> int:
    """Publish the validated records; return the count."""
    async with producer(settings) as client:
        return await send_all(
            client, topic, validated.keys, validated.values, progress=not args.quiet, rate=args.rate
        )


def run(args: argparse.Namespace) -> int:
    """Validate, then publish, then print count and rate."""
    settings = Settings.from_env()
    validated = validate_file(args.file, args.topic, settings)
    if validated.rejects and not args.skip_invalid:
        _refuse(args.file, validated)
    if validated.rejects:
        rejects = args.rejects or args.file.with_name(args.file.name + ".rejects.jsonl")
        write_rejects(rejects, validated)
        print(f"{len(validated.rejects)} invalid record(s) written to {rejects}", file=sys.stderr)
    started = time.perf_counter()
    count = asyncio.run(publish(settings, args.topic, validated, args))
    elapsed = max(time.perf_counter() - started, 1e-9)
    print(
        f"published {count} record(s) to {args.topic} in {elapsed:.2f} s "
        f"({count / elapsed:,.0f} records/s)"
    )
    return 0
