"""Validating experiment bodies: `POST /v1/experiments` and `POST .../promote`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Any

from api.experiments import DEFAULT_LAYER, Experiment, Variant, new_id
from models.serving import ServingConfig
from schemas.text import check_clean, printable
from streamrec.errors import Conflict, InvalidRecord

ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ID_RULE = "must be 1-64 characters of letters, digits, _ . -"
CONFIG_KEYS = frozenset(f.name for f in fields(ServingConfig)) - {
    "candidate_limit",
    "consumed_types",
}
MAX_CONFIG_VALUE = 1e7
MAX_VARIANTS = 10
CREATE_STATUSES = ("draft", "running")
BODY_KEYS = frozenset({"id", "description", "status", "layer", "variants"})
VARIANT_KEYS = frozenset({"name", "weight", "model_version", "config", "shadow"})


def parse_experiment(raw: Any, now: float) -> Experiment:
    """Validate a new experiment (the body of POST /v1/experiments)."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord("experiment", "must be a JSON object")
    _only(raw, BODY_KEYS, "")
    experiment_id = _identifier(raw.get("id"), "id")
    description = raw.get("description", "")
    if not isinstance(description, str) or len(description) > 1024:
        raise InvalidRecord("description", "must be a string of at most 1024 characters")
    check_clean(description, "description", free_text=True)
    status = raw.get("status", "running")
    if status not in CREATE_STATUSES:
        raise InvalidRecord("status", f"must be one of {', '.join(CREATE_STATUSES)}")
    layer = _identifier(raw.get("layer", DEFAULT_LAYER), "layer")
    return Experiment(
        experiment_id,
        _variants(raw.get("variants")),
        description,
        status,
        created_at=now,
        layer=layer,
        run_id=new_id(),
        revision=new_id(),
        updated_at=now,
    )


def unknown_versions(experiment: Experiment, known: Collection[str]) -> None:
    """422 naming the first variant whose model version is not in the registry."""
    for index, variant in enumerate(experiment.variants):
        if variant.model_version is not None and variant.model_version not in known:
            raise InvalidRecord(
                f"variants[{index}].model_version",
                f"variant {variant.name!r} names model version {variant.model_version!r}, "
                "which is not in the registry",
            )


def promoted_variant(raw: Any, experiment: Experiment) -> Variant:
    """The variant a promote body names (`{"variant": name}`)."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord("body", "must be a JSON object")
    _only(raw, frozenset({"variant"}), "")
    name = _identifier(raw.get("variant"), "variant")
    variant = experiment.variant(name)
    if variant is None:
        names = ", ".join(v.name for v in experiment.variants)
        raise InvalidRecord("variant", f"must be a variant of {experiment.id!r}: {names}")
    return variant


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidRecord(where, ID_RULE)
    return value


def _only(raw: Mapping[Any, Any], allowed: frozenset[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            name = f"{where}{printable(str(key))}"
            raise InvalidRecord(name, f"is not a field here; use {', '.join(sorted(allowed))}")


def _variants(raw: Any) -> tuple[Variant, ...]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_VARIANTS:
        raise InvalidRecord("variants", f"must be a list of 2 to {MAX_VARIANTS} variants")
    variants = tuple(_variant(index, item) for index, item in enumerate(raw))
    if len({v.name for v in variants}) != len(variants):
        raise Conflict(
            "variant names must be unique", {"field": "variants", "rule": "unique names"}
        )
    if all(v.shadow for v in variants):
        raise InvalidRecord("variants", "at least one variant must not be a shadow")
    return variants


def _variant(index: int, raw: Any) -> Variant:
    where = f"variants[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidRecord(where, "must be a JSON object")
    _only(raw, VARIANT_KEYS, f"{where}.")
    name = _identifier(raw.get("name"), f"{where}.name")
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1e6:
        raise InvalidRecord(f"{where}.weight", "must be a positive number up to 1e6")
    version = raw.get("model_version")
    if version is not None:
        version = _identifier(version, f"{where}.model_version")
    shadow = raw.get("shadow", False)
    if not isinstance(shadow, bool):
        raise InvalidRecord(f"{where}.shadow", "must be true or false")
    config = _config(where, raw.get("config", {}))
    return Variant(name, float(weight), version, config, shadow)


def _config(where: str, raw: Any) -> dict[str, float]:
    if raw is None:
        return {}
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
