"""Reading a running worker from outside: its metrics, progress, memory and disk footprint."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from bench.common import metrics

POLL_S = 0.5
PHASE_TIMEOUT_S = 900.0


def scrape(url: str) -> str:
    """The worker's /metrics text ("" while it is not serving)."""
    try:
        return httpx.get(f"{url}/metrics", timeout=2).text
    except httpx.HTTPError:
        return ""


def applied(urls: list[str]) -> tuple[float, float]:
    """Events applied to user state and to item state, summed over workers."""
    texts = [scrape(url) for url in urls]
    name = "streamrec_events_processed_total"
    return sum(metrics.total(t, name, topic="events") for t in texts), sum(
        metrics.total(t, name, topic="item-signals") for t in texts
    )


def agent_cpu(urls: list[str]) -> float:
    """CPU seconds the actors spent in their own batch work, summed over agents and workers."""
    return sum(metrics.total(scrape(url), "streamrec_agent_cpu_seconds_total") for url in urls)


def watch(urls: list[str], total: int) -> dict[str, float]:
    """Poll until user and item tables applied `total` events; rate from the first progress."""
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    first: tuple[float, float] | None = None
    while time.monotonic() < deadline:
        users, items = applied(urls)
        now = time.monotonic()
        if first is None and users > 0:
            first = (now, users)
        if users >= total and items >= total and first is not None:
            return {
                "events_per_s": (total - first[1]) / (now - first[0]),
                "seconds": now - first[0],
                "agent_cpu_us": agent_cpu(urls) / total * 1e6,
            }
        time.sleep(POLL_S)
    raise TimeoutError(f"tables applied {applied(urls)} of {total} events")


def tail(log: Path, lines: int = 30) -> str:
    """The end of a child's log."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def du_bytes(path: Path, pattern: str = "*") -> int:
    """Disk blocks (as du counts them) of the files under the folders matching `pattern`, each
    file counted once however many matching folders hold it."""
    files: set[Path] = set()
    for match in path.rglob(pattern):
        files.update(match.rglob("*") if match.is_dir() else [match])
    return sum(file.stat().st_blocks * 512 for file in files if file.is_file())


def live_bytes(path: Path, table: str) -> int:
    """Bytes of the keys and values a stopped worker's table holds (no WAL, no old versions)."""
    from rocksdict import AccessType, Options, Rdict

    total = 0
    for folder in path.rglob(f"{table}-*.db"):
        db = Rdict(str(folder), Options(raw_mode=True), access_type=AccessType.read_only())
        pairs: Iterable[tuple[Any, Any]] = db.items()
        total += sum(len(key) + len(value) for key, value in pairs)
        db.close()
    return total


def lag_buckets(url: str) -> dict[float, float]:
    """Cumulative counts of the worker's apply-lag histogram, by upper bound."""
    return metrics.buckets(scrape(url), "streamrec_event_apply_lag_seconds")
