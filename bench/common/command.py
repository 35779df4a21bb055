"""The `streamrec` command line, run as a child of this interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from streamrec.settings import Settings


def streamrec_command(*args: str) -> list[str]:
    """The argv of `streamrec ARGS` with this interpreter."""
    return [sys.executable, "-m", "cli.main", *args]


def streamrec(*args: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    """Run `streamrec ARGS` (with `env` over this environment) to success; return its standard
    output when `capture`, else "" (it went to this process's)."""
    done = subprocess.run(
        streamrec_command(*args),
        env={**os.environ, **(env or {})},
        capture_output=capture,
        text=True,
        check=True,
    )
    return done.stdout or ""


def publish_file(settings: Settings, path: Path) -> str:
    """`streamrec publish FILE --quiet` against the settings' broker; return its output."""
    env = {"STREAMREC_BROKER": settings.broker}
    return streamrec("publish", str(path), "--quiet", env=env, capture=True)


def dataset_files(name: str, data_dir: Path | None = None) -> tuple[Path, Path]:
    """events.parquet and items.parquet of a public dataset under `data_dir` (default:
    $STREAMREC_DATA_DIR), fetched with `streamrec datasets fetch` when missing."""
    root = data_dir or Settings.from_env().data_dir
    folder = root / "datasets" / name
    if not (folder / "events.parquet").is_file():
        print(f"{folder}: missing; streamrec datasets fetch {name}", file=sys.stderr)
        streamrec("datasets", "fetch", name, env={"STREAMREC_DATA_DIR": str(root)})
    return folder / "events.parquet", folder / "items.parquet"
