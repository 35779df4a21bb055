"""JSON responses encoded by orjson (compact UTF-8, as Starlette's JSONResponse writes them)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """A JSONResponse whose body orjson encodes (NaN and infinities become null)."""

    def render(self, content: Any) -> bytes:
        """The body bytes of `content`."""
        return orjson.dumps(content)
