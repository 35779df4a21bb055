"""Time `streamrec train` next to a bare implicit ALS fit on the same matrix, in one run.

Usage: python bench/train.py [EVENTS.parquet [ITEMS.parquet]] [-- extra train options]
Without paths: the ML-1M files `streamrec datasets fetch ml-1m` writes under
$STREAMREC_DATA_DIR/datasets/ml-1m/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from offline.als import train_als
from offline.etl import build_interactions, scan_events
from offline.params import TrainParams
from streamrec.settings import Settings


def time_cli(events: Path, items: Path | None, extra: list[str], registry: Path) -> float:
    """Wall seconds of the full `streamrec train` command."""
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "train",
        "--events",
        str(events),
        "--quiet",
    ]
    if items is not None:
        command += ["--items", str(items)]
    env = {**os.environ, "STREAMREC_REGISTRY": str(registry)}
    started = time.perf_counter()
    subprocess.run([*command, *extra], check=True, env=env)
    return time.perf_counter() - started


def time_bare_als(events: Path) -> tuple[float, int]:
    """Seconds of implicit's ALS fit alone on the matrix `streamrec train` builds."""
    params = TrainParams()
    data = build_interactions(scan_events(events), params.etl)
    started = time.perf_counter()
    train_als(data.matrix, params.als)
    return time.perf_counter() - started, int(data.matrix.nnz)


def stage_seconds(registry: Path) -> dict[str, float]:
    """Per-stage seconds recorded in the manifest of the version just written."""
    manifests = sorted(registry.glob("*/manifest.json"))
    if not manifests:
        return {}
    timings: dict[str, float] = json.loads(manifests[-1].read_text()).get("timings", {})
    return timings


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Paths before `--`, `streamrec train` options after it."""
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("events", type=Path, nargs="?", help="events Parquet (default: ML-1M)")
    parser.add_argument("items", type=Path, nargs="?", help="items Parquet (default: ML-1M)")
    args = parser.parse_args(argv[:split])
    if args.events is None:
        folder = Settings.from_env().data_dir / "datasets" / "ml-1m"
        args.events, args.items = folder / "events.parquet", folder / "items.parquet"
    return args, argv[split + 1 :]


def main(argv: list[str]) -> int:
    """Print both timings and their ratio."""
    args, extra = parse(argv)
    events, items = args.events, args.items
    if not events.exists():
        print(f"{events}: not found (run `streamrec datasets fetch ml-1m`)", file=sys.stderr)
        return 2
    load = os.getloadavg()
    bare, nnz = time_bare_als(events)
    with tempfile.TemporaryDirectory() as registry:
        full = time_cli(events, items, extra, Path(registry))
        stages = stage_seconds(Path(registry))
    for stage, seconds in stages.items():
        print(f"  {stage:<18} {seconds:8.2f} s")
    print(f"load average         {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print(f"matrix nonzeros      {nnz}")
    print(f"bare implicit ALS    {bare:8.2f} s")
    print(f"streamrec train      {full:8.2f} s")
    print(f"ratio                {full / bare:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
