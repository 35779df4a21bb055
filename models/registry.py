"""Read model versions from the registry: `registry/<version>/manifest.json` plus artifacts.

The manifest lists every artifact with its sha256; a version whose files are missing or do
not match is refused with RegistryError naming the file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import ModelBundle, user_items_of
from models.content_text import TextModel
from models.rankers import CatBoostRanker
from models.retrieval import load_annoy
from models.sequence import SequenceModel, from_arrays
from models.weights import EventWeighting
from streamrec.errors import RegistryError

MANIFEST = "manifest.json"
ALS_ARRAYS = "als.npz"
ITEM_ARRAYS = "items.npz"
CONTENT_ARRAYS = "content.npz"
ALS_INDEX = "als.ann"
CONTENT_INDEX = "content.ann"
CONTENT_MODEL = "content_model.npz"
"""TF-IDF terms and idf, SVD components (optional: older versions have none)."""
SEQUENCE_ARRAYS = "sequence.npz"
"""Next-item weights from ordered recent items (optional: older versions have none)."""
RANKER = "ranker.cbm"
REQUIRED_FILES: tuple[str, ...] = (ALS_ARRAYS, ITEM_ARRAYS, CONTENT_ARRAYS, ALS_INDEX)
STAGING_PREFIX = "."


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """The parsed manifest of a version directory."""
    path = version_dir / MANIFEST
    if not path.is_file():
        raise RegistryError(f"{version_dir.name}: {MANIFEST} is missing (incomplete version)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RegistryError(f"{version_dir.name}/{MANIFEST}: not valid JSON ({error})") from None
    if not isinstance(manifest.get("files"), dict):
        raise RegistryError(f"{version_dir.name}/{MANIFEST}: no 'files' table")
    return manifest


def verify(version_dir: Path) -> dict[str, Any]:
    """Check every listed file exists with its sha256; return the manifest."""
    manifest = read_manifest(version_dir)
    files: dict[str, Any] = manifest["files"]
    for name in REQUIRED_FILES:
        if name not in files:
            raise RegistryError(f"{version_dir.name}: manifest does not list {name} (incomplete)")
    for name, entry in files.items():
        path = version_dir / name
        if not path.is_file():
            raise RegistryError(f"{version_dir.name}/{name}: file is missing")
        if sha256_of(path) != entry.get("sha256"):
            raise RegistryError(f"{version_dir.name}/{name}: sha256 does not match the manifest")
    return manifest


def list_versions(root: Path) -> list[str]:
    """Version names in the registry, oldest first (names sort by their UTC timestamp)."""
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(STAGING_PREFIX) and (p / MANIFEST).is_file()
    )


def _arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, KeyError) as error:
        raise RegistryError(f"{path.name}: unreadable arrays ({error})") from None


def _content_model(path: Path, manifest: dict[str, Any]) -> TextModel | None:
    """The version's text model; None for versions written before it was saved."""
    if CONTENT_MODEL not in manifest["files"]:
        return None
    try:
        return TextModel.from_arrays(_arrays(path / CONTENT_MODEL))
    except RegistryError as error:
        raise RegistryError(f"{path.name}/{CONTENT_MODEL}: {error.message}") from None


def _sequence(path: Path, manifest: dict[str, Any]) -> SequenceModel | None:
    """The version's sequence model; None for versions written without one."""
    if SEQUENCE_ARRAYS not in manifest["files"]:
        return None
    try:
        return from_arrays(_arrays(path / SEQUENCE_ARRAYS))
    except KeyError as error:
        raise RegistryError(f"{path.name}/{SEQUENCE_ARRAYS}: lacks the array {error}") from None


def load_bundle(path: Path) -> ModelBundle:
    """Load a verified version directory; Annoy indexes are memory-mapped."""
    manifest = verify(path)
    als, items, content = (_arrays(path / n) for n in (ALS_ARRAYS, ITEM_ARRAYS, CONTENT_ARRAYS))
    params = manifest.get("parameters", {})
    try:
        content_retriever = (
            load_annoy(path / CONTENT_INDEX, content["vectors"], "angular")
            if CONTENT_INDEX in manifest["files"]
            else None
        )
        return ModelBundle(
            version=str(manifest.get("version", path.name)),
            item_ids=als["item_ids"],
            user_ids=als["user_ids"],
            item_factors=als["item_factors"],
            user_factors=als["user_factors"],
            user_items=user_items_of(als, len(als["item_ids"])),
            regularization=float(params.get("regularization", 0.05)),
            alpha=float(params.get("alpha", 1.0)),
            popularity=items["popularity"],
            next_items=items["next_items"],
            next_scores=items["next_scores"],
            similar_items=items.get("similar_items"),
            similar_scores=items.get("similar_scores"),
            content_ids=content["ids"],
            content_vectors=content["vectors"],
            als_retriever=load_annoy(path / ALS_INDEX, als["item_factors"], "dot"),
            content_retriever=content_retriever,
            content_model=_content_model(path, manifest),
            sequence=_sequence(path, manifest),
            ranker=CatBoostRanker.load(path / RANKER) if RANKER in manifest["files"] else None,
            weighting=EventWeighting(**params.get("weighting", {})),
            manifest=manifest,
        )
    except KeyError as error:
        raise RegistryError(f"{path.name}: an artifact lacks the array {error}") from None
