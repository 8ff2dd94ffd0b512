"""A real nrpe daemon with contrib/icinga/nrpe.cfg; check_nrpe returns what the
plugin printed and its exit code."""

from __future__ import annotations

import re

import pytest

from tests.icinga.output import normalise, parts, perf_key


@pytest.fixture(scope="module")
def nrpe(nrpe_factory, plugin_paths, smtp_servers):
    callout = plugin_paths["check_callout"]
    extra = (
        f"command[test_callout_good]={callout} -d good.test -H 127.0.0.1"
        f" -p {smtp_servers.accept} -v\n"
        f"command[test_callout_tempfail]={callout} -d tempfail.test -H 127.0.0.1"
        f" -p {smtp_servers.tempfail} -v\n"
    )
    daemon = nrpe_factory(extra)
    daemon.test_commands = dict(re.findall(r"^command\[([^\]]+)\]=(.*)$", extra, re.M))
    return daemon


def test_contrib_command_is_loaded(nrpe, plugin_paths) -> None:
    assert "check_nullmailer_local" in nrpe.contrib_commands
    line = nrpe.contrib_commands["check_nullmailer_local"]
    assert line.startswith("/usr/lib/nagios/plugins/check_nullmailer --local -t "), line
    # The unchanged path reaches this checkout's plugin (not an installed package).
    seen = nrpe.run_as_nrpe_user("readlink /usr/lib/nagios/plugins/check_nullmailer")
    assert seen.stdout.strip() == str(plugin_paths["check_nullmailer"]), seen


def test_local_audit_over_nrpe_is_the_plugins_output(nrpe) -> None:
    """The contrib command audits this machine: its first line may mention the
    age of the queue in minutes, so a pair of runs that straddles a change is
    repeated (at most three pairs)."""
    for _attempt in range(3):
        over = nrpe.check_nrpe("check_nullmailer_local")
        direct = nrpe.run_as_nrpe_user(nrpe.contrib_commands["check_nullmailer_local"])
        assert direct.stdout.startswith("NULLMAILER "), direct.stdout + direct.stderr
        first, long_lines, perf = parts(over.stdout)
        d_first, d_long, d_perf = parts(direct.stdout)
        if first == d_first:
            break
    assert first == d_first
    assert over.returncode == direct.returncode, (over.stdout, direct.stdout)
    assert [perf_key(p) for p in perf] == [perf_key(p) for p in d_perf]
    assert [normalise(x) for x in long_lines] == [normalise(x) for x in d_long]


def test_local_audit_first_line_is_short(nrpe) -> None:
    over = nrpe.check_nrpe("check_nullmailer_local")
    first = over.stdout.split("\n", 1)[0].partition("|")[0].rstrip()
    assert len(first) <= 200, f"{len(first)} characters: {first}"


@pytest.mark.parametrize(("command", "state"), [("test_callout_good", 0), ("test_callout_tempfail", 2)])
def test_callout_over_nrpe_keeps_first_line_long_output_and_perfdata(nrpe, command, state) -> None:
    over = nrpe.check_nrpe(command)
    direct = nrpe.run_as_nrpe_user(nrpe.test_commands[command])
    assert direct.returncode == state, direct.stdout + direct.stderr
    assert over.returncode == state, over.stdout
    first, long_lines, perf = parts(over.stdout)
    d_first, d_long, d_perf = parts(direct.stdout)
    assert first == d_first  # no timings in the first line's text
    assert len(first) <= 200
    assert len(long_lines) >= 2 and [normalise(x) for x in long_lines] == [normalise(x) for x in d_long]
    assert [perf_key(p) for p in perf] == [perf_key(p) for p in d_perf]


def test_nrpe_refuses_command_arguments(nrpe) -> None:
    """dont_blame_nrpe stays 0: the contrib commands need no arguments."""
    over = nrpe.check_nrpe("check_nullmailer_local", "-a", "--root=/")
    assert over.returncode == 3, over.stdout
    assert not over.stdout.startswith("NULLMAILER"), over.stdout
    assert "invalid" in nrpe.log.read_text(), nrpe.log.read_text()
