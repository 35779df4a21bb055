"""Offline protocols on MovieLens (temporal and RecBole), every model; appends to the lab log,
bench/log/RESULTS.md.

Usage: python -m bench.offline.protocols [--datasets ml-100k,ml-1m] [--protocols temporal,recbole]
       [--models pop,itemknn,...] [--k 10] [--seed 2020]
Datasets are fetched with `streamrec datasets fetch NAME` when missing from
$STREAMREC_DATA_DIR/datasets/NAME/.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common.command import dataset_files
from bench.common.report import MACHINE, command, load_average, parser
from bench.offline.inputs import evaluation_options, frames
from offline.evaluate import Evaluation, evaluate
from offline.report import metrics_table, write_report
from streamrec.settings import Settings

RESULTS = Path(__file__).parents[1] / "log" / "RESULTS.md"
RECBOLE_REFERENCE = (
    "Published RecBole ML-1M NDCG@10 (same recbole protocol): Pop 0.101, ItemKNN 0.239, "
    "BPR 0.241, LightGCN 0.248, EASE 0.287."
)


def run_one(dataset: str, protocol: str, args: argparse.Namespace, out: Path) -> Evaluation:
    """Evaluate every model on one dataset and protocol; writes the report under `out`."""
    events, items = frames(dataset)
    models = args.models.split(",") if args.models else None
    print(f"== {dataset}, {protocol} protocol", file=sys.stderr)
    evaluation = evaluate(
        events,
        items,
        protocol=protocol,
        k=args.k,
        models=models,
        seed=args.seed,
        source=f"{dataset} ({dataset_files(dataset)[0]})",
    )
    write_report(evaluation, out / f"{dataset}-{protocol}")
    return evaluation


def section(dataset: str, evaluation: Evaluation) -> str:
    """Markdown block of one run for RESULTS.md."""
    sizes = ", ".join(f"{k} {v:,}" for k, v in evaluation.split_summary.items())
    params = "; ".join(f"{k}: {v}" for k, v in evaluation.split_params.items())
    return (
        f"### {dataset}, {evaluation.protocol} protocol\n\n"
        f"Split: {params}.\nSizes: {sizes}.\n\n"
        f"{metrics_table(evaluation)}\n"
    )


def append_results(blocks: list[str], seconds: float, load: str) -> None:
    """Append one dated entry to bench/log/RESULTS.md."""
    header = "" if RESULTS.exists() else "# Recommendation quality benchmarks\n\n"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    entry = (
        f"{header}## {stamp}\n\nCommand: `{command()}`  \nMachine: {MACHINE} "
        f"(Python {platform.python_version()}); total {seconds:.0f} s; load average at "
        f"start {load}, at end {load_average()}.  \n"
        f"{RECBOLE_REFERENCE}\n\n" + "\n".join(blocks) + "\n"
    )
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(entry)


def main() -> int:
    """Run the benchmark and record it."""
    options = parser(__doc__)
    evaluation_options(options, datasets="ml-100k,ml-1m", k_help="list length", sample=False)
    options.add_argument(
        "--protocols",
        "--protocol",
        default="temporal,recbole",
        help="comma-separated protocols: temporal, recbole",
    )
    options.add_argument("--models", default=None, help="comma-separated models (default: all)")
    args = options.parse_args()
    started, load = time.perf_counter(), load_average()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Settings.from_env().data_dir / "reports" / f"bench-{stamp}"
    blocks = []
    for dataset in args.datasets.split(","):
        for protocol in args.protocols.split(","):
            evaluation = run_one(dataset, protocol, args, out)
            print(metrics_table(evaluation))
            blocks.append(section(dataset, evaluation))
    seconds = time.perf_counter() - started
    append_results(blocks, seconds, load)
    print(f"reports in {out}; appended to {RESULTS}; {seconds:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
