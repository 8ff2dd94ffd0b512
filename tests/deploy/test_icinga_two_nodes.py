"""Two real Icinga 2 nodes in the lab: a master in the monitoring namespace and
an agent on the null mailer web1.good.test, certificates from ``icinga2 pki``.
The contrib files are laid out as the distributed layout says
(commands.conf in the global zone, services.conf and the hosts in
zones.d/master); the agent runs ``check_nullmailer --local`` by
command_endpoint on the real null mailer, the master runs the callouts and
the relay checks, and every state is read from the master's REST API."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import icinga_nodes
from .conftest import REPO, require

CONTRIB = REPO / "contrib" / "icinga"
MASTER, AGENT = "mon.test", "web1.good.test"

HOSTS = """\
/* The null mailer with the Icinga agent: stock myorigin = $myhostname. */
object Host "web1.good.test" {
  import "nullmailer-host"
  check_command = "dummy"
  address = "192.0.2.21"
  address6 = "2001:db8::21"
  vars.mail_domains = [ "good.test", "web1.good.test" ]
  vars.nullmailer_helo = "mon.test"
  vars.callout_helo = "mon.test"
}

/* An IPv6-only relay that refuses strangers: $check_address$ is address6. */
object Host "closedrelay.test" {
  import "mail-host"
  check_command = "dummy"
  address6 = "2001:db8::32"
  vars.mail_role = "nullmailer"
  vars.mail_agent = "none"
  vars.nullmailer_helo = "mon.test"
  vars.nullmailer_allow_inbound = true  /* it is a mail server for itself */
}
"""

# service -> (state, first words of the output)
EXPECTED = {
    "web1.good.test!nullmailer-local": (2, "NULLMAILER CRITICAL - "),
    "web1.good.test!nullmailer-relay": (0, "NULLMAILER OK - "),
    "web1.good.test!callout-good.test": (0, "CALLOUT OK - "),
    "web1.good.test!callout-web1.good.test": (2, "CALLOUT CRITICAL - "),
    "closedrelay.test!nullmailer-relay": (0, "NULLMAILER OK - "),
}


def instantiated(output: str, kind: str) -> int:
    match = re.search(rf"Instantiated (\d+) {kind}\b", output)
    return int(match.group(1)) if match else 0


@pytest.fixture(scope="module")
def two_nodes(installed_package, lab) -> Iterator[dict]:
    require(shutil.which("icinga2") is not None, "icinga2 missing (contrib/icinga/install-packages.sh)")
    prepared = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="ccdep-icinga-", dir="/var/tmp"))
    master = icinga_nodes.Node(MASTER, "master", workdir / "master", "192.0.2.99", lab.NODES["mon"].ns)
    agent = icinga_nodes.Node(AGENT, AGENT, workdir / "agent", "192.0.2.21", lab.NODES["web1"].ns)
    ca = icinga_nodes.make_ca(workdir / "ca")
    for node in (master, agent):
        node.certificate(ca)
    # Each side knows where the other listens: whoever is up first connects.
    zones = f"""\
