"""Starting the embedded broker on a port another broker still holds."""

from __future__ import annotations

import threading

import pytest

from cli.embedded_broker import accepts, free_port, start_broker
from streamrec.errors import BrokerError

pytestmark = pytest.mark.integration


def test_a_broker_waits_for_the_port_of_one_that_is_stopping() -> None:
    port = free_port()
    old = start_broker(port)
    stopper = threading.Timer(1.0, old.stop)
    stopper.start()
    new = start_broker(port, free_wait_s=20)
    try:
        assert new.process.poll() is None
        assert old.process.poll() is not None  # the answers now come from the new one
        assert accepts(new.host, port)
    finally:
        stopper.join()
        new.stop()


def test_a_port_held_by_a_running_broker_is_an_error_naming_it() -> None:
    port = free_port()
    old = start_broker(port)
    try:
        with pytest.raises(BrokerError, match=f"{port} is in use"):
            start_broker(port, free_wait_s=0.5)
        assert old.process.poll() is None
    finally:
        old.stop()


def test_a_stopped_broker_frees_its_port_for_the_next_one_at_once() -> None:
    port = free_port()
    start_broker(port).stop()
    again = start_broker(port, free_wait_s=0)
    again.stop()
