"""Small things seen going wrong, each as a real plugin process: arguments at their
edges, senders no remote callout can pass, perfdata that must stay put."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support.hostile import ROOT, ProcessRun, assert_well_formed, callout, measure
from tests.support.servers import DNSTestServer, closed_port

FAST = ["-t", "3", "--connect-timeout", "1", "--helo", "monitor.test"]


def run_with_env(args: list[str], **env: str) -> ProcessRun:
    argv = [sys.executable, "-m", "check_callout.plugin", *args]
    m = measure(argv, 20, env=dict(os.environ, PYTHONPATH=str(ROOT), **env), cwd=str(ROOT))
    return ProcessRun(argv, m.code, m.stdout, m.stderr, m.wall, m.maxrss_kb)


# ------------------------------------------------------------------ arguments


def test_null_sender_written_as_angle_brackets_is_accepted():
    """--help says the default is <>: saying so explicitly must work too."""
    run = callout(
        "-s", "a@example.test", "-H", "127.0.0.1", "-p", str(closed_port()), "--mail-from", "<>", *FAST
    )
    assert_well_formed(run)
    assert "usage error" not in run.first_line and run.code == 2, run  # it ran: refused


@pytest.mark.parametrize("value", ["0.1", "0.001", "1e-9"])
def test_timeout_too_short_to_do_anything_is_a_usage_error(value):
    run = callout("-s", "a@example.test", "-H", "127.0.0.1", "-t", value)
    match = assert_well_formed(run)
    assert run.code == 3 and "usage error" in match.group("text"), run


@pytest.mark.parametrize("option", ["-p", "--dns-port", "-t"])
def test_non_ascii_digits_are_refused(option):
    """int() and float() read Arabic-Indic digits; a port or a time on the command line
    of a monitoring system must be plain ASCII."""
    run = callout("-s", "a@example.test", "-H", "127.0.0.1", option, "\u0662\u0666")
    match = assert_well_formed(run)
    assert run.code == 3 and "usage error" in match.group("text"), run


def test_idn_sender_under_an_ascii_locale():
    """PYTHONUTF8=0 LC_ALL=C: argv arrives with surrogate escapes; the IDN is still read
    (and the line written to the ASCII stdout)."""
    port = str(closed_port())
    args = ["-s", "alice@b\u00fccher.test", "-H", "127.0.0.1", "-p", port, *FAST]
    run = run_with_env(args, PYTHONUTF8="0", LC_ALL="C")
    assert "usage error" not in run.first_line, run
    assert run.code == 2 and "refused" in run.first_line, run
    assert_well_formed(run)


# ------------------------------------------------------------------ senders


@pytest.mark.parametrize("sender", ["root@localhost", "www-data@intranet"])
def test_single_label_sender_domain_cannot_pass_a_remote_callout(sender):
    with DNSTestServer({"example.test": [("A", "127.0.0.1")]}) as dns:
        run = callout("-s", sender, *dns.args, *FAST)
        asked = list(dns.resolver.queries)
    match = assert_well_formed(run)
    assert run.code == 2 and "cannot pass any remote callout" in match.group("text"), run
    assert asked == [], f"asked DNS about {asked}"


# ------------------------------------------------------------------ perfdata


def test_time_perfdata_on_nxdomain():
    with DNSTestServer({"example.test": [("A", "127.0.0.1")]}) as dns:
        run = callout("-s", "a@gone.test", *dns.args, *FAST)
    assert_well_formed(run)
    assert run.code == 2 and "NXDOMAIN" in run.first_line, run
    assert "time" in run.perfdata, run


def mx_zone(addresses: int) -> dict[str, object]:
    return {
        "big.test": [("MX", (10, "mx.big.test"))],
        "mx.big.test": [("A", f"127.0.3.{i + 1}") for i in range(addresses)],  # all refuse
    }


def test_perfdata_labels_per_host_and_first_line_bounded():
    """One label per MX host however many addresses it has; a host that gains an
    address keeps its label (graphs do not break); 50 addresses fit NRPE v2's 1 KiB."""
    port = str(closed_port())
    labels = []
    for count in (1, 2, 50):
        with DNSTestServer(mx_zone(count)) as dns:
            run = callout("-s", "a@big.test", "-p", port, *dns.args, *FAST, "--allow-private")
        assert_well_formed(run)
        assert run.code == 2, run
        assert len(run.first_line) < 1024, (len(run.first_line), run)
        labels.append(sorted(run.perfdata))
    assert labels[0] == labels[1] == labels[2], labels
    assert "time_mx.big.test" in labels[0], labels
