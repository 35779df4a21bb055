"""Entry point of the `streamrec` command: parses arguments and calls library functions."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from streamrec.errors import RecsysError

# Each module defines `register(subparsers)`; its parsers set `func(args) -> int`.
COMMAND_MODULES: tuple[str, ...] = (
    "streamrec.cli.broker",
    "streamrec.cli.publish",
    "streamrec.cli.replay",
    "streamrec.cli.worker",
    "streamrec.cli.datasets",
    "streamrec.cli.train",
    "streamrec.cli.models",
    "streamrec.cli.evaluate",
    "streamrec.cli.lake",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="streamrec",
        description="Real-time recommendations from an event log. "
        "Settings come from STREAMREC_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status; errors print one line, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RecsysError as error:
        print(f"streamrec: error: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("streamrec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
