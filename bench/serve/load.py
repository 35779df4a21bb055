"""HTTP load of the serve benchmark: wrk at saturation, a fixed-rate open loop, /metrics scrapes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

from bench.common.stats import percentile

HOST = "127.0.0.1"
DRAIN_LIMIT_S, DRAIN_QUIET_MS = 120.0, 20.0


class Connection:
    """One keep-alive HTTP/1.1 connection; `get` returns (status, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, path: str) -> tuple[int, bytes]:
        """One request and its whole answer."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"(?i)content-length: *(\d+)", head)
        body = await self.reader.readexactly(int(match.group(1)) if match else 0)
        return int(head[9:12]), body


async def _connections(port: int, count: int) -> asyncio.Queue[Connection]:
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(count):
        idle.put_nowait(Connection(*await asyncio.open_connection(HOST, port)))
    return idle


async def fixed_rate(
    port: int, paths: list[str], rate: float, seconds: float, connections: int
) -> dict[str, float]:
    """Open loop at `rate`: latency from each request's scheduled start to its last byte.

    Requests still unanswered `seconds` after the last was due are abandoned and counted at
    the latency they had reached (so an overloaded server shows, and the run stays bounded).
    """
    idle = await _connections(port, connections)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0

    async def one(path: str, scheduled: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status, _ = await connection.get(path)
            errors += status != 200
        finally:
            idle.put_nowait(connection)
        latencies.append(loop.time() - scheduled)

    start = loop.time() + 0.05
    tasks: list[tuple[float, asyncio.Task[None]]] = []
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        tasks.append((scheduled, asyncio.create_task(one(paths[n % len(paths)], scheduled))))
    await asyncio.wait([task for _, task in tasks], timeout=seconds)
    ended = loop.time()
    abandoned = [ended - scheduled for scheduled, task in tasks if not task.done()]
    for _, task in tasks:
        task.cancel()
    await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
    while not idle.empty():
        idle.get_nowait().writer.close()
    answered = len(latencies)
    waited = latencies + abandoned
    return {
        "p50_ms": percentile(waited, 0.5) * 1000,
        "p95_ms": percentile(waited, 0.95) * 1000,
        "p99_ms": percentile(waited, 0.99) * 1000,
        "errors": errors,
        "abandoned": len(abandoned),
        "achieved_rps": answered / (ended - start),
    }


def page_paths(users: list[str]) -> list[str]:
    """Recommendation requests for every user, in a fixed shuffled order."""
    order = list(users)
    random.Random(0).shuffle(order)
    return [f"/v1/recommendations?user_id={user}&count=10" for user in order]


async def warm_up(port: int, paths: list[str]) -> None:
    """First requests (the first one sweeps the catalog into pools); each page must be full."""
    connection = (await _connections(port, 1)).get_nowait()
    for path in paths:
        status, body = await connection.get(path)
        if status != 200 or len(json.loads(body)["items"]) != 10:
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")


def ensure_wrk() -> str:
    """The path of `wrk`, installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit(
            "the serve benchmark needs wrk: install it with 'sudo apt-get install wrk'"
        )
    print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("apt-get installed wrk, yet it is not on PATH")
    return found


def _rotating_script(paths: list[str]) -> str:
    """A wrk Lua script sending `paths` in turn; returns its file name."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\ncounter = 0\n")
        script.write("request = function()\n  counter = counter + 1\n")
        script.write('  return wrk.format("GET", paths[(counter % #paths) + 1])\nend\n')
    return script.name


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, paths: list[str], seconds: float, connections: int) -> dict[str, float]:
    """Saturation with `wrk -t1`: requests/s, p50 and p99 in ms (wrk's latency distribution),
    and the requests answered."""
    script = _rotating_script(paths)
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
    try:
        output = subprocess.run(
            [*command, "-s", script, f"http://{HOST}:{port}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None or re.search(r"Non-2xx", output):
        raise RuntimeError(f"wrk failed or saw errors:\n{output}")
    latency = {
        int(q): _milliseconds(v, u)
        for q, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    timeouts = re.search(r"timeout (\d+)", output)
    answered = re.search(r"(\d+) requests in", output)
    return {
        "rps": float(rate.group(1)),
        "requests": float(answered.group(1)) if answered else 0.0,
        "p50_ms": latency[50],
        "p99_ms": latency[99],
        "timeouts": float(timeouts.group(1)) if timeouts else 0.0,
    }


async def scrape(port: int) -> str:
    """The server's /metrics text."""
    connection = (await _connections(port, 1)).get_nowait()
    try:
        status, body = await connection.get("/metrics")
    finally:
        connection.writer.close()
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return body.decode()


async def drain(port: int) -> float:
    """Wait until the server answers /health within DRAIN_QUIET_MS three times running (requests
    an overloaded run abandoned are still queued there); return the seconds waited."""
    connection = (await _connections(port, 1)).get_nowait()
    started = time.perf_counter()
    quiet = 0
    try:
        while quiet < 3 and time.perf_counter() - started < DRAIN_LIMIT_S:
            sent = time.perf_counter()
            await connection.get("/health")
            took_ms = (time.perf_counter() - sent) * 1000
            quiet = quiet + 1 if took_ms < DRAIN_QUIET_MS else 0
            await asyncio.sleep(0.05)
    finally:
        connection.writer.close()
    return time.perf_counter() - started
