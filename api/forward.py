"""Forwarding user-keyed reads to the worker that owns the user's partition, signed."""

from __future__ import annotations

import ssl

import httpx
from starlette.requests import Request
from starlette.responses import Response

from api.signing import FORWARDED_HEADER, canonical_target, sign, verified_forward
from api.state import ApiState
from streamrec.errors import NotReady
from streamrec.settings import Settings

FORWARD_TIMEOUT_S = 2.0
PASSED_HEADERS = ("authorization", "accept", "x-request-id")
RETURNED_HEADERS = ("content-type", "retry-after")


async def forward_if_remote(
    request: Request, api: ApiState, user_id: str, route: str
) -> Response | None:
    """The owner's response when another worker owns `user_id`, None to answer locally."""
    if verified_forward(request):
        return None
    base = api.deps.owner(user_id)
    if base is None:
        return None
    api.metrics.forwarded.labels(route=route).inc()
    query = list(request.query_params.multi_items())
    answer = await forward_get(request, api, base, request.url.path, query)
    kept = {k: v for k, v in answer.headers.items() if k.lower() in RETURNED_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


async def forward_get(
    request: Request,
    api: ApiState,
    base: str,
    path: str,
    query: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    """GET `path` from the worker at `base` with the client's credentials, signed as a
    forward; an unreachable worker is NotReady (503)."""
    query = query or []
    headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_HEADERS}
    if api.deps.settings.forward_secret:
        target = canonical_target(path, query)
        headers[FORWARDED_HEADER] = sign(
            api.deps.settings.forward_secret, "GET", target, b"", api.deps.clock()
        )
    try:
        return await _client(api).get(
            base.rstrip("/") + path, params=tuple(query), headers=headers, timeout=FORWARD_TIMEOUT_S
        )
    except httpx.HTTPError as error:
        raise NotReady(
            f"the worker at {base} is unreachable: {error}", {"owner": base, "retry_after": 1}
        ) from None


def client_tls(settings: Settings) -> ssl.SSLContext | bool:
    """How forwarding verifies an HTTPS owner: the configured CA, else the system's."""
    if settings.tls_ca_file:
        return ssl.create_default_context(cafile=settings.tls_ca_file)
    return True


def _client(api: ApiState) -> httpx.AsyncClient:
    if api.deps.http is None:
        api.deps.http = httpx.AsyncClient(verify=client_tls(api.deps.settings))
    return api.deps.http
