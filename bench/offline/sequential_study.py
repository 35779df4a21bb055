"""Sequential next-item model on MovieLens: chronological leave-last-out, full catalogue.

Usage: python -m bench.offline.sequential_study [--datasets ml-1m,ml-100k] [--k 10] [--users N]

Protocol (bench/offline/served_protocol.py::leave_last_out): each user's last event is held out and
the model is fitted on every other event. Each user is scored from their training items,
newest first; every item they had before is excluded; ties are broken by a CRC32 of the item
id, never by row order. Beside the model, in the same run: the project's first-order transition
table (offline/als.py::transitions, last 5 distinct items, recency step 0.8), as the served
path's "transitions (last 5)" scores it. Figures: HR@k, NDCG@k, fit seconds (wall and CPU, the
machine may be shared), scoring ms per user (the score vector only), model megabytes.
"""

from __future__ import annotations

import math
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from bench.common.report import header, parser
from bench.offline.inputs import evaluation_options, frames, sample_users
from bench.offline.served_protocol import LeaveOneOut, leave_last_out
from models.sequence import sequence_scores
from models.sources import RECENCY_STEP
from offline.als import transitions
from offline.sequential import SequentialParams, fit_sequential

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Study:
    """One dataset's split laid out over the training items."""

    split: LeaveOneOut
    item_ids: np.ndarray
    histories: dict[str, np.ndarray]
    targets: dict[str, int]
    tie_order: np.ndarray


def study(name: str, users: int | None = None, seed: int = 2020) -> Study:
    """Split `name`, each evaluated user's training rows newest first and held-out row."""
    events, _ = frames(name)
    split = leave_last_out(events)
    item_ids = np.sort(split.train["item_id"].unique().to_numpy().astype(str))
    index = {item: row for row, item in enumerate(item_ids.tolist())}
    rows = split.train.select(
        "user_id", row=pl.col("item_id").replace_strict(index, return_dtype=pl.Int64)
    )
    grouped = rows.group_by("user_id", maintain_order=True).agg("row")
    evaluated = sample_users(split.users, users, seed)
    wanted = set(evaluated)
    histories = {
        user: np.asarray(history[::-1], dtype=np.int64)
        for user, history in grouped.iter_rows()
        if user in wanted
    }
    targets = {user: index.get(split.held_out[user], -1) for user in evaluated}
    ties = np.array([zlib.crc32(item.encode()) for item in item_ids.tolist()], dtype=np.int64)
    return Study(split, item_ids, histories, targets, np.argsort(np.argsort(ties)))


def top_k(scores: np.ndarray, tie_order: np.ndarray, k: int) -> np.ndarray:
    """Rows of the `k` best scores, ties broken by `tie_order` (lower first)."""
    k = min(k, len(scores))
    threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
    candidates = np.flatnonzero(scores >= threshold)
    order = np.lexsort((tie_order[candidates], -scores[candidates]))
    return candidates[order[:k]]


def evaluate(data: Study, scorer: Scorer, k: int) -> dict[str, float]:
    """HR@k, NDCG@k and scoring milliseconds per user of `scorer`."""
    hits, gains, scoring = 0, 0.0, 0.0
    empty = np.zeros(0, dtype=np.int64)
    for user, target in data.targets.items():
        history = data.histories.get(user, empty)
        started = time.perf_counter()
        scores = scorer(history)
        scoring += time.perf_counter() - started
        scores = scores.astype(np.float64)
        scores[history] = -np.inf
        top = top_k(scores, data.tie_order, k).tolist()
        if target in top:
            hits += 1
            gains += 1.0 / math.log2(top.index(target) + 2)
    n = max(len(data.targets), 1)
    return {"hr": hits / n, "ndcg": gains / n, "ms_per_user": scoring / n * 1000}


def sequential(data: Study, params: SequentialParams) -> tuple[Scorer, dict[str, float]]:
    """The fitted model's scorer, its fit seconds and bytes."""
    started, cpu = time.perf_counter(), time.process_time()
    model = fit_sequential(data.split.train, data.item_ids, params)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu

    def scorer(history: np.ndarray) -> np.ndarray:
        return sequence_scores(model, history)

    return scorer, {"fit_s": seconds, "fit_cpu_s": cpu, "bytes": float(model.nbytes)}


def first_order(data: Study, last: int = 5) -> tuple[Scorer, dict[str, float]]:
    """The transition table's scorer (last `last` distinct items), fit seconds and bytes."""
    started, cpu = time.perf_counter(), time.process_time()
    next_rows, next_scores = transitions(data.split.train, data.item_ids)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu

    def scorer(history: np.ndarray) -> np.ndarray:
        total = np.zeros(len(data.item_ids))
        for position, row in enumerate(dict.fromkeys(history.tolist()).keys()):
            if position == last:
                break
            rows, found = next_rows[row], next_scores[row]
            known = rows >= 0
            np.add.at(total, rows[known], found[known] * RECENCY_STEP**position)
        return total

    cost = {
        "fit_s": seconds,
        "fit_cpu_s": cpu,
        "bytes": float(next_rows.nbytes + next_scores.nbytes),
    }
    return scorer, cost


def run(name: str, params: SequentialParams, k: int, users: int | None, seed: int) -> list[str]:
    """Markdown rows of both models on one dataset, then the ratio row."""
    data = study(name, users, seed)
    lines, rows = [], []
    for label, (scorer, cost) in (
        ("sequential (SLIT + SLIS)", sequential(data, params)),
        ("first-order transitions (last 5)", first_order(data)),
    ):
        row = {**evaluate(data, scorer, k), **cost}
        rows.append(row)
        lines.append(
            f"| {name} | {label} | {row['hr']:.4f} | {row['ndcg']:.4f} | {row['fit_s']:.1f} | "
            f"{row['fit_cpu_s']:.1f} | {row['ms_per_user']:.3f} | {row['bytes'] / 1e6:.1f} |"
        )
    model, baseline = rows
    ratios = [model[key] / baseline[key] if baseline[key] else math.inf for key in ("hr", "ndcg")]
    lines.append(f"| {name} | ratio to transitions | {ratios[0]:.2f}x | {ratios[1]:.2f}x |||||")
    return lines


def main() -> int:
    """Run the study and print one table."""
    options = parser(__doc__)
    evaluation_options(options, datasets="ml-1m,ml-100k", k_help="cut-off")
    args = options.parse_args()
    params = SequentialParams()
    print(header() + "\n")
    print(f"Parameters: {params}\n")
    print(f"| dataset | model | HR@{args.k} | NDCG@{args.k} | fit s | fit CPU s | ms/user | MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        for line in run(name, params, args.k, args.users, args.seed):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
