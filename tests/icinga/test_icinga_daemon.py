"""A real Icinga 2 runs the contrib services against SMTP servers on loopback.

One daemon per module: it plays the master and, for the host named like its
own endpoint, the agent (command_endpoint = host.name runs the check locally).
The services come from contrib/icinga/services.conf unchanged; the hosts
below only point the checks at the test servers.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.icinga.icinga import NODE_NAME, IcingaDaemon, icinga_validate
from tests.icinga.output import normalise, parts, perf_key
from tests.support.processes import wait_until

HOSTS = """\
/* The null mailer itself, its own agent: Postfix with the default
 * myorigin = $myhostname = web1.example.test, which has no MX, and port 25 of
 * that host closed. Nothing listens on its SMTP port for the relay battery. */
object Host "{node}" {{
  import "nullmailer-host"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.nullmailer_root = "{root}"
  vars.nullmailer_nameserver = "127.0.0.1"
  vars.nullmailer_dns_port = {dns}
  vars.nullmailer_port = {closed}
  vars.nullmailer_ports = [ {closed} ]
  vars.nullmailer_connect_timeout = 3
  vars.mail_domains = [ "good.test" ]
  vars.callout_host = "127.0.0.1"
  vars.callout_port = {accept}
}}

/* A null mailer that is an open relay, watched through NRPE. Its envelope
 * domain's MX defers every RCPT. */
object Host "openrelay.test" {{
  import "nullmailer-host"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mail_agent = "nrpe"
  vars.nrpe_port = {nrpe}
  vars.nullmailer_ports = [ {accept} ]
  vars.nullmailer_connect_timeout = 3
  vars.mail_domains = [ "tempfail.test" ]
  vars.callout_host = "127.0.0.1"
  vars.callout_port = {tempfail}
}}

/* A mail server that listens and refuses to relay. */
object Host "closedrelay.test" {{
  import "nullmailer-host"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mail_agent = "nrpe"
  vars.nrpe_port = {nrpe}
  vars.nullmailer_ports = "{deny}"
  vars.nullmailer_connect_timeout = 3
}}

/* Another host sending as web1.example.test: the callout follows DNS
 * (no MX, implicit MX on 127.0.0.1, port closed). */
object Host "web1.example.test" {{
  import "mail-host"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mail_domains = [ "web1.example.test" ]
  vars.callout_nameserver = "127.0.0.1"
  vars.callout_dns_port = {dns}
  vars.callout_port = {closed}
  vars.callout_connect_timeout = 3
}}

/* Site settings from an INI file (--extra-opts) instead of host vars: the
 * probed host and port come only from there. */
object Host "extraopts.test" {{
  import "mail-host"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mail_domains = [ "good.test" ]
  vars.callout_extra_opts = "check_callout@{ini}"
  vars.callout_receiver = [ "exim", "postfix" ]
}}

/* An MX that accepts the connection and never answers: the plugin's own
 * -t (2 s here) ends the check, well before the CheckCommand's timeout. */
object Host "silent.test" {{
  import "mail-host"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.mail_domains = [ "silent.test" ]
  vars.callout_host = "127.0.0.1"
  vars.callout_port = {silent}
  vars.callout_timeout = 2
}}

