"""A user's short-term history, consent changes and erasure."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.forward import forward_if_remote
from api.params import json_body, path_id
from api.state import state_of
from schemas.validate import parse_user_command
from streamrec import topics
from streamrec.errors import InvalidRecord, NotFound

HISTORY_ROUTE = "/v1/users/{user_id}/history"


async def history(request: Request) -> Response:
    """The interactions held for the user, newest first."""
    api = state_of(request)
    user_id = path_id(request, "user_id")
    forwarded = await forward_if_remote(request, api, user_id, HISTORY_ROUTE)
    if forwarded is not None:
        return forwarded
    user = api.deps.users(user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} has no history here")
    items = [
        {"item_id": h.item_id, "type": h.type, "timestamp": h.timestamp, "value": h.value}
        for h in sorted(user.history, key=lambda h: h.timestamp, reverse=True)
    ]
    return JSONResponse(
        {
            "user_id": user_id,
            "opted_out": user.opted_out,
            "version": user.version,
            "counts": dict(user.counts),
            "items": items,
        }
    )


async def put_consent(request: Request) -> Response:
    """Opt a user out of (or back into) personalisation and event storage."""
    api = state_of(request)
    user_id = path_id(request, "user_id")
    body = await json_body(request)
    opted_out = body.get("opted_out") if isinstance(body, dict) else None
    if not isinstance(opted_out, bool):
        raise InvalidRecord("opted_out", "must be true or false")
    command = "opt_out" if opted_out else "opt_in"
    record = parse_user_command(
        {"user_id": user_id, "command": command, "timestamp": api.deps.clock()}
    )
    await api.publish(topics.USERS, user_id, record.dumps())
    return JSONResponse({"user_id": user_id, "opted_out": opted_out}, status_code=202)


async def erase_user(request: Request) -> Response:
    """Erase a user's state from every table."""
    api = state_of(request)
    user_id = path_id(request, "user_id")
    record = parse_user_command(
        {"user_id": user_id, "command": "erase", "timestamp": api.deps.clock()}
    )
    await api.publish(topics.USERS, user_id, record.dumps())
    return JSONResponse({"user_id": user_id, "erased": True}, status_code=202)
