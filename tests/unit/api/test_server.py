"""The served API over real sockets: HTTPS, forwarding over HTTPS, and read time limits."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.deps import ServingDeps
from api.forward import client_tls
from api.protocols import MAX_HEADER_BYTES, HttpToolsProtocol
from api.server import EmbeddedServer, server_config
from cli.embedded_broker import free_port
from models.types import HistoryItem, UserView
from streamrec.settings import Settings
from tests.unit.api.conftest import NOW, World, serve

pytestmark = pytest.mark.asyncio(loop_scope="function")
LIMIT_S = 0.5


@asynccontextmanager
async def running(deps: ServingDeps) -> AsyncIterator[int]:
    """uvicorn serving the app over `deps` on a free port, as the worker starts it."""
    settings = deps.settings
    server = EmbeddedServer(server_config(create_app(deps), settings))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield settings.api_port
    finally:
        server.should_exit = True
        await task


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private CA and a certificate it signed for 127.0.0.1 (openssl must be installed)."""
    assert shutil.which("openssl"), "the TLS tests need the openssl command"
    out = tmp_path_factory.mktemp("tls")
    ca, ca_key, cert, key, csr = (
        str(out / n) for n in ("ca.pem", "ca.key", "c.pem", "c.key", "c.csr")
    )
    subj = ["-nodes", "-newkey", "rsa:2048", "-subj"]
    _openssl("req", "-x509", *subj, "/CN=test-ca", "-keyout", ca_key, "-out", ca, "-days", "2")
    _openssl("req", *subj, "/CN=127.0.0.1", "-keyout", key, "-out", csr)
    extensions = Path(out / "san.cnf")
    extensions.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", str(extensions),
    )  # fmt: skip
    return {"tls_ca_file": ca, "tls_certfile": cert, "tls_keyfile": key}


def _tls_settings(certificates: dict[str, str]) -> Settings:
    return Settings(redis_url="", api_port=free_port(), forward_secret="s", **certificates)


async def test_with_a_certificate_the_worker_serves_https_only(
    world: World, certificates: dict[str, str]
) -> None:
    settings = _tls_settings(certificates)
    async with running(world.deps(settings=settings)) as port:
        async with httpx.AsyncClient(verify=client_tls(settings)) as client:
            secure = await client.get(f"https://127.0.0.1:{port}/health")
            with pytest.raises(httpx.HTTPError):
                await client.get(f"http://127.0.0.1:{port}/health")
        async with httpx.AsyncClient() as unverified:
            with pytest.raises(httpx.ConnectError):  # not signed by a CA the system trusts
                await unverified.get(f"https://127.0.0.1:{port}/health")
    assert secure.status_code == 200


async def test_requests_are_forwarded_over_https_verified_by_the_configured_ca(
    certificates: dict[str, str],
) -> None:
    owner_world = World()
    owner_world.users["u"] = UserView("u", history=(HistoryItem("drama-2", "view", NOW),))
    settings = _tls_settings(certificates)
    async with running(owner_world.deps(settings=settings)) as port:
        front = World().deps(settings=settings, owner=lambda _: f"https://127.0.0.1:{port}")
        async with serve(front) as client:
            answer = await client.get("/v1/users/u/history")
        assert front.http is not None  # the forwarding client, made with the CA
        await front.http.aclose()
    assert answer.status_code == 200
    assert answer.json()["items"][0]["item_id"] == "drama-2"


async def test_a_body_shorter_than_its_content_length_times_out_with_408(world: World) -> None:
    settings = Settings(
        redis_url="", api_port=free_port(), body_timeout_s=LIMIT_S, header_timeout_s=30
    )
    async with running(world.deps(settings=settings)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b'content-length: 100\r\n\r\n{"user_id":'
        )
        await writer.drain()
        started = time.perf_counter()
        answer = await asyncio.wait_for(reader.read(65536), 10)
        rest = await asyncio.wait_for(reader.read(65536), 10)
        elapsed = time.perf_counter() - started
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"request_timeout"' in answer
    assert rest == b""  # the connection is closed, not kept for the missing bytes
    assert LIMIT_S * 0.9 <= elapsed < LIMIT_S + 3, elapsed
    assert world.published == []


async def test_a_request_whose_headers_never_end_is_disconnected(world: World) -> None:
    settings = Settings(
        redis_url="", api_port=free_port(), body_timeout_s=30, header_timeout_s=LIMIT_S
    )
    async with running(world.deps(settings=settings)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        await writer.drain()
        started = time.perf_counter()
        closed = await asyncio.wait_for(reader.read(65536), 10)
        elapsed = time.perf_counter() - started
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        idle_closed = await asyncio.wait_for(idle_reader.read(65536), 10)
        writer.close()
        idle_writer.close()
    assert closed == b"" and idle_closed == b""
    assert elapsed < LIMIT_S + 3, elapsed


async def test_request_headers_over_the_size_limit_are_refused(world: World) -> None:
    settings = Settings(redis_url="", api_port=free_port())
    async with running(world.deps(settings=settings)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * MAX_HEADER_BYTES)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 10)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer


async def test_the_worker_parses_http_with_httptools() -> None:
    config = server_config(create_app(World().deps()), Settings(redis_url=""))
    assert issubclass(config.http, HttpToolsProtocol)  # type: ignore[arg-type]


async def test_keep_alive_answers_do_not_wait_for_the_clients_acknowledgement(
    world: World,
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # protocol 0: asyncio sets no TCP_NODELAY
    server = EmbeddedServer(server_config(create_app(world.deps()), Settings(redis_url="")))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        took = []
        for _ in range(7):
            started = time.perf_counter()
            writer.write(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(
                int(head.lower().split(b"content-length: ")[1].split(b"\r")[0])
            )
            took.append(time.perf_counter() - started)
        writer.close()
    finally:
        server.should_exit = True
        await task
    assert sorted(took)[3] < 0.02, took  # Nagle's delay behind a delayed ACK took 40 ms and more
