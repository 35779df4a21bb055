"""Items added after training get content vectors and are found beside the bundle's items."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models.bundle import ModelBundle
from models.candidates import CandidateConfig, generate
from models.content_live import LiveContent, content_neighbour_rows, content_neighbours
from models.content_refresh import LiveContentBook, refresh_live
from models.types import HistoryItem, ItemMeta, ItemSignals, UserView
from offline.synthetic import blocks
from offline.train import TrainParams, fit
from offline.views import meta_lookup

PARAMS = TrainParams(factors=4, iterations=3, retriever="exact", ranker=False, content_dims=8)
TWIN = "new-twin"
"""A new item whose catalog text is exactly that of g0-i3."""


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    events, items = blocks(groups=2, users_per_group=10, items_per_group=8)
    return fit(events, items, PARAMS, progress=False).bundle


@pytest.fixture
def catalog() -> dict[str, ItemMeta]:
    known = meta_lookup(blocks(groups=2, users_per_group=10, items_per_group=8)[1])
    return {**known, TWIN: replace(known["g0-i3"], item_id=TWIN)}


def no_signals(item_id: str) -> ItemSignals | None:
    return None


def test_a_textual_twin_is_the_nearest_neighbour_both_ways(
    bundle: ModelBundle, catalog: dict[str, ItemMeta]
) -> None:
    live = LiveContent(bundle.content_vectors.shape[1])
    assert refresh_live(bundle, live, catalog.keys(), catalog.get) == 1
    assert live.ids() == (TWIN,)
    ids, scores = content_neighbours(bundle, live, "g0-i3", 5)
    assert ids[0] == TWIN and scores[0] == pytest.approx(1.0, abs=1e-5)
    ids, scores = content_neighbours(bundle, live, TWIN, 5)
    assert ids[0] == "g0-i3" and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert TWIN not in ids and all(i.startswith("g0-") for i in ids)


def test_without_live_items_neighbours_are_the_bundle_s_own(bundle: ModelBundle) -> None:
    assert bundle.content_retriever is not None
    row = bundle.content_index["g1-i2"]
    rows, scores = bundle.content_retriever.by_item(row, 6)
    for live in (None, LiveContent(bundle.content_vectors.shape[1])):
        ids, found, item_rows = content_neighbour_rows(bundle, live)("g1-i2", 6)
        assert ids == [bundle.content_names[r] for r in rows.tolist()]
        np.testing.assert_array_equal(found, scores)
        np.testing.assert_array_equal(item_rows, bundle.item_row_of_content[rows])


def test_an_unknown_item_has_no_neighbours(bundle: ModelBundle) -> None:
    assert content_neighbours(bundle, None, "nowhere", 5)[0] == []


def test_a_refresh_follows_text_changes_and_deletions(
    bundle: ModelBundle, catalog: dict[str, ItemMeta]
) -> None:
    live = LiveContent(bundle.content_vectors.shape[1])
    refresh_live(bundle, live, catalog.keys(), catalog.get)
    twin = live.vector_of(TWIN)
    assert twin is not None
    np.testing.assert_allclose(
        twin, bundle.content_vectors[bundle.content_index["g0-i3"]], atol=1e-5
    )
    assert refresh_live(bundle, live, catalog.keys(), catalog.get) == 0, "nothing new"
    catalog[TWIN] = replace(catalog["g1-i5"], item_id=TWIN)
    assert refresh_live(bundle, live, catalog.keys(), catalog.get) == 1
    assert content_neighbours(bundle, live, TWIN, 1)[0] == ["g1-i5"]
    del catalog[TWIN]
    refresh_live(bundle, live, catalog.keys(), catalog.get)
    assert len(live) == 0 and live.vector_of(TWIN) is None


def test_an_update_swaps_new_arrays_and_leaves_readers_theirs() -> None:
    live = LiveContent(2)
    live.update(["a"], np.array([[1.0, 0.0]]), ["a"])
    held = live.vector_of("a")
    assert held is not None and not held.flags.writeable
    live.update(["a", "b"], np.array([[0.0, 1.0], [0.6, 0.8]]), ["a2", "b"])
    np.testing.assert_array_equal(held, [1.0, 0.0])
    assert live.ids() == ("a", "b") and live.text_of("a") == "a2"
    ids, scores = live.search(np.array([0.0, 1.0], dtype=np.float32), 5, skip="a")
    assert ids == ["b"] and scores[0] == pytest.approx(0.8)
    with pytest.raises(ValueError):
        live.update(["c"], np.zeros((1, 3)), ["c"])


def test_content_candidates_include_a_new_item_next_to_the_user_s_recent_one(
    bundle: ModelBundle, catalog: dict[str, ItemMeta]
) -> None:
    live = LiveContent(bundle.content_vectors.shape[1])
    refresh_live(bundle, live, catalog.keys(), catalog.get)
    user = UserView("someone new", history=(HistoryItem("g0-i3", "view", 0.0),))
    shares = {"content": 1.0}
    found = generate(
        bundle, user, no_signals, catalog.get, 1.0, 5, config=CandidateConfig(shares=shares)
    )
    assert TWIN not in [c.item_id for c in found]
    config = CandidateConfig(shares=shares, live_content=live)
    found = generate(bundle, user, no_signals, catalog.get, 1.0, 5, config=config)
    twin = [c for c in found if c.item_id == TWIN]
    assert twin and twin[0].source == "content" and twin[0].anchor_item_id == "g0-i3"


def test_the_book_keeps_one_live_index_per_loaded_bundle(
    bundle: ModelBundle, catalog: dict[str, ItemMeta]
) -> None:
    book = LiveContentBook()
    assert book.for_bundle(bundle) is None
    assert book.refresh([bundle], catalog.keys, catalog.get) == 1
    first = book.for_bundle(bundle)
    assert first is not None and first.ids() == (TWIN,)
    assert book.refresh([bundle], catalog.keys, catalog.get) == 0
    assert book.for_bundle(bundle) is first
    swapped = replace(bundle)  # a hot-swapped version starts its own index
    book.refresh([swapped], catalog.keys, catalog.get)
    assert book.for_bundle(bundle) is None
    assert book.for_bundle(swapped) is not first
    without_model = replace(bundle, content_model=None)
    book.refresh([without_model], catalog.keys, catalog.get)
    assert book.for_bundle(without_model) is None
