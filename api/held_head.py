"""A response's head and body in one write: uvicorn writes the status line and headers apart
from the body, and without Nagle's delay (`api.protocols`) each write leaves as its own segment,
the kernel's work on the local connection counted in the server's CPU per request."""

from __future__ import annotations

import asyncio
from typing import Any

SIZED = b"\r\ncontent-length: "


class HeldHead:
    """The connection's transport, except that the head of a response with a content-length
    waits for its first body bytes (or the response's end) and leaves with them."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold a sized response's head; send anything else, after the held head."""
        raw = bytes(data)
        if not self._head and raw.startswith(b"HTTP/1.1 2") and SIZED in raw:
            self._head = raw
            return
        if self._head:
            raw, self._head = self._head + raw, b""
        self._transport.write(raw)

    def flush(self) -> None:
        """Send a held head now (a response without body bytes, as to HEAD)."""
        if self._head:
            head, self._head = self._head, b""
            self._transport.write(head)

    def close(self) -> None:
        """Send a held head, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
