"""The web console in headless Chromium against a real worker: a purchase leaves the page."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.auth import issue_token
from cli.embedded_broker import EmbeddedBroker
from tests.integration.events import wait_for
from tests.integration.workers import (
    Worker,
    module_settings,
    module_worker,
    post,
    start_worker,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
FRESHNESS_TARGET_MS = 1000.0
"""The console's target (user.js): from the click to the page without the bought item."""
ITEMS = [f"film-{n}" for n in range(12)]


NOW = time.time()


def seed(worker: Worker) -> None:
    """A small catalog, a crowd that viewed all of it, a shopper (the same records each time)."""
    catalog = [
        {"item_id": item, "title": f"Film {n}", "category": f"c{n % 4}"}
        for n, item in enumerate(ITEMS)
    ]
    post(worker, "/v1/items", {"items": catalog})
    crowd = [
        {"user_id": f"crowd-{n}", "item_id": item, "type": "view", "timestamp": NOW}
        for n in range(3)
        for item in ITEMS
    ]
    post(worker, "/v1/events", {"events": crowd})
    seen = {"user_id": "shopper", "item_id": ITEMS[0], "type": "view", "timestamp": NOW}
    post(worker, "/v1/events", seen)


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    running = module_worker(broker.url, tmp_path_factory.mktemp("console"), "console")
    seed(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    opened.close()
    assert not errors, errors


def _recommended(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "table.recs button[data-action=purchase]", "buttons => buttons.map(b => b.dataset.item)"
    )


def test_buying_on_the_user_page_removes_the_item_within_the_freshness_target(
    worker: Worker, page: Page
) -> None:
    assert wait_for(lambda: worker.get("/v1/users/shopper/history").status_code == 200, 30)
    page.goto(f"{worker.url}/#/user/shopper")
    page.wait_for_selector("table.recs button[data-action=purchase]", timeout=30_000)
    bought = _recommended(page)[0]
    page.click(f"table.recs button[data-action=purchase][data-item='{bought}']")
    page.wait_for_selector("#rw-status.ok, #rw-status.late", timeout=30_000)
    status = page.locator("#rw-status")
    left_ms = float(status.get_attribute("data-left-ms") or "inf")
    state_ms = float(status.get_attribute("data-state-ms") or "inf")
    print(f"bought {bought}: left the page after {left_ms:.0f} ms, state after {state_ms:.0f} ms")
    assert left_ms <= FRESHNESS_TARGET_MS, status.inner_text()
    assert bought not in _recommended(page)
    assert page.locator("#user-history td", has_text="purchase").count() >= 1


@pytest.mark.parametrize(
    ("fragment", "ready"),
    [
        ("#/overview", "#overview-tiles .tile"),
        ("#/item/film-3", "#item-about table"),
        ("#/experiments", "#experiments-list"),
        ("#/models", "#models"),
    ],
)
def test_every_page_renders_without_a_script_error(
    worker: Worker, page: Page, fragment: str, ready: str
) -> None:
    page.goto(f"{worker.url}/{fragment}")
    page.wait_for_selector(ready, timeout=30_000)
    page.wait_for_timeout(500)
    assert "HTTP 5" not in page.inner_text("#flash")


def test_an_experiment_made_in_the_form_is_listed_and_stopped_and_started_again(
    worker: Worker, page: Page
) -> None:
    page.goto(f"{worker.url}/#/experiments")
    page.fill("#experiment-form input[name=id]", "console-made")
    page.fill("#experiment-form input[name=variants]", "control:1, treatment:1")
    page.click("#experiment-form button[type=submit]")
    row = "table.experiments tr:has-text('console-made')"
    page.wait_for_selector(f"{row} >> text=running", timeout=10_000)
    page.wait_for_selector("svg.chart", timeout=10_000)
    assert "Sample ratio check" in page.inner_text("#experiment-detail")
    page.click(f"{row} button:has-text('Stop')")
    page.wait_for_selector("#flash >> text=stop of console-made accepted", timeout=10_000)
    page.wait_for_selector(f"{row} >> text=stopped", timeout=10_000)
    page.click(f"{row} button:has-text('Start')")
    page.wait_for_selector(f"{row} >> text=running", timeout=10_000)
    assert worker.get("/v1/experiments/console-made").json()["status"] == "running"


def test_an_experiment_shows_its_running_ctr_over_time(worker: Worker, page: Page) -> None:
    variants = [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 1}]
    body = {"id": "over-time", "layer": "timeline", "variants": variants}
    assert post(worker, "/v1/experiments", body).status_code == 201
    assert wait_for(lambda: worker.get("/v1/experiments/over-time").status_code == 200, 10)
    for n in range(6):
        user = f"timeline-{n}"
        served = worker.get("/v1/recommendations", user_id=user, count=5).json()
        assert served["items"], served
        click = {
            "user_id": user,
            "item_id": served["items"][0]["item_id"],
            "type": "click",
            "timestamp": time.time(),
            "context": {"request_id": served["request_id"]},
        }
        assert post(worker, "/v1/events", click).status_code == 202

    def timeline() -> dict[str, Any]:
        answer = worker.get("/v1/experiments/over-time/metrics")
        return dict(answer.json()["timeline"]) if answer.status_code == 200 else {}

    def clicks() -> int:
        rows = timeline().get("cumulative", {}).values()
        return sum(series[-1]["clicks"] for series in rows if series)

    assert wait_for(lambda: clicks() == 6, 20), timeline()
    page.goto(f"{worker.url}/#/experiments")
    page.click("table.experiments a:has-text('over-time')")
    page.wait_for_selector("figure.over-time svg.timeline circle", timeout=10_000)
    assert "Running CTR per variant" in page.inner_text("#experiment-detail")


