"""Real Icinga 2 and NRPE daemons on loopback for the contrib/icinga tests.

Everything runs on 127.0.0.1 with free ports, temporary directories and
bounded waits; every process started here is stopped by its PID.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib" / "icinga"
ICINGA2 = shutil.which("icinga2") or "/usr/sbin/icinga2"
NRPE = "/usr/sbin/nrpe"
CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"
NRPE_USER = "nagios"
PLUGINS = ("check_callout", "check_nullmailer")
NODE_NAME = "nullmailer.test"
API_USER = "test"
API_PASSWORD = "loopback-only-test-password"
NRPE_PLUGIN_DIR = Path("/usr/lib/nagios/plugins")  # path used in contrib/icinga/nrpe.cfg


def require(ok: bool, what: str) -> None:
    """Skip with a one-line reason, or fail when running in CI."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must have it)", pytrace=False)
    pytest.skip(what)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def split_plugin_output(text: str) -> tuple[str, list[str], list[str]]:
    """Split plugin output the Nagios way: (first line, long output lines, perfdata)."""
    lines = text.rstrip("\n").split("\n")
    first, _, perf = lines[0].partition("|")
    perfdata = perf.split()
    long_lines: list[str] = []
    in_perf = False
    for line in lines[1:]:
        if in_perf:
            perfdata.extend(line.split())
            continue
        text_part, bar, perf = line.partition("|")
        long_lines.append(text_part.rstrip() if bar else line)
        if bar:
            perfdata.extend(perf.split())
            in_perf = True
    return first.rstrip(), long_lines, perfdata


def perf_key(item: str) -> tuple[str, str, str]:
    """A perfdata item for comparing two runs: durations (unit s) may differ,
    and Icinga drops the quotes around a label that needs none."""
    label, _, rest = item.rpartition("=")
    if len(label) > 1 and label[0] == label[-1] == "'" and " " not in label:
        label = label[1:-1]
    value, _, thresholds = rest.partition(";")
    match = re.match(r"^([-+]?[\d.]+(?:[eE][-+]?\d+)?)(.*)$", value)
    number, unit = (match.group(1), match.group(2)) if match else (value, "")
    return label, unit if unit == "s" else number + unit, thresholds


# --------------------------------------------------------------------------- plugins


@pytest.fixture(scope="session")
def plugin_paths() -> dict[str, Path]:
    """The installed console scripts (pip install -e .)."""
    found: dict[str, Path] = {}
    for name in PLUGINS:
        candidate = Path(sys.executable).parent / name
        path = candidate if candidate.is_file() else None
        if path is None and shutil.which(name):
            path = Path(shutil.which(name))  # type: ignore[arg-type]
        require(path is not None, f"console script {name} not installed (pip install -e .)")
        found[name] = path  # type: ignore[assignment]
    return found


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory, plugin_paths: dict[str, Path]) -> Path:
    """A PluginDir with links to the console scripts and check_nrpe."""
    require(os.path.exists(CHECK_NRPE), f"{CHECK_NRPE} missing (nagios-nrpe-plugin)")
    directory = tmp_path_factory.mktemp("plugins")
    for name, path in plugin_paths.items():
        (directory / name).symlink_to(path)
    (directory / "check_nrpe").symlink_to(CHECK_NRPE)
    return directory


# --------------------------------------------------------------------------- SMTP servers


@dataclass
class SMTPServers:
    accept: int  # accepts every RCPT: a good callout target, or an open relay
    tempfail: int  # 451 4.3.0 try later to every RCPT
    deny: int  # 554 relay denied to every RCPT
    closed: int  # nothing listens
    silent: int  # accepts TCP connections and never says a word
    data_commands: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, rcpt_reply: str | None, data_log: list[str]) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_log = data_log

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.data_log.append(str(session.peer))
        return "554 5.7.0 no DATA expected"


@pytest.fixture(scope="session")
def smtp_servers() -> Iterator[SMTPServers]:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    data_log: list[str] = []
    controllers = []
    sockets: list[socket.socket] = []
    ports = {}
    replies = {"accept": None, "tempfail": "451 4.3.0 try later", "deny": "554 5.7.1 relay denied"}
    try:
        for name, reply in replies.items():
            for attempt in range(5):
                port = free_port()
                controller = aiosmtpd.Controller(
                    _Handler(reply, data_log),
                    hostname="127.0.0.1",
                    port=port,
                    ready_timeout=5.0,
                    server_hostname=f"{name}.smtp.test",
                )
                try:
                    controller.start()
                except Exception:
                    if attempt == 4:
                        raise
                    continue
                controllers.append(controller)
                ports[name] = port
                break
        # The kernel completes handshakes up to the backlog; nobody answers.
        silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sockets.append(silent)
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield SMTPServers(closed=free_port(), silent=silent.getsockname()[1], data_commands=data_log, **ports)
    finally:
        for controller in controllers:
            controller.stop()
        for sock in sockets:
            sock.close()


