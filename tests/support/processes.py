"""Processes in tests: a plugin as a running process the test can poke (signals, odd
stdout, odd environments); daemons started and stopped by their process group, bounded
waits; and fake system tools (a ``postqueue`` that hangs, is denied, or prints a
million lines) put first in ``PATH``.

Every process started here is waited for with a bound and killed by its process
group (its own session) when the bound passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.hostile import ROOT, _wait_for_close

MODULES = {"CALLOUT": "check_callout.plugin", "NULLMAILER": "check_nullmailer.plugin"}


def plugin_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONIOENCODING", None)
    env.update(extra)
    return env


def start(
    name: str, args: list[str], env: dict[str, str] | None = None, stdout: object = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    """Start a plugin (``CALLOUT`` or ``NULLMAILER``) in a session of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", MODULES[name], *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env or plugin_env(),
        cwd=str(ROOT),
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[bytes], limit: float = 20.0) -> tuple[int, bytes, bytes]:
    """Wait at most ``limit`` s (then kill the group); exit code, stdout, stderr."""
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
        raise AssertionError(f"still running after {limit} s: {out!r} {err!r}") from None
    return proc.returncode, out or b"", err or b""


def noticed_tarpit(connected: threading.Event) -> Callable[[object], None]:
    """A server script that accepts, says nothing, and tells the test it was reached."""

    def script(conn: object) -> None:
        connected.set()
        _wait_for_close(conn, 10)  # type: ignore[arg-type]

    return script


# --------------------------------------------------------------------------- fake tools

POSTQUEUE_SCRIPTS = {
    # a stuck showq: never answers (exec: the shell's own PID is the sleeper)
    "hangs": "#!/bin/sh\nexec sleep 30\n",
    # what postqueue says to a user it does not let read the queue
    "denied": (
        "#!/bin/sh\necho 'postqueue: fatal: open /etc/postfix/main.cf: Permission denied' >&2\nexit 1\n"
    ),
    # what postqueue says when the mail system is down
    "down": (
        "#!/bin/sh\necho 'postqueue: fatal: Queue report unavailable - mail system is down' >&2\nexit 69\n"
    ),
    "empty": "#!/bin/sh\nexit 0\n",
}

# one deferred message a line, as postqueue -j prints it, COUNT times (awk: no Python
# start-up; the count is written into the script: the plugin runs tools with a clean env)
LISTING = r"""#!/bin/sh
exec awk -v n=COUNT 'BEGIN {
  head = "{\"queue_name\": \"deferred\", \"queue_id\": \"Q%07d\", \"arrival_time\": 1700000000, "
  head = head "\"message_size\": 321, \"sender\": \"www-data@web1.example.test\", "
  tail = "\"recipients\": [{\"address\": \"user@example.net\", \"delay_reason\": "
  tail = tail "\"host mx.example.net[192.0.2.25] said: 451 4.7.1 Sender verify failed\"}]}\n"
  for (i = 0; i < n; i++)
    printf head tail, i
}'
"""


def postqueue_listing(count: int, delay: float = 0.0) -> str:
    """A fake ``postqueue`` printing ``count`` deferred messages (callout deferrals),
    after ``delay`` seconds (a busy showq)."""
    script = LISTING.replace("COUNT", str(int(count)))
    return script.replace("#!/bin/sh\n", f"#!/bin/sh\nsleep {delay:.2f}\n", 1) if delay else script


MILLION = postqueue_listing(1_000_000)