def test_the_api_docs_render_every_route_from_the_package(worker: Worker, page: Page) -> None:
    page.goto(f"{worker.url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".opblock").count() >= 20


SECRET = "a-console-test-secret-of-32-bytes!!"


@pytest.fixture(scope="module")
def guarded_worker(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    root = tmp_path_factory.mktemp("console-auth")
    settings = replace(module_settings(broker.url, root, "console-auth"), auth=True)
    running = start_worker(replace(settings, jwt_secret=SECRET), root / "data")
    running.wait_ready()
    admin = {"Authorization": f"Bearer {issue_token(SECRET, 'seed', 'admin')}"}
    with httpx.Client(base_url=running.url, headers=admin, timeout=10) as client:
        client.post("/v1/items", json={"items": [{"item_id": i, "title": i} for i in ITEMS]})
    yield running
    running.stop()


def test_with_auth_on_a_reader_sees_write_and_admin_actions_disabled(
    guarded_worker: Worker, page: Page
) -> None:
    page.goto(f"{guarded_worker.url}/#/user/someone")
    page.fill("#token", issue_token(SECRET, "console-test", "reader"))
    page.click("#token-form button")
    page.wait_for_selector("table.recs button[data-action=purchase]", timeout=30_000)
    buy = page.locator("table.recs button[data-action=purchase]").first
    assert buy.is_disabled()
    assert buy.get_attribute("title") == "needs the writer role (your token: reader)"
    assert page.inner_text("#role") == "role: reader"
    page.goto(f"{guarded_worker.url}/#/models")
    page.wait_for_selector("#models p", timeout=10_000)
    assert "needs the admin role" in page.inner_text("#models")


def test_with_auth_on_and_no_token_the_console_says_what_is_missing(
    guarded_worker: Worker, page: Page
) -> None:
    page.goto(f"{guarded_worker.url}/#/user/someone")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_selector("#flash.error", timeout=10_000)
    assert "401" in page.inner_text("#flash") and "token" in page.inner_text("#flash")
