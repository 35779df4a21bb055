"""A/B experiments: definitions kept in a JSON file, stable assignment of users to variants."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from models.serving import ServingConfig
from schemas.text import check_clean, printable
from streamrec.errors import Conflict, InvalidRecord, NotFound

ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CONFIG_KEYS = frozenset(f.name for f in fields(ServingConfig)) - {"candidate_limit"}
MAX_CONFIG_VALUE = 1e7
MAX_VARIANTS = 10


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm: its share of users, the model version it serves and ranking overrides."""

    name: str
    weight: float = 1.0
    model_version: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Experiment:
    """A running or stopped experiment over every user (one running experiment at a time)."""

    id: str
    variants: tuple[Variant, ...]
    description: str = ""
    status: str = "running"
    created_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form of the experiments routes."""
        data = asdict(self)
        data["variants"] = [asdict(v) | {"config": dict(v.config)} for v in self.variants]
        return data


@dataclass(frozen=True, slots=True)
class Assignment:
    """The experiment and variant one user falls into."""

    experiment_id: str
    variant: Variant


def bucket(experiment_id: str, user_id: str) -> float:
    """A stable number in [0, 1) from (experiment, user); the same on every worker."""
    digest = hashlib.sha256(f"{experiment_id}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_variant(experiment: Experiment, user_id: str) -> Variant:
    """The variant whose cumulative weight range holds the user's bucket."""
    point = bucket(experiment.id, user_id) * sum(v.weight for v in experiment.variants)
    for variant in experiment.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return experiment.variants[-1]


class ExperimentStore:
    """Experiments held in memory and persisted to one JSON file (None: memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._experiments: dict[str, Experiment] = {}
        if path is not None and path.is_file():
            for raw in json.loads(path.read_text()):
                experiment = parse_experiment(raw, float(raw.get("created_at", 0.0)))
                self._experiments[experiment.id] = experiment

    def list(self) -> list[Experiment]:
        """Every experiment, oldest first."""
        return sorted(self._experiments.values(), key=lambda e: (e.created_at, e.id))

    def get(self, experiment_id: str) -> Experiment:
        """One experiment, or NotFound."""
        experiment = self._experiments.get(experiment_id)
        if experiment is None:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        return experiment

    def create(self, experiment: Experiment) -> Experiment:
        """Add a new experiment and persist; an existing id is refused."""
        with self._lock:
            if experiment.id in self._experiments:
                raise Conflict(
                    f"experiment {experiment.id!r} already exists",
                    {"field": "id", "rule": "must be unique"},
                )
            self._experiments[experiment.id] = experiment
            self._save()
        return experiment

    def assign(self, user_id: str) -> Assignment | None:
        """The user's variant in the oldest running experiment, None when none runs."""
        running = [e for e in self.list() if e.status == "running"]
        if not running:
            return None
        return Assignment(running[0].id, assign_variant(running[0], user_id))

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        staging = self._path.with_suffix(".tmp")
        staging.write_text(json.dumps([e.to_json() for e in self.list()], indent=2))
        os.replace(staging, self._path)


def parse_experiment(raw: Any, created_at: float) -> Experiment:
    """Validate a raw experiment definition (the body of POST /v1/experiments)."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord("experiment", "must be a JSON object")
    experiment_id = raw.get("id")
    if not isinstance(experiment_id, str) or not ID_PATTERN.fullmatch(experiment_id):
        raise InvalidRecord("id", "must be 1-64 characters of letters, digits, _ . -")
    description = raw.get("description", "")
    if not isinstance(description, str) or len(description) > 1024:
        raise InvalidRecord("description", "must be a string of at most 1024 characters")
    check_clean(description, "description", free_text=True)
    status = raw.get("status", "running")
    if status not in ("running", "stopped"):
        raise InvalidRecord("status", "must be running or stopped")
    return Experiment(
        experiment_id, _variants(raw.get("variants")), description, status, created_at
    )


def _variants(raw: Any) -> tuple[Variant, ...]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_VARIANTS:
        raise InvalidRecord("variants", f"must be a list of 2 to {MAX_VARIANTS} variants")
    variants = tuple(_variant(index, item) for index, item in enumerate(raw))
    if len({v.name for v in variants}) != len(variants):
        raise Conflict(
            "variant names must be unique", {"field": "variants", "rule": "unique names"}
        )
    return variants


def _variant(index: int, raw: Any) -> Variant:
    where = f"variants[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidRecord(where, "must be a JSON object")
    name = raw.get("name")
    if not isinstance(name, str) or not ID_PATTERN.fullmatch(name):
        raise InvalidRecord(f"{where}.name", "must be 1-64 characters of letters, digits, _ . -")
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1e6:
        raise InvalidRecord(f"{where}.weight", "must be a positive number")
    version = raw.get("model_version")
    if version is not None and (not isinstance(version, str) or not ID_PATTERN.fullmatch(version)):
        raise InvalidRecord(f"{where}.model_version", "must be a version name or null")
    return Variant(name, float(weight), version, _config(where, raw.get("config", {})))


def _config(where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidRecord(f"{where}.config", "must be a JSON object")
    for key, value in raw.items():
        if key not in CONFIG_KEYS:
            raise InvalidRecord(
                f"{where}.config.{printable(str(key))}", f"must be one of {sorted(CONFIG_KEYS)}"
            )
        if not isinstance(value, int | float) or not 0 <= value <= MAX_CONFIG_VALUE:
            raise InvalidRecord(f"{where}.config.{key}", "must be a non-negative number or bool")
    return dict(raw)
