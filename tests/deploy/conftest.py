"""The Debian package and the lab for the deployment tests.

The package is built from this checkout (contrib/deploy/build-deb), installed
with ``apt-get install ./….deb`` and removed again at the end unless it was
installed before. The lab (the package contrib/lab/lab/, namespaces ``cclab-*``) is
taken under its lock for the tests of this directory only and torn down
after them, so tests/lab can take it later in the same session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ci import require
from tests.support.lab import load_lab

REPO = Path(__file__).resolve().parents[2]


lab_module = load_lab()

PACKAGE = "mail-callout-checks"
PLUGIN_DIR = Path("/usr/lib/nagios/plugins")
#: how long to wait for another run that holds the lab
LAB_LOCK_WAIT = 180.0
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def run(argv: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw
    )


def source_version() -> str:
    """The version the checkout declares (check_callout/__init__.py)."""
    for init in sorted(REPO.glob("check_callout/**/__init__.py")):
        match = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.M)
        if match:
            return match.group(1)
    raise AssertionError("no __version__ in check_callout")


def debian_version() -> str:
    first = (REPO / "debian" / "changelog").read_text().split("\n", 1)[0]
    match = re.match(r"^\S+ \(([^)]+)\)", first)
    assert match, first
    return match.group(1)


def installed_version(package: str) -> str | None:
    out = run(["dpkg-query", "-W", "-f=${Status} ${Version}", package], timeout=30)
    words = out.stdout.split()
    return words[-1] if out.returncode == 0 and "installed" in words[:3] else None


# --------------------------------------------------------------------------- package


@dataclass
class Built:
    deb: Path
    build_log: str
    seconds: float


@pytest.fixture(scope="package")
def built_deb(tmp_path_factory: pytest.TempPathFactory) -> Built:
    require(os.geteuid() == 0, "the package tests install a .deb (root)")
    missing = [
        tool
        for tool in ("dpkg-buildpackage", "dh", "lintian")
        if shutil.which(tool, path=APT_ENV["PATH"]) is None
    ]
    require(not missing, f"{', '.join(missing)} missing (contrib/deploy/install-packages.sh)")
    require(
        installed_version("pybuild-plugin-pyproject") is not None,
        "pybuild-plugin-pyproject missing (contrib/deploy/install-packages.sh)",
    )
    out_dir = tmp_path_factory.mktemp("deb")
    started = time.monotonic()
    built = run(
        [str(REPO / "contrib" / "deploy" / "build-deb"), str(out_dir)],
        timeout=300,
        env={**os.environ, **APT_ENV},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    debs = sorted(out_dir.glob(f"{PACKAGE}_*_all.deb"))
    assert len(debs) == 1, (debs, built.stdout)
    seconds = time.monotonic() - started
    print(f"\nbuild-deb: {debs[0].name} in {seconds:.1f}s")
    return Built(debs[0], built.stdout + built.stderr, seconds)


@dataclass
class Installed:
    deb: Path
    version: str
    apt_output: str


@pytest.fixture(scope="package")
def installed_package(built_deb: Built) -> Iterator[Installed]:
    """``apt-get install ./….deb`` as a user does; removed afterwards unless it
    was there before (then the previous version is not restored: reinstall it)."""
    before = installed_version(PACKAGE)
    # apt-get wants a path with a slash to take it for a file.
    result = run(
        [
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "-o",
            "DPkg::Lock::Timeout=120",
            f"./{built_deb.deb.name}",
        ],
        timeout=300,
        cwd=built_deb.deb.parent,
        env={**os.environ, **APT_ENV},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    version = installed_version(PACKAGE)
    assert version, result.stdout
    try:
        yield Installed(built_deb.deb, version, result.stdout)
    finally:
        if before is None:
            # purge: the Nagios commands in /etc/nagios-plugins/config are a conffile
            removed = run(
                ["apt-get", "purge", "-y", "-q", "-o", "DPkg::Lock::Timeout=120", PACKAGE],
                timeout=300,
                env={**os.environ, **APT_ENV},
            )
            assert removed.returncode == 0, removed.stdout + removed.stderr


# --------------------------------------------------------------------------- lab


def _this_process_holds(lock_file: Path) -> bool:
    """Whether this process already holds the lab's flock (tests/lab took it
    earlier in this session and keeps the lab up until the session ends)."""
    try:
        st = lock_file.stat()
        text = Path("/proc/locks").read_text()
    except OSError:
        return False
    # /proc/locks names the file as major:minor:inode (hexadecimal device numbers)
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[4:6] == [str(os.getpid()), ident]:
            return True
    return False


@pytest.fixture(scope="package")
def lab() -> Iterator:
    """The lab for this directory's tests, under its lock."""
    missing = lab_module.missing_prerequisites()
    require(not missing, "real-MTA lab: " + "; ".join(missing))
    if _this_process_holds(lab_module.LOCK_FILE):
        yield lab_module  # up already, and torn down by its owner
        return
    asked = time.monotonic()
    with lab_module.LabLock(timeout=LAB_LOCK_WAIT):
        locked = time.monotonic()
        try:
            lab_module.up()
            print(f"\nlab: lock after {locked - asked:.1f}s, up in {time.monotonic() - locked:.1f}s")
            yield lab_module
        finally:
            lab_module.down()
