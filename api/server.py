"""How a worker serves the API: uvicorn with TLS when configured and bounded reads."""

from __future__ import annotations

import contextlib
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from api.protocols import MAX_HEADER_BYTES, header_deadline_protocol
from streamrec.settings import Settings

KEEP_ALIVE_S = 5


def server_config(app: ASGIApp, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration: host, port, HTTPS from the TLS settings, read time limits."""
    options: dict[str, Any] = {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_level": "warning",
        "lifespan": "off",
        "http": header_deadline_protocol(settings.header_timeout_s),
        "timeout_keep_alive": KEEP_ALIVE_S,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }
    if settings.tls:
        options["ssl_certfile"] = settings.tls_certfile
        options["ssl_keyfile"] = settings.tls_keyfile
    return uvicorn.Config(app, **{**options, **overrides})


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside a process that owns the signals (the worker)."""

    def install_signal_handlers(self) -> None:
        """Leave SIGTERM and SIGINT to the worker."""

    def capture_signals(self) -> Any:
        """Leave SIGTERM and SIGINT to the worker (newer uvicorn's name for the same hook)."""
        return contextlib.nullcontext()
