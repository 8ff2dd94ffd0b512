"""A real nrpe on loopback that runs contrib/icinga/nrpe.cfg unchanged, in a
private mount namespace that shows the NRPE user this checkout's plugins in
/usr/lib/nagios/plugins."""

from __future__ import annotations

import os
import pwd
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

from tests.support.processes import stop_process, wait_until
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib" / "icinga"
NRPE = "/usr/sbin/nrpe"
CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"
NRPE_USER = "nagios"
NRPE_PLUGIN_DIR = Path("/usr/lib/nagios/plugins")  # path used in contrib/icinga/nrpe.cfg


def nrpe_available() -> bool:
    return os.path.exists(NRPE) and os.path.exists(CHECK_NRPE)


def _blocking_dirs(paths: list[Path], uid: int, gids: set[int]) -> dict[Path, set[str]]:
    """Directories on the way to ``paths`` that the NRPE user cannot enter."""
    blocked: dict[Path, set[str]] = {}
    for path in paths:
        parts = path.parts
        for depth in range(1, len(parts)):
            directory = Path(*parts[:depth])
            st = directory.stat()
            if st.st_uid == uid:
                can = st.st_mode & stat.S_IXUSR
            elif st.st_gid in gids:
                can = st.st_mode & stat.S_IXGRP
            else:
                can = st.st_mode & stat.S_IXOTH
            if not can:
                blocked.setdefault(directory, set()).add(parts[depth])
    return blocked


def nrpe_view_script(workdir: Path, plugin_paths: dict[str, Path]) -> Path:
    """A shell wrapper that runs its arguments in a private mount namespace in
    which the unprivileged NRPE user can reach the Python installation and the
    project (a root-only home directory is covered with a tmpfs and only the
    needed entries are bound back), and in which NRPE_PLUGIN_DIR holds the
    plugins of this checkout, so contrib/icinga/nrpe.cfg runs unchanged.
    Nothing changes outside that namespace."""
    user = pwd.getpwnam(NRPE_USER)
    gids = {user.pw_gid} | {g for g in os.getgrouplist(NRPE_USER, user.pw_gid)}
    needed = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), REPO}
    for path in plugin_paths.values():
        needed.add(path.resolve().parent)
        first = path.read_bytes()[:256].split(b"\n", 1)[0]
        if first.startswith(b"#!"):
            needed.add(Path(first[2:].decode().split()[0]).resolve().parent)
    blocked = _blocking_dirs(sorted(needed), user.pw_uid, gids)
    lines = ["#!/bin/sh", "set -e"]
    stage = workdir / "stage"
    # Stage the needed entries first (they still show the real directories),
    # then cover the blocking directories, outermost first, and bind back.
    order = sorted(blocked, key=lambda d: len(d.parts))
    staged: dict[Path, Path] = {}
    for index, directory in enumerate(order):
        for child in sorted(blocked[directory]):
            target = stage / f"{index}-{child}"
            target.mkdir(parents=True)
            staged[directory / child] = target
            lines.append(f"mount --bind '{directory / child}' '{target}'")
    for directory in order:
        lines.append(f"mount -t tmpfs -o mode=0755 tmpfs '{directory}'")
        for child in sorted(blocked[directory]):
            lines.append(f"mkdir -p '{directory / child}'")
            lines.append(f"mount --bind '{staged[directory / child]}' '{directory / child}'")
    plugins = workdir / "plugins"
    plugins.mkdir(mode=0o755)
    for name, path in plugin_paths.items():
        (plugins / name).symlink_to(path)
    lines.append(f"mount --bind '{plugins}' '{NRPE_PLUGIN_DIR}'")
    lines.append('exec "$@"')
    script = workdir / "nrpe-view.sh"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return script


class NRPEDaemon:
    def __init__(self, workdir: Path, plugin_paths: dict[str, Path], extra_commands: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.view = nrpe_view_script(workdir, plugin_paths)
        # The contrib command file as an admin installs it, unchanged: the
        # view shows this checkout's plugins in NRPE_PLUGIN_DIR.
        contrib = (CONTRIB / "nrpe.cfg").read_text()
        self.contrib_commands = dict(re.findall(r"^command\[([^\]]+)\]=(.*)$", contrib, re.M))
        (workdir / "mail-checks.cfg").write_text(contrib)
        (workdir / "test-commands.cfg").write_text(extra_commands)
        self.config = workdir / "nrpe.cfg"
        self.log = workdir / "nrpe.log"
        self.config.write_text(f"""\
pid_file={workdir}/nrpe.pid
server_address=127.0.0.1
server_port={self.port}
nrpe_user={NRPE_USER}
nrpe_group={NRPE_USER}
allowed_hosts=127.0.0.1
dont_blame_nrpe=0
allow_bash_command_substitution=0
command_timeout=60
connection_timeout=30
disable_syslog=1
log_file={self.log}
debug=0
include={workdir}/mail-checks.cfg
include={workdir}/test-commands.cfg
""")
        for path in (workdir, self.config, workdir / "mail-checks.cfg", workdir / "test-commands.cfg"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.log.touch()
        os.chown(self.log, pwd.getpwnam(NRPE_USER).pw_uid, -1)
        self.stdout = workdir / "nrpe.stdout"
        with open(self.stdout, "wb") as out:
            self.proc = subprocess.Popen(
                self._in_view(NRPE, "-c", str(self.config), "-f"),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def _in_view(self, *argv: str) -> list[str]:
        """``argv`` in a private mount namespace that shows NRPE's file system view."""
        return ["unshare", "--mount", "--propagation", "private", "--", str(self.view), *argv]

    def check_nrpe(self, command: str, *args: str, timeout: int = 40) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CHECK_NRPE, "-H", "127.0.0.1", "-p", str(self.port), "-t", str(timeout), "-c", command, *args],
            capture_output=True,
            text=True,
            timeout=timeout + 10,
        )

    def run_as_nrpe_user(self, command_line: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a command line as NRPE does: as its user, in the same file system view."""
        return subprocess.run(
            self._in_view(
                "setpriv",
                f"--reuid={NRPE_USER}",
                f"--regid={NRPE_USER}",
                "--init-groups",
                "--",
                "/bin/sh",
                "-c",
                command_line,
            ),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )

    def wait_ready(self, timeout: float = 15) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"nrpe exited {self.proc.returncode}: {self.stdout.read_text()} {self.log.read_text()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        if not wait_until(ready, timeout):
            raise AssertionError(f"nrpe not listening within {timeout}s: {self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.proc, grace=10)
