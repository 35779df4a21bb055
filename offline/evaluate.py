"""Offline evaluation: split the event log, fit every model on the same split, rank, score."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
from scipy import sparse
from tqdm import tqdm

from offline.baselines import IntVector, Recommender, TrainingData, training_data
from offline.metrics import IntMatrix, hit_matrix, ranking_metrics, recall_curve, relevant_counts
from offline.recommenders import MODEL_NAMES, ProjectFit, make_recommender, params_for
from offline.splits import Split, split_events
from streamrec.errors import NotFound

CURVE_MAX_K = 50
USERS_PER_STEP = 512


@dataclass(frozen=True)
class ModelResult:
    """Metrics @k, the recall@1..50 curve and timings of one model."""

    name: str
    metrics: dict[str, float]
    recall_curve: list[float]
    fit_seconds: float
    rank_seconds: float


@dataclass
class Evaluation:
    """Everything a report needs: data, split, and one result per model."""

    protocol: str
    k: int
    seed: int
    data: dict[str, str]
    split_params: dict[str, str]
    split_summary: dict[str, int]
    results: list[ModelResult] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat("T", "seconds"))


def load_frame(path: Path) -> pl.DataFrame:
    """A Parquet file, or every Parquet file under a lake folder (hive partitions dropped)."""
    if not path.exists():
        raise NotFound(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(path.rglob("*.parquet"))
        if not files:
            raise NotFound(f"{path}: no Parquet file under this folder")
        return pl.scan_parquet(files, hive_partitioning=False).collect()
    return pl.read_parquet(path)


def describe_events(events: pl.DataFrame, source: str) -> dict[str, str]:
    """Size and time range of the event log, for reports."""
    first, last = events["timestamp"].min(), events["timestamp"].max()
    types = events["type"].value_counts(sort=True)
    return {
        "source": source,
        "events": f"{events.height:,}",
        "users": f"{events['user_id'].n_unique():,}",
        "items": f"{events['item_id'].n_unique():,}",
        "types": ", ".join(f"{t} {n:,}" for t, n in types.iter_rows()),
        "from": datetime.fromtimestamp(float(first), UTC).isoformat("T", "seconds"),  # type: ignore[arg-type]
        "to": datetime.fromtimestamp(float(last), UTC).isoformat("T", "seconds"),  # type: ignore[arg-type]
    }


def _pairs_matrix(pairs: pl.DataFrame, data: TrainingData) -> sparse.csr_matrix:
    known = pairs.filter(pl.col("item_id").is_in(data.items))
    rows = known["user_id"].replace_strict(data.user_index, return_dtype=pl.Int64).to_numpy()
    cols = known["item_id"].replace_strict(data.item_index, return_dtype=pl.Int64).to_numpy()
    shape = (len(data.users), len(data.items))
    ones = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((ones, (rows, cols)), shape=shape)


def item_categories(items: pl.DataFrame | None, catalog: list[str]) -> IntMatrix | None:
    """Category code per catalog item (unknown items share one code), or None without items."""
    if items is None or "category" not in items.columns:
        return None
    lookup = dict(
        items.select("item_id", pl.col("category").fill_null("")).unique("item_id").iter_rows()
    )
    names = [lookup.get(item, "") for item in catalog]
    codes = {name: code for code, name in enumerate(sorted(set(names)))}
    return np.array([codes[name] for name in names], dtype=np.int64)


def _rank(
    model: Recommender, users: IntVector, depth: int, exclude: sparse.csr_matrix, bar: tqdm
) -> IntMatrix:
    parts = []
    for start in range(0, len(users), USERS_PER_STEP):
        step = users[start : start + USERS_PER_STEP]
        parts.append(model.recommend(step, depth, exclude))
        bar.update(len(step))
    return np.vstack(parts)


def evaluate_model(
    name: str,
    data: TrainingData,
    relevant: sparse.csr_matrix,
    exclude: sparse.csr_matrix,
    *,
    k: int,
    seed: int,
    categories: IntMatrix | None,
    progress: bool,
    shared: ProjectFit | None = None,
) -> ModelResult:
    """Fit one model, rank every test user's full catalog and score the top k; the project's
    two modes train once through `shared`."""
    model = make_recommender(name, seed, shared)
    users = np.flatnonzero(relevant_counts(relevant) > 0).astype(np.int64)
    with tqdm(
        total=len(users),
        desc=name,
        unit="user",
        file=sys.stderr,
        disable=None if progress else True,
    ) as bar:
        started = time.perf_counter()
        model.fit(data)
        fitted = time.perf_counter()
        ranked = _rank(model, users, max(k, CURVE_MAX_K), exclude, bar)
        done = time.perf_counter()
    test = relevant[users]
    metrics = ranking_metrics(ranked, test, k, item_categories=categories)
    curve = recall_curve(hit_matrix(ranked, test), relevant_counts(test), CURVE_MAX_K)
    return ModelResult(name, metrics, curve.tolist(), fitted - started, done - fitted)


def prepare(
    split: Split, items: pl.DataFrame | None
) -> tuple[TrainingData, sparse.csr_matrix, sparse.csr_matrix]:
    """Index the split: training data, relevant pairs and excluded pairs as user x item."""
    users = sorted(set(split.train["user_id"].unique()) | set(split.test["user_id"].unique()))
    data = training_data(split.train, users, split.items, items)
    return data, _pairs_matrix(split.test, data), _pairs_matrix(split.exclude, data)


def evaluate(
    events: pl.DataFrame,
    items: pl.DataFrame | None = None,
    *,
    protocol: str = "temporal",
    k: int = 10,
    models: Sequence[str] | None = None,
    seed: int = 2020,
    source: str = "events",
    progress: bool = True,
) -> Evaluation:
    """Evaluate every named model on one split of `events`; prints a timing line per model."""
    names = list(models) if models else list(MODEL_NAMES)
    for name in names:
        make_recommender(name, seed)
    split = split_events(events, protocol, seed=seed)
    data, relevant, exclude = prepare(split, items)
    categories = item_categories(items, split.items)
    evaluation = Evaluation(
        protocol, k, seed, describe_events(events, source), split.params, split.summary()
    )
    shared = ProjectFit(params_for(protocol))
    for name in names:
        result = evaluate_model(
            name,
            data,
            relevant,
            exclude,
            k=k,
            seed=seed,
            categories=categories,
            progress=progress,
            shared=shared,
        )
        evaluation.results.append(result)
        print(
            f"{name}: fit {result.fit_seconds:.2f} s, rank {result.rank_seconds:.2f} s, "
            f"ndcg@{k} {result.metrics['ndcg']:.4f}",
            file=sys.stderr,
        )
    return evaluation
