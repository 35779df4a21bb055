"""Schemathesis, stateful, against a running worker with authentication on: at least 1,000
generated calls chained through the links it infers, 0 server errors, every response matching
its schema (every check of schemathesis)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.auth import issue_token
from cli.embedded_broker import EmbeddedBroker
from tests.integration.workers import Worker, module_settings, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.chaos]
SECRET = "chaos-fuzz-secret-0123456789abcdef0123456789"
MIN_CASES, MAX_RUNS, RUN_S = 1000, 8, 20
# Writes answer 202 and reach the tables through Kafka a few milliseconds later, so an item is
# not found right after its 202 nor gone right after its delete's: these two checks expect
# synchronous writes.
ASYNC_WRITES = "ensure_resource_availability,use_after_free"
# A variant's model version must be in the registry (422 naming the variant), which no JSON
# Schema can say: a schema-valid experiment naming an unknown version is rightly refused.
CONFIG = """
[[operations]]
include-path = "/v1/experiments"
include-method = "POST"
[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
"""


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with authentication on and rate limits out of the way."""
    root = tmp_path_factory.mktemp("fuzz")
    running = start_worker(
        module_settings(broker.url, root, "fuzz"),
        root / "data",
        auth=True,
        jwt_secret=SECRET,
        rate_limit_burst=1_000_000,
        rate_limit_per_s=1e6,
        # JSON Schema cannot say "at most a day after receipt": event times of any date pass.
        max_future_s=1e306,
    )
    running.wait_ready()
    yield running
    running.stop()


def stateful_run(worker: Worker, folder: Path, seed: int) -> dict[str, Any]:
    """One `schemathesis run --phases stateful` for up to RUN_S seconds; its JSON report."""
    config = folder / "schemathesis.toml"
    config.write_text(CONFIG)
    token = issue_token(SECRET, "fuzz", "admin")
    report = folder / f"report-{seed}.json"
    command = [
        *("--config-file", str(config), "run", f"{worker.url}/openapi.json"),
        *("--phases", "stateful", "--checks", "all", "--exclude-checks", ASYNC_WRITES),
        *("--seed", str(seed), "--workers", "1"),
        *("--max-examples", "1000", "--max-time", str(RUN_S), "--no-color"),
        *("--header", f"Authorization: Bearer {token}"),
        *("--report", "json", "--report-json-path", str(report)),
    ]
    script = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
    done = subprocess.run(
        [sys.executable, "-c", script, *command],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,  # its cache (.schemathesis/) goes there, not into the checkout
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    found: dict[str, Any] = json.loads(report.read_text())
    return found


def test_a_thousand_stateful_cases_give_no_server_error_and_match_the_schema(
    worker: Worker, tmp_path: Path
) -> None:
    cases, runs = 0, 0
    while cases < MIN_CASES and runs < MAX_RUNS:
        report = stateful_run(worker, tmp_path, seed=18 + runs)
        assert report["failures"] == [] and report["errors"] == [], report
        assert report["phases"]["stateful"]["status"] == "success", report["phases"]
        cases, runs = cases + report["test_cases"]["generated"], runs + 1
    assert cases >= MIN_CASES, f"{cases} cases in {runs} runs"
    assert worker.get("/health").status_code == 200
    assert "Traceback" not in worker.log.read_text(errors="replace"), worker.tail()
