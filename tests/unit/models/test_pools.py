"""Catalog pools from a sweep of the catalog, and the retrievers' exact path and neighbour cache."""

from __future__ import annotations

import random

import numpy as np
import pytest

from models.features import item_columns
from models.pools import SWEEP_CHUNK, PoolSweep, build_pools, chunked
from models.retrieval import AnnoyRetriever, ExactRetriever, build_annoy
from models.serving import PageQuery, PipelineStats, hydrate, recommend
from models.types import ItemMeta, ItemSignals, UserView

CATALOG = {f"i{n}": ItemMeta(f"i{n}", f"Item {n}", "abcdefghij"[n % 10]) for n in range(30)}
SIGNALS = {
    item_id: ItemSignals(item_id, events_all=n * 10, impressions=float(30 - n))
    for n, item_id in enumerate(CATALOG)
}


def test_pools_list_the_most_popular_and_the_least_shown_items() -> None:
    pools = build_pools(CATALOG.values(), SIGNALS.get, limit=10)
    assert pools.trending == [f"i{n}" for n in range(29, 19, -1)]
    assert pools.unexposed == ["i29"]
    assert [item for item, _ in pools.by_category["a"]] == ["i0", "i10", "i20"]
    assert pools.items is not None and len(pools.items.index) == 30


def test_a_sweep_chunk_by_chunk_builds_the_same_columns_as_one_over_everything() -> None:
    items = [ItemMeta(f"i{n}", f"Item {n}", "abc"[n % 3], price=float(n)) for n in range(1050)]
    signals = {item.item_id: ItemSignals(item.item_id, events_all=7) for item in items[::2]}
    sweep = PoolSweep(signals.get, limit=10)
    chunks = list(chunked(items, SWEEP_CHUNK))
    for chunk in chunks:
        sweep.add(chunk)
    pools = sweep.pools()
    assert [len(chunk) for chunk in chunks] == [200] * 5 + [50]
    whole = item_columns([i.item_id for i in items], items, [signals.get(i.item_id) for i in items])
    assert pools.items is not None
    assert pools.items.index == whole.index and pools.items.categories == whole.categories
    assert np.array_equal(pools.items.values, whole.values, equal_nan=True)
    assert pools.signals == signals


def test_pipeline_stats_count_candidates_ranked_and_served() -> None:
    stats = PipelineStats()
    # i28 is sold out: a source proposes it and the filters drop it.
    catalog = {**CATALOG, "i28": ItemMeta("i28", "Item 28", "i", in_stock=False)}
    ctx = hydrate(
        None,
        UserView("u", purchased={"i29": 1}),
        SIGNALS.get,
        catalog.get,
        now=0.0,
        rng=random.Random(1),
        query=PageQuery(count=5),
        pools=build_pools(catalog.values(), SIGNALS.get, 30),
    )
    page = recommend(ctx, stats)
    assert stats.served == len(page) == 5
    # A purchase never comes back, so no source proposes i29 at all.
    assert stats.candidates == 29 and stats.ranked == 28


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)


def test_small_annoy_indexes_answer_exactly(vectors: np.ndarray) -> None:
    annoy = build_annoy(vectors, "dot", trees=2)
    exact = ExactRetriever(vectors)
    assert annoy.exact
    query = vectors[7] * 2.0
    assert np.array_equal(annoy.by_vector(query, 20)[0], exact.by_vector(query, 20)[0])
    assert np.array_equal(annoy.by_item(3, 10)[0], exact.by_item(3, 10)[0])


def test_large_catalogs_search_the_trees_and_find_most_true_neighbours(
    vectors: np.ndarray,
) -> None:
    annoy = build_annoy(vectors, "dot", trees=10)
    approximate = AnnoyRetriever(vectors, annoy.index, exact_below=0)
    found = set(approximate.by_vector(vectors[7], 20)[0].tolist())
    truth = set(ExactRetriever(vectors).by_vector(vectors[7], 20)[0].tolist())
    assert not approximate.exact
    assert len(found & truth) >= 14


def test_item_neighbours_are_cached_read_only_answers(vectors: np.ndarray) -> None:
    retriever = ExactRetriever(vectors)
    ids, scores = retriever.by_item(4, 5)
    again, _ = retriever.by_item(4, 5)
    assert again is ids and 4 not in ids.tolist()
    assert not ids.flags.writeable and not scores.flags.writeable
