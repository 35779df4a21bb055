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
