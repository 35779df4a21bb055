"""A private redis-server the test may stop and start (never the shared one on 6379)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cli.embedded_broker import free_port, wait_for_port, wait_port_free

HOST = "127.0.0.1"


@dataclass
class RedisServer:
    """`redis-server` on a free port, without persistence, started and stopped at will."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL of its database 0."""
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        """Start it (again) on its port, empty, and wait until it accepts connections."""
        binary = shutil.which("redis-server")
        assert binary, "the chaos tests need redis-server on the PATH"
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly"]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "no", "--dir", str(self.folder)], stdout=log, stderr=log
            )
        wait_for_port(HOST, self.port)

    def stop(self) -> None:
        """Stop it and wait until its port is free."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        wait_port_free(HOST, self.port, 10)
