"""Experiments and model versions."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.experiments import parse_experiment
from api.params import json_body, path_id
from api.state import state_of
from schemas.records import ModelActivated
from streamrec import topics
from streamrec.errors import NotFound, RegistryError
from tables.experiments import VariantTally, variant_metrics

log = logging.getLogger(__name__)


async def list_experiments(request: Request) -> Response:
    """Every experiment, oldest first."""
    experiments = state_of(request).deps.experiments.list()
    return JSONResponse({"experiments": [e.to_json() for e in experiments]})


async def create_experiment(request: Request) -> Response:
    """Define a new experiment; variants naming a model version get it loaded."""
    api = state_of(request)
    experiment = parse_experiment(await json_body(request), api.deps.clock())
    api.deps.experiments.create(experiment)
    for variant in experiment.variants:
        if variant.model_version is not None:
            await _pin(request, variant.model_version)
    return JSONResponse(experiment.to_json(), status_code=201)


async def _pin(request: Request, version: str) -> None:
    try:
        await state_of(request).deps.models.pin(version)
    except RegistryError as error:
        log.warning("variant model %s not loaded, serving the active one: %s", version, error)


async def experiment_metrics(request: Request) -> Response:
    """Per-variant CTR, conversion, lift and p-value against the control."""
    api = state_of(request)
    experiment = api.deps.experiments.get(path_id(request, "experiment_id"))
    tallies = api.deps.tallies(experiment.id)
    ordered = {v.name: tallies.get(v.name) or VariantTally() for v in experiment.variants}
    control = experiment.variants[0].name
    metrics = variant_metrics(ordered, control=control)
    return JSONResponse(
        {
            "experiment_id": experiment.id,
            "control": control,
            "variants": [m.to_json() for m in metrics.values()],
        }
    )


async def list_models(request: Request) -> Response:
    """Versions in the registry with what their manifests say, the active and previous one."""
    models = state_of(request).deps.models
    versions = models.versions()
    return JSONResponse(
        {
            "active": models.current().version,
            "previous": models.previous,
            "versions": versions,
            "details": [models.describe(version) for version in versions],
        }
    )


async def activate_model(request: Request) -> Response:
    """Publish ModelActivated; every worker loads the version and swaps to it."""
    api = state_of(request)
    version = path_id(request, "version")
    if version not in api.deps.models.versions():
        raise NotFound(f"model version {version!r} is not in the registry")
    previous = api.deps.models.current().version
    record = ModelActivated(version=version, activated_at=api.deps.clock(), previous=previous)
    await api.publish(topics.MODEL_UPDATES, topics.MODEL_UPDATES_KEY, record.dumps())
    return JSONResponse({"version": version, "previous": previous}, status_code=202)
