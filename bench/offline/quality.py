"""Served-path quality on MovieLens: the pages `GET /v1/recommendations` would serve.

Usage: python -m bench.offline.quality [--datasets ml-100k,ml-1m] [--users N] [--k 10]
       [--seed 2020] [--at held-out|end]

Protocol (bench/offline/served_protocol.py): chronological leave-one-out; the model is trained
on every event but each user's last; each user's earlier events are folded into table state
through the worker's fold; pages come from the serving steps with the default configuration,
with exploration on (as served) and off, and without the diversity cap (what each costs). Side
by side in the same run: popularity, ALS alone, transitions from the last 5 items alone, the
sequence model alone and the full pipeline. Figures: HR@10, NDCG@10, share of consumed (rated
or bought) items on pages, catalogue coverage, largest category share.

Each page is asked for at its user's held-out event's time (`--at held-out`, the default): item
signals (windowed counts, trend, last event) and the trending pool are those of the training
events before that moment, as serving would have read them. The retrieval models and the ranker
are fitted once on every training event, later ones included (the usual leave-one-out leak).
`--at end` asks every page just after the last training event instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from bench.common.report import header, parser
from bench.offline.inputs import evaluation_options, frames, sample_users
from bench.offline.served_protocol import (
    LeaveOneOut,
    consumed_items,
    fold_users,
    leave_last_out,
    page_metrics,
    ranked_pages,
    served_pages,
    transition_scores,
)
from models.bundle import user_vector
from models.context import CANDIDATE_LIMIT, ServingConfig
from models.fold import sequence_of
from models.types import ItemMeta
from offline.moments import item_timeline, world_moment
from offline.served import OfflineWorld, world_at
from offline.train import TrainParams, fit
from offline.views import signals_snapshot

UNCAPPED = ServingConfig(exploration_slots=0, max_category_share=1.0)
"""The default configuration without exploration or the diversity rule: what both cost."""
COLUMNS = ("hr", "ndcg", "consumed_share", "coverage", "category_share_mean", "category_share_max")


def evaluate(
    name: str, users: int | None, k: int, seed: int, at: str = "held-out"
) -> dict[str, dict[str, float]]:
    """Every model's figures on one dataset."""
    events, items = frames(name)
    split = leave_last_out(events)
    evaluated = sample_users(split.users, users, seed)
    started = time.perf_counter()
    fitted = fit(split.train, items, replace(TrainParams(), seed=seed))
    print(f"{name}: trained in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    bundle, now = fitted.bundle, float(split.train["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    views = fold_users(split.train, fitted.meta, evaluated)
    world = world_at(bundle, signals_snapshot(split.train, now), fitted.meta, now, CANDIDATE_LIMIT)
    world_of = moments_of(world, split, at)
    seen = consumed_items(split.train)
    held = {user: split.held_out[user] for user in evaluated}
    category = _category_of(fitted.meta)
    size = len(bundle.item_names)

    def measured(pages: dict[str, list[str]]) -> dict[str, float]:
        return page_metrics(pages, held, seen, category, size, k)

    def als(user: str) -> np.ndarray | None:
        vector = user_vector(bundle, views[user], now) if user in views else None
        return None if vector is None else bundle.item_factors @ vector

    def sequence(user: str) -> np.ndarray | None:
        found = sequence_of(bundle, views[user]) if user in views else None
        return None if found is None else found.scores + 1e-9 * bundle.log_popularity

    results = {
        "popularity": measured(ranked_pages(bundle, evaluated, lambda u: None, seen, k)),
        "als alone": measured(ranked_pages(bundle, evaluated, als, seen, k)),
        "transitions (last 5)": measured(
            ranked_pages(bundle, evaluated, transition_scores(bundle, views), seen, k)
        ),
        "sequence model alone": measured(ranked_pages(bundle, evaluated, sequence, seen, k)),
    }
    for label, config in (
        ("pipeline, exploration on", ServingConfig()),
        ("pipeline, exploration off", ServingConfig(exploration_slots=0)),
        ("pipeline, exploration off, no diversity cap", UNCAPPED),
    ):
        started = time.perf_counter()
        pages = served_pages(world_of, {u: views[u] for u in evaluated if u in views}, config, k)
        took = (time.perf_counter() - started) / max(len(pages), 1) * 1000
        results[label] = {**measured(pages), "ms_per_page": took}
    return results


def moments_of(world: OfflineWorld, split: LeaveOneOut, at: str) -> Callable[[str], OfflineWorld]:
    """Each user's world: at their held-out event's time (`held-out`) or `world` (`end`)."""
    if at == "end" or world.pools.items is None:
        return lambda user: world
    timeline = item_timeline(split.train, world.pools.items.index)
    return lambda user: world_moment(world, timeline, split.held_at[user])


def _category_of(meta: Mapping[str, ItemMeta]) -> Callable[[str], str]:
    def category(item_id: str) -> str:
        item = meta.get(item_id)
        return item.category if item is not None and item.category else ""

    return category


def table(results: dict[str, dict[str, float]]) -> str:
    """Markdown table of one dataset's figures."""
    head = (
        "| model | HR@10 | NDCG@10 | consumed on pages | coverage "
        "| top category share (mean / max) |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    for model, row in results.items():
        lines.append(
            f"| {model} | {row['hr']:.4f} | {row['ndcg']:.4f} | {row['consumed_share']:.3f} | "
            f"{row['coverage']:.3f} | {row['category_share_mean']:.2f} / "
            f"{row['category_share_max']:.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark and print its tables."""
    options = parser(__doc__)
    evaluation_options(options, datasets="ml-100k,ml-1m", k_help="page size")
    options.add_argument(
        "--at",
        choices=("held-out", "end"),
        default="held-out",
        help="moment of each page: the held-out event's time (default) or the log's end",
    )
    args = options.parse_args()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"## Served-path quality, {stamp}\n")
    print(header() + "\n")
    for name in args.datasets.split(","):
        results = evaluate(name, args.users, args.k, args.seed, args.at)
        print(f"### {name}, chronological leave-one-out, full catalogue\n")
        print(table(results) + "\n")
        for label, row in results.items():
            if "ms_per_page" in row:
                print(f"- {label}: {row['ms_per_page']:.1f} ms per page in process")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
