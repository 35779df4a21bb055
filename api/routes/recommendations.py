"""GET /v1/recommendations: experiment → cache → user state → pipeline → impression."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from api.cache import CachedPage, cache_key
from api.experiments import Assignment
from api.forward import forward_if_remote
from api.model_holder import ActiveModel
from api.params import only_query, query_count, query_id, query_list, query_text
from api.responses import FastJSONResponse
from api.state import ApiState, state_of
from models.serving import LivePools, PageQuery, ServingConfig, hydrate, recommend
from models.types import UserView
from schemas.records import Impression, ImpressionItem
from streamrec import topics
from streamrec.errors import RecsysError

ROUTE = "/v1/recommendations"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The parameters of one recommendation request."""

    user_id: str
    count: int
    exclude: frozenset[str]
    category: str | None


async def recommendations(request: Request) -> Response:
    """A page of recommendations for a user; unknown users get cold-start results."""
    api = state_of(request)
    only_query(request, "user_id", "count", "exclude", "category")
    wanted = PageRequest(
        query_id(request, "user_id"),
        query_count(request),
        query_list(request, "exclude"),
        query_text(request, "category"),
    )
    forwarded = await forward_if_remote(request, api, wanted.user_id, ROUTE)
    if forwarded is not None:
        return forwarded
    stored = api.deps.users(wanted.user_id) or UserView(wanted.user_id)
    user, pending = api.pending.overlay(stored)
    assignment = api.deps.experiments.assign(user.user_id)
    model, config, cache_version = _model_and_config(api, assignment)
    version = f"{user.version}+{','.join(pending)}" if pending else user.version
    key = cache_key(
        user.user_id, version, cache_version, wanted.count, wanted.exclude, wanted.category
    )
    page = await api.cache.get(key)
    if page is None:
        page = _serve(api, model, config, user, wanted, api.pools.current())
        await api.cache.put(key, page)
    request_id = str(uuid.uuid4())
    body = _body(request_id, user.user_id, model.version, assignment, page)
    impression = partial(_impression, request_id, user.user_id, model.version, assignment, page)
    return FastJSONResponse(body, background=BackgroundTask(_log_impression, api, impression))


def _model_and_config(
    api: ApiState, assignment: Assignment | None
) -> tuple[ActiveModel, ServingConfig, str]:
    if assignment is None:
        model = api.deps.models.current()
        return model, api.serving, model.version
    variant = assignment.variant
    model = api.deps.models.for_version(variant.model_version)
    config = api.serving.with_overrides(variant.config)
    tag = f"{model.version}~{assignment.experiment_id}.{variant.name}"
    return model, config, tag


def _serve(
    api: ApiState,
    model: ActiveModel,
    config: ServingConfig,
    user: UserView,
    wanted: PageRequest,
    pools: LivePools,
) -> CachedPage:
    deps = api.deps
    ctx = hydrate(
        model.bundle,
        user,
        deps.signals,
        deps.meta,
        now=deps.clock(),
        rng=deps.rng(),
        query=PageQuery(wanted.count, wanted.exclude, wanted.category),
        config=config,
        pools=pools,
        observe=api.metrics.observe_stage,
        live_content=deps.live_content.for_bundle(model.bundle),
    )
    page = recommend(ctx)
    return [
        {
            "item_id": r.item_id,
            "score": r.score,
            "source": r.source,
            "reason": {
                "type": r.reason.type,
                "text": r.reason.text,
                "anchor_item_id": r.reason.anchor_item_id,
            },
        }
        for r in page
    ]


def _body(
    request_id: str,
    user_id: str,
    model_version: str,
    assignment: Assignment | None,
    page: CachedPage,
) -> dict[str, Any]:
    experiment = (
        None
        if assignment is None
        else {"id": assignment.experiment_id, "variant": assignment.variant.name}
    )
    return {
        "request_id": request_id,
        "user_id": user_id,
        "model_version": model_version,
        "experiment": experiment,
        "items": [
            {"item_id": i["item_id"], "score": i["score"], "reason": i["reason"]} for i in page
        ],
    }


def _impression(
    request_id: str,
    user_id: str,
    model_version: str,
    assignment: Assignment | None,
    page: CachedPage,
    api: ApiState,
) -> Impression:
    return Impression(
        request_id=request_id,
        user_id=user_id,
        items=[
            ImpressionItem(item_id=i["item_id"], position=n, source=i["source"], score=i["score"])
            for n, i in enumerate(page)
        ],
        model_version=model_version,
        timestamp=api.deps.clock(),
        experiment_id=assignment.experiment_id if assignment else None,
        variant=assignment.variant.name if assignment else None,
    )


async def _log_impression(api: ApiState, build: Callable[[ApiState], Impression]) -> None:
    """Build and publish the impression once the response is sent (off the request's latency)."""
    impression = build(api)
    try:
        await api.publish(topics.IMPRESSIONS, impression.user_id, impression.dumps())
    except RecsysError as error:
        log.warning("impression %s not logged: %s", impression.request_id, error.message)
