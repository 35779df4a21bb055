"""A/B experiments as folded from the `experiments` topic: definitions, layers, assignment.

Every worker folds the whole topic into an `ExperimentBook`. At most one experiment runs per
layer; experiments of different layers run at once on independent hashes of the user, and
must not touch the same serving parameter (the model version or a ranking key).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any

from streamrec.errors import Conflict, NotFound

DEFAULT_LAYER = "default"
STATUSES: tuple[str, ...] = ("draft", "running", "stopped", "promoted")
MODEL_PARAMETER = "model_version"
NO_CONFIG: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm: its share of users, the model version it serves and ranking overrides; a shadow
    variant gets no users and its page is only computed and logged."""

    name: str
    weight: float = 1.0
    model_version: str | None = None
    config: Mapping[str, float] = field(default_factory=dict)
    shadow: bool = False


@dataclass(frozen=True, slots=True)
class Experiment:
    """One experiment as the log last described it."""

    id: str
    variants: tuple[Variant, ...]
    description: str = ""
    status: str = "running"
    created_at: float = 0.0
    layer: str = DEFAULT_LAYER
    run_id: str = ""
    revision: str = ""
    updated_at: float = 0.0
    promoted: str | None = None

    @property
    def live(self) -> tuple[Variant, ...]:
        """The variants users are assigned to (not shadow)."""
        return tuple(v for v in self.variants if not v.shadow)

    @property
    def shadows(self) -> tuple[Variant, ...]:
        """The shadow variants."""
        return tuple(v for v in self.variants if v.shadow)

    @property
    def control(self) -> str:
        """The first assigned variant, the baseline of every comparison."""
        return self.live[0].name

    def variant(self, name: str) -> Variant | None:
        """The variant called `name`, if any."""
        return next((v for v in self.variants if v.name == name), None)

    def parameters(self) -> frozenset[str]:
        """The serving parameters the assigned variants change."""
        touched = {key for v in self.live for key in v.config}
        if any(v.model_version for v in self.live):
            touched.add(MODEL_PARAMETER)
        return frozenset(touched)

    def model_versions(self) -> set[str]:
        """Every model version a variant (shadow included) names."""
        return {v.model_version for v in self.variants if v.model_version}

    def moved(self, status: str, now: float, promoted: str | None = None) -> Experiment:
        """A copy in `status`, written now under a new revision."""
        return replace(self, status=status, updated_at=now, revision=new_id(), promoted=promoted)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form of the experiments routes."""
        data = asdict(self)
        data["variants"] = [asdict(v) | {"config": dict(v.config)} for v in self.variants]
        return data


@dataclass(frozen=True, slots=True)
class Assignment:
    """The variant of one running experiment a user falls into."""

    experiment: Experiment
    variant: Variant

    @property
    def experiment_id(self) -> str:
        """The experiment's id."""
        return self.experiment.id


def new_id() -> str:
    """A fresh random id (runs and revisions)."""
    return uuid.uuid4().hex[:16]


def bucket(layer: str, experiment_id: str, user_id: str) -> float:
    """A stable number in [0, 1) from (layer, experiment, user); the same on every worker."""
    digest = hashlib.sha256(f"{layer}\x1f{experiment_id}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_variant(experiment: Experiment, user_id: str) -> Variant:
    """The assigned variant whose cumulative weight range holds the user's bucket."""
    live = experiment.live
    point = bucket(experiment.layer, experiment.id, user_id) * sum(v.weight for v in live)
    for variant in live:
        point -= variant.weight
        if point < 0:
            return variant
    return live[-1]


@dataclass(frozen=True, slots=True)
class ExperimentBook:
    """Every experiment the log holds, by id; a new book per applied record."""

    experiments: Mapping[str, Experiment] = field(default_factory=dict)

    def listed(self) -> list[Experiment]:
        """Every experiment, oldest first."""
        return sorted(self.experiments.values(), key=lambda e: (e.created_at, e.id))

    def get(self, experiment_id: str) -> Experiment:
        """One experiment, or NotFound."""
        experiment = self.experiments.get(experiment_id)
        if experiment is None:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        return experiment

    def running(self) -> list[Experiment]:
        """The running experiments, by layer."""
        found = (e for e in self.experiments.values() if e.status == "running")
        return sorted(found, key=lambda e: (e.layer, e.id))

    def assign(self, user_id: str) -> tuple[Assignment, ...]:
        """The user's variant in each running experiment (one per layer)."""
        return tuple(Assignment(e, assign_variant(e, user_id)) for e in self.running())

    def model_versions(self) -> set[str]:
        """The model versions running experiments serve."""
        return {version for e in self.running() for version in e.model_versions()}

    def overlap(self, experiment: Experiment) -> Conflict | None:
        """Why `experiment` may not run beside the running ones (None when it may)."""
        for other in self.running():
            if other.id == experiment.id:
                continue
            if other.layer == experiment.layer:
                return Conflict(
                    f"experiment {other.id!r} is running in layer {other.layer!r}; stop it or "
                    "declare this experiment in another layer",
                    {"field": "layer", "layer": other.layer, "conflicts_with": other.id},
                )
            shared = sorted(other.parameters() & experiment.parameters())
            if shared:
                return Conflict(
                    f"experiment {other.id!r} (layer {other.layer!r}) already changes "
                    f"{', '.join(shared)}; layers must change different parameters",
                    {"field": "variants", "parameters": shared, "conflicts_with": other.id},
                )
        return None

    def applied(self, experiment_id: str, experiment: Experiment | None) -> ExperimentBook:
        """The book after one record: None deletes; a running experiment that overlaps one
        already running is kept as a draft (the log's order decides races between workers)."""
        kept = dict(self.experiments)
        if experiment is None:
            kept.pop(experiment_id, None)
            return ExperimentBook(kept)
        if experiment.status == "running" and self.overlap(experiment) is not None:
            experiment = replace(experiment, status="draft")
        kept[experiment_id] = experiment
        return ExperimentBook(kept)
