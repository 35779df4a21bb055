"""The lake over a decade of ratings: files, export time and read time as exports accumulate.

Run: python -m bench.offline.lake [--dataset ml-1m] [--years 10] [--exports 10]

The dataset's ratings are stretched over `--years` (rank by time, spread evenly, order kept),
published year by year through `streamrec publish` to an embedded broker, and the lake is
exported after each slice (`--exports` exports in all), as a periodic export job would. After the
last export it prints the file count (events topic), the total export time, and how long reading
the events takes as training reads them (`offline.etl.scan_events`), against reading the same
rows from one Parquet file in the same run (the baseline).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import polars as pl

from bench.common.command import dataset_files, publish_file
from bench.common.report import parser
from bench.common.stack import broker_with_topics
from offline.etl import scan_events
from offline.lake import export, file_count
from streamrec.topics import EVENTS

YEAR_S = 365.25 * 86400
START = 1_199_145_600.0
"""2008-01-01 UTC: where the stretched decade begins."""


def stretched(events: pl.DataFrame, years: float) -> pl.DataFrame:
    """The events with their times spread evenly over `years`, in their original order."""
    ordered = events.sort("timestamp", maintain_order=True)
    step = years * YEAR_S / max(ordered.height, 1)
    return ordered.with_columns(
        (START + pl.int_range(0, pl.len(), eager=False).cast(pl.Float64) * step).alias("timestamp")
    )


def read_seconds(path: Path) -> tuple[float, int]:
    """Seconds to read the events as training does, and the rows read."""
    started = time.perf_counter()
    rows = scan_events(path).collect().height
    return time.perf_counter() - started, rows


def main() -> None:
    """Publish, export slice by slice, and print the lake's figures."""
    options = parser(__doc__)
    options.add_argument("--dataset", default="ml-1m", help="a public dataset (datasets fetch)")
    options.add_argument("--years", type=float, default=10.0, help="span to stretch the ratings")
    options.add_argument("--exports", type=int, default=10, help="slices, one export after each")
    args = options.parse_args()
    source, _ = dataset_files(args.dataset)
    events = stretched(pl.read_parquet(source), args.years)
    with broker_with_topics() as (_broker, settings):
        with tempfile.TemporaryDirectory() as tmp:
            root, lake = Path(tmp), Path(tmp) / "lake"
            single = root / "all.parquet"
            events.write_parquet(single)
            export_s = 0.0
            size = -(-events.height // args.exports)
            for index in range(args.exports):
                part = root / f"slice-{index}.parquet"
                events.slice(index * size, size).write_parquet(part)
                publish_file(settings, part)
                started = time.perf_counter()
                export(settings.bootstrap_servers, lake, progress=False)
                export_s += time.perf_counter() - started
            files = file_count(lake, EVENTS)
            lake_s, lake_rows = read_seconds(lake / EVENTS)
            file_s, file_rows = read_seconds(single)
        first, last = events["timestamp"].min(), events["timestamp"].max()
        span_years = (float(last) - float(first)) / YEAR_S  # type: ignore[arg-type]
        print(
            f"{args.dataset}: {events.height:,} ratings over {span_years:.1f} years, "
            f"{settings.partitions} partitions, {args.exports} exports"
        )
        print(f"lake files (events)       : {files}")
        print(f"export time, all exports  : {export_s:.1f} s")
        print(f"read as training reads    : {lake_s:.2f} s ({lake_rows:,} rows)")
        print(f"baseline, one Parquet file: {file_s:.2f} s ({file_rows:,} rows)")
        print(f"ratio lake / one file     : {lake_s / file_s:.2f}")


if __name__ == "__main__":
    main()
