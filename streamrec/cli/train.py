"""`streamrec train`: train every model from Parquet or the lake and write a registry version."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from models.weights import RATING_MODES
from offline.params import TrainParams
from offline.train import train_and_register
from streamrec.errors import BadRequest
from streamrec.settings import Settings

DEFAULTS = TrainParams()


def _epoch(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"--until: not an ISO date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `train` command."""
    parser = sub.add_parser(
        "train",
        help="train ALS, indexes, content vectors and the ranker; write a registry version",
        description="Train every model from an events Parquet file or the lake and store a new "
        "version in the registry ($STREAMREC_REGISTRY). Prints one timing line per stage.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", type=Path, help="events Parquet file")
    source.add_argument("--lake", type=Path, help="lake directory (reads events/, items/, users/)")
    parser.add_argument("--items", type=Path, help="catalog Parquet (default: the lake's items/)")
    parser.add_argument(
        "--users", type=Path, help="user commands Parquet; erased users are dropped"
    )
    parser.add_argument(
        "--until", help="end of the data window, ISO time (UTC if no zone), exclusive"
    )
    parser.add_argument(
        "--factors", type=int, default=DEFAULTS.factors, help="ALS factors (%(default)s)"
    )
    parser.add_argument(
        "--iterations", type=int, default=DEFAULTS.iterations, help="ALS iterations (%(default)s)"
    )
    parser.add_argument(
        "--regularization", type=float, default=DEFAULTS.regularization, help="ALS L2 (%(default)s)"
    )
    parser.add_argument(
        "--alpha", type=float, default=DEFAULTS.alpha, help="ALS confidence scale (%(default)s)"
    )
    parser.add_argument(
        "--half-life-days",
        type=float,
        default=DEFAULTS.half_life_days,
        help="recency half-life, days (%(default)s)",
    )
    parser.add_argument(
        "--rating-mode",
        choices=RATING_MODES,
        default=DEFAULTS.rating_mode,
        help="rating weight: shifted max(v-2,0) or scaled v/5*4 (%(default)s)",
    )
    parser.add_argument(
        "--max-events-per-day",
        type=float,
        default=DEFAULTS.max_events_per_day,
        help="drop users above this rate as bots (%(default)s)",
    )
    parser.add_argument(
        "--no-ranker", action="store_true", help="skip ranker training (serving uses the baseline)"
    )
    parser.add_argument(
        "--ranker-users",
        type=int,
        default=DEFAULTS.ranker_users,
        help="label users sampled for the ranker (%(default)s)",
    )
    parser.add_argument(
        "--ranker-iterations",
        type=int,
        default=DEFAULTS.ranker_iterations,
        help="CatBoost iterations (%(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULTS.num_threads,
        help="threads for ALS and CatBoost (%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="random seed (%(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or timing lines")
    parser.set_defaults(func=run)


def _paths(args: argparse.Namespace) -> tuple[Path, Path | None, Path | None]:
    if args.lake is None:
        return args.events, args.items, args.users
    lake: Path = args.lake
    items = args.items or (lake / "items" if (lake / "items").is_dir() else None)
    users = args.users or (lake / "users" if (lake / "users").is_dir() else None)
    return lake / "events", items, users


def run(args: argparse.Namespace) -> int:
    """Train, register and print the version written."""
    settings = Settings.from_env()
    params = TrainParams(
        factors=args.factors,
        iterations=args.iterations,
        regularization=args.regularization,
        alpha=args.alpha,
        half_life_days=args.half_life_days,
        rating_mode=args.rating_mode,
        max_events_per_day=args.max_events_per_day,
        until=None if args.until is None else _epoch(args.until),
        ranker=not args.no_ranker,
        ranker_users=args.ranker_users,
        ranker_iterations=args.ranker_iterations,
        num_threads=args.threads,
        ranker_threads=args.threads,
        seed=args.seed,
    )
    events, items, users = _paths(args)
    version, fitted = train_and_register(
        events,
        settings.registry,
        params,
        items_path=items,
        users_path=users,
        progress=not args.quiet,
    )
    print(f"total: {fitted.timer.total:.2f} s", file=sys.stderr)
    print(f"version {version} written to {settings.registry / version}")
    return 0
