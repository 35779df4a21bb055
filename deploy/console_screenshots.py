"""Screenshots of every console page, taken in headless Chromium against a running worker.

    make demo && make screenshots          # writes docs/console/<page>.png

It first makes the pages worth a look: an experiment, pages served to a few users and
clicks on them, and one purchase on user 196's page (read your writes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LIVE_S = 35.0
EXPERIMENT = {
    "id": "explore-more",
    "description": "three exploration slots instead of two",
    "variants": [
        {"name": "control", "weight": 1},
        {"name": "explore", "weight": 1, "config": {"exploration_slots": 3}},
    ],
}


def chromium() -> str:
    """The system Chromium (the project installs Debian's `chromium`)."""
    for path in (os.environ.get("STREAMREC_CHROMIUM", ""), *CHROMIUM):
        if path and shutil.which(path):
            return path
    raise SystemExit("no Chromium found: run `make browser` (apt-get install chromium)")


def make_traffic(client: httpx.Client, users: int = 60) -> None:
    """An experiment, a page for each of `users` users and a click on some of them."""
    if client.get("/v1/experiments/explore-more/metrics").status_code == 404:
        client.post("/v1/experiments", json=EXPERIMENT).raise_for_status()
    now = time.time()
    for user in range(1, users + 1):
        page = client.get("/v1/recommendations", params={"user_id": str(user)}).json()
        for position, item in enumerate(page["items"][: 1 + user % 3]):
            event = {
                "user_id": str(user),
                "item_id": item["item_id"],
                "type": "click" if position else "view",
                "timestamp": now,
                "context": {"request_id": page["request_id"], "device": "screenshots"},
            }
            client.post("/v1/events", json=event).raise_for_status()


def live_overview(page: Page, base: str, client: httpx.Client, out: Path) -> None:
    """The overview after LIVE_S seconds of live traffic, so its window holds only that."""
    page.goto(f"{base}/#/overview")
    page.wait_for_selector("#overview-tiles .tile", timeout=30_000)
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < LIVE_S:
        user = str(1 + sent % 900)
        client.get("/v1/recommendations", params={"user_id": user})
        batch = [
            {
                "user_id": user,
                "item_id": str(1 + (sent + n) % 1600),
                "type": "view",
                "timestamp": time.time(),
            }
            for n in range(20)
        ]
        client.post("/v1/events", json={"events": batch}).raise_for_status()
        sent += len(batch)
        page.wait_for_timeout(250)
    page.screenshot(path=str(out), full_page=True)
    print(f"wrote {out} after {sent} live events")


def shoot(page: Page, url: str, out: Path, wait_for: str, settle_ms: int = 1500) -> None:
    """Open `url`, wait for `wait_for` and the first refreshes, save a full-page PNG."""
    page.goto(url)
    page.wait_for_selector(wait_for, timeout=30_000)
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(out), full_page=True)
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def buy_first(page: Page) -> str:
    """Buy the first recommended item on the open user page; returns the status line."""
    page.click("table.recs button[data-action=purchase]")
    page.wait_for_selector("#rw-status.ok, #rw-status.late", timeout=30_000)
    return page.inner_text("#rw-status")


def main() -> None:
    """Parse arguments, make traffic, take one screenshot per page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("STREAMREC_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    client = httpx.Client(base_url=args.url, timeout=30)
    make_traffic(client)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        base = args.url.rstrip("/")
        live_overview(page, base, client, args.out / "overview.png")
        page.goto(f"{base}/#/user/196")
        page.wait_for_selector("table.recs button[data-action=purchase]", timeout=30_000)
        print(buy_first(page))
        page.screenshot(path=str(args.out / "user.png"), full_page=True)
        shoot(page, f"{base}/#/item/50", args.out / "item.png", "#item-about table")
        shoot(page, f"{base}/#/experiments", args.out / "experiments.png", "svg.chart")
        shoot(page, f"{base}/#/models", args.out / "models.png", "table.models")
        shoot(page, f"{base}/docs", args.out / "docs.png", ".swagger-ui .opblock", 500)
        browser.close()
    client.close()


if __name__ == "__main__":
    main()