def fake_tool(directory: Path, name: str, script: str) -> Path:
    """Write an executable ``name`` into ``directory`` (to be put first in PATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(script)
    path.chmod(0o755)
    return path


def postfix_root(directory: Path, main_cf: str = "") -> Path:
    """A minimal Postfix configuration directory (``--postfix-config``)."""
    conf = directory / "postfix"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "main.cf").write_text(
        main_cf
        or (
            "myhostname = web1.example.test\nmydomain = example.test\nmyorigin = $mydomain\n"
            "inet_interfaces = loopback-only\nmynetworks = 127.0.0.0/8\n"
        )
    )
    (conf / "master.cf").write_text("smtp      inet  n       -       y       -       -       smtpd\n")
    return conf


# --------------------------------------------------------------------------- a read-only /tmp

NOBODY = ("--reuid", "nobody", "--regid", "nogroup", "--clear-groups")


def _runs_as_nobody(python: str, pythonpath: str) -> bool:
    probe = subprocess.run(
        ["setpriv", *NOBODY, "env", f"PYTHONPATH={pythonpath}", python, "-c", "import nagiosplugin, dns"],
        capture_output=True,
        timeout=30,
        cwd="/",
    )
    return probe.returncode == 0


def unprivileged_python(directory: Path) -> tuple[str, str] | None:
    """An interpreter and PYTHONPATH with which ``nobody`` can run the plugins: the
    packages and their libraries are copied into ``directory`` (readable by all, and
    outside /tmp, which the test hides), and the interpreter is the test's own or the
    system's of the same version (the test's own may lie where ``nobody`` cannot read)."""
    import importlib.util
    import shutil

    if os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists() or not Path("/usr/bin/unshare").exists():
        return None
    skip = shutil.ignore_patterns("__pycache__")
    for package in ("check_callout", "check_nullmailer"):
        shutil.copytree(ROOT / package, directory / package, ignore=skip)
    for library in ("nagiosplugin", "dns", "idna"):
        spec = importlib.util.find_spec(library)
        if spec is not None and spec.submodule_search_locations:
            shutil.copytree(list(spec.submodule_search_locations)[0], directory / library, ignore=skip)
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    tag = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, f"/usr/bin/{tag}"):
        if Path(python).exists() and _runs_as_nobody(python, str(directory)):
            return python, str(directory)
    return None


def run_readonly_tmp(
    python: tuple[str, str], module: str, args: list[str], limit: float = 30.0
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m module args`` as ``nobody`` in a private mount namespace where
    /tmp and /var/tmp are read-only (empty tmpfs) and the working directory is /: no
    temporary directory is usable, as under systemd's ``ProtectSystem=strict``."""
    interpreter, pythonpath = python
    script = (
        "mount -t tmpfs -o ro,size=64k cchl-ro-tmp /tmp && "
        "mount -t tmpfs -o ro,size=64k cchl-ro-tmp /var/tmp && cd / && "
        f'exec setpriv {" ".join(NOBODY)} env -u TMPDIR PYTHONPATH="$0" "$@"'
    )
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, pythonpath, interpreter]
        + ["-m", module, *args],
        capture_output=True,
        timeout=limit,
        stdin=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- a hanging resolver

BLACKHOLE = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[1], "w").close()
s.settimeout(0.5)
end = time.monotonic() + 60
while time.monotonic() < end:
    try:
        s.recv(4096)  # every question is read and never answered
    except socket.timeout:
        pass
"""

HANGING_DNS = """
ip link set lo up && hostname cchl-web1 || exit 97
mount --bind "$0/resolv.conf" /etc/resolv.conf && mount --bind "$0/hosts" /etc/hosts || exit 98
mount --bind "$0/nsswitch.conf" /etc/nsswitch.conf || exit 98
"$1" -c "$BLACKHOLE" "$0/ready" & hole=$!
for i in $(seq 50); do [ -e "$0/ready" ] && break; sleep 0.1; done
"$@"; rc=$?
kill "$hole"
exit $rc
"""


def run_with_hanging_resolver(
    directory: Path, argv: list[str], limit: float = 40.0
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """Run ``argv`` (an interpreter first) in throwaway network, mount and UTS namespaces:
    the host is called ``cchl-web1`` (no dot, so its FQDN needs a lookup), /etc/hosts
    knows only localhost and the only name server, on 127.0.0.1:53, reads every
    question and never answers (as a dead local resolver does).  Returns the process
    and its wall time."""
    import time

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "resolv.conf").write_text("nameserver 127.0.0.1\n")
    (directory / "hosts").write_text("127.0.0.1 localhost\n")
    (directory / "nsswitch.conf").write_text("hosts: files dns\n")
    start = time.monotonic()
    done = subprocess.run(
        ["unshare", "--net", "--mount", "--uts", "--propagation", "private", "sh", "-c", HANGING_DNS]
        + [str(directory), *argv],
        capture_output=True,
        timeout=limit,
        stdin=subprocess.DEVNULL,
        env=dict(plugin_env(), BLACKHOLE=BLACKHOLE),
        cwd=str(ROOT),
    )
    return done, time.monotonic() - start


def wait_until(predicate: Callable[[], Any], timeout: float, step: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(step)
    return None


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process, then SIGKILL its own process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        # start_new_session=True made the PID the group id; helpers it forked
        # (Icinga's worker and process spawner) stay in that group.
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def in_private_mount(netns: str, script: str) -> list[str]:
    """argv running ``script`` with /bin/sh in network namespace ``netns`` and a private
    mount namespace of its own (bind mounts made there vanish with it)."""
    return [
        "ip",
        "netns",
        "exec",
        netns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        script,
    ]
