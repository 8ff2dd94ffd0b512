"""--extra-opts: options from an INI file, as the Monitoring Plugins' C plugins read them,
proven side by side with Debian's real check_smtp where that is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.output import PluginOutput
from tests.support.servers import DNSTestServer, SMTPTestServer, closed_port, free_port

CHECK_SMTP = shutil.which("check_smtp", path="/usr/lib/nagios/plugins")


def plugin(module: str, *args: str, env: dict | None = None) -> PluginOutput:
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )
    assert "Traceback" not in done.stdout + done.stderr
    return PluginOutput(done.returncode, done.stdout)


@pytest.fixture(scope="module")
def receiver():
    port = free_port()
    zone = {"good.test": [("MX", (10, "mx.good.test"))], "mx.good.test": [("A", "127.0.0.1")]}
    with SMTPTestServer("127.0.0.1", port), DNSTestServer(zone) as dns:
        yield port, dns


def ini(tmp_path, text: str):
    path = tmp_path / "plugins.ini"
    path.write_text(text)
    return path


def test_the_plugin_section_supplies_options(tmp_path, receiver):
    port, dns = receiver
    path = ini(
        tmp_path,
        f"; site defaults\n[check_callout]\nnameserver = 127.0.0.1\ndns-port={dns.port}\n"
        f"p = {port}\nhelo=monitor.test\nallow-private=\n[other]\nport=1\n",
    )
    run = plugin("check_callout.plugin", "-d", "good.test", f"--extra-opts=@{path}")
    assert run.code == 0, run.output
    assert run.first_line.startswith(
        "CALLOUT OK - postmaster@good.test: mx.good.test [127.0.0.1] accepts RCPT"
    )


def test_the_command_line_wins_and_a_named_section_is_read(tmp_path, receiver):
    port, dns = receiver
    path = ini(tmp_path, f"[site]\nnameserver=127.0.0.1\ndns-port={dns.port}\nport={closed_port()}\n")
    # the file's port is closed; the command line's port is the receiver's
    run = plugin(
        "check_callout.plugin",
        f"--extra-opts=site@{path}",
        "-d",
        "good.test",
        "-p",
        str(port),
        "--allow-private",
    )
    assert run.code == 0, run.output


def test_the_default_file_comes_from_the_environment(tmp_path, receiver):
    port, dns = receiver
    path = ini(tmp_path, f"[check_callout]\nnameserver=127.0.0.1\ndns-port={dns.port}\nport={port}\n")
    for env in ({"MP_CONFIG_FILE": str(path)}, {"NAGIOS_CONFIG_PATH": f"/nonexistent:{tmp_path}"}):
        run = plugin("check_callout.plugin", "--extra-opts", "-d", "good.test", "--allow-private", env=env)
        assert run.code == 0, (env, run.output)


@pytest.mark.parametrize(
    "text, locator, words",
    [
        ("[check_nullmailer]\nlocal=\n", "nosuch@{path}", "no section [nosuch]"),
        ("[check_nullmailer]\nlocal\n", "@{path}", "not 'option = value'"),
        ("local=\n", "@{path}", "before any [section]"),
        ("", "@/nonexistent/plugins.ini", "cannot read /nonexistent/plugins.ini"),
    ],
)
def test_file_errors_are_unknown(tmp_path, text, locator, words):
    path = ini(tmp_path, text)
    run = plugin("check_nullmailer.plugin", "--extra-opts=" + locator.format(path=path))
    assert run.code == 3 and run.first_line.startswith("NULLMAILER UNKNOWN - extra-opts: ")
    assert words in run.first_line


def test_options_from_the_file_are_checked_like_the_command_line(tmp_path):
    path = ini(tmp_path, "[check_callout]\ndomain=good.test\nhelo=bad\x07name\n")
    run = plugin("check_callout.plugin", f"--extra-opts=@{path}")
    assert run.code == 3 and "control character" in run.first_line


@pytest.mark.skipif(CHECK_SMTP is None, reason="monitoring-plugins' check_smtp is not installed")
@pytest.mark.parametrize(
    "text, locator, code",
    [
        (
            "[check_smtp]\nport={port}\n[check_callout]\nport={port}\n",
            "@{path}",
            2,
        ),  # the file's port is used
        ("[check_smtp]\nport=1\n[check_callout]\nport=1\n", "nosuch@{path}", 3),  # no such section
        ("[check_smtp]\nport\n[check_callout]\nport\n", "@{path}", 3),  # a line without '='
        ("", "@/nonexistent/x.ini", 3),  # no such file
    ],
)
def test_the_same_file_means_the_same_to_check_smtp(tmp_path, text, locator, code):
    """check_smtp -H 127.0.0.1 and check_callout -H 127.0.0.1 read one file: the same port is
    used (both report the refused connection), the same errors are UNKNOWN."""
    port = closed_port()
    path = ini(tmp_path, text.format(port=port))
    argv = ["-H", "127.0.0.1", "--extra-opts=" + locator.format(path=path)]
    real = subprocess.run([CHECK_SMTP, *argv], capture_output=True, text=True, timeout=30)
    ours = plugin("check_callout.plugin", "-s", "a@good.test", *argv)
    assert (real.returncode, ours.code) == (code, code), (real.stdout, ours.output)
    if code == 2:
        assert f"port {port}: Connection refused" in real.stdout
        assert f"refused port {port}" in ours.first_line
