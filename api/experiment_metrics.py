"""Experiment metrics the same from every worker: this worker's share of the tallies plus every
other worker's (asked through signed forwards), checked to cover each partition once."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.experiment_report import report
from api.experiments import Experiment
from api.forward import forward_get
from api.params import only_query, path_id
from api.state import ApiState, state_of
from streamrec.errors import NotReady
from tables.variant_sums import TallyShard, merge_shards


async def experiment_metrics(request: Request) -> Response:
    """Per-variant user-level metrics with 95% intervals, the SRM check and notices."""
    api = state_of(request)
    only_query(request)
    experiment = api.deps.experiments.book().get(path_id(request, "experiment_id"))
    shards = [local_shard(api, experiment), *await _remote_shards(request, api, experiment)]
    merged = merge_shards(shards)
    _check_coverage(merged, api.deps.settings.partitions)
    return JSONResponse(report(experiment, merged.variants, merged.timelines))


async def experiment_tallies(request: Request) -> Response:
    """This worker's share: the variants' sums over the partitions it owns."""
    api = state_of(request)
    only_query(request)
    experiment = api.deps.experiments.book().get(path_id(request, "experiment_id"))
    return JSONResponse(local_shard(api, experiment).to_json())


def local_shard(api: ApiState, experiment: Experiment) -> TallyShard:
    """The sums this worker holds (every partition when the API runs without a worker)."""
    if api.deps.tallies is None:
        return TallyShard(tuple(range(api.deps.settings.partitions)))
    return api.deps.tallies(experiment)


async def _remote_shards(
    request: Request, api: ApiState, experiment: Experiment
) -> list[TallyShard]:
    others = [w for w in api.deps.workers() if not w.get("self") and w.get("partitions")]
    path = f"/v1/experiments/{experiment.id}/tallies"
    return list(await asyncio.gather(*(_fetch(request, api, str(w["url"]), path) for w in others)))


async def _fetch(request: Request, api: ApiState, base: str, path: str) -> TallyShard:
    answer = await forward_get(request, api, base, path)
    if answer.status_code != 200:
        raise NotReady(
            f"the worker at {base} could not give its tallies ({answer.status_code})",
            {"worker": base, "retry_after": 1},
        )
    try:
        return TallyShard.from_json(answer.json())
    except (ValueError, KeyError, TypeError) as error:
        raise NotReady(f"the worker at {base} gave unreadable tallies: {error!r}") from None


def _check_coverage(merged: TallyShard, partitions: int) -> None:
    held = list(merged.partitions)
    if held != list(range(partitions)):
        missing = sorted(set(range(partitions)) - set(held))
        twice = sorted({p for p in held if held.count(p) > 1})
        raise NotReady(
            "the tallies of some partitions are not available while partitions move; retry",
            {"missing": missing, "held_twice": twice, "retry_after": 1},
        )