# --------------------------------------------------------------------------- DNS

# The seed's setup: web1.example.test has an address but no MX (a null mailer's
# envelope domain); good.test has an MX.
TEST_ZONE = """\
web1.example.test. 60 A 127.0.0.1
good.test. 60 MX 10 mx.good.test.
mx.good.test. 60 A 127.0.0.1
"""


@pytest.fixture(scope="session")
def dns_server() -> Iterator[int]:
    """An authoritative DNS server for TEST_ZONE on 127.0.0.1 (UDP); its port."""
    dnslib = pytest.importorskip("dnslib")
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    records = dnslib.RR.fromZone(TEST_ZONE)

    class Resolver(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            same_name = [rr for rr in records if rr.rname == request.q.qname]
            if not same_name:
                reply.header.rcode = dnslib.RCODE.NXDOMAIN
            for rr in same_name:
                if rr.rtype == request.q.qtype:
                    reply.add_answer(rr)
            return reply

    server = None
    for attempt in range(5):
        port = free_port()
        try:
            server = DNSServer(
                Resolver(), port=port, address="127.0.0.1", logger=DNSLogger(logf=lambda _: None)
            )
            break
        except OSError:
            if attempt == 4:
                raise
    assert server is not None
    server.start_thread()
    try:
        yield port
    finally:
        server.stop()
        server.server.server_close()


# --------------------------------------------------------------------------- Icinga 2


def icinga_available() -> bool:
    return os.path.exists(ICINGA2) and os.path.isdir("/usr/share/icinga2/include")


@dataclass
class IcingaLayout:
    root: Path
    config: Path
    zones: Path
    api_port: int

    def argv(self, *extra: str) -> list[str]:
        dirs = {
            "ZonesDir": self.zones,
            "DataDir": self.root / "lib",
            "LogDir": self.root / "log",
            "CacheDir": self.root / "cache",
            "SpoolDir": self.root / "spool",
            "InitRunDir": self.root / "run",
        }
        defines = [f"-D{key}={value}" for key, value in dirs.items()]
        return [
            ICINGA2,
            "daemon",
            "-c",
            str(self.config),
            *defines,
            "-DRunAsUser=root",
            "-DRunAsGroup=root",
            *extra,
        ]

    @staticmethod
    def env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(ICINGA2_USER="root", ICINGA2_GROUP="root", LC_ALL="C.UTF-8")
        return env


@pytest.fixture(scope="session")
def icinga_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed API certificate for NODE_NAME (also used as the CA)."""
    require(icinga_available(), "icinga2 not installed (contrib/icinga/install-packages.sh)")
    require(os.geteuid() == 0, "the Icinga 2 tests run the daemon as root")
    directory = tmp_path_factory.mktemp("icinga-certs")
    key, crt = directory / f"{NODE_NAME}.key", directory / f"{NODE_NAME}.crt"
    subprocess.run(
        [ICINGA2, "pki", "new-cert", "--cn", NODE_NAME, "--key", str(key), "--cert", str(crt)],
        check=True,
        capture_output=True,
        timeout=60,
        env=IcingaLayout.env(),
    )
    shutil.copy(crt, directory / "ca.crt")
    return directory


@pytest.fixture(scope="session")
def make_icinga_layout(
    tmp_path_factory: pytest.TempPathFactory, icinga_certs: Path
) -> Callable[..., IcingaLayout]:
    """Build a master/agent layout: contrib files in zones.d as an admin installs them.

    commands.conf goes to the global zone, services.conf and the hosts to the
    master zone; the local endpoint is NODE_NAME, so a host of that name is
    "its own agent" (command_endpoint = host.name runs the check locally).
    """

    def make(
        hosts_conf: str,
        plugin_dir: Path | None = None,
        api: bool = False,
        services_conf: str | None = None,
        commands_conf: str | None = None,
        services_zone: str = "master",
    ) -> IcingaLayout:
        root = tmp_path_factory.mktemp("icinga")
        for sub in (
            "lib/certs",
            "log",
            "cache",
            "spool",
            "run",
            "zones.d/global-templates",
            "zones.d/master",
        ):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for item in icinga_certs.iterdir():
            shutil.copy(item, root / "lib" / "certs" / item.name)
        zones = root / "zones.d"
        (zones / "global-templates" / "commands.conf").write_text(
            commands_conf if commands_conf is not None else (CONTRIB / "commands.conf").read_text()
        )
        (zones / services_zone / "services.conf").write_text(
            services_conf if services_conf is not None else (CONTRIB / "services.conf").read_text()
        )
        (zones / "master" / "hosts.conf").write_text(hosts_conf)
        plugins = plugin_dir or (root / "no-plugins")
        api_port = free_port()
        config = root / "icinga2.conf"
        config.write_text(
            f"""\
const PluginDir = "{plugins}"
const PluginContribDir = "{plugins}"
const ManubulonPluginDir = "{plugins}"
const NodeName = "{NODE_NAME}"
const ZoneName = "master"
const TicketSalt = ""

include <itl>
include <plugins>

object FileLogger "test-log" {{
  path = "{root}/log/icinga2.log"
  severity = "notice"
}}

object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {api_port}
}}

