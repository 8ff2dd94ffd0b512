"""Icinga 2 nodes in lab namespaces: their own directories, certificates from
``icinga2 pki``, started in the foreground, stopped by PID; the REST API is
asked from inside the node's namespace (the test runs outside it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.icinga_config import preamble
from tests.support.processes import in_private_mount, stop_process

ICINGA2 = shutil.which("icinga2") or "/usr/sbin/icinga2"
ENV = {**os.environ, "ICINGA2_USER": "root", "ICINGA2_GROUP": "root", "LC_ALL": "C.UTF-8"}
API_USER, API_PASSWORD = "test", "lab-only-test-password"

API_CLIENT = r"""
import base64, json, ssl, sys, urllib.request
url, method, body, auth = sys.argv[1:5]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
req = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers={
    "Accept": "application/json", "Content-Type": "application/json",
    "Authorization": "Basic " + base64.b64encode(auth.encode()).decode()})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                     urllib.request.HTTPSHandler(context=ctx))
with opener.open(req, timeout=5) as reply:
    sys.stdout.write(reply.read().decode())
"""


def icinga2(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ICINGA2, *args], capture_output=True, text=True, timeout=timeout, env=ENV, stdin=subprocess.DEVNULL
    )


def make_ca(directory: Path) -> Path:
    """A CA by ``icinga2 pki new-ca`` in DIRECTORY/lib/ca; DIRECTORY/lib is its DataDir."""
    result = icinga2("pki", "new-ca", f"-DDataDir={directory / 'lib'}")
    assert result.returncode == 0, result.stdout + result.stderr
    return directory / "lib"


@dataclass
class Node:
    name: str  # NodeName (and Endpoint)
    zone: str
    root: Path
    address: str
    netns: str

    def __post_init__(self) -> None:
        for sub in ("lib/certs", "log", "cache", "spool", "run", "zones.d"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.config = self.root / "icinga2.conf"
        self.proc: subprocess.Popen | None = None

    def certificate(self, ca_data_dir: Path) -> None:
        """Key, CSR and a certificate signed by the CA (``pki new-cert``, ``sign-csr``)."""
        certs = self.root / "lib" / "certs"
        key, csr, crt = (certs / f"{self.name}.{ext}" for ext in ("key", "csr", "crt"))
        for argv in (
            ("pki", "new-cert", "--cn", self.name, "--key", str(key), "--csr", str(csr)),
            ("pki", "sign-csr", "--csr", str(csr), "--cert", str(crt), f"-DDataDir={ca_data_dir}"),
        ):
            result = icinga2(*argv)
            assert result.returncode == 0, result.stdout + result.stderr
        shutil.copy(ca_data_dir / "ca" / "ca.crt", certs / "ca.crt")

    def argv(self, *extra: str) -> list[str]:
        dirs = {
            "ZonesDir": self.root / "zones.d",
            "DataDir": self.root / "lib",
            "LogDir": self.root / "log",
            "CacheDir": self.root / "cache",
            "SpoolDir": self.root / "spool",
            "InitRunDir": self.root / "run",
        }
        return [
            ICINGA2,
            "daemon",
            "-c",
            str(self.config),
            *(f"-D{key}={value}" for key, value in dirs.items()),
            "-DRunAsUser=root",
            "-DRunAsGroup=root",
            *extra,
        ]

    def validate(self) -> subprocess.Popen:
        """``icinga2 daemon -C``, started; ``finish`` waits for it."""
        return subprocess.Popen(
            self.argv("-C"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=ENV,
            stdin=subprocess.DEVNULL,
        )

    def start(self, setup: str = "") -> None:
        """Start in the node's namespace; SETUP runs first in a private mount
        namespace (e.g. a bind mount that shows this host's configuration)."""
        command = " ".join(f"'{a}'" for a in self.argv())
        script = f"{setup} && exec {command}" if setup else f"exec {command}"
        with open(self.root / "log" / "stdout.log", "wb") as out:
            self.proc = subprocess.Popen(
                in_private_mount(self.netns, script),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=ENV,
                start_new_session=True,
            )

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        result = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.netns,
                "/usr/bin/python3",
                "-c",
                API_CLIENT,
                f"https://{self.address}:5665{path}",
                method,
                json.dumps(body) if body else "",
                f"{API_USER}:{API_PASSWORD}",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise OSError(result.stderr.strip().splitlines()[-1] if result.stderr else "no reply")
        return json.loads(result.stdout)

    def wait(self, what: str, predicate, timeout: float, step: float = 0.5):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: icinga2 exited {self.proc.returncode}\n{self.tail()}")
            try:
                value = predicate()
            except (OSError, ValueError, KeyError):
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {what} not within {timeout}s\n{self.tail()}")
            time.sleep(step)

    def tail(self, lines: int = 30) -> str:
        path = self.root / "log" / "stdout.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, grace=15)  # SIGTERM, then its process group (workers, checks)


def base_config(node: Node, endpoints: str, api_options: str, extra: str = "") -> str:
    return (
        preamble("/usr/lib/nagios/plugins", node.name, node.zone)
        + f"""
{endpoints}

object ApiListener "api" {{
  bind_host = "{node.address}"
  bind_port = 5665
{api_options}
}}

object ApiUser "{API_USER}" {{
  password = "{API_PASSWORD}"
  permissions = [ "*" ]
}}
{extra}
"""
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> subprocess.CompletedProcess:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
