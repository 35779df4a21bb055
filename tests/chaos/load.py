"""A steady mixed load on one worker from a thread: events, recommendations and histories,
every answer's status kept."""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

import httpx

CACHE = re.compile(r'^streamrec_cache_requests_total\{result="(\w+)"\} (\S+)$', re.M)


class MixedLoad:
    """Writers post events, readers ask for the same pages again (so the cache can hit)."""

    def __init__(self, url: str, run: str, readers: int = 10) -> None:
        self.url, self.run, self.readers = url, run, readers
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MixedLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(30)

    def server_errors(self) -> dict[int, int]:
        """Answers with a 5xx status, by status."""
        return {status: n for status, n in self.statuses.items() if status >= 500}

    def _loop(self) -> None:
        n = 0
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                self._call(client, n)
                n += 1

    def _call(self, client: httpx.Client, n: int) -> None:
        reader, writer = f"{self.run}-r{n % self.readers}", f"{self.run}-w{n % 50}"
        try:
            if n % 3 == 0:
                event = {"user_id": writer, "item_id": f"{self.run}-i{n % 30}", "type": "view"}
                response = client.post("/v1/events", json=event)
            elif n % 3 == 1:
                response = client.get("/v1/recommendations", params={"user_id": reader})
            else:
                response = client.get(f"/v1/users/{writer}/history")
            self.statuses[response.status_code] += 1
        except httpx.HTTPError as error:
            self.failures.append(f"{type(error).__name__}: {error}")


def cache_counts(url: str) -> Counter[str]:
    """The worker's cache lookups so far, by result (hit, miss, error, disabled)."""
    text = httpx.get(url + "/metrics", timeout=10).text
    return Counter({result: float(n) for result, n in CACHE.findall(text)})


def readiness(url: str) -> str:
    """The status /ready reports (ready, degraded) or its HTTP status when not 200."""
    response = httpx.get(url + "/ready", timeout=10)
    return (
        str(response.json()["status"]) if response.status_code == 200 else str(response.status_code)
    )
