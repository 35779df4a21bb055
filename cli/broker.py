"""`streamrec broker`: run the embedded Kafka-protocol broker until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from typing import Any

from cli.embedded_broker import start_broker
from streamrec.settings import Settings
from streamrec.topics import ensure_topics


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `broker` command."""
    parser = sub.add_parser(
        "broker",
        help="run the embedded Kafka-protocol broker (memory storage)",
        description="Start the embedded Kafka-protocol broker (Tansu, memory storage: "
        "records are lost when it stops) on 127.0.0.1, create streamrec's topics, print the "
        "bootstrap address and run until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--port", type=int, default=9092, help="TCP port (default 9092)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--no-topics", action="store_true", help="do not create streamrec's topics")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the broker, create topics, block until a stop signal."""
    broker = start_broker(port=args.port, host=args.host)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if not args.no_topics:
            settings = Settings.from_env()
            settings = Settings(**{**settings.__dict__, "broker": broker.url})
            created = asyncio.run(ensure_topics(settings))
            print(f"topics created: {', '.join(created) or 'none (all existed)'}", flush=True)
        print(f"broker ready at {broker.bootstrap} (STREAMREC_BROKER={broker.url})", flush=True)
        print("memory storage: records are lost when the broker stops; Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            if broker.process.poll() is not None:
                print(f"broker exited with status {broker.process.returncode}", flush=True)
                return 1
    finally:
        broker.stop()
    print("broker stopped", flush=True)
    return 0
