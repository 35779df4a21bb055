"""The end of recovery keeps the events delivered while it sought the stream partitions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from agents.runtime.patches.recovery import FAUST_ON_RECOVERY_COMPLETED, on_recovery_completed

STREAM, CHANGELOG = "events-0", "app-user_state-changelog-0"
log = logging.getLogger(__name__)


class Consumer:
    """Delivers an event into a stream queue during the seek's round trip, as the fetcher can
    once the stream partitions are resumed."""

    def __init__(self, queue: FlowControlQueue[str]) -> None:
        self.queue, self.resumed = queue, set[str]()

    def assignment(self) -> set[str]:
        return {STREAM, CHANGELOG}

    def resume_partitions(self, tps: set[str]) -> None:
        self.resumed |= tps

    async def perform_seek(self) -> None:
        await asyncio.sleep(0)
        if STREAM in self.resumed:
            self.queue.put_nowait("event fetched during the seek")

    def resume_flow(self) -> None:
        pass


def recovery(queue: FlowControlQueue[str], flow_control: FlowControlEvent) -> Any:
    """Just what `on_recovery_completed` reads of a Recovery and its app."""

    async def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    async def wait(awaitable: Awaitable[None], timeout: float) -> None:
        await awaitable

    app = SimpleNamespace(
        consumer=Consumer(queue),
        on_rebalance_complete=SimpleNamespace(send=nothing),
        consumer_generation_id=1,
        conf=SimpleNamespace(broker_request_timeout=1.0),
        flow_control=flow_control,
        _fetcher=SimpleNamespace(maybe_start=nothing),
        assignor=SimpleNamespace(assigned_standbys=lambda: set()),
        on_rebalance_end=lambda: None,
    )
    return SimpleNamespace(
        app=app,
        log=SimpleNamespace(info=log.info, warning=log.warning, dev=log.debug),
        tables=SimpleNamespace(
            values=lambda: [], on_actives_ready=lambda: None, on_standbys_ready=lambda: None
        ),
        actives_for_table={},
        standbys_for_table={},
        completed=asyncio.Event(),
        _set_recovery_ended=lambda: None,
        _wait=wait,
        _is_changelog_tp=lambda tp: tp == CHANGELOG,
    )


def queued_after(method: Callable[..., Awaitable[None]]) -> tuple[int, bool]:
    """Events left in the stream queue once `method` ends recovery, and whether flow resumed."""

    async def run() -> tuple[int, bool]:
        flow_control = FlowControlEvent(initially_suspended=False)
        queue: FlowControlQueue[str] = FlowControlQueue(
            flow_control=flow_control, clear_on_resume=True
        )
        await method(recovery(queue, flow_control), 1)
        return queue.qsize(), flow_control.is_active()

    return asyncio.run(run())


def test_events_delivered_during_the_seek_stay_queued_and_the_flow_resumes() -> None:
    assert queued_after(on_recovery_completed) == (1, True)


def test_faust_drops_them() -> None:
    assert queued_after(FAUST_ON_RECOVERY_COMPLETED) == (0, True)
