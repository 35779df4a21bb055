"""A response's head leaves with its body in one write; heads without a size, informational
heads and heads of bodiless responses are never kept back."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

from api.app import create_app
from api.held_head import HeldHead
from api.server import EmbeddedServer, server_config
from streamrec.settings import Settings
from tests.unit.api.conftest import World

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n"


class Recorder:
    """A transport that records its writes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def _held() -> tuple[HeldHead, Recorder]:
    recorder = Recorder()
    return HeldHead(cast(Any, recorder)), recorder


def test_a_sized_head_leaves_with_its_body() -> None:
    held, recorder = _held()
    held.write(HEAD)
    assert recorder.writes == []
    held.write(b"{}")
    assert recorder.writes == [HEAD + b"{}"]
    assert not held.is_closing()  # everything else is the transport's


def test_unsized_and_informational_heads_leave_at_once() -> None:
    held, recorder = _held()
    chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    held.write(chunked)
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert recorder.writes == [chunked, b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_a_held_head_leaves_on_flush_and_on_close() -> None:
    held, recorder = _held()
    held.write(HEAD)
    held.flush()
    held.write(HEAD)
    held.close()
    assert recorder.writes == [HEAD, HEAD]
    assert recorder.closed


async def _exchange(port: int, request: bytes, answers: int) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    found = []
    for _ in range(answers):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        size = int(head.lower().split(b"content-length: ")[1].split(b"\r")[0])
        found.append(head + (b"" if b"HEAD" in request[:4] else await reader.readexactly(size)))
    writer.close()
    return found


async def test_get_head_and_pipelined_requests_are_answered(world: World) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    server = EmbeddedServer(server_config(create_app(world.deps()), Settings(redis_url="")))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    port = listener.getsockname()[1]
    try:
        get = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"
        (one,) = await _exchange(port, get, 1)
        (head,) = await _exchange(port, b"HEAD /health HTTP/1.1\r\nhost: x\r\n\r\n", 1)
        both = await _exchange(port, get + get, 2)
    finally:
        server.should_exit = True
        await task
    assert one.startswith(b"HTTP/1.1 200") and one.endswith(b"}")
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
    assert both == [one, one]
