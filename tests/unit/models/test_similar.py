"""Similar items come from the model's learned neighbours when it knows the item."""

from __future__ import annotations

from models.serving import similar_items
from models.types import ItemMeta
from offline.params import TrainParams
from offline.synthetic import blocks, item_id
from offline.train import fit


def test_similar_items_use_learned_neighbours_from_the_same_block() -> None:
    events, items = blocks(groups=2, users_per_group=25, items_per_group=12, seed=5)
    bundle = fit(
        events, items, TrainParams(factors=8, iterations=5, ranker=False), progress=False
    ).bundle
    catalog = {
        row["item_id"]: ItemMeta(row["item_id"], category="same") for row in items.to_dicts()
    }
    found = similar_items(bundle, item_id(0, 3), catalog.get, lambda: catalog.values(), 5)
    assert len(found) == 5
    assert all(other.startswith(item_id(0, 0)[:-1]) for other, _ in found), found
    assert len({score for _, score in found}) > 1, "learned scores, not catalog overlap"


def test_serving_uses_the_candidate_mix_recorded_in_the_version() -> None:
    from models.candidates import DEFAULT_SHARES
    from models.serving import version_shares

    events, items = blocks(groups=2, users_per_group=10, items_per_group=8, seed=1)
    bundle = fit(
        events, items, TrainParams(factors=4, iterations=2, ranker=False), progress=False
    ).bundle
    bundle.manifest = {"parameters": {"candidate_shares": {"als": 0.9, "trending": 0.1}}}
    assert version_shares(bundle) == {"als": 0.9, "trending": 0.1}
    assert version_shares(None) == DEFAULT_SHARES
