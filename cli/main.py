"""Entry point of the `streamrec` command: parses arguments and calls library functions."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from streamrec.errors import RecsysError

# Each module defines `register(subparsers)`; its parsers set `func(args) -> int`.
COMMAND_MODULES: tuple[str, ...] = (
    "cli.broker",
    "cli.publish",
    "cli.replay",
    "cli.worker",
    "cli.datasets",
    "cli.train",
    "cli.models",
    "cli.evaluate",
    "cli.lake",
    "cli.token",
)


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """Only the module of the command being run (startup stays fast); all of them for --help."""
    if argv and not argv[0].startswith("-"):
        named = f"cli.{argv[0]}"
        if named in COMMAND_MODULES:
            return (named,)
    return COMMAND_MODULES


def bars_off() -> None:
    """Silence every progress bar of this process (ours and the libraries'): output that is
    not a terminal, such as a log file or a pipe, gets the result lines only."""
    from tqdm import std

    original = std.tqdm.__init__
    if getattr(original, "bars_off", False):
        return

    def quiet(self: std.tqdm[object], *args: object, **kwargs: object) -> None:
        kwargs["disable"] = True
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    quiet.bars_off = True  # type: ignore[attr-defined]
    std.tqdm.__init__ = quiet  # type: ignore[method-assign]


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the given subcommand modules registered (default: all)."""
    parser = argparse.ArgumentParser(
        prog="streamrec",
        description="Real-time recommendations from an event log. "
        "Settings come from STREAMREC_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status; errors print one line, not a traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not sys.stdout.isatty():
        bars_off()
    args = build_parser(modules_for(argv)).parse_args(argv)
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
