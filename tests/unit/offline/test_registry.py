"""Registry: versions round-trip, and corrupted or incomplete ones are refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from catboost import CatBoost, CatBoostError

from models.rankers import CatBoostRanker
from models.registry import (
    ALS_ARRAYS,
    ALS_INDEX,
    CONTENT_MODEL,
    MANIFEST,
    list_versions,
    load_bundle,
    sha256_of,
)
from offline.registry import write_version
from offline.synthetic import blocks
from offline.train import FittedModel, TrainParams, fit
from offline.views import meta_lookup
from streamrec.errors import RegistryError


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    events, items = blocks(groups=2, users_per_group=20, items_per_group=15)
    params = TrainParams(factors=8, iterations=5, ranker_iterations=10, ranker_threads=1)
    return fit(events, items, params, progress=False)


def test_written_version_loads_with_the_same_factors_and_ranker(
    fitted: FittedModel, tmp_path: Path
) -> None:
    version = write_version(tmp_path, fitted.bundle)
    loaded = load_bundle(tmp_path / version)
    assert list_versions(tmp_path) == [version]
    assert np.array_equal(loaded.item_factors, fitted.bundle.item_factors)
    assert loaded.ranker is not None and loaded.content_retriever is not None
    row = loaded.item_index["g0-i3"]
    assert set(loaded.als_retriever.by_item(row, 5)[0]) == set(
        fitted.bundle.als_retriever.by_item(row, 5)[0]
    )


def test_a_loaded_version_knows_each_user_s_training_items(
    fitted: FittedModel, tmp_path: Path
) -> None:
    loaded = load_bundle(tmp_path / write_version(tmp_path, fitted.bundle))
    assert fitted.bundle.user_items is not None and loaded.user_items is not None
    assert (loaded.user_items != fitted.bundle.user_items).nnz == 0


def test_a_changed_file_is_refused_naming_it(fitted: FittedModel, tmp_path: Path) -> None:
    version = write_version(tmp_path, fitted.bundle)
    with (tmp_path / version / ALS_ARRAYS).open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(RegistryError, match=ALS_ARRAYS):
        load_bundle(tmp_path / version)


def test_a_missing_file_is_refused_naming_it(fitted: FittedModel, tmp_path: Path) -> None:
    version = write_version(tmp_path, fitted.bundle)
    (tmp_path / version / ALS_INDEX).unlink()
    with pytest.raises(RegistryError, match=ALS_INDEX):
        load_bundle(tmp_path / version)


def test_the_text_model_is_saved_hashed_and_vectorises_as_training_did(
    fitted: FittedModel, tmp_path: Path
) -> None:
    version = write_version(tmp_path, fitted.bundle)
    entry = json.loads((tmp_path / version / MANIFEST).read_text())["files"][CONTENT_MODEL]
    assert entry["sha256"] == sha256_of(tmp_path / version / CONTENT_MODEL)
    loaded = load_bundle(tmp_path / version)
    assert loaded.content_model is not None
    ids = loaded.content_names
    catalog = meta_lookup(blocks(groups=2, users_per_group=20, items_per_group=15)[1])
    online = loaded.content_model.vectorise_items([catalog[i] for i in ids])
    np.testing.assert_allclose(online, loaded.content_vectors, atol=1e-5)


def test_a_version_written_before_the_text_model_still_loads(
    fitted: FittedModel, tmp_path: Path
) -> None:
    version = write_version(tmp_path, fitted.bundle)
    manifest_path = tmp_path / version / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    del manifest["files"][CONTENT_MODEL]
    manifest_path.write_text(json.dumps(manifest))
    (tmp_path / version / CONTENT_MODEL).unlink()
    loaded = load_bundle(tmp_path / version)
    assert loaded.content_model is None and loaded.content_retriever is not None


def test_a_version_without_manifest_is_incomplete(tmp_path: Path) -> None:
    (tmp_path / "20250101T000000Z-deadbeef").mkdir()
    with pytest.raises(RegistryError, match=MANIFEST):
        load_bundle(tmp_path / "20250101T000000Z-deadbeef")


def test_a_failed_write_leaves_no_version_behind(fitted: FittedModel, tmp_path: Path) -> None:
    bundle = fitted.bundle
    trained = bundle.ranker
    bundle.ranker = CatBoostRanker(CatBoost())  # an untrained model cannot be saved
    try:
        with pytest.raises(CatBoostError):
            write_version(tmp_path, bundle)
    finally:
        bundle.ranker = trained
    assert list_versions(tmp_path) == []
    assert list(tmp_path.iterdir()) == []
