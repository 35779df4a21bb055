"""How experiments shape one request: the user's arms (none for an opted-out user), the model
and ranking configuration they make, and what the response and the impression say of them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.experiments import Assignment, Variant
from api.model_holder import ActiveModel
from api.state import ApiState
from models.serving import ServingConfig
from models.types import UserView
from schemas.records import ExperimentArm

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


@dataclass(frozen=True, slots=True)
class Treatment:
    """What serves one request: model, ranking configuration, experiments, and a cache tag."""

    model: ActiveModel
    config: ServingConfig
    assignments: tuple[Assignment, ...]
    tag: str


def treatment_for(api: ApiState, user: UserView) -> Treatment:
    """The default model and overrides, changed by each experiment arm the user falls into."""
    active = api.deps.models.current()
    config = api.serving.with_overrides(active.config)
    assignments = () if user.opted_out else _servable(api, user.user_id)
    model, parts = active, [active.version + config_tag(active.config)]
    for assignment in assignments:
        variant = assignment.variant
        if variant.model_version is not None:
            model = api.deps.models.for_version(variant.model_version)
        config = config.with_overrides(variant.config)
        experiment = assignment.experiment
        parts.append(f"{experiment.id}.{experiment.run_id}.{variant.name}")
    return Treatment(model, config, assignments, "~".join(parts))


def shadow_treatments(api: ApiState, treatment: Treatment) -> list[tuple[Assignment, Variant]]:
    """The shadow variants of the user's experiments whose model is loaded here."""
    found = []
    for assignment in treatment.assignments:
        for shadow in assignment.experiment.shadows:
            if _loaded(api, assignment, shadow):
                found.append((assignment, shadow))
    return found


def shadow_setup(api: ApiState, shadow: Variant) -> tuple[ActiveModel, ServingConfig]:
    """A shadow page's model and configuration: the defaults with the shadow's overrides."""
    active = api.deps.models.current()
    model = api.deps.models.for_version(shadow.model_version)
    return model, api.serving.with_overrides(active.config).with_overrides(shadow.config)


def config_tag(config: Mapping[str, float]) -> str:
    """A stable text of default overrides for cache keys ("" when there are none)."""
    return "".join(f"@{key}={config[key]}" for key in sorted(config))


def experiment_fields(assignments: tuple[Assignment, ...]) -> dict[str, Any]:
    """The response's `experiment` (the first arm, or null) and `experiments` (every arm)."""
    arms = [
        {"id": a.experiment.id, "variant": a.variant.name, "layer": a.experiment.layer}
        for a in assignments
    ]
    first = {"id": arms[0]["id"], "variant": arms[0]["variant"]} if arms else None
    return {"experiment": first, "experiments": arms}


def arm_records(assignments: tuple[Assignment, ...]) -> list[ExperimentArm]:
    """The impression's record of every arm."""
    return [
        ExperimentArm(
            experiment_id=a.experiment.id,
            variant=a.variant.name,
            run_id=a.experiment.run_id,
            layer=a.experiment.layer,
        )
        for a in assignments
    ]


def _servable(api: ApiState, user_id: str) -> tuple[Assignment, ...]:
    """The user's arms whose model is loaded on this worker (others are skipped: serving a
    variant with another model would mislabel the page)."""
    arms = api.deps.experiments.book().assign(user_id)
    return tuple(a for a in arms if _loaded(api, a, a.variant))


def _loaded(api: ApiState, assignment: Assignment, variant: Variant) -> bool:
    version = variant.model_version
    if version is None or api.deps.models.has(version):
        return True
    key = (assignment.experiment.id, version)
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "experiment %s: model %s of variant %s is not loaded here; its users are served "
            "without the experiment",
            assignment.experiment.id,
            version,
            variant.name,
        )
    return False
