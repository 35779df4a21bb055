"""GET /v1/recommendations: experiment → cache → user state → pipeline → impression."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from api.cache import CachedPage, cache_key
from api.experiment_serving import (
    Treatment,
    arm_records,
    experiment_fields,
    shadow_setup,
    shadow_treatments,
    treatment_for,
)
from api.forward import forward_if_remote
from api.model_holder import ActiveModel
from api.params import only_query, query_count, query_id, query_list, query_text
from api.responses import FastJSONResponse
from api.state import ApiState, state_of
from models.serving import LivePools, PageQuery, ServingConfig, hydrate, recommend
from models.types import UserView
from schemas.records import Impression, ImpressionItem, ShadowPage
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
    truth = await api.truth.read(wanted.user_id)
    stored = api.deps.users(wanted.user_id) or UserView(wanted.user_id)
    user, pending = api.pending.overlay(truth.overlay(stored) if truth else stored)
    chosen = treatment_for(api, user)
    version = f"{user.version}+{','.join(pending)}" if pending else str(user.version)
    key = None
    if truth is not None:
        key = cache_key(
            user.user_id,
            f"{version}:{truth.tag}",
            chosen.tag,
            wanted.count,
            wanted.exclude,
            wanted.category,
        )
    page = None
    if key is not None:
        page = await api.cache.get(key)
    else:
        api.cache.unavailable()
    if page is None:
        page = _serve(api, chosen.model, chosen.config, user, wanted, api.pools.current())
        if key is not None:
            await api.cache.put(key, page)
    request_id = str(uuid.uuid4())
    body = _body(request_id, user.user_id, chosen, page)
    served = Served(request_id, user, wanted, api.pools.current, chosen, page)
    return FastJSONResponse(body, background=BackgroundTask(_log_impression, api, served))


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


def _body(request_id: str, user_id: str, chosen: Treatment, page: CachedPage) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "user_id": user_id,
        "model_version": chosen.model.version,
        **experiment_fields(chosen.assignments),
        "items": [
            {"item_id": i["item_id"], "score": i["score"], "reason": i["reason"]} for i in page
        ],
    }


@dataclass(frozen=True, slots=True)
class Served:
    """One answered request, for its impression record."""

    request_id: str
    user: UserView
    wanted: PageRequest
    pools: Callable[[], LivePools]
    treatment: Treatment
    page: CachedPage


def _items(page: CachedPage) -> list[ImpressionItem]:
    return [
        ImpressionItem(item_id=i["item_id"], position=n, source=i["source"], score=i["score"])
        for n, i in enumerate(page)
    ]


def _shadow_pages(api: ApiState, served: Served) -> list[ShadowPage]:
    """The page each shadow variant of the user's experiments would have shown."""
    pages = []
    for assignment, shadow in shadow_treatments(api, served.treatment):
        model, config = shadow_setup(api, shadow)
        page = _serve(api, model, config, served.user, served.wanted, served.pools())
        pages.append(
            ShadowPage(
                experiment_id=assignment.experiment.id,
                variant=shadow.name,
                model_version=model.version,
                items=_items(page),
                run_id=assignment.experiment.run_id,
            )
        )
    return pages


def _impression(api: ApiState, served: Served) -> Impression:
    arms = arm_records(served.treatment.assignments)
    return Impression(
        request_id=served.request_id,
        user_id=served.user.user_id,
        items=_items(served.page),
        model_version=served.treatment.model.version,
        timestamp=api.deps.clock(),
        experiment_id=arms[0].experiment_id if arms else None,
        variant=arms[0].variant if arms else None,
        experiments=arms or None,
        shadow=_shadow_pages(api, served) or None,
    )


async def _log_impression(api: ApiState, served: Served) -> None:
    """Build (shadow pages included) and publish the impression once the response is sent,
    off the request's latency."""
    impression = _impression(api, served)
    try:
        await api.publish(topics.IMPRESSIONS, impression.user_id, impression.dumps())
    except RecsysError as error:
        log.warning("impression %s not logged: %s", impression.request_id, error.message)
