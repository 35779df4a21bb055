"""`streamrec lake export|compact`: archive the topics into the Parquet lake, merge small files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from offline.lake import TOPICS, compact, export, file_count
from offline.lake_compact import TARGET_ROWS
from offline.lake_purge import purge
from streamrec.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `lake` command and its `export` and `compact` subcommands."""
    lake = sub.add_parser("lake", help="the Parquet lake archived from the topics")
    actions = lake.add_subparsers(dest="lake_command", metavar="ACTION")
    actions.required = True
    parser = actions.add_parser(
        "export",
        help="export new records of the topics into the lake",
        description="Read every record after the offsets stored in <lake>/_offsets.json "
        "(from the start on the first run) until caught up, and write them as one file per "
        "partition: <lake>/<topic>/part-<partition>-<first offset>-<next offset>.parquet. "
        "Re-running exports only new records and never duplicates rows; a partition that "
        "reaches 8 files is compacted. The users topic is exported first; events and impressions "
        "of a user at or before their erasure, or sent while opted out, are not written. "
        "The broker comes from STREAMREC_BROKER.",
    )
    _common(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_export)
    merge = actions.add_parser(
        "compact",
        help="merge each partition's consecutive small files",
        description="Merge each partition's consecutive files into files of at most "
        "--target-rows rows (a file already larger stays as it is).",
    )
    _common(merge)
    merge.add_argument(
        "--target-rows", type=int, default=TARGET_ROWS, help="rows per file (%(default)s)"
    )
    merge.set_defaults(func=run_compact)
    erase = actions.add_parser(
        "purge",
        help="rewrite the files holding rows of erased or opted-out users",
        description="Fold the lake's users/ commands into each user's erase time and opt-out "
        "periods, then rewrite every events/ and impressions/ file holding a row of a user at "
        "or before their erasure, or sent while opted out, without those rows. Each file is "
        "written to a hidden staging file and renamed over the old one, so a crash never "
        "leaves a half-written file (the next export or purge removes a staging leftover). "
        "users/ keeps the erase commands: they are what the purge and training filter on. "
        "Prints each rewritten file and the rows removed from it.",
    )
    erase.add_argument(
        "--lake", type=Path, default=None, help="lake folder (default: $STREAMREC_DATA_DIR/lake)"
    )
    erase.set_defaults(func=run_purge)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--topics",
        default=",".join(TOPICS),
        help=f"comma-separated topics (default: {','.join(TOPICS)})",
    )
    parser.add_argument(
        "--lake", type=Path, default=None, help="lake folder (default: $STREAMREC_DATA_DIR/lake)"
    )


def _target(args: argparse.Namespace) -> tuple[Settings, Path, list[str]] | None:
    settings = Settings.from_env()
    topics = [topic.strip() for topic in args.topics.split(",") if topic.strip()]
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        print(f"streamrec: error: unknown topics {', '.join(unknown)}", file=sys.stderr)
        return None
    return settings, args.lake or settings.data_dir / "lake", topics


def run_export(args: argparse.Namespace) -> int:
    """Export, then print rows and files written per topic."""
    target = _target(args)
    if target is None:
        return 2
    settings, lake, topics = target
    started = time.perf_counter()
    progress = sys.stdout.isatty() and not args.no_progress
    summary = export(settings.bootstrap_servers, lake, topics, progress=progress)
    for topic in topics:
        print(
            f"{topic}: {summary.rows[topic]} rows in {summary.files[topic]} new files "
            f"({file_count(lake, topic)} in the lake), "
            f"{summary.skipped[topic]} undecodable records skipped, "
            f"{summary.withheld[topic]} withheld (erased or opted out)"
        )
    for topic in summary.missing_topics:
        print(f"{topic}: no such topic on the broker, nothing exported", file=sys.stderr)
    retried = f" after {summary.attempts} attempts" if summary.attempts > 1 else ""
    print(f"exported to {lake} in {time.perf_counter() - started:.1f} s{retried}", file=sys.stderr)
    return 0


def run_compact(args: argparse.Namespace) -> int:
    """Compact, then print the files merged and left per topic."""
    target = _target(args)
    if target is None:
        return 2
    _, lake, topics = target
    started = time.perf_counter()
    summary = compact(lake, topics, args.target_rows)
    for topic in topics:
        print(
            f"{topic}: {summary.merged[topic]} files merged into {summary.written[topic]}, "
            f"{file_count(lake, topic)} in the lake"
        )
    print(f"compacted {lake} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def run_purge(args: argparse.Namespace) -> int:
    """Purge, then print each rewritten file and the rows removed."""
    lake: Path = args.lake or Settings.from_env().data_dir / "lake"
    started = time.perf_counter()
    rewrites = purge(lake)
    for rewrite in rewrites:
        name = rewrite.path.relative_to(lake)
        print(f"{name}: {rewrite.removed} of {rewrite.rows} rows removed")
    removed = sum(rewrite.removed for rewrite in rewrites)
    print(
        f"purged {lake}: {removed} rows removed from {len(rewrites)} files "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0
