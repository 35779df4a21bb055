"""Experiments through the log: define, start, stop, promote, delete; each route returns once
this worker's view shows its change."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.activation import publish_activation, wait_active
from api.experiment_parse import parse_experiment, promoted_variant, unknown_versions
from api.experiments import Experiment, ExperimentBook
from api.params import json_body, path_id
from api.state import ApiState, state_of
from streamrec.errors import Conflict, InvalidRecord

STARTABLE = frozenset({"draft", "stopped"})
STOPPABLE = frozenset({"draft", "running"})
PROMOTABLE = frozenset({"running", "stopped"})


async def list_experiments(request: Request) -> Response:
    """Every experiment, oldest first."""
    experiments = state_of(request).deps.experiments.book().listed()
    return JSONResponse({"experiments": [e.to_json() for e in experiments]})


async def get_experiment(request: Request) -> Response:
    """One experiment."""
    api = state_of(request)
    experiment = api.deps.experiments.book().get(path_id(request, "experiment_id"))
    return JSONResponse(experiment.to_json())


async def create_experiment(request: Request) -> Response:
    """Define an experiment (running unless `"status": "draft"`); its variants' model versions
    must be in the registry, and a running one must not overlap another."""
    api = state_of(request)
    experiment = parse_experiment(await json_body(request), api.deps.clock())
    unknown_versions(experiment, api.deps.models.versions())
    book = api.deps.experiments.book()
    if experiment.id in book.experiments:
        raise Conflict(
            f"experiment {experiment.id!r} already exists",
            {"field": "id", "rule": "must be unique"},
        )
    written = await _write(api, experiment)
    return JSONResponse(written.to_json(), status_code=201)


async def start_experiment(request: Request) -> Response:
    """Run a draft or stopped experiment (409 when it would overlap a running one)."""
    api, experiment, body = await _target(request)
    _no_body(body)
    if experiment.status == "running":
        return JSONResponse(experiment.to_json())
    _require(experiment, STARTABLE, "start")
    try:
        unknown_versions(experiment, api.deps.models.versions())
    except InvalidRecord as error:
        raise Conflict(error.message, error.details) from None
    written = await _write(api, experiment.moved("running", api.deps.clock()))
    return JSONResponse(written.to_json())


async def stop_experiment(request: Request) -> Response:
    """Stop assigning users; tallies stay readable."""
    api, experiment, body = await _target(request)
    _no_body(body)
    if experiment.status == "stopped":
        return JSONResponse(experiment.to_json())
    _require(experiment, STOPPABLE, "stop")
    written = await _write(api, experiment.moved("stopped", api.deps.clock()))
    return JSONResponse(written.to_json())


async def promote_experiment(request: Request) -> Response:
    """Make a variant's model and ranking overrides the default (`{"variant": name}`) through
    the activation path of `POST /v1/models/{version}/activate`, and end the experiment; the
    answer says whether this worker already serves the new default (`activation.applied`)."""
    api, experiment, body = await _target(request)
    _require(experiment, PROMOTABLE, "promote")
    variant = promoted_variant(body, experiment)
    current = api.deps.models.current()
    if variant.model_version is None and not api.deps.models.loaded:
        raise Conflict(
            "no model is active to carry this variant's overrides; activate a version first",
            {"field": "variant", "variant": variant.name},
        )
    activation = await publish_activation(
        api,
        variant.model_version or current.version,
        {**current.config, **variant.config},
        promoted_from=f"{experiment.id}/{variant.name}",
    )
    activation["applied"] = await wait_active(api, activation["version"], activation["config"])
    moved = experiment.moved("promoted", api.deps.clock(), promoted=variant.name)
    written = await _write(api, moved)
    return JSONResponse(written.to_json() | {"activation": activation})


async def delete_experiment(request: Request) -> Response:
    """Delete an experiment (a tombstone); its users are served without it."""
    api, experiment, body = await _target(request)
    _no_body(body)
    book = await api.deps.experiments.write(experiment.id, None)
    if experiment.id in book.experiments:
        raise Conflict(f"experiment {experiment.id!r} was written again meanwhile")
    return JSONResponse({"id": experiment.id, "deleted": True})


async def _target(request: Request) -> tuple[ApiState, Experiment, Any]:
    """The state, the named experiment and the JSON body ({} when there is none)."""
    api = state_of(request)
    experiment_id = path_id(request, "experiment_id")
    body = await json_body(request) if (await request.body()).strip() else {}
    return api, api.deps.experiments.book().get(experiment_id), body


def _no_body(body: Any) -> None:
    if body != {}:
        raise InvalidRecord("body", "must be empty or {}")


def _require(experiment: Experiment, allowed: frozenset[str], action: str) -> None:
    if experiment.status not in allowed:
        raise Conflict(
            f"a {experiment.status} experiment cannot {action}; it must be "
            f"{' or '.join(sorted(allowed))}",
            {"field": "status", "status": experiment.status},
        )


async def _write(api: ApiState, experiment: Experiment) -> Experiment:
    """Publish `experiment` (refused when running would overlap) and return it as applied."""
    log = api.deps.experiments
    if experiment.status == "running":
        _no_overlap(log.book(), experiment)
    book = await log.write(experiment.id, experiment)
    applied = book.experiments.get(experiment.id)
    if applied is None or applied.revision != experiment.revision:
        raise Conflict(f"experiment {experiment.id!r} was written again meanwhile")
    if applied.status != experiment.status:
        # Another worker started an overlapping experiment first: the log keeps this one a draft.
        draft = applied.moved("draft", api.deps.clock())
        await log.write(draft.id, draft)
        _no_overlap(book, experiment)
    return applied


def _no_overlap(book: ExperimentBook, experiment: Experiment) -> None:
    conflict = book.overlap(experiment)
    if conflict is not None:
        raise conflict
