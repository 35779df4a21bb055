"""The active model bundle, swapped atomically by reference so in-flight requests keep theirs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.records import ModelActivated

if TYPE_CHECKING:
    from models.bundle import ModelBundle

NO_MODEL = "none"
MANIFEST_KEYS: tuple[str, ...] = ("created_at", "window", "counts", "metrics", "policy", "timings")
BundleLoader = Callable[[str], "ModelBundle"]
VersionLister = Callable[[], Sequence[str]]
ManifestReader = Callable[[str], Mapping[str, Any]]


def _no_manifest(version: str) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """A snapshot of one loaded version and the default ranking overrides activated with it;
    a request holds it from start to finish."""

    version: str
    bundle: ModelBundle | None
    config: Mapping[str, float] = field(default_factory=dict)


class ModelHolder:
    """Holds the active bundle plus versions pinned by experiment variants."""

    def __init__(
        self,
        loader: BundleLoader,
        lister: VersionLister = tuple,
        manifest: ManifestReader = _no_manifest,
        verifier: Callable[[str], object] = _no_manifest,
    ) -> None:
        self.verify = verifier
        """Check a version's files (sha256 of each); raises when it must not be activated."""
        self.record: ModelActivated | None = None
        """The latest activation this holder applied (its history drives rollback)."""
        self.fallback: str | None = None
        """Why the active version is not the newest activated one, None when it is."""
        self._loader = loader
        self._lister = lister
        self._manifest = manifest
        self._active = ActiveModel(NO_MODEL, None)
        self.previous: str | None = None
        """The version served before the last swap to another one (what a rollback restores)."""
        self._pinned: dict[str, ActiveModel] = {}

    @classmethod
    def from_registry(cls, root: Path) -> ModelHolder:
        """A holder loading `root/<version>` through `models.registry`."""
        from models import registry

        return cls(
            lambda version: registry.load_bundle(root / version),
            lambda: registry.list_versions(root),
            lambda version: registry.read_manifest(root / version),
            lambda version: registry.verify(root / version),
        )

    def current(self) -> ActiveModel:
        """The active snapshot; later swaps never change a snapshot already taken."""
        return self._active

    @property
    def loaded(self) -> bool:
        """Whether a version has been activated."""
        return self._active.version != NO_MODEL

    def swap(
        self, bundle: ModelBundle | None, version: str, config: Mapping[str, float] | None = None
    ) -> ActiveModel:
        """Make `bundle` (with default overrides `config`) the active version in one reference
        assignment; return the previous."""
        previous = self._active
        self._active = ActiveModel(version, bundle, dict(config or {}))
        if previous.version not in (version, NO_MODEL):
            self.previous = previous.version
        return previous

    async def load_version(
        self,
        version: str,
        previous: str | None = None,
        config: Mapping[str, float] | None = None,
    ) -> ActiveModel:
        """Load `version` in a thread beside the active one, then swap to it with the default
        overrides `config`; `previous` is what the activation record says was active before
        (a restarted worker learns it so)."""
        if version == self._active.version and self.loaded:
            replaced = self._active
            self._active = replace(replaced, config=dict(config or {}))
            return replaced
        snapshot = self._pinned.get(version) or await self._load(version)
        replaced = self.swap(snapshot.bundle, version, config)
        if previous is not None and previous != version:
            self.previous = previous
        return replaced

    async def pin(self, version: str) -> ActiveModel:
        """Keep `version` loaded for experiment variants that name it."""
        if version not in self._pinned:
            active = self._active
            same = version == active.version and self.loaded
            self._pinned[version] = active if same else await self._load(version)
        return self.for_version(version)

    def has(self, version: str) -> bool:
        """Whether `version` is loaded (active or pinned)."""
        return version == self._active.version or version in self._pinned

    def retain(self, versions: set[str]) -> None:
        """Unpin every version not in `versions` (what running experiments still serve)."""
        for version in [v for v in self._pinned if v not in versions]:
            del self._pinned[version]

    def for_version(self, version: str | None) -> ActiveModel:
        """The snapshot of `version` when it is loaded, else the active one."""
        if version is None or version == self._active.version:
            return self._active
        return self._pinned.get(version, self._active)

    def loaded_models(self) -> list[ActiveModel]:
        """The active snapshot and every pinned one."""
        active = self._active
        return [active, *(m for v, m in self._pinned.items() if v != active.version)]

    def versions(self) -> list[str]:
        """Every version the registry holds."""
        return list(self._lister())

    def describe(self, version: str) -> dict[str, Any]:
        """What the version's manifest says of it: creation time, data window, counts, metrics."""
        try:
            manifest = self._manifest(version)
        except Exception as error:  # an incomplete or unreadable version is listed, not fatal
            return {"version": version, "error": str(error)}
        return {"version": version, **{key: manifest.get(key) for key in MANIFEST_KEYS}}

    async def _load(self, version: str) -> ActiveModel:
        bundle: Any = await asyncio.to_thread(self._loader, version)
        return ActiveModel(version, bundle)
