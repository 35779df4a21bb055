"""`streamrec lake export`: archive Kafka topics into the date-partitioned Parquet lake."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from offline.lake import TOPICS, export
from streamrec.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `lake` command and its `export` subcommand."""
    lake = sub.add_parser("lake", help="the Parquet lake archived from the topics")
    actions = lake.add_subparsers(dest="lake_command", metavar="ACTION")
    actions.required = True
    parser = actions.add_parser(
        "export",
        help="export new records of the topics into the lake",
        description="Read every record after the offsets stored in <lake>/_offsets.json "
        "(from the start on the first run) until caught up, and write them as "
        "<lake>/<topic>/date=YYYY-MM-DD/part-<start offset>-<partition>.parquet. "
        "Re-running exports only new records and never duplicates rows. The broker comes "
        "from STREAMREC_BROKER.",
    )
    parser.add_argument(
        "--topics",
        default=",".join(TOPICS),
        help=f"comma-separated topics to export (default: {','.join(TOPICS)})",
    )
    parser.add_argument(
        "--lake",
        type=Path,
        default=None,
        help="lake folder (default: $STREAMREC_DATA_DIR/lake)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Export, then print rows and files written per topic."""
    settings = Settings.from_env()
    lake = args.lake or settings.data_dir / "lake"
    topics = [topic.strip() for topic in args.topics.split(",") if topic.strip()]
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        print(f"streamrec: error: unknown topics {', '.join(unknown)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary = export(settings.bootstrap_servers, lake, topics, progress=not args.no_progress)
    for topic in topics:
        print(
            f"{topic}: {summary.rows[topic]} rows in {summary.files[topic]} files, "
            f"{summary.skipped[topic]} undecodable records skipped"
        )
    for topic in summary.missing_topics:
        print(f"{topic}: no such topic on the broker, nothing exported", file=sys.stderr)
    print(f"exported to {lake} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0
