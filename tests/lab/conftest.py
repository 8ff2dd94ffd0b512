"""The real-MTA lab: one network of real servers per test session.

The lab itself is the package ``contrib/lab/lab/`` (also used by ``contrib/lab/labctl``).
Without root or the Debian packages the lab tests are skipped with a one-line
reason; when the environment variable ``CI`` is set, that is an error instead.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ci import require
from tests.support.lab import load_lab
from tests.support.output import first_line

REPO = Path(__file__).resolve().parents[2]


lab_module = load_lab()

#: deadline of one plugin run (the plugins' own -t is lower)
CHECK_TIMEOUT = 90.0
#: how long to wait for another run that holds the lab
LOCK_WAIT = 120.0


@pytest.fixture(scope="session")
def lab():
    """Build the lab once per session; tear it down afterwards."""
    missing = lab_module.missing_prerequisites()
    require(not missing, "real-MTA lab: " + "; ".join(missing))
    with lab_module.LabLock(timeout=LOCK_WAIT):
        try:
            lab_module.up()
            yield lab_module
        finally:
            lab_module.down()


@dataclass
class CheckResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def first_line(self) -> str:
        return first_line(self.stdout)

    def exim_actions(self) -> list[str]:
        """The ``exim: accept|defer|reject`` words of the long output."""
        return re.findall(r"\bexim: (accept|defer|reject)\b", self.stdout)

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n(exit {self.returncode}, {self.seconds:.2f}s)\n"
            f"{self.stdout}{self.stderr}"
        )


def _plugin_available(package: str) -> None:
    if importlib.util.find_spec(f"{package}.plugin") is None:
        require(False, f"{package}.plugin is not importable (pip install -e .)")


def run_plugin(node: str, package: str, *args: str) -> CheckResult:
    """Run ``python -m <package>.plugin ARGS`` inside a lab namespace."""
    _plugin_available(package)
    argv = lab_module.plugin_argv(node, package, *args)
    t0 = time.monotonic()
    try:
        cp = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            env=lab_module.plugin_env(),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} still running after {CHECK_TIMEOUT}s")
    return CheckResult(argv[4:], cp.returncode, cp.stdout, cp.stderr, time.monotonic() - t0)


@pytest.fixture(scope="session")
def check_callout(lab):
    def run(*args: str, node: str = "mon") -> CheckResult:
        return run_plugin(node, "check_callout", *args)

    return run


@pytest.fixture(scope="session")
def check_nullmailer(lab):
    def run(*args: str, node: str = "mon") -> CheckResult:
        return run_plugin(node, "check_nullmailer", *args)

    return run


@pytest.fixture(scope="session")
def strict_live(lab) -> dict:
    """The strict receivers' live answers to every strict scenario, asked once a session
    (tests/lab/strict_data.py)."""
    from tests.lab.strict_data import ask_live

    return ask_live(lab)
