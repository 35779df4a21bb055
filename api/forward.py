"""Forwarding user-keyed reads to the worker that owns the user's partition."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response

from api.state import ApiState
from streamrec.errors import NotReady

FORWARDED_HEADER = "x-streamrec-forwarded"
FORWARD_TIMEOUT_S = 2.0
PASSED_HEADERS = ("authorization", "accept", "x-request-id")
RETURNED_HEADERS = ("content-type", "retry-after")


async def forward_if_remote(
    request: Request, api: ApiState, user_id: str, route: str
) -> Response | None:
    """The owner's response when another worker owns `user_id`, None to answer locally."""
    if request.headers.get(FORWARDED_HEADER):
        return None
    base = api.deps.owner(user_id)
    if base is None:
        return None
    api.metrics.forwarded.labels(route=route).inc()
    headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_HEADERS}
    headers[FORWARDED_HEADER] = "1"
    url = base.rstrip("/") + request.url.path
    try:
        answer = await _client(api).get(
            url,
            params=list(request.query_params.multi_items()),
            headers=headers,
            timeout=FORWARD_TIMEOUT_S,
        )
    except httpx.HTTPError as error:
        raise NotReady(
            f"the owner of this user is unreachable: {error}", {"owner": base, "retry_after": 1}
        ) from None
    kept = {k: v for k, v in answer.headers.items() if k.lower() in RETURNED_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


def _client(api: ApiState) -> httpx.AsyncClient:
    if api.deps.http is None:
        api.deps.http = httpx.AsyncClient()
    return api.deps.http
