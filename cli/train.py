"""`streamrec train`: train every model from Parquet or the lake and write a registry version."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from models.sources import SOURCES
from models.weights import RATING_MODES
from offline.params import TrainParams
from offline.train import train_and_register
from streamrec.errors import BadRequest, NotFound
from streamrec.settings import Settings

DEFAULTS = TrainParams()
LABEL_SPLITS: tuple[str, ...] = ("last", "random", "time")
TUNING: tuple[tuple[str, type, str], ...] = (
    ("warm_iterations", int, "ALS iterations continuing from the ranker's factors"),
    ("next_top", int, "followers kept per item for the next-item source"),
    ("similar_top", int, "EASE weights kept per item (fewer on large catalogs)"),
    ("similar_l2", float, "EASE L2 regularisation"),
    ("similar_max_items", int, "most popular items taking part in the EASE solve"),
    ("content_dims", int, "content vector dimensions (TF-IDF + SVD)"),
    ("annoy_trees", int, "Annoy trees per index"),
    ("history_size", int, "latest events per user the views hold"),
    ("ranker_candidates", int, "candidates per label user for the ranker"),
    ("ranker_depth", int, "CatBoost tree depth"),
    ("ranker_learning_rate", float, "CatBoost learning rate (step of each tree)"),
    ("ranker_seeds", int, "CatBoost fits with consecutive seeds averaged into the ranker"),
    ("label_fraction", float, "share of the events held out as ranker labels"),
)
"""Numeric TrainParams fields exposed as `--field-name` options with the same defaults."""


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
        description="Train every model from an events Parquet file or the lake (by default "
        "the one `streamrec lake export` writes under $STREAMREC_DATA_DIR) and store a new "
        "version in the registry ($STREAMREC_REGISTRY). Prints one timing line per stage.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--events", type=Path, help="events Parquet file")
    source.add_argument(
        "--lake",
        type=Path,
        help="lake directory (reads events/, items/, users/; default: $STREAMREC_DATA_DIR/lake)",
    )
    parser.add_argument("--items", type=Path, help="catalog Parquet (default: the lake's items/)")
    parser.add_argument(
        "--users",
        type=Path,
        help="user commands Parquet or folder: events at or before a user's erasure and events "
        "sent while opted out are dropped (default: the lake's users/, also with --events)",
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
    _add_tuning(parser)
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULTS.num_threads,
        help="threads for ALS and CatBoost (%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="random seed (%(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or timing lines")
    parser.set_defaults(func=run)


def _add_tuning(parser: argparse.ArgumentParser) -> None:
    for name, kind, text in TUNING:
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=kind, default=getattr(DEFAULTS, name), help=text + PLAIN)
    parser.add_argument(
        "--label-split",
        choices=LABEL_SPLITS,
        default=DEFAULTS.label_split,
        help="ranker labels: each user's last event (the next item), a random share of each "
        "user's events, or the last share of the window (%(default)s)",
    )
    parser.add_argument(
        "--candidate-shares",
        type=shares,
        default=DEFAULTS.candidate_shares,
        help="candidate mix of ranker training, recorded for serving: source=share,... "
        f"(default {_shares_text(DEFAULTS.candidate_shares)}; 'default' for serving's own)",
    )
    parser.add_argument(
        "--retriever",
        choices=("annoy", "exact"),
        default=DEFAULTS.retriever,
        help="ALS and content neighbour search (%(default)s)",
    )


PLAIN = " (%(default)s)"


def _shares_text(mix: dict[str, float] | None) -> str:
    if mix is None:
        return "default"
    return ",".join(f"{source}={share:g}" for source, share in mix.items())


def shares(text: str) -> dict[str, float] | None:
    """`als=0.7,ease=0.7` as a candidate mix; `default` for serving's default mix (None)."""
    if text.strip() == "default":
        return None
    mix: dict[str, float] = {}
    for part in text.split(","):
        source, _, value = part.partition("=")
        if source.strip() not in SOURCES:
            raise argparse.ArgumentTypeError(f"unknown source {source.strip()!r}; one of {SOURCES}")
        try:
            mix[source.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}: expected source=share") from None
    return mix


def _paths(args: argparse.Namespace, settings: Settings) -> tuple[Path, Path | None, Path | None]:
    if args.events is not None:
        lake_users = settings.data_dir / "lake" / "users"
        return args.events, args.items, args.users or (lake_users if lake_users.is_dir() else None)
    lake: Path = args.lake or settings.data_dir / "lake"
    if not (lake / "events").is_dir():
        raise NotFound(
            f"no lake at {lake} (no events/ folder): run `streamrec lake export` first, "
            "or pass --events FILE or --lake DIR"
        )
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
        label_split=args.label_split,
        candidate_shares=args.candidate_shares,
        retriever=args.retriever,
        **{name: getattr(args, name) for name, _, _ in TUNING},
        num_threads=args.threads,
        ranker_threads=args.threads,
        seed=args.seed,
    )
    events, items, users = _paths(args, settings)
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