object Endpoint "{MASTER}" {{ %s }}
object Zone "master" {{ endpoints = [ "{MASTER}" ] }}
object Endpoint "{AGENT}" {{ %s }}
object Zone "{AGENT}" {{ endpoints = [ "{AGENT}" ]; parent = "master" }}
object Zone "global-templates" {{ global = true }}
"""
    master.config.write_text(
        icinga_nodes.base_config(
            master,
            zones % ("", 'host = "192.0.2.21"; port = 5665'),
            "  accept_config = false\n  accept_commands = false",
            'object CheckerComponent "checker" { }\n',
        )
    )
    agent.config.write_text(
        icinga_nodes.base_config(
            agent,
            zones % ('host = "192.0.2.99"; port = 5665', ""),
            "  accept_config = true\n  accept_commands = true",
            'object CheckerComponent "checker" { }\n',
        )
    )
    # The distributed layout, as on a master.
    (master.root / "zones.d" / "global-templates").mkdir()
    (master.root / "zones.d" / "master").mkdir()
    shutil.copy(CONTRIB / "commands.conf", master.root / "zones.d/global-templates/mail-commands.conf")
    shutil.copy(CONTRIB / "services.conf", master.root / "zones.d/master/mail-services.conf")
    (master.root / "zones.d/master/mail-hosts.conf").write_text(HOSTS)

    # Both validations at once (each loads the ITL).
    running = {"master": master.validate(), "agent": agent.validate()}
    checked = {name: icinga_nodes.finish(proc) for name, proc in running.items()}
    for name, result in checked.items():
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
    # A validation that creates no objects passes as well: count them.
    assert instantiated(checked["master"].stdout, "Services") == len(EXPECTED), checked["master"].stdout
    assert instantiated(checked["master"].stdout, "Hosts") == 2, checked["master"].stdout
    assert instantiated(checked["master"].stdout, "Zones") == 3, checked["master"].stdout
    assert instantiated(checked["agent"].stdout, "Zones") == 3, checked["agent"].stdout

    started = time.monotonic()
    print(f"\nnodes validated in {time.monotonic() - prepared:.1f}s")
    try:
        # The agent sees the null mailer's real Postfix configuration as /etc/postfix.
        agent.start(f"mount --bind '{lab.postfix_dir('web1')}' /etc/postfix")
        lab.wait_ready_in("mon", ["192.0.2.21:5665"])
        master.start()
        master.wait("the API", lambda: master.api("GET", "/v1/status/IcingaApplication"), 30)
        print(f"\nmaster API up after {time.monotonic() - started:.1f}s")
        master.wait(
            "the agent's connection",
            lambda: master.api("GET", f"/v1/objects/endpoints/{AGENT}")["results"][0]["attrs"]["connected"],
            60,
        )
        print(f"agent connected after {time.monotonic() - started:.1f}s")

        services = {}

        def all_checked() -> dict | None:
            reply = master.api(
                "GET", "/v1/objects/services?attrs=last_check_result&attrs=state&attrs=command_endpoint"
            )
            found = {r["name"]: r["attrs"] for r in reply["results"]}
            done = all(
                (found.get(name) or {}).get("last_check_result")
                and found[name]["last_check_result"]["execution_end"] >= since
                and found[name]["last_check_result"]["output"].startswith(("CALLOUT", "NULLMAILER"))
                for name in EXPECTED
            )
            services.update(found)
            return found if done else None

        # The agent reloads once when the global zone arrives: force the checks
        # again (bounded) until every result is a plugin's output.
        deadline = time.monotonic() + 90
        result = None
        while result is None:
            since = time.time()
            master.api(
                "POST", "/v1/actions/reschedule-check", {"type": "Service", "filter": "true", "force": True}
            )
            try:
                result = master.wait("every service's result", all_checked, 3)
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"not all checked: {services}\n{agent.tail()}") from None
        print(f"all checked after {time.monotonic() - started:.1f}s")
        yield {"services": result, "master": master, "agent": agent, "validation": checked}
    finally:
        master.stop()
        agent.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_state_read_from_the_masters_api(two_nodes, name) -> None:
    attrs = two_nodes["services"][name]
    res = attrs["last_check_result"]
    state, start = EXPECTED[name]
    assert res["state"] == state and attrs["state"] == state, res["output"]
    assert res["output"].startswith(start), res["output"]


def test_local_audit_runs_on_the_agent(two_nodes) -> None:
    attrs = two_nodes["services"]["web1.good.test!nullmailer-local"]
    res = attrs["last_check_result"]
    assert attrs["command_endpoint"] == AGENT
    assert res["check_source"] == AGENT, res["check_source"]
    assert res["command"][0] == "/usr/lib/nagios/plugins/check_nullmailer", res["command"]
    assert "--local" in res["command"] and "-H" not in res["command"], res["command"]
    # The null mailer's own configuration: stock myorigin, seen by callout.
    assert "myorigin" in res["output"] and "web1.good.test" in res["output"], res["output"]


def test_agent_got_the_commands_through_the_global_zone(two_nodes) -> None:
    """The agent's own configuration has no CheckCommand of ours: it came from
    the master's zones.d/global-templates by the config sync."""
    reply = two_nodes["agent"].api("GET", "/v1/objects/checkcommands/nullmailer")
    attrs = reply["results"][0]["attrs"]
    assert attrs["package"] == "_cluster", attrs["package"]
    assert attrs["zone"] == "global-templates", attrs["zone"]


def test_master_runs_the_remote_checks(two_nodes) -> None:
    for name in EXPECTED:
        if name.endswith("nullmailer-local"):
            continue
        res = two_nodes["services"][name]["last_check_result"]
        assert res["check_source"] == MASTER, (name, res["check_source"])


def test_relay_check_follows_check_address(two_nodes) -> None:
    v4 = two_nodes["services"]["web1.good.test!nullmailer-relay"]["last_check_result"]["command"]
    assert v4[v4.index("-H") + 1] == "192.0.2.21", v4
    v6 = two_nodes["services"]["closedrelay.test!nullmailer-relay"]["last_check_result"]
    assert v6["command"][v6["command"].index("-H") + 1] == "2001:db8::32", v6["command"]
    perf = dict(p.split("=", 1) for p in v6["performance_data"])
    assert float(perf["relay_tests"].split(";")[0]) > 0, v6  # it answered, and refused


def test_the_seed_problem_is_seen_from_outside(two_nodes) -> None:
    res = two_nodes["services"]["web1.good.test!callout-web1.good.test"]["last_check_result"]
    assert "451 Could not complete sender verify callout" in res["output"], res["output"]
