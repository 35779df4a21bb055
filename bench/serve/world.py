"""The catalogs the serve benchmark serves: ML-1M (trained once) and a synthetic 1M-item catalog."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from bench.common.command import dataset_files, streamrec
from models.bundle import ModelBundle
from models.registry import list_versions, load_bundle
from models.retrieval import build_annoy
from models.types import HistoryItem, ItemMeta, ItemSignals, UserView
from offline.etl import load_items
from offline.registry import write_version
from offline.views import meta_lookup, signals_snapshot, user_views
from streamrec.settings import Settings

SEED = 7
FACTORS, CONTENT_DIMS, NEXT_TOP, SYNTHETIC_TREES = 64, 16, 20, 16
SYNTHETIC_USERS, SYNTHETIC_HISTORY = 5000, 30


@dataclass
class World:
    """In-memory tables a server reads: user views, catalog, item signals, and the clock."""

    users: dict[str, UserView]
    meta: dict[str, ItemMeta]
    signals: dict[str, ItemSignals]
    now: float


def ml1m_model(args: argparse.Namespace) -> Path:
    """The newest ML-1M version of the registry, trained first when there is none."""
    registry: Path = args.registry or args.data_dir / "bench" / "registry-ml-1m"
    if not list_versions(registry):
        events, items = dataset_files("ml-1m", args.data_dir)
        command = ["train", "--events", str(events), "--items", str(items), "--ranker-users", "300"]
        streamrec(*command, env={"STREAMREC_REGISTRY": str(registry)})
    return registry / list_versions(registry)[-1]


def synthetic_bundle(data_dir: Path, items: int, ranker_from: Path) -> Path:
    """A registry version with `items` random-factor items and the ML-1M ranker (built once)."""
    registry = data_dir / "bench" / f"registry-synthetic-{items}"
    if list_versions(registry):
        return registry / list_versions(registry)[-1]
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    factors = (rng.normal(size=(items, FACTORS)) * 0.1).astype(np.float32)
    content = rng.normal(size=(items, CONTENT_DIMS)).astype(np.float32)
    content /= np.linalg.norm(content, axis=1, keepdims=True)
    ids = np.array([f"i{n}" for n in range(items)])
    users = np.array([f"s{n}" for n in range(SYNTHETIC_USERS)])
    bundle = ModelBundle(
        version="",
        item_ids=ids,
        user_ids=users,
        item_factors=factors,
        user_factors=(rng.normal(size=(len(users), FACTORS)) * 0.1).astype(np.float32),
        regularization=0.05,
        alpha=2.0,
        popularity=rng.zipf(1.3, items).clip(max=1e6).astype(np.float32),
        next_items=rng.integers(0, items, size=(items, NEXT_TOP)),
        next_scores=np.sort(rng.random((items, NEXT_TOP)), axis=1)[:, ::-1].astype(np.float32),
        content_ids=ids,
        content_vectors=content,
        als_retriever=build_annoy(factors, "dot", SYNTHETIC_TREES, SEED),
        content_retriever=build_annoy(content, "angular", SYNTHETIC_TREES, SEED),
        ranker=load_bundle(ranker_from).ranker,
        manifest={"synthetic": {"items": items, "seed": SEED, "trees": SYNTHETIC_TREES}},
    )
    version = write_version(registry, bundle)
    print(f"synthetic bundle: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return registry / version


def ml1m_world(data_dir: Path, bundle: ModelBundle) -> World:
    """User views, catalog and signals from the ML-1M events, at the end of the data."""
    events_path, items_path = dataset_files("ml-1m", data_dir)
    events = pl.read_parquet(events_path)
    meta = meta_lookup(load_items(items_path))
    now = float(events["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    users = sorted(events["user_id"].unique().to_list())
    views = user_views(events, users, now, meta, bundle.weighting, Settings().history_size)
    return World(views, meta, signals_snapshot(events, now), now)


def synthetic_world(bundle: ModelBundle, items: int) -> World:
    """Random histories over the popular tenth and signals for a fifth of the items."""
    rng = np.random.default_rng(SEED + 1)
    now = 1_700_000_000.0
    names = bundle.item_names
    meta = {
        name: ItemMeta(name, name, f"c{n % 40}", (f"c{n % 40}",), float(n % 97), True, now - n)
        for n, name in enumerate(names)
    }
    live = rng.choice(items, size=items // 5, replace=False)
    signals = {
        names[r]: ItemSignals(
            names[r], events_all=int(c), impressions=float(c % 90), last_event_at=now - c
        )
        for r, c in zip(live.tolist(), rng.integers(1, 5000, len(live)).tolist(), strict=True)
    }
    popular = bundle.by_popularity[: items // 10]
    views = {}
    for user in bundle.user_ids.tolist():
        rows = rng.choice(popular, size=SYNTHETIC_HISTORY)
        history = tuple(
            HistoryItem(names[r], "view", now - 60.0 * k) for k, r in enumerate(rows.tolist())
        )
        views[str(user)] = UserView(str(user), history=history)
    return World(views, meta, signals, now)