/* Neither callout_domain nor callout_sender: Icinga refuses to run the check. */
object Service "callout-nothing" {{
  host_name = "web1.example.test"
  check_command = "callout"
}}
"""

POSTFIX_MAIN_CF = """\
myhostname = web1.example.test
inet_interfaces = loopback-only
mydestination =
"""

EXPECTED_SERVICES = {
    f"{NODE_NAME}!nullmailer-relay",
    f"{NODE_NAME}!nullmailer-local",
    f"{NODE_NAME}!callout-good.test",
    "openrelay.test!nullmailer-relay",
    "openrelay.test!nullmailer-local",
    "openrelay.test!callout-tempfail.test",
    "closedrelay.test!nullmailer-relay",
    "closedrelay.test!nullmailer-local",
    "web1.example.test!callout-web1.example.test",
    "web1.example.test!callout-nothing",
    "silent.test!callout-silent.test",
    "extraopts.test!callout-good.test",
}

EXTRA_OPTS_INI = """\
[check_callout]
hostname = 127.0.0.1
port = {accept}
"""


@pytest.fixture(scope="module")
def nrpe(nrpe_factory):
    return nrpe_factory()


@pytest.fixture(scope="module")
def icinga(
    make_icinga_layout, plugin_dir, smtp_servers, dns_server, nrpe, tmp_path_factory
) -> Iterator[tuple]:
    root = tmp_path_factory.mktemp("nullmailer-root")
    (root / "etc" / "postfix").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("web1.example.test\n")
    (root / "etc" / "postfix" / "main.cf").write_text(POSTFIX_MAIN_CF)
    ini = root / "mail-checks.ini"
    ini.write_text(EXTRA_OPTS_INI.format(accept=smtp_servers.accept))
    hosts = HOSTS.format(
        ini=ini,
        node=NODE_NAME,
        root=root,
        dns=dns_server,
        closed=smtp_servers.closed,
        accept=smtp_servers.accept,
        tempfail=smtp_servers.tempfail,
        deny=smtp_servers.deny,
        silent=smtp_servers.silent,
        nrpe=nrpe.port,
    )
    layout = make_icinga_layout(hosts, plugin_dir, api=True)
    checked = icinga_validate(layout)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    daemon = IcingaDaemon(layout)
    try:
        daemon.wait_ready(timeout=30)
        assert set(daemon.services()) == EXPECTED_SERVICES
        started = time.time()
        daemon.api(
            "POST", "/v1/actions/reschedule-check", {"type": "Service", "filter": "true", "force": True}
        )

        def all_checked() -> dict | None:
            services = daemon.services()
            done = all(
                s["last_check_result"] and s["last_check_result"]["execution_end"] >= started
                for s in services.values()
            )
            return services if done else None

        services = wait_until(all_checked, timeout=60, step=0.25)
        assert services, f"not every service was checked within 60 s:\n{daemon.tail()}"
        yield daemon, services
    finally:
        daemon.stop()


def result(icinga, name: str) -> dict:
    return icinga[1][name]["last_check_result"]


def test_callout_good_domain_is_ok(icinga) -> None:
    res = result(icinga, f"{NODE_NAME}!callout-good.test")
    assert res["exit_status"] == 0 and res["state"] == 0, res
    assert res["output"].startswith("CALLOUT OK - postmaster@good.test"), res["output"]
    labels = {p.split("=")[0] for p in res["performance_data"]}
    assert {"time", "mx_hosts", "mx_accepting"} <= labels, res["performance_data"]
    command = res["command"]
    assert command[command.index("-H") + 1] == "127.0.0.1", command
    assert command[command.index("-d") + 1] == "good.test", command


def test_callout_reads_the_extra_opts_file(icinga) -> None:
    """Only the INI file names the test server: OK means the plugin read it."""
    res = result(icinga, "extraopts.test!callout-good.test")
    command = res["command"]
    extra = [arg for arg in command if arg.startswith("--extra-opts")]
    assert extra and extra[0].startswith("--extra-opts=check_callout@"), command
    assert "-H" not in command and "-p" not in command, command
    receivers = [command[i + 1] for i, arg in enumerate(command) if arg == "--receiver"]
    assert receivers == ["exim", "postfix"], command
    assert res["state"] == 0, res["output"]
    assert res["output"].startswith("CALLOUT OK - postmaster@good.test: [127.0.0.1] accepts"), res["output"]


def test_callout_451_is_critical(icinga) -> None:
    res = result(icinga, "openrelay.test!callout-tempfail.test")
    assert res["exit_status"] == 2 and res["state"] == 2, res
    first = res["output"].split("\n", 1)[0]
    assert first.startswith("CALLOUT CRITICAL - postmaster@tempfail.test"), first
    assert "451" in first, first


def test_relay_battery_open_relay_is_critical(icinga, smtp_servers) -> None:
    res = result(icinga, "openrelay.test!nullmailer-relay")
    assert res["state"] == 2, res
    assert res["output"].startswith("NULLMAILER CRITICAL"), res["output"]
    perf = dict(p.split("=", 1) for p in res["performance_data"])
    assert float(perf["relay_accepted"].split(";")[0]) > 0, perf
    assert "--local" not in res["command"]
    assert res["command"][res["command"].index("--ports") + 1] == str(smtp_servers.accept)


def test_relay_battery_relay_denied_is_ok(icinga) -> None:
    res = result(icinga, "closedrelay.test!nullmailer-relay")
    assert res["state"] == 0, res
    perf = dict(p.split("=", 1) for p in res["performance_data"])
    assert float(perf["relay_accepted"].split(";")[0]) == 0, perf
    assert float(perf["relay_tests"].split(";")[0]) > 0, perf


def test_relay_battery_closed_port_is_ok(icinga) -> None:
    res = result(icinga, f"{NODE_NAME}!nullmailer-relay")
    assert res["state"] == 0, res
    # Local-mode host vars stay out of the remote command line.
    for option in ("--local", "--root", "--nameserver", "--dns-port", "-p"):
        assert option not in res["command"], res["command"]
    assert res["output"].startswith("NULLMAILER OK"), res["output"]


def test_local_audit_through_the_agent_finds_the_seed_problem(icinga) -> None:
    """Default myorigin = $myhostname, no MX, port 25 closed: receivers defer."""
    res = result(icinga, f"{NODE_NAME}!nullmailer-local")
    command = res["command"]
    assert command[0].endswith("/check_nullmailer") and "--local" in command, command
    # Remote-mode host vars stay out of the local command line.
    assert "-H" not in command and "--ports" not in command, command
    assert res["state"] == 2, res
    first = res["output"].split("\n", 1)[0]
    assert first.startswith("NULLMAILER CRITICAL"), first
    assert "web1.example.test" in first and "451" in first, first
    labels = {p.split("=")[0] for p in res["performance_data"]}
    # The queue's labels depend on this machine's MTA (none: the queue part is skipped).
    assert "open_ports" in labels, labels


def test_callout_implicit_mx_closed_port_is_critical(icinga) -> None:
    res = result(icinga, "web1.example.test!callout-web1.example.test")
    assert res["state"] == 2, res
    first = res["output"].split("\n", 1)[0]
    assert first.startswith("CALLOUT CRITICAL - postmaster@web1.example.test"), first
    assert "451 Could not complete sender verify callout" in first, first
    assert "-H" not in res["command"], res["command"]


def test_local_audit_through_nrpe(icinga, nrpe) -> None:
    res = result(icinga, "openrelay.test!nullmailer-local")
    command = res["command"]
    assert command[0].endswith("/check_nrpe"), command
    assert command[command.index("-c") + 1] == "check_nullmailer_local"
    assert command[command.index("-p") + 1] == str(nrpe.port)
    direct = nrpe.check_nrpe("check_nullmailer_local")
    first, _, perf = parts(direct.stdout)
    assert res["exit_status"] == direct.returncode, (res, direct)
    # Icinga keeps the blank before "|" when long output follows; the queue's
    # age may have changed since Icinga's run.
    assert normalise(res["output"].split("\n", 1)[0].rstrip()) == normalise(first)
    assert [perf_key(p)[0] for p in res["performance_data"]] == [perf_key(p)[0] for p in perf]


def test_output_survives_icinga(icinga) -> None:
    """Rerun every command Icinga ran: first line, long output and perfdata
    arrived intact (durations aside)."""
    for name, attrs in sorted(icinga[1].items()):
        res = attrs["last_check_result"]
        if name.endswith("!callout-nothing"):
            continue
        assert "Timeout exceeded" not in res["output"], (name, res["output"])
        direct = subprocess.run(res["command"], capture_output=True, text=True, timeout=60)
        first, long_lines, perf = parts(direct.stdout)
        assert direct.returncode == res["exit_status"], (name, direct.stdout, res)
        # Icinga keeps the blank before "|" when long output follows.
        icinga_lines = [line.rstrip() for line in res["output"].split("\n")]
        assert [normalise(x) for x in icinga_lines] == [
            normalise(x.rstrip()) for x in [first, *long_lines]
        ], name
        # Values are compared exactly in the NRPE tests; here the structure
        # (labels, units, thresholds, order) of what Icinga stored.
        stored = [normalise("=".join(perf_key(p))) for p in res["performance_data"]]
        assert stored == [normalise("=".join(perf_key(p))) for p in perf], name


def test_first_lines_are_short(icinga) -> None:
    too_long = {}
    for name, attrs in sorted(icinga[1].items()):
        if name.endswith("!callout-nothing"):
            continue
        first_line = attrs["last_check_result"]["output"].split("\n", 1)[0].rstrip()
        if len(first_line) > 200:
            too_long[name] = f"{len(first_line)}: {first_line}"
    assert not too_long, "first lines over 200 characters:\n" + "\n".join(
        f"{k} ({v})" for k, v in too_long.items()
    )


def test_plugin_timeout_comes_before_icingas(icinga) -> None:
    res = result(icinga, "silent.test!callout-silent.test")
    assert res["state"] == 3, res
    assert res["output"].startswith("CALLOUT UNKNOWN"), res["output"]
    assert "Timeout exceeded" not in res["output"]
    assert res["command"][res["command"].index("-t") + 1] == "2"
    assert res["execution_end"] - res["execution_start"] < 10, res


def test_required_var_missing_is_unknown(icinga) -> None:
    attrs = icinga[1]["web1.example.test!callout-nothing"]
    res = attrs["last_check_result"]
    assert attrs["state"] == 3, res
    assert "Non-optional macro 'callout_sender'" in res["output"], res["output"]


def test_checks_never_sent_data(icinga, smtp_servers) -> None:
    assert not smtp_servers.data_seen