object ApiUser "{API_USER}" {{
  password = "{API_PASSWORD}"
  permissions = [ "*" ]
}}

object Endpoint NodeName {{}}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
object Zone "global-templates" {{ global = true }}

/* An agent that is not the local node (for the validation of hosts.conf.example). */
object Endpoint "web1.example.com" {{}}
object Zone "web1.example.com" {{ endpoints = [ "web1.example.com" ]; parent = ZoneName }}
"""
            + (
                """
object CheckerComponent "checker" {}
"""
                if api
                else ""
            )
        )
        return IcingaLayout(root=root, config=config, zones=zones, api_port=api_port)

    return make


def icinga_validate(layout: IcingaLayout) -> subprocess.CompletedProcess:
    return subprocess.run(layout.argv("-C"), capture_output=True, text=True, timeout=60, env=layout.env())


class IcingaDaemon:
    """A running ``icinga2 daemon`` and a small client for its REST API."""

    def __init__(self, layout: IcingaLayout) -> None:
        self.layout = layout
        self.log = layout.root / "log" / "stdout.log"
        self._ctx = ssl.create_default_context()
        self._ctx.check_hostname = False
        self._ctx.verify_mode = ssl.CERT_NONE
        # No proxy: every request goes to 127.0.0.1 directly.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._ctx)
        )
        token = base64.b64encode(f"{API_USER}:{API_PASSWORD}".encode()).decode()
        self._auth = f"Basic {token}"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                layout.argv(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=layout.env(),
                start_new_session=True,
            )

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 5) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.layout.api_port}{path}",
            data=data,
            method=method,
            headers={
                "Accept": "application/json",
                "Authorization": self._auth,
                "Content-Type": "application/json",
            },
        )
        with self._opener.open(request, timeout=timeout) as response:
            return json.load(response)

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"icinga2 exited {self.proc.returncode}:\n{self.tail()}")
            try:
                self.api("GET", "/v1/status/IcingaApplication", timeout=2)
                return True
            except (OSError, urllib.error.URLError, ValueError):
                return False

        if not wait_until(ready, timeout, 0.25):
            raise AssertionError(f"Icinga API not up within {timeout}s:\n{self.tail()}")

    def services(self) -> dict[str, dict]:
        reply = self.api(
            "GET",
            "/v1/objects/services?attrs=last_check_result&attrs=state&attrs=last_check&attrs=check_command",
        )
        return {r["name"]: r["attrs"] for r in reply["results"]}

    def tail(self, lines: int = 40) -> str:
        texts = []
        for path in (self.log, self.layout.root / "log" / "icinga2.log"):
            if path.exists():
                texts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    def stop(self) -> None:
        stop_process(self.proc, grace=15)


# --------------------------------------------------------------------------- NRPE


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
            self._in_view("setpriv", f"--reuid={NRPE_USER}", f"--regid={NRPE_USER}", "--init-groups",
                          "--", "/bin/sh", "-c", command_line),
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


@pytest.fixture(scope="session")
def nrpe_factory(plugin_paths: dict[str, Path]) -> Iterator[Callable[[str], NRPEDaemon]]:
    require(nrpe_available(), "nrpe/check_nrpe not installed (contrib/icinga/install-packages.sh)")
    require(os.geteuid() == 0, "the NRPE tests start nrpe as root (it drops to nagios)")
    require(
        shutil.which("unshare") is not None and shutil.which("setpriv") is not None,
        "unshare/setpriv (util-linux) missing",
    )
    started: list[NRPEDaemon] = []
    workdirs: list[Path] = []

    def start(extra_commands: str = "") -> NRPEDaemon:
        # pytest's temporary directories are private to root; the NRPE user
        # must read this one.
        workdir = Path(tempfile.mkdtemp(prefix="nrpe-test-"))
        workdirs.append(workdir)
        workdir.chmod(0o755)
        daemon = NRPEDaemon(workdir, plugin_paths, extra_commands)
        started.append(daemon)
        daemon.wait_ready()
        return daemon

    try:
        yield start
    finally:
        for daemon in started:
            daemon.stop()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def kit() -> types.SimpleNamespace:
    """The helpers of this file for the test modules (a test module must not
    import "conftest": several conftest.py files share that name)."""
    return types.SimpleNamespace(
        CONTRIB=CONTRIB,
        ICINGA2=ICINGA2,
        NODE_NAME=NODE_NAME,
        IcingaDaemon=IcingaDaemon,
        IcingaLayout=IcingaLayout,
        icinga_validate=icinga_validate,
        split_plugin_output=split_plugin_output,
        wait_until=wait_until,
        perf_key=perf_key,
    )
