"""POST /v1/events: validate everything, then publish keyed by user and wait for the acks."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.params import json_body
from api.routes.batch import batch_of, parse_all, serialised
from api.state import ApiState, state_of
from schemas.records import Interaction
from schemas.validate import parse_interaction
from streamrec import topics

PURCHASE = "purchase"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A validated event and its serialised form, ready to publish."""

    event: Interaction
    payload: bytes


async def post_events(request: Request) -> Response:
    """Accept one event or `{"events": [...]}`; every event is validated and serialised before
    the first is published, so an invalid one means nothing is published."""
    api = state_of(request)
    received_at = api.deps.clock()

    def prepare(raw: Any) -> Outgoing:
        event = parse_interaction(raw, api.limits, received_at)
        return Outgoing(event, serialised(event))

    outgoing = parse_all(batch_of(await json_body(request), "events"), prepare)
    await publish_in_user_order(api, outgoing)
    return JSONResponse({"accepted": len(outgoing)}, status_code=202)


async def publish_in_user_order(api: ApiState, outgoing: list[Outgoing]) -> None:
    """Publish users concurrently, each user's events in request order."""
    by_user: dict[str, list[Outgoing]] = defaultdict(list)
    for item in outgoing:
        by_user[item.event.user_id].append(item)

    async def one_user(user_events: list[Outgoing]) -> None:
        for item in user_events:
            event = item.event
            await api.publish(topics.EVENTS, event.user_id, item.payload)
            if event.type == PURCHASE:
                api.pending.add(event.user_id, event.item_id)

    await asyncio.gather(*(one_user(group) for group in by_user.values()))
