"""Running the project's plugins inside a lab namespace."""

from __future__ import annotations

import os
import subprocess
import sys

from .base import HERE, PREFIX, LabError

REPO = HERE.parents[1]


def plugin_argv(node: str, package: str, *args: str) -> list[str]:
    """The command line that runs one of the plugins inside a lab namespace."""
    return ["ip", "netns", "exec", PREFIX + node, sys.executable, "-m", f"{package}.plugin", *args]


def plugin_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_plugin(node: str, package: str, *args: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            plugin_argv(node, package, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=plugin_env(),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{package} in {node} still running after {timeout}s") from exc
