"""Events and catalog from Parquet or the lake into a weighted user x item matrix (Polars, lazy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

from models.weights import EventWeighting
from offline.consent import Consents
from streamrec.errors import ModelFitError

ITEM_COLUMNS: tuple[str, ...] = (
    "item_id",
    "title",
    "category",
    "tags",
    "price",
    "in_stock",
    "created_at",
)
DAY = 86400.0


@dataclass(frozen=True)
class EtlParams:
    """Cleaning and weighting rules; `until` (epoch seconds) cuts the window, exclusive."""

    weighting: EventWeighting = field(default_factory=EventWeighting)
    max_events_per_day: float = 1000.0
    until: float | None = None


@dataclass
class Interactions:
    """The weighted matrix (users x items), its id mappings and the cleaned, ordered events."""

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    events: pl.DataFrame
    window: tuple[float, float]


def scan_parquet(path: Path) -> pl.LazyFrame:
    """A Parquet file, or a hive-partitioned lake directory of them."""
    if path.is_dir():
        return pl.scan_parquet(path / "**" / "*.parquet", hive_partitioning=True)
    if not path.is_file():
        raise ModelFitError(f"{path}: no such Parquet file or lake directory")
    return pl.scan_parquet(path)


def scan_events(path: Path) -> pl.LazyFrame:
    """The event columns training needs, typed."""
    return scan_parquet(path).select(
        pl.col("event_id").cast(pl.String),
        pl.col("user_id").cast(pl.String),
        pl.col("item_id").cast(pl.String),
        pl.col("type").cast(pl.String),
        pl.col("timestamp").cast(pl.Float64),
        pl.col("value").cast(pl.Float64),
    )


def load_items(path: Path | None) -> pl.DataFrame | None:
    """The catalog: last record per item wins, deleted items dropped."""
    if path is None:
        return None
    frame = scan_parquet(path)
    names = frame.collect_schema().names()
    if "deleted" in names:
        frame = frame.unique("item_id", keep="last", maintain_order=True)
        frame = frame.filter(~pl.col("deleted").fill_null(False))
    else:
        frame = frame.unique("item_id", keep="last", maintain_order=True)
    present = [c for c in ITEM_COLUMNS if c in names]
    return frame.select(present).with_columns(pl.col("item_id").cast(pl.String)).collect()


def clean(events: pl.LazyFrame, consent: Consents | None, params: EtlParams) -> pl.LazyFrame:
    """Dedupe on event_id, cut at `until`, drop withheld events and bot-like users; by user."""
    if params.until is not None:
        events = events.filter(pl.col("timestamp") < params.until)
    events = events.unique("event_id", keep="first", maintain_order=True)
    if consent is not None:
        events = consent.keep(events)
    span_days = ((pl.col("timestamp").max() - pl.col("timestamp").min()) / DAY).clip(
        lower_bound=1.0
    )
    rate = (pl.len() / span_days).over("user_id")
    events = events.filter(rate <= params.max_events_per_day)
    return events.sort(["user_id", "timestamp", "event_id"])


def weight_expr(weighting: EventWeighting, reference: pl.Expr) -> pl.Expr:
    """Weight of each event by type (ratings by value) times recency decay from `reference`."""
    value = pl.col("value").fill_null(0.0)
    rating = (
        (value / 5.0 * 4.0)
        if weighting.rating_mode == "scaled"
        else (value - 2.0).clip(lower_bound=0.0)
    )
    by_type = pl.col("type").replace_strict(
        weighting.type_weights, default=0.0, return_dtype=pl.Float64
    )
    base = pl.when(pl.col("type") == "rating").then(rating).otherwise(by_type)
    if weighting.half_life_days is None:
        return base
    age_days = (reference - pl.col("timestamp")).clip(lower_bound=0.0) / DAY
    decay: pl.Expr = (-np.log(2.0) * age_days / weighting.half_life_days).exp()
    return base * decay


def aggregate(events: pl.LazyFrame, weighting: EventWeighting) -> pl.LazyFrame:
    """Summed weight per (user, item), positive weights only."""
    weighted = events.with_columns(weight=weight_expr(weighting, pl.col("timestamp").max()))
    summed = weighted.group_by(["user_id", "item_id"]).agg(pl.col("weight").sum())
    return summed.filter(pl.col("weight") > 0)


def to_matrix(pairs: pl.DataFrame) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """CSR (users x items) from (user_id, item_id, weight) rows, ids sorted."""
    users = pairs["user_id"].unique().sort()
    items = pairs["item_id"].unique().sort()
    user_codes = pairs["user_id"].cast(pl.Enum(users.to_list())).to_physical().to_numpy()
    item_codes = pairs["item_id"].cast(pl.Enum(items.to_list())).to_physical().to_numpy()
    matrix = sp.csr_matrix(
        (pairs["weight"].to_numpy().astype(np.float32), (user_codes, item_codes)),
        shape=(len(users), len(items)),
    )
    return matrix, users.to_numpy().astype(str), items.to_numpy().astype(str)


def build_interactions(
    events: pl.LazyFrame, params: EtlParams, consent: Consents | None = None
) -> Interactions:
    """Clean, weight and aggregate in one collect; fails when nothing is left to learn from."""
    cleaned = clean(events, consent, params)
    frames = pl.collect_all([cleaned, aggregate(cleaned, params.weighting)])
    ordered, pairs = frames[0], frames[1]
    if pairs.is_empty():
        raise ModelFitError("no positive interaction left after cleaning the events")
    matrix, user_ids, item_ids = to_matrix(pairs)
    window = (float(ordered["timestamp"].min()), float(ordered["timestamp"].max()))  # type: ignore[arg-type]
    return Interactions(matrix, user_ids, item_ids, ordered, window)
