"""A real Icinga 2 on loopback: its directories, its validation and a small
client for its REST API."""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.icinga_config import preamble
from tests.support.processes import stop_process, wait_until
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib" / "icinga"
ICINGA2 = shutil.which("icinga2") or "/usr/sbin/icinga2"
NODE_NAME = "nullmailer.test"
API_USER = "test"
API_PASSWORD = "loopback-only-test-password"


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


def make_layout(
    root: Path,
    certs: Path,
    hosts_conf: str,
    plugin_dir: Path | None = None,
    api: bool = False,
    services_conf: str | None = None,
    commands_conf: str | None = None,
    services_zone: str = "master",
) -> IcingaLayout:
    """A master/agent layout: the contrib files in zones.d as an admin installs
    them (commands.conf in the global zone, services.conf and the hosts in the
    master zone). The local endpoint is NODE_NAME, so a host of that name is
    "its own agent" (command_endpoint = host.name runs the check locally)."""
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
    for item in certs.iterdir():
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
        preamble(plugins, NODE_NAME, "master")
        + f"""
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
