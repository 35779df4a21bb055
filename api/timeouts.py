"""The time limit on reading a request's body (ASGI middleware); headers: api.protocols."""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamrec.errors import RequestTimeout


class BodyDeadline:
    """ASGI middleware: the whole body must arrive within `timeout_s` of the first read."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with a `receive` that gives up at the deadline."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline: float | None = None
        complete = False

        async def timed_receive() -> Message:
            nonlocal deadline, complete
            if complete:
                return await receive()
            now = time.monotonic()
            deadline = now + self.timeout_s if deadline is None else deadline
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - now))
            except TimeoutError:
                raise RequestTimeout(
                    f"the request body did not arrive within {self.timeout_s:g} s",
                    {"timeout_s": self.timeout_s},
                ) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)
