"""HTTP load of the serve benchmark: wrk at saturation and at a fixed rate, /metrics scrapes."""

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


PACED_LUA = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } paced_timeval;
int gettimeofday(paced_timeval *tv, void *tz);
]]
local clock = ffi.new("paced_timeval")
local function now_ms()
  ffi.C.gettimeofday(clock, nil)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_usec) / 1000
end
due, late, latest = nil, 0, 0
delay = function()
  local now = now_ms()
  if due == nil then due = now end
  local wait = due - now
  due = due + interval_ms
  if wait < -1 then
    late = late + 1
    if -wait > latest then latest = -wait end
  end
  if wait < 0 then return 0 end
  return wait
end
threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local t = threads[1]
  io.write(string.format("late %d latest %.1f\\n", t:get("late"), t:get("latest")))
end
"""
"""Paces wrk's requests to one every `interval_ms` (set before it) on whichever connection is
free, and counts the requests sent over 1 ms after their turn (wrk times each request from its
send, so a late send hides that much of its wait)."""


def _paced_script(paths: list[str], rate: float) -> str:
    """A wrk Lua script sending `paths` in turn at `rate` requests/s; returns its file name."""
    name = _rotating_script(paths)
    with open(name, "a") as script:
        script.write(f"interval_ms = {1000.0 / rate!r}\n{PACED_LUA}")
    return name


def wrk_paced(
    port: int, paths: list[str], rate: float, seconds: float, connections: int
) -> dict[str, float]:
    """`wrk -t1` at a fixed `rate`: p50 and p99 in ms from wrk's latency distribution, the rate
    achieved, and the requests sent late (more than 1 ms after their turn: every connection was
    still busy) with the largest delay, since such a request's wait is not in its latency."""
    output = _run_wrk(_paced_script(paths, rate), port, seconds, connections)
    measured = _wrk_figures(output)
    late = re.search(r"^late (\d+) latest ([\d.]+)$", output, re.M)
    if late is None:
        raise RuntimeError(f"wrk's pacing script reported nothing:\n{output}")
    return {**measured, "late": float(late.group(1)), "latest_ms": float(late.group(2))}


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, paths: list[str], seconds: float, connections: int) -> dict[str, float]:
    """Saturation with `wrk -t1`: requests/s, p50 and p99 in ms (wrk's latency distribution),
    and the requests answered."""
    return _wrk_figures(_run_wrk(_rotating_script(paths), port, seconds, connections))


def _run_wrk(script: str, port: int, seconds: float, connections: int) -> str:
    """wrk's report of `wrk -t1` with Lua `script` (deleted after) against the server."""
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
    return output


def _wrk_figures(output: str) -> dict[str, float]:
    """Requests/s, answered requests, p50 and p99 in ms and timeouts from wrk's report."""
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
