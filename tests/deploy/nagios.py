"""Nagios Core 4 in a test: a small main configuration of our own in a
temporary directory owned by nagios, validated with ``nagios4 -v``, run in
the foreground (it drops to the nagios user), checks forced through the
external command file, states read from ``status.dat``."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from tests.support.processes import stop_process

NAGIOS = "/usr/sbin/nagios4"
#: Debian's stock templates, time periods and contacts (generic-service, 24x7, admins)
DEBIAN_OBJECTS = [
    Path("/etc/nagios4/objects") / n
    for n in ("timeperiods.cfg", "contacts.cfg", "templates.cfg", "commands.cfg")
]
STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def available() -> bool:
    return os.access(NAGIOS, os.X_OK) and all(p.exists() for p in DEBIAN_OBJECTS)


def main_config(workdir: Path, object_files: list[Path], plugin_dir: Path) -> Path:
    """Write resource.cfg and nagios.cfg under ``workdir``; the objects are copied
    there (the nagios user reads them after dropping privileges)."""
    (workdir / "rw").mkdir(exist_ok=True)
    (workdir / "checkresults").mkdir(exist_ok=True)
    copies = []
    for index, path in enumerate([*DEBIAN_OBJECTS, *object_files]):
        copy = workdir / f"{index:02d}-{path.name}"
        shutil.copy(path, copy)
        copies.append(copy)
    (workdir / "resource.cfg").write_text(f"$USER1$={plugin_dir}\n")
    lines = [f"cfg_file={c}" for c in copies] + [
        f"log_file={workdir}/nagios.log",
        f"resource_file={workdir}/resource.cfg",
        f"status_file={workdir}/status.dat",
        "status_update_interval=1",
        f"object_cache_file={workdir}/objects.cache",
        f"precached_object_file={workdir}/objects.precache",
        f"temp_file={workdir}/nagios.tmp",
        f"temp_path={workdir}",
        f"lock_file={workdir}/nagios.lock",
        f"command_file={workdir}/rw/nagios.cmd",
        f"query_socket={workdir}/rw/nagios.qh",
        f"check_result_path={workdir}/checkresults",
        f"state_retention_file={workdir}/retention.dat",
        "retain_state_information=0",
        "use_retained_program_state=0",
        "use_retained_scheduling_info=0",
        "nagios_user=nagios",
        "nagios_group=nagios",
        "check_external_commands=1",
        "check_result_reaper_frequency=1",
        "execute_host_checks=0",
        "enable_notifications=0",
        "enable_flap_detection=0",
        "use_syslog=0",
        "log_initial_states=1",
        "interval_length=60",
        "service_check_timeout=60",
        "check_for_updates=0",
        "illegal_macro_output_chars=`~$&|'\"<>",
    ]
    config = workdir / "nagios.cfg"
    config.write_text("\n".join(lines) + "\n")
    user = pwd.getpwnam("nagios")
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    workdir.chmod(0o755)
    return config


def validate(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NAGIOS, "-v", str(config)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def parse_status(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """``servicestatus`` blocks of status.dat: {(host, service): attributes}."""
    services: dict[tuple[str, str], dict[str, str]] = {}
    block: dict[str, str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "servicestatus {":
            block = {}
        elif stripped == "}" and block is not None:
            services[(block["host_name"], block["service_description"])] = block
            block = None
        elif block is not None and "=" in stripped:
            key, _, value = stripped.partition("=")
            block[key] = value
    return services


class Nagios:
    """A running Nagios Core; ``argv_prefix`` puts it into a network namespace."""

    def __init__(self, config: Path, argv_prefix: list[str]) -> None:
        self.config = config
        self.workdir = config.parent
        with open(self.workdir / "stdout.log", "wb") as out:
            self.proc = subprocess.Popen(
                [*argv_prefix, NAGIOS, str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_for_command_file(self, timeout: float = 20) -> None:
        pipe = self.workdir / "rw" / "nagios.cmd"
        deadline = time.monotonic() + timeout
        while not pipe.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nagios4 did not open its command file:\n{self.tail()}")
            time.sleep(0.1)

    def command(self, line: str) -> None:
        # The FIFO: opening it for writing does not block while Nagios reads it.
        fd = os.open(self.workdir / "rw" / "nagios.cmd", os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, f"[{int(time.time())}] {line}\n".encode())
        finally:
            os.close(fd)

    def force_checks(self, services: list[tuple[str, str]]) -> float:
        now = int(time.time())
        for host, service in services:
            self.command(f"SCHEDULE_FORCED_SVC_CHECK;{host};{service};{now}")
        return now

    def status(self) -> dict[tuple[str, str], dict[str, str]]:
        try:
            return parse_status((self.workdir / "status.dat").read_text(errors="replace"))
        except OSError:
            return {}

    def wait_checked(
        self, services: list[tuple[str, str]], since: float, timeout: float = 60
    ) -> dict[tuple[str, str], dict[str, str]]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            done = [
                s
                for s in services
                if s in status
                and status[s].get("has_been_checked") == "1"
                and int(status[s].get("last_check", "0")) >= since
            ]
            if len(done) == len(services):
                return status
            if self.proc.poll() is not None or time.monotonic() > deadline:
                missing = sorted(set(services) - set(done))
                raise AssertionError(f"not checked within {timeout}s: {missing}\n{self.tail()}")
            time.sleep(0.25)

    def tail(self, lines: int = 30) -> str:
        texts = []
        for name in ("stdout.log", "nagios.log"):
            path = self.workdir / name
            if path.exists():
                texts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    def stop(self) -> None:
        stop_process(self.proc, grace=15)  # SIGTERM, then its process group (workers, checks)
