"""Write model versions: artifacts into a staging directory, hashes into the manifest, then
one atomic rename, so a reader never sees a half-written version."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import ModelBundle
from models.rankers import CatBoostRanker
from models.registry import (
    ALS_ARRAYS,
    ALS_INDEX,
    CONTENT_ARRAYS,
    CONTENT_INDEX,
    CONTENT_MODEL,
    ITEM_ARRAYS,
    MANIFEST,
    RANKER,
    SEQUENCE_ARRAYS,
    STAGING_PREFIX,
    sha256_of,
)
from models.retrieval import AnnoyRetriever, Retriever, build_annoy
from models.sequence import to_arrays
from streamrec.errors import RegistryError


def _annoy(retriever: Retriever, metric: str) -> AnnoyRetriever:
    if isinstance(retriever, AnnoyRetriever):
        return retriever
    return build_annoy(retriever.vectors, metric)


def _similar(bundle: ModelBundle) -> dict[str, np.ndarray]:
    if bundle.similar_items is None or bundle.similar_scores is None:
        return {}
    return {"similar_items": bundle.similar_items, "similar_scores": bundle.similar_scores}


def _user_items(bundle: ModelBundle) -> dict[str, np.ndarray]:
    if bundle.user_items is None:
        return {}
    held = bundle.user_items
    return {
        "user_items_indptr": held.indptr.astype(np.int64),
        "user_items_indices": held.indices.astype(np.int32),
    }


def save_artifacts(bundle: ModelBundle, directory: Path) -> list[str]:
    """Write the bundle's arrays, indexes and ranker into `directory`; return the file names."""
    np.savez(
        directory / ALS_ARRAYS,
        allow_pickle=False,
        item_ids=bundle.item_ids.astype(str),
        user_ids=bundle.user_ids.astype(str),
        item_factors=bundle.item_factors,
        user_factors=bundle.user_factors,
        **_user_items(bundle),
    )
    item_arrays = {
        "popularity": bundle.popularity,
        "next_items": bundle.next_items,
        "next_scores": bundle.next_scores,
        **_similar(bundle),
    }
    np.savez(directory / ITEM_ARRAYS, allow_pickle=False, **item_arrays)
    np.savez(
        directory / CONTENT_ARRAYS,
        ids=bundle.content_ids.astype(str),
        vectors=bundle.content_vectors,
    )
    _annoy(bundle.als_retriever, "dot").save(directory / ALS_INDEX)
    names = [ALS_ARRAYS, ITEM_ARRAYS, CONTENT_ARRAYS, ALS_INDEX]
    if bundle.content_retriever is not None:
        _annoy(bundle.content_retriever, "angular").save(directory / CONTENT_INDEX)
        names.append(CONTENT_INDEX)
    if bundle.content_model is not None:
        np.savez(directory / CONTENT_MODEL, allow_pickle=False, **bundle.content_model.arrays())
        names.append(CONTENT_MODEL)
    if bundle.sequence is not None:
        np.savez(directory / SEQUENCE_ARRAYS, allow_pickle=False, **to_arrays(bundle.sequence))
        names.append(SEQUENCE_ARRAYS)
    if isinstance(bundle.ranker, CatBoostRanker):
        bundle.ranker.save(directory / RANKER)
        names.append(RANKER)
    return names


def version_name(files: dict[str, dict[str, str]], now: float) -> str:
    """UTC timestamp plus a short hash of the artifacts: sorts by time, unique per content."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:8]
    return f"{stamp}-{digest}"


def write_version(root: Path, bundle: ModelBundle, now: float | None = None) -> str:
    """Write `bundle` as a new version under `root` and return its name."""
    now = time.time() if now is None else now
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{STAGING_PREFIX}staging-{os.getpid()}-{time.monotonic_ns()}"
    staging.mkdir()
    try:
        names = save_artifacts(bundle, staging)
        files = {
            name: {
                "sha256": sha256_of(staging / name),
                "bytes": str((staging / name).stat().st_size),
            }
            for name in names
        }
        version = version_name(files, now)
        manifest: dict[str, Any] = {
            "version": version,
            "created_at": now,
            **bundle.manifest,
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        target = root / version
        if target.exists():
            raise RegistryError(f"{version}: version already exists")
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    bundle.version = version
    bundle.manifest = manifest
    return version
