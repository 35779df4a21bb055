"""POST /v1/events: validate everything, then publish keyed by user and wait for the acks."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.params import json_body
from api.routes.batch import batch_of, parse_all
from api.state import ApiState, state_of
from schemas.records import Interaction
from schemas.validate import parse_interaction

EVENTS_TOPIC = "events"
PURCHASE = "purchase"


async def post_events(request: Request) -> Response:
    """Accept one event or `{"events": [...]}`; nothing is published unless all are valid."""
    api = state_of(request)
    events = parse_all(batch_of(await json_body(request), "events"), parse_interaction)
    await publish_in_user_order(api, events)
    return JSONResponse({"accepted": len(events)}, status_code=202)


async def publish_in_user_order(api: ApiState, events: list[Interaction]) -> None:
    """Publish users concurrently, each user's events in request order."""
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for event in events:
        by_user[event.user_id].append(event)

    async def one_user(user_events: list[Interaction]) -> None:
        for event in user_events:
            await api.publish(EVENTS_TOPIC, event.user_id, event.dumps())
            if event.type == PURCHASE:
                api.pending.add(event.user_id, event.item_id)

    await asyncio.gather(*(one_user(group) for group in by_user.values()))
