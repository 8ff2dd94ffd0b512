"""A network namespace of the test's own (``cchn-<tag>-<pid>``) in which a scene runs:
test servers and the plugin as real processes, with the network the test set up.

- only ``lo`` is up unless ``setup`` adds more (``ip`` commands run inside): so
  addresses off loopback have no route, and nothing ever leaves the machine;
- ``hosts`` and ``resolv_conf`` become the namespace's ``/etc/hosts`` and
  ``/etc/resolv.conf``: ``ip netns exec`` bind-mounts ``/etc/netns/<name>/<file>`` over
  ``/etc/<file>`` in a private mount namespace, so the host's own files are untouched;
- ``hide`` makes files of ``/etc`` missing inside: an overlay of ``/etc`` whose upper
  layer (on a private tmpfs) holds a whiteout for each;
- a scene is a function of :mod:`tests.support.scenes`, run inside with
  ``python -m tests.support.scenes NAME ARGS``; it prints one JSON line (a ProcessRun).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.hostile import ROOT, ProcessRun

PREFIX = "cchn-"
NETNS_ETC = Path("/etc/netns")


def _ip() -> str | None:
    return shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip") if Path(p).exists()), None)


def sandbox_available() -> bool:
    """Root and iproute2: namespaces can be made."""
    return os.geteuid() == 0 and _ip() is not None


class Sandbox:
    """A throwaway network namespace; removed (with its ``/etc/netns`` files) on exit."""

    def __init__(
        self,
        tag: str,
        *,
        hosts: str | None = None,
        resolv_conf: str | None = None,
        setup: list[list[str]] | None = None,
        hide: tuple[str, ...] = (),
    ) -> None:
        self.name = f"{PREFIX}{tag}-{os.getpid()}"
        self.etc = NETNS_ETC / self.name
        self.hosts = hosts
        self.resolv_conf = resolv_conf
        self.setup = setup or []
        self.hide = hide
        self.layer: str | None = None

    def __enter__(self) -> Sandbox:
        if self.hide:
            import tempfile

            self.layer = tempfile.mkdtemp(prefix=f"{self.name}-")
        self._ip("netns", "add", self.name)
        try:
            self._ip("-n", self.name, "link", "set", "lo", "up")
            for argv in self.setup:
                self.exec(argv, limit=10, check=True)
            if self.hosts is not None or self.resolv_conf is not None:
                self.etc.mkdir(parents=True, exist_ok=True)
                if self.hosts is not None:
                    (self.etc / "hosts").write_text(self.hosts)
                if self.resolv_conf is not None:
                    (self.etc / "resolv.conf").write_text(self.resolv_conf)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([_ip() or "ip", "netns", "del", self.name], capture_output=True, timeout=10)
        shutil.rmtree(self.etc, ignore_errors=True)
        if self.layer is not None:
            shutil.rmtree(self.layer, ignore_errors=True)

    def _ip(self, *args: str) -> None:
        subprocess.run([_ip() or "ip", *args], check=True, capture_output=True, timeout=10)

    def exec(
        self, argv: list[str], limit: float = 30.0, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the namespace (its own /etc/hosts and resolv.conf)."""
        if self.layer is not None:  # the mounts live in this command's mount namespace only
            whiteouts = " && ".join(f'mknod "$d/u/{name}" c 0 0' for name in self.hide)
            script = (
                f'd={self.layer} && mount -t tmpfs cchn "$d" && mkdir "$d/u" "$d/w" && {whiteouts} && '
                'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/u,workdir=$d/w" /etc && exec "$@"'
            )
            argv = ["sh", "-c", script, "sh", *argv]
        return subprocess.run(
            [_ip() or "ip", "netns", "exec", self.name, *argv],
            capture_output=True,
            text=True,
            timeout=limit,
            check=check,
            cwd=str(ROOT),
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )

    def scene(self, name: str, *args: str, limit: float = 40.0) -> ProcessRun:
        """Run a scene of :mod:`tests.support.scenes` inside; its plugin run."""
        done = self.exec([sys.executable, "-m", "tests.support.scenes", name, *args], limit=limit)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"scene {name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return ProcessRun(**json.loads(lines[-1]))

    def plugin(self, module: str, *args: str, limit: float = 30.0) -> ProcessRun:
        """Run a plugin inside, with no servers of the test's own."""
        return self.scene("plugin", module, *args, limit=limit)
