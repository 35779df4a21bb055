"""Every touch of faust-streaming's, aiokafka's and prometheus-client's private attributes, and
nothing else: `access` reads and writes them, `fixes` and `delivery` replace private methods.

They were written for the versions in PINNED. Importing this package checks the installed
ones and refuses to start on any other, naming the package and both versions: a private
attribute may change meaning in any release.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from streamrec.errors import ConfigError

PINNED = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0", "prometheus-client": "0.26.0"}
"""The versions whose private attributes this package was written against."""


def version_mismatches(pinned: dict[str, str] = PINNED) -> list[str]:
    """A line per package whose installed version is not the pinned one."""
    problems = []
    for package, wanted in pinned.items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != wanted:
            problems.append(f"{package} {installed} (written for {wanted})")
    return problems


def check_versions() -> None:
    """Refuse to run the worker's patches on versions they were not written for."""
    problems = version_mismatches()
    if problems:
        raise ConfigError(
            "agents.runtime.patches touches private attributes of these packages, at other "
            f"versions than installed: {'; '.join(problems)}. Install the pinned versions "
            "(pip install -e .) or port agents/runtime/patches to the new ones."
        )


check_versions()
