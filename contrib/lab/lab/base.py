"""Constants, addresses, bounded commands, PIDs and the lab lock: what every part of the
lab uses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PREFIX = "cclab-"
LAB_DIR = Path(os.environ.get("CCLAB_DIR", "/var/tmp/cclab"))
EXIM_PREFIX = Path(os.environ.get("LAB_EXIM_PREFIX", "/opt/cclab/exim4"))
EXIM = EXIM_PREFIX / "usr/sbin/exim4"
NETNS_ETC = Path("/etc/netns")
NETNS_RUN = Path("/run/netns")
BRIDGE_NS = PREFIX + "br"
BRIDGE = "br0"
#: contrib/lab, the directory that holds this package, labctl and the install scripts
HERE = Path(__file__).resolve().parents[1]

DNS_V4 = "192.0.2.53"
DNS_V6 = "2001:db8::53"
RX_V4 = "192.0.2.25"
PRX_V4 = "192.0.2.26"
MON_V4 = "192.0.2.99"
PSX_V4 = "192.0.2.27"  # the strict Postfix receiver
ESX_V4 = "192.0.2.28"  # the strict Exim receiver
SERVFAIL_V4 = "192.0.2.54"  # a DNS server that answers SERVFAIL
SILENT_V4 = "192.0.2.55"  # a DNS server that never answers
FAULTS_V4 = "192.0.2.56"  # a DNS server for loop.test: a CNAME loop
#: the sender host's addresses, 192.0.2.101-130: one per strict scenario
SENDER_OCTETS = range(101, 131)
EXIM_HEAVY_PREFIX = Path(os.environ.get("LAB_EXIM_HEAVY_PREFIX", "/opt/cclab/exim4-heavy"))
EXIM_HEAVY = EXIM_HEAVY_PREFIX / "usr/sbin/exim4"

#: every deadline of the lab, in seconds
CMD_TIMEOUT = 30.0
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


# ---------------------------------------------------------------- helpers
class LabError(RuntimeError):
    pass


def sh(
    *argv: str,
    timeout: float = CMD_TIMEOUT,
    check: bool = True,
    input: str | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run a command (bounded), capture its output."""
    try:
        cp = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timeout after {timeout}s: {' '.join(argv)}") from exc
    if check and cp.returncode != 0:
        raise LabError(f"{' '.join(argv)} exited {cp.returncode}: {cp.stderr.strip() or cp.stdout.strip()}")
    return cp


def nsrun(node: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    """Run a command inside the namespace of a lab node."""
    return sh("ip", "netns", "exec", PREFIX + node, *argv, **kw)


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_pids(pids: list[int], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the given PIDs, then SIGKILL whatever is left at the deadline."""
    pids = [p for p in pids if p > 1 and p != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def lab_namespaces() -> list[str]:
    cp = sh("ip", "netns", "list", check=False)
    names = [line.split()[0] for line in cp.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(PREFIX)]


def ns_pids(ns: str) -> list[int]:
    cp = sh("ip", "netns", "pids", ns, check=False)
    return [int(x) for x in cp.stdout.split() if x.isdigit()]


LOCK_FILE = Path(os.environ.get("CCLAB_LOCK", "/run/cclab.lock"))


class LabLock:
    """An exclusive lock on the lab (one user at a time), taken with a deadline."""

    def __init__(self, timeout: float = 0.0):
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> LabLock:
        import fcntl

        self.fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise LabError(f"the lab is in use by another run ({LOCK_FILE})") from None
                time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


def wait_until(what: str, predicate, timeout: float = 30.0, step: float = 0.2):
    """Poll PREDICATE until it returns something true; LabError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise LabError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(step)


def lab_argv(*args: str) -> list[str]:
    """The command line that runs this package (``python -m lab ARGS``), e.g. inside a
    namespace; run it with ``lab_env()``."""
    return [sys.executable, "-m", "lab", *args]


def lab_env() -> dict:
    """The environment in which ``lab_argv`` finds this package."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
