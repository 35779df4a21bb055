"""What every benchmark report states: the command that ran, the machine and its load."""

from __future__ import annotations

import argparse
import os
import sys

MACHINE = "2 cores, 24 GiB, no GPU"


def program() -> str:
    """How this benchmark was started: `python -m MODULE` (or `python SCRIPT`)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    return f"python -m {spec.name}" if spec is not None else f"python {sys.argv[0]}"


def command() -> str:
    """The command line of this run, as `python -m MODULE ARGS`."""
    return " ".join([program(), *sys.argv[1:]])


def load_average(digits: int = 1) -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{value:.{digits}f}" for value in os.getloadavg())


def header() -> str:
    """One line: command, machine and load average now."""
    return f"Command: `{command()}`; machine: {MACHINE}; load average {load_average()}."


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose help shows the benchmark's docstring as written."""
    return argparse.ArgumentParser(
        prog=program(), description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
