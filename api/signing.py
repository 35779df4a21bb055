"""HMAC-SHA256 signatures of requests one worker forwards to another.

The signature covers the method, the path and query, a timestamp and the body's SHA-256, so a
signed request cannot be altered or replayed later than `max_age_s`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote

from starlette.requests import Request

from streamrec.settings import Settings

FORWARDED_HEADER = "x-streamrec-forwarded"
SCHEME = "v1"


def canonical_target(path: str, query: Iterable[tuple[str, str]]) -> str:
    """The path and decoded query items in one encoding both sides agree on."""
    items = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    return f"{quote(path, safe='/')}?{items}"


def _digest(secret: str, method: str, target: str, timestamp: str, body: bytes) -> str:
    message = "\n".join((method.upper(), target, timestamp, hashlib.sha256(body).hexdigest()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, method: str, target: str, body: bytes, now: float) -> str:
    """The forwarded-header value `v1:<timestamp>:<signature>`."""
    timestamp = f"{now:.3f}"
    return f"{SCHEME}:{timestamp}:{_digest(secret, method, target, timestamp, body)}"


def verify(
    secret: str, header: str, method: str, target: str, body: bytes, now: float, max_age_s: float
) -> bool:
    """Whether `header` signs this request with `secret` and is at most `max_age_s` old."""
    if not secret:
        return False
    scheme, _, rest = header.partition(":")
    timestamp, _, signature = rest.partition(":")
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if scheme != SCHEME or not abs(now - sent) <= max_age_s:
        return False
    expected = _digest(secret, method, target, timestamp, body)
    return hmac.compare_digest(expected, signature)


async def check_forwarded(request: Request, settings: Settings, now: float) -> bool:
    """Whether the request carries a valid signature of a fellow worker (remembered on the
    request); without one the header is ignored and the request is treated as a client's."""
    header = request.headers.get(FORWARDED_HEADER)
    verified = header is not None and verify(
        settings.forward_secret,
        header,
        request.method,
        canonical_target(request.url.path, request.query_params.multi_items()),
        await request.body(),
        now,
        settings.forward_max_age_s,
    )
    request.state.forward_verified = verified
    return verified


def verified_forward(request: Request) -> bool:
    """Whether `check_forwarded` verified this request."""
    return bool(getattr(request.state, "forward_verified", False))
