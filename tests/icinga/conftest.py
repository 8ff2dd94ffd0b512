"""Fixtures for the contrib/icinga tests: the plugins, SMTP and DNS servers on
loopback, a real Icinga 2 and a real nrpe (tests/icinga/icinga.py, nrpe.py).

Everything runs on 127.0.0.1 with free ports, temporary directories and
bounded waits; every process started here is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.icinga import icinga, nrpe
from tests.support.ci import require
from tests.support.servers import Behaviour, DNSTestServer, SMTPTestServer, closed_port, free_port

PLUGINS = ("check_callout", "check_nullmailer")


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
    require(os.path.exists(nrpe.CHECK_NRPE), f"{nrpe.CHECK_NRPE} missing (nagios-nrpe-plugin)")
    directory = tmp_path_factory.mktemp("plugins")
    for name, path in plugin_paths.items():
        (directory / name).symlink_to(path)
    (directory / "check_nrpe").symlink_to(nrpe.CHECK_NRPE)
    return directory


# --------------------------------------------------------------------------- SMTP and DNS


@dataclass
class SMTPServers:
    accept: int  # accepts every RCPT: a good callout target, or an open relay
    tempfail: int  # 451 4.3.0 try later to every RCPT
    deny: int  # 554 relay denied to every RCPT
    closed: int  # nothing listens
    silent: int  # accepts TCP connections and never says a word
    servers: list[SMTPTestServer]

    @property
    def data_seen(self) -> bool:
        return any(server.handler.data_seen for server in self.servers)


@pytest.fixture(scope="session")
def smtp_servers() -> Iterator[SMTPServers]:
    behaviours = {
        "accept": Behaviour(rcpt="250 2.1.5 OK", ident="accept.smtp.test ESMTP"),
        "tempfail": Behaviour(rcpt="451 4.3.0 try later", ident="tempfail.smtp.test ESMTP"),
        "deny": Behaviour(rcpt="554 5.7.1 relay denied", ident="deny.smtp.test ESMTP"),
    }
    started: list[SMTPTestServer] = []
    ports: dict[str, int] = {}
    # The kernel completes handshakes up to the backlog; nobody answers.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        for name, behaviour in behaviours.items():
            server = SMTPTestServer("127.0.0.1", free_port(), behaviour).__enter__()
            started.append(server)
            ports[name] = server.port
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield SMTPServers(closed=closed_port(), silent=silent.getsockname()[1], servers=started, **ports)
    finally:
        for server in started:
            server.__exit__()
        silent.close()


# The seed's setup: web1.example.test has an address but no MX (a null mailer's
# envelope domain); good.test has an MX.
TEST_ZONE = {
    "web1.example.test": [("A", "127.0.0.1")],
    "good.test": [("MX", (10, "mx.good.test"))],
    "mx.good.test": [("A", "127.0.0.1")],
}


@pytest.fixture(scope="session")
def dns_server() -> Iterator[int]:
    """An authoritative DNS server for TEST_ZONE on 127.0.0.1; its port."""
    with DNSTestServer(TEST_ZONE) as server:
        yield server.port


# --------------------------------------------------------------------------- Icinga 2


@pytest.fixture(scope="session")
def icinga_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed API certificate for NODE_NAME (also used as the CA)."""
    require(icinga.icinga_available(), "icinga2 not installed (contrib/icinga/install-packages.sh)")
    require(os.geteuid() == 0, "the Icinga 2 tests run the daemon as root")
    directory = tmp_path_factory.mktemp("icinga-certs")
    name = icinga.NODE_NAME
    key, crt = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(
        [icinga.ICINGA2, "pki", "new-cert", "--cn", name, "--key", str(key), "--cert", str(crt)],
        check=True,
        capture_output=True,
        timeout=60,
        env=icinga.IcingaLayout.env(),
    )
    shutil.copy(crt, directory / "ca.crt")
    return directory


@pytest.fixture(scope="session")
def make_icinga_layout(
    tmp_path_factory: pytest.TempPathFactory, icinga_certs: Path
) -> Callable[..., icinga.IcingaLayout]:
    """icinga.make_layout in a fresh temporary directory."""

    def make(hosts_conf: str, *args: object, **kwargs: object) -> icinga.IcingaLayout:
        root = tmp_path_factory.mktemp("icinga")
        return icinga.make_layout(root, icinga_certs, hosts_conf, *args, **kwargs)

    return make


# --------------------------------------------------------------------------- NRPE


@pytest.fixture(scope="session")
def nrpe_factory(plugin_paths: dict[str, Path]) -> Iterator[Callable[[str], nrpe.NRPEDaemon]]:
    require(nrpe.nrpe_available(), "nrpe/check_nrpe not installed (contrib/icinga/install-packages.sh)")
    require(os.geteuid() == 0, "the NRPE tests start nrpe as root (it drops to nagios)")
    require(
        shutil.which("unshare") is not None and shutil.which("setpriv") is not None,
        "unshare/setpriv (util-linux) missing",
    )
    started: list[nrpe.NRPEDaemon] = []
    workdirs: list[Path] = []

    def start(extra_commands: str = "") -> nrpe.NRPEDaemon:
        # pytest's temporary directories are private to root; the NRPE user
        # must read this one.
        workdir = Path(tempfile.mkdtemp(prefix="nrpe-test-"))
        workdirs.append(workdir)
        workdir.chmod(0o755)
        daemon = nrpe.NRPEDaemon(workdir, plugin_paths, extra_commands)
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
