"""Reading request input: JSON bodies, path and query parameters; bad input raises 400/422."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from schemas.validate import MAX_ID_LENGTH, MAX_TEXT_LENGTH, require_id
from streamrec.errors import BadRequest, InvalidRecord

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_COUNT = 100
MAX_EXCLUDED = 500


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 400 when it is missing, too large or not JSON."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(f"body must be at most {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"body must be at most {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise BadRequest("a JSON body is required")
    try:
        return json.loads(body, parse_float=_number)
    except (ValueError, RecursionError) as error:  # undecodable, not JSON, or huge integers
        raise BadRequest(f"body is not valid JSON: {error}") from None


def _number(text: str) -> float | int:
    """JSON numbers with a zero fraction are integers (as JSON Schema counts them)."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def path_id(request: Request, name: str) -> str:
    """A path parameter validated as an id."""
    return require_id({name: request.path_params.get(name)}, name)


def only_query(request: Request, *names: str) -> None:
    """422 for a query parameter the route does not take (a typo must not be ignored silently)."""
    for name in request.query_params:
        if name not in names:
            allowed = ", ".join(names)
            raise InvalidRecord(name or "(empty name)", f"is not a parameter here; use {allowed}")


def query_id(request: Request, name: str) -> str:
    """A required query parameter validated as an id."""
    return require_id({name: request.query_params.get(name)}, name)


def query_count(request: Request, default: int = 10) -> int:
    """`count` in 1..100 (422 outside that range or when not an integer)."""
    raw = request.query_params.get("count")
    if raw is None:
        return default
    try:
        count = int(raw)
    except ValueError:
        raise InvalidRecord("count", "must be an integer") from None
    if not 1 <= count <= MAX_COUNT:
        raise InvalidRecord("count", f"must be between 1 and {MAX_COUNT}")
    return count


def query_list(request: Request, name: str) -> frozenset[str]:
    """A comma-separated list of ids (repeated parameters are joined)."""
    ids = {
        part.strip()
        for raw in request.query_params.getlist(name)
        for part in raw.split(",")
        if part.strip()
    }
    if len(ids) > MAX_EXCLUDED or any(len(i) > MAX_ID_LENGTH for i in ids):
        raise InvalidRecord(name, f"must list at most {MAX_EXCLUDED} ids of {MAX_ID_LENGTH} chars")
    return frozenset(ids)


def query_text(request: Request, name: str) -> str | None:
    """An optional short text parameter (empty means absent)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_TEXT_LENGTH:
        raise InvalidRecord(name, f"must be at most {MAX_TEXT_LENGTH} characters")
    return raw
