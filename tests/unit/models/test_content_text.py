"""The saved text model vectorises an item exactly as training did."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.content_text import TextModel, item_text, meta_text, tokens
from models.types import ItemMeta
from offline.content import fit_content, item_texts
from streamrec.errors import RegistryError

WORDS = ("red", "blue", "green", "wool", "silk", "coat", "scarf", "boot", "hat", "sock")
CATEGORIES = ("winter wear", "shoes", "accessories")


def synthetic_catalog(n: int = 60, seed: int = 3) -> pl.DataFrame:
    """Items with random titles, a category with a space in it, and multi-word tags."""
    rng = np.random.default_rng(seed)
    titles = [" ".join(rng.choice(WORDS, 3)).title() for _ in range(n)]
    tags = [[str(rng.choice(WORDS)), "on sale"] if i % 2 else [] for i in range(n)]
    return pl.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "title": titles,
            "category": [CATEGORIES[i % len(CATEGORIES)] for i in range(n)],
            "tags": tags,
        }
    )


def metas(items: pl.DataFrame) -> list[ItemMeta]:
    """The catalog rows as the serving side sees them."""
    return [
        ItemMeta(r["item_id"], r["title"], r["category"], tuple(r["tags"]))
        for r in items.iter_rows(named=True)
    ]


def test_online_vectors_equal_the_trained_ones_for_catalog_items() -> None:
    items = synthetic_catalog()
    fitted = fit_content(items, dims=8)
    assert fitted.model is not None and fitted.model.dims == 8
    online = fitted.model.vectorise_items(metas(items))
    assert online.dtype == np.float32 and online.shape == fitted.vectors.shape
    np.testing.assert_allclose(online, fitted.vectors, atol=1e-5)


def test_the_model_survives_its_plain_arrays() -> None:
    items = synthetic_catalog()
    fitted = fit_content(items, dims=8)
    assert fitted.model is not None
    arrays = fitted.model.arrays()
    assert all(array.dtype != object for array in arrays.values())
    again = TextModel.from_arrays(arrays)
    np.testing.assert_array_equal(
        again.vectorise_items(metas(items)), fitted.model.vectorise_items(metas(items))
    )


def test_training_and_serving_build_the_same_document() -> None:
    items = synthetic_catalog(6)
    assert item_texts(items) == [meta_text(m) for m in metas(items)]
    assert tokens(item_text("Red Coat", "winter wear", ["on sale"])) == [
        "red",
        "coat",
        "winter",
        "wear",
        "winter_wear",
        "on_sale",
    ]


def test_text_without_known_terms_gives_a_zero_vector() -> None:
    fitted = fit_content(synthetic_catalog(), dims=8)
    assert fitted.model is not None
    vector = fitted.model.vectorise(["zzz qqq"])
    assert vector.shape == (1, 8) and not vector.any()


def test_arrays_that_do_not_fit_are_refused() -> None:
    fitted = fit_content(synthetic_catalog(), dims=8)
    assert fitted.model is not None
    arrays = fitted.model.arrays()
    with pytest.raises(RegistryError, match="do not fit"):
        TextModel.from_arrays({**arrays, "idf": arrays["idf"][:-1]})


def test_a_catalog_too_small_for_svd_has_no_text_model() -> None:
    fitted = fit_content(synthetic_catalog(1), dims=8)
    assert fitted.model is None and len(fitted.ids) == 1
