"""uvicorn's HTTP protocols with read limits on request headers: a deadline and a size.

A connection whose request headers are not complete within `header_timeout_s` of connecting or
of the previous response is closed; headers over MAX_HEADER_BYTES get 431. The httptools
parser (C) is used where it is installed, h11 (pure Python) otherwise. Every connection sends
without Nagle's delay: uvicorn writes a response's head and body apart, and on a socket that
asyncio did not mark TCP (one handed to uvicorn, made with protocol 0) the body waited for the
client's delayed acknowledgement, 40 ms and more per keep-alive request.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from api.held_head import HeldHead

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 serves alone
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

MAX_HEADER_BYTES = 64 * 1024
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8"
    b"\r\ncontent-length: 33\r\nconnection: close\r\n\r\nRequest header fields too large.\n"
)


class HeaderDeadline:
    """Closes the connection when no new request's headers completed within
    `header_timeout_s` of connecting or of the previous response (keep-alive)."""

    header_timeout_s = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def _no_delay(self, transport: asyncio.BaseTransport) -> None:
        """Send each write at once (TCP_NODELAY) on TCP sockets."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _arm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._expire, self.cycle)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()

    def _expire(self, waiting_after: Any) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()


class HeaderDeadlineProtocol(HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline (h11 bounds the header size itself)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Send without delay and start the first request's header deadline."""
        super().connection_made(transport)
        self._no_delay(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the pending deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        """Start the next request's header deadline (keep-alive)."""
        super().on_response_complete()
        if self.cycle is None or self.cycle.response_complete:
            self._arm()


def _httptools_protocol() -> type[Any] | None:
    """uvicorn's httptools protocol with the header deadline and size limit (None without
    httptools)."""
    if HttpToolsProtocol is None:
        return None

    class HeaderLimitedHttpTools(HeaderDeadline, HttpToolsProtocol):  # type: ignore[misc, valid-type]
        """httptools parsing, the header deadline, and 431 past MAX_HEADER_BYTES of headers."""

        _header_bytes: int | None = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            """Send without delay and start the first request's header deadline."""
            super().connection_made(transport)
            self._no_delay(transport)
            self._header_bytes = 0
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            """Drop the pending deadline with the connection."""
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            """Count the bytes of headers still incomplete, then parse."""
            if self._header_bytes is not None:
                self._header_bytes += len(data)
                if self._header_bytes > MAX_HEADER_BYTES:
                    self.transport.write(TOO_LARGE)
                    self.transport.close()
                    return
            super().data_received(data)

        def on_headers_complete(self) -> None:
            """The headers are in: stop counting them; the response's head will leave with
            its body (`HeldHead`)."""
            self._header_bytes = None
            super().on_headers_complete()
            cycle, held = self.cycle, HeldHead(self.transport)
            cycle.transport, completed = held, cycle.on_response

            def on_response() -> None:  # a head still held leaves when its response ends
                held.flush()
                completed()

            cycle.on_response = on_response

        def on_response_complete(self) -> None:
            """Start the next request's header deadline and count (keep-alive)."""
            super().on_response_complete()
            if self.cycle is None or self.cycle.response_complete:
                self._header_bytes = 0
                self._arm()

    return HeaderLimitedHttpTools


def header_deadline_protocol(timeout_s: float, parser: str = "auto") -> type[Any]:
    """The protocol class with its header timeout set: httptools where installed (`auto`,
    `httptools`), else h11."""
    fast = _httptools_protocol() if parser in ("auto", "httptools") else None
    if parser == "httptools" and fast is None:
        raise RuntimeError("httptools is not installed")
    base = fast or HeaderDeadlineProtocol
    return type("HeaderDeadline", (base,), {"header_timeout_s": timeout_s})
