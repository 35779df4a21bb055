"""The one exception handler: every failure becomes `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from streamrec.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    NotReady,
    RateLimited,
    RecsysError,
    RequestTimeout,
    Unauthorized,
)

log = logging.getLogger(__name__)
DEFAULT_RETRY_AFTER_S = 1
RETRY_STATUSES = frozenset({429, 503})
CLOSING_STATUSES = frozenset({408})


class MethodNotAllowed(RecsysError):
    """Raised when a route exists but not for the request's method."""

    status = 405
    code = "method_not_allowed"


HTTP_ERRORS: dict[int, type[RecsysError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    408: RequestTimeout,
    429: RateLimited,
    503: NotReady,
}


def as_recsys_error(error: Exception) -> tuple[RecsysError, Mapping[str, str]]:
    """Our error for any exception, with the HTTP headers that must accompany it."""
    if isinstance(error, RecsysError):
        return error, {}
    if isinstance(error, HTTPException):
        kind = HTTP_ERRORS.get(error.status_code, BadRequest)
        return kind(str(error.detail)), dict(error.headers or {})
    log.exception("unhandled error", exc_info=error)
    return RecsysError("internal error"), {}


def retry_after(error: RecsysError) -> int:
    """Seconds a client should wait before retrying a 429 or 503."""
    details = error.details if isinstance(error.details, Mapping) else {}
    value = details.get("retry_after", DEFAULT_RETRY_AFTER_S)
    return max(1, int(value)) if isinstance(value, int | float) else DEFAULT_RETRY_AFTER_S


class ErrorResponse(JSONResponse):
    """JSON with every non-ASCII character escaped, so echoed input can never fail to encode."""

    def render(self, content: Any) -> bytes:
        """The body bytes."""
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(error: RecsysError, headers: Mapping[str, str] | None = None) -> Response:
    """The JSON error response of `error`."""
    merged = dict(headers or {})
    if error.status in RETRY_STATUSES:
        merged["Retry-After"] = str(retry_after(error))
    if error.status in CLOSING_STATUSES:
        merged["Connection"] = "close"
    return ErrorResponse(error.to_json(), status_code=error.status, headers=merged)


async def handle_error(request: Request, error: Exception) -> Response:
    """Map any raised exception to the error body of the contract."""
    recsys_error, headers = as_recsys_error(error)
    return error_response(recsys_error, headers)
