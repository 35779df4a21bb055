"""`streamrec evaluate`: offline evaluation of every model on one split, with a report."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from offline.evaluate import evaluate, load_frame
from offline.recommenders import MODEL_NAMES
from offline.report import metrics_table, write_report
from offline.splits import PROTOCOLS
from streamrec.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `evaluate` command."""
    parser = sub.add_parser(
        "evaluate",
        help="compare models offline on a split of the event log",
        description="Split the events, fit every model on the same training part, rank the "
        "full catalog for each test user and report Precision, Recall, NDCG, HitRate, MAP, "
        "coverage and diversity @k, with plots.",
    )
    parser.add_argument(
        "--events",
        type=Path,
        required=True,
        help="events Parquet file, or a lake folder such as <lake>/events",
    )
    parser.add_argument(
        "--items",
        type=Path,
        default=None,
        help="items Parquet file or folder (item_id, category); enables category diversity",
    )
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="temporal",
        help="temporal: train before the time 80%% of events happened, test after; "
        "recbole: ratings >= 3, 10-core, random 8:1:1 per user (default: temporal)",
    )
    parser.add_argument(
        "--k", type=int, default=10, help="list length for the metrics (default 10)"
    )
    parser.add_argument(
        "--models",
        default=None,
        help=f"comma-separated models among {','.join(MODEL_NAMES)} (default: all of them)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="report folder (default: $STREAMREC_DATA_DIR/reports/<UTC timestamp>/)",
    )
    parser.add_argument(
        "--seed", type=int, default=2020, help="seed of splits and models (default 2020)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table and write the report."""
    started = time.perf_counter()
    events = load_frame(args.events)
    items = load_frame(args.items) if args.items else None
    models = [name.strip() for name in args.models.split(",")] if args.models else None
    evaluation = evaluate(
        events,
        items,
        protocol=args.protocol,
        k=args.k,
        models=models,
        seed=args.seed,
        source=str(args.events),
        progress=not args.no_progress,
    )
    out = args.out or default_report_dir()
    report = write_report(evaluation, out)
    print(metrics_table(evaluation))
    print(f"report: {report}")
    print(
        f"evaluated {len(evaluation.results)} models in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


def default_report_dir() -> Path:
    """$STREAMREC_DATA_DIR/reports/<UTC timestamp>/."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Settings.from_env().data_dir / "reports" / stamp
