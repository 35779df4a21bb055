"""Time `streamrec train` against events and items, beside a bare implicit ALS fit on the same
matrix in the same run.

Usage: python -m bench.offline.train [--datasets ml-1m,grocery,...] [--seed N] [--no-bare]
                                     [--events FILE [--items FILE]] [-- extra train options]

Datasets: ml-100k and ml-1m (`streamrec datasets fetch` writes them under
$STREAMREC_DATA_DIR/datasets/), and the synthetic sets of bench/offline/train_data.py, generated
with `--seed` under $STREAMREC_DATA_DIR/bench/train/ on first use: grocery (816k purchases over 22k
items), catalog-1m (2M events over 1M items), events-10m (10M events over 1M items).
Each run prints wall and CPU seconds, peak memory (RSS) of the training process, the load
average and the stages the manifest recorded (nested stages are listed under their parent).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common.command import dataset_files, streamrec_command
from bench.common.report import parser
from bench.offline.train_data import SHAPES, write
from offline.als import train_als
from offline.etl import build_interactions, scan_events
from offline.params import TrainParams
from streamrec.settings import Settings

ORDER = (
    "etl",
    "content",
    "ranker etl",
    "als",
    "index",
    "transitions",
    "neighbours",
    "sequence",
    "ranker features",
    "ranker fit",
    "als (warm)",
    "policy",
)
NESTED = ("sequences", "transition gram", "transition solve", "item-item solve")
"""Stages timed inside `sequence` (listed under it)."""


@dataclass(frozen=True)
class Run:
    """One `streamrec train` process: wall and CPU seconds, peak RSS and its manifest."""

    wall: float
    cpu: float
    peak_mib: float
    manifest: dict[str, object]


def train_once(events: Path, items: Path | None, extra: list[str], registry: Path) -> Run:
    """Run the full `streamrec train` command and measure that process alone."""
    command = streamrec_command("train", "--events", str(events), "--quiet")
    if items is not None:
        command += ["--items", str(items)]
    env = {**os.environ, "STREAMREC_REGISTRY": str(registry)}
    started = time.perf_counter()
    process = subprocess.Popen([*command, *extra], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"streamrec train failed ({process.returncode})")
    manifests = sorted(registry.glob("*/manifest.json"))
    manifest = json.loads(manifests[-1].read_text()) if manifests else {}
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, manifest)


def time_bare_als(events: Path) -> float:
    """Seconds of implicit's ALS fit alone on the matrix `streamrec train` builds."""
    params = TrainParams()
    data = build_interactions(scan_events(events), params.etl)
    started = time.perf_counter()
    train_als(data.matrix, params.als)
    return time.perf_counter() - started


def files(name: str, seed: int) -> tuple[Path, Path]:
    """events.parquet and items.parquet of a MovieLens set or a generated synthetic one."""
    if name in SHAPES:
        return write(name, Settings.from_env().data_dir / "bench" / "train", seed)
    return dataset_files(name)


def report(name: str, run: Run, bare: float | None, load: tuple[float, float]) -> None:
    """The run's figures, its stages and a Markdown row for docs/performance.md."""
    counts = run.manifest.get("counts", {})
    assert isinstance(counts, dict)
    timings = run.manifest.get("timings", {})
    assert isinstance(timings, dict)
    peaks = run.manifest.get("peak_rss_mib", {})
    assert isinstance(peaks, dict)
    print(f"== {name}: seconds summed over the ranker's bundle and the final one, peak RSS so far")
    for stage in [*ORDER, *sorted(set(timings) - set(ORDER) - set(NESTED))]:
        if stage in timings:
            print(f"  {stage:<22} {timings[stage]:8.2f} s {peaks.get(stage, 0):8,.0f} MiB")
        for part in NESTED if stage == "sequence" else ():
            if part in timings:
                print(f"    {part:<20} {timings[part]:8.2f} s {peaks.get(part, 0):8,.0f} MiB")
    print(
        f"events / users / items {counts.get('events')} / {counts.get('users')} / "
        f"{counts.get('items')} (catalog {counts.get('catalog')})"
    )
    print(f"load average         {load[0]:.1f} at start, {load[1]:.1f} at end")
    print(
        f"streamrec train      {run.wall:8.1f} s wall, {run.cpu:.1f} s CPU, "
        f"peak RSS {run.peak_mib:,.0f} MiB"
    )
    if bare is not None:
        print(f"bare implicit ALS    {bare:8.2f} s (ratio {run.wall / bare:.1f}x)")
    print(
        f"| {name} | {counts.get('events'):,} | {counts.get('items'):,} | {run.wall:.1f} s | "
        f"{run.cpu:.0f} s | {run.peak_mib:,.0f} MiB | {load[0]:.1f} to {load[1]:.1f} |"
    )


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Options before `--`, `streamrec train` options after it."""
    split = argv.index("--") if "--" in argv else len(argv)
    options = parser(__doc__)
    options.add_argument("--datasets", default="ml-1m", help="comma-separated (default ml-1m)")
    options.add_argument("--seed", type=int, default=0, help="seed of the synthetic sets (0)")
    options.add_argument("--no-bare", action="store_true", help="skip the bare ALS fit")
    options.add_argument("--events", type=Path, help="train on this events file instead")
    options.add_argument("--items", type=Path, help="its catalog")
    return options.parse_args(argv[:split]), argv[split + 1 :]


def main(argv: list[str]) -> int:
    """Train each dataset once and print its figures."""
    args, extra = parse(argv)
    if args.events is not None:
        sets = {args.events.stem: (args.events, args.items)}
    else:
        sets = {name: files(name, args.seed) for name in args.datasets.split(",")}
    for name, (events, items) in sets.items():
        if not events.exists():
            print(f"{events}: not found (run `streamrec datasets fetch {name}`)", file=sys.stderr)
            return 2
        bare = None if args.no_bare else time_bare_als(events)
        start = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as registry:
            run = train_once(
                events, items if items and items.exists() else None, extra, Path(registry)
            )
        report(name, run, bare, (start, os.getloadavg()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
