"""check_nullmailer end to end: command line, remote mode against real SMTP servers,
local mode on configuration trees with a real DNS server and real SMTP servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from check_nullmailer import plugin
from tests.support.output import first_line
from tests.support.relay_servers import (
    auth_only,
    closed_port,
    closed_relay,
    greylisting,
    open_relay,
    smtp_server,
    write,
)
from tests.support.servers import DNSTestServer

HEAD4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def run(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        plugin.main(args)
    out = capsys.readouterr().out
    return exc.value.code, out


# -- command line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,words",
    [
        ([], "give -H HOST"),
        (["-H", "a.example", "--local"], "not allowed with"),
        (["-H", "a.example", "--ports", "25,99999"], "ports"),
        (["-H", "a.example", "--bogus"], "unrecognized"),
        (["--local", "--queue-warning", "x:y:z"], "range"),
        (["-H", "a.example\r\nRCPT TO:<x@y>"], "control character"),
        (["--local", "--origin", "bad domain"], "UNKNOWN"),
        (["--local", "--root", "/nonexistent/dir"], "--root"),
        (["--local", "--nameserver", "ns.example"], "IP address"),
    ],
)
def test_usage_errors_exit_3(args, words, capsys):
    code, out = run(args, capsys)
    assert code == 3
    assert out.startswith("NULLMAILER UNKNOWN - ") and words in out
    assert len(out.splitlines()) == 1


def test_help_and_version_exit_3(capsys):
    code, out = run(["--help"], capsys)
    assert code == 3 and "--relay-to" in out and "--local" in out
    code, out = run(["-V"], capsys)
    assert code == 3 and out.startswith("check_nullmailer ")


def test_console_module_entry_point():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_nullmailer.plugin",
            "-H",
            "127.0.0.1",
            "--ports",
            str(closed_port()),
            "-t",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("NULLMAILER OK - not listening on ")
    assert proc.stderr == ""


# -- remote -----------------------------------------------------------------------------------------


def test_remote_closed_ports_ok(capsys):
    first = closed_port()
    second = next(p for p in iter(closed_port, None) if p != first)  # two different ports
    ports = f"{first},{second}"
    code, out = run(["-H", "127.0.0.1", "--ports", ports, "-t", "5"], capsys)
    assert code == 0
    line = first_line(out)
    assert line.startswith(f"NULLMAILER OK - not listening on {ports.replace(',', ', ')} |")
    assert "open_ports=0" in line


def test_remote_open_relay_critical(capsys):
    with smtp_server(open_relay) as (port, handler):
        code, out = run(["-H", "127.0.0.1", "--ports", str(port), "-t", "10"], capsys)
    assert code == 2
    line = first_line(out)
    assert line.startswith(f"NULLMAILER CRITICAL - open relay on port {port}: test 1 MAIL FROM:<>")
    assert "relay_accepted=" in line and "relay_accepted=0" not in line
    assert "DATA" not in handler.commands


def test_remote_closed_relay_ok_with_perfdata(capsys):
    with smtp_server(closed_relay) as (port, _):
        code, out = run(["-H", "127.0.0.1", "--ports", str(port), "-v"], capsys)
    assert code == 0
    assert "relay_tests=16;;;0" in first_line(out) and "relay_accepted=0;;;0" in first_line(out)
    assert "test 12 MAIL FROM:<relay-check@[127.0.0.1]> RCPT TO:<@[127.0.0.1]:relay-probe@example.net>" in out


def test_remote_auth_only_ok(capsys):
    with smtp_server(auth_only) as (port, _):
        code, out = run(["-H", "127.0.0.1", "--ports", str(port)], capsys)
    assert code == 0 and "authentication required" in first_line(out)


def test_remote_greylisting_warning(capsys):
    with smtp_server(greylisting) as (port, _):
        code, out = run(["-H", "127.0.0.1", "--ports", str(port)], capsys)
    assert code == 1 and "inconclusive" in first_line(out)


def test_remote_expect_closed(capsys):
    with smtp_server(closed_relay) as (port, _):
        code, out = run(["-H", "127.0.0.1", "--ports", f"{port},{closed_port()}", "--expect-closed"], capsys)
    assert code == 2 and f"port {port} is open (expected closed)" in first_line(out)


def test_remote_relay_to_and_transcript(capsys):
    with smtp_server(closed_relay) as (port, handler):
        code, out = run(
            ["-H", "127.0.0.1", "--ports", str(port), "--relay-to", "relay.example.org", "-vv"], capsys
        )
    assert code == 0
    assert "RCPT relay-probe@relay.example.org" in handler.commands
    assert "C: RSET" in out and "S: 554 5.7.1" in out


def test_remote_inbound_warning_and_allow(capsys):
    def inbound(phase: str, address: str) -> str:
        if phase == "rcpt" and address.lower() != "postmaster@localhost":
            return "554 5.7.1 Relay access denied"
        return ""

    with smtp_server(inbound) as (port, _):
        code, out = run(["-H", "localhost", "-4", "--ports", str(port)], capsys)
        assert code == 1 and "accepts inbound mail" in first_line(out)
        assert "postmaster@localhost" in first_line(out)
        code, out = run(["-H", "localhost", "-4", "--ports", str(port), "--allow-inbound"], capsys)
        assert code == 0


def test_remote_unresolvable_host_unknown(capsys):
    code, out = run(["-H", "no-such-host.invalid", "-t", "5"], capsys)
    assert code == 3 and "cannot resolve no-such-host.invalid" in first_line(out)


def test_remote_whole_run_bounded_by_timeout(capsys):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    port = sock.getsockname()[1]
    try:
        start = time.monotonic()
        code, out = run(["-H", "127.0.0.1", "--ports", str(port), "-t", "2"], capsys)
        took = time.monotonic() - start
    finally:
        sock.close()
    assert took < 2.5
    assert code in (1, 3) and "Traceback" not in out


# -- local -------------------------------------------------------------------------------------------


def proc_tables(root, *rows: str) -> None:
    lines = "".join(
        f"   {n}: {r} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
        for n, r in enumerate(rows)
    )
    write(root, "/proc/net/tcp", HEAD4 + lines)


def accept_postmaster_at_example_com(phase: str, address: str) -> str:
    if phase == "rcpt" and address.lower() != "postmaster@example.com":
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
    return ""


ZONE = {
    "example.com": [("MX", (10, "mx.example.com"))],
    "mx.example.com": [("A", "127.0.0.1")],
    "web1.example.com": [("A", "127.0.0.2")],  # no MX; nothing listens on 127.0.0.2
    "smtp.example.com": [("A", "192.0.2.25")],  # the null mailers' smarthost (strict receivers' SPF)
}


@pytest.fixture(scope="module")
def receivers():
    with smtp_server(accept_postmaster_at_example_com) as (port, _handler):
        with DNSTestServer(ZONE) as dns:
            yield [*dns.args, "-p", str(port), "-t", "10"]


def nullmailer_tree(root, me: str = "web1", domain: str = "example.com") -> None:
    write(root, "/etc/nullmailer/remotes", "smtp.example.com smtp --port=587 --starttls\n")
    write(root, "/etc/nullmailer/me", me + "\n")
    write(root, "/etc/nullmailer/defaultdomain", domain + "\n")
    (root / "var/spool/nullmailer/queue").mkdir(parents=True)
    proc_tables(root, "0100007F:0019")


def test_local_the_trap_is_critical_with_the_fix(tmp_path, receivers, capsys):
    """nullmailer sending as web1.example.com: no MX, port 25 refused -> Exim defers."""
    nullmailer_tree(tmp_path)
    code, out = run(["--local", "--root", str(tmp_path)] + receivers, capsys)
    assert code == 2, out
    line = first_line(out)
    assert line.startswith(
        "NULLMAILER CRITICAL - nullmailer me + defaultdomain = web1.example.com: no MX, and it refused port"
    )
    assert "Exim defers (451)" in line
    assert "set allmailfrom to an address @example.com (MX accepts)" in line
    assert len(line.partition(" | ")[0]) <= 200
    assert "deferred=0" in line and "callout_deferred" not in line  # nullmailer keeps no reasons


def test_local_fixed_origin_ok(tmp_path, receivers, capsys):
    nullmailer_tree(tmp_path)
    write(tmp_path, "/etc/nullmailer/allmailfrom", "alerts@example.com\n")
    code, out = run(
        ["--local", "--root", str(tmp_path), "--sender", "postmaster@example.com"] + receivers, capsys
    )
    assert code == 0, out
    assert "passes callouts" in first_line(out)


def test_local_origin_override(tmp_path, receivers, capsys):
    nullmailer_tree(tmp_path)
    code, out = run(["--local", "--root", str(tmp_path), "--origin", "example.com"] + receivers, capsys)
    assert code == 0 and "--origin example.com" in first_line(out)


def test_local_postfix_listening_publicly_with_open_relay(tmp_path, receivers, capsys):
    write(
        tmp_path,
        "/etc/postfix/main.cf",
        "compatibility_level = 3.6\nmyhostname = web1.example.com\n"
        "myorigin = $mydomain\ninet_interfaces = all\nmynetworks = 0.0.0.0/0\n",
    )
    write(
        tmp_path, "/etc/postfix/master.cf", "smtp      inet  n       -       y       -       -       smtpd\n"
    )
    proc_tables(tmp_path, "00000000:0019")
    code, out = run(["--local", "--root", str(tmp_path)] + receivers, capsys)
    assert code == 2, out
    assert "listening on 0.0.0.0:25 and Postfix mynetworks = 0.0.0.0/0 includes every address" in first_line(
        out
    )
    assert "open_ports=1" in first_line(out)


def test_local_listening_warns_unless_allowed(tmp_path, receivers, capsys):
    nullmailer_tree(tmp_path)
    write(tmp_path, "/etc/nullmailer/allmailfrom", "alerts@example.com\n")
    proc_tables(tmp_path, "0100007F:0019", "0500000A:024B")
    args = ["--local", "--root", str(tmp_path), "--sender", "postmaster@example.com"] + receivers
    code, out = run(args, capsys)
    assert code == 1 and "listening on 10.0.0.5:587" in first_line(out)
    code, out = run(args + ["--allow-listen"], capsys)
    assert code == 0


def test_local_queue_thresholds(tmp_path, receivers, capsys):
    nullmailer_tree(tmp_path)
    write(tmp_path, "/etc/nullmailer/allmailfrom", "alerts@example.com\n")
    past = time.time() - 7200
    for n in range(3):
        path = tmp_path / f"var/spool/nullmailer/queue/17957800{n:02d}.1"
        path.write_text("alerts@example.com\nops@example.org\n\nx\n")
        os.utime(path, (past, past))
    args = ["--local", "--root", str(tmp_path), "--sender", "postmaster@example.com"] + receivers
    code, out = run(args + ["--queue-warning", "2", "--queue-critical", "5"], capsys)
    assert code == 1 and "3 deferred messages in the queue, oldest 2 h 0 min" in first_line(out)
    assert "deferred=3;2;5;0" in first_line(out) and "oldest_deferred=720" in first_line(out)


def test_local_no_mta_unknown(tmp_path, capsys):
    proc_tables(tmp_path, "0100007F:0019")
    code, out = run(["--local", "--root", str(tmp_path), "-t", "5"], capsys)
    assert code == 3 and "no MTA configuration found" in first_line(out)
    assert "Traceback" not in out


def test_local_missing_mailname_sends_nothing(tmp_path, capsys):
    """Postfix's sendmail exits fatally when myorigin names a missing file (seen in the lab)."""
    write(
        tmp_path,
        "/etc/postfix/main.cf",
        "compatibility_level = 3.6\nmyhostname = web1.example.com\nmyorigin = /etc/mailname\n",
    )
    proc_tables(tmp_path)
    code, out = run(["--local", "--root", str(tmp_path), "--mta", "postfix", "-t", "5"], capsys)
    assert code == 2 and "Postfix sends nothing: myorigin = /etc/mailname" in first_line(out)
    assert "set myorigin = $mydomain" in out


def test_local_mta_not_installed_is_named(tmp_path, capsys):
    proc_tables(tmp_path)
    code, out = run(["--local", "--root", str(tmp_path), "--mta", "ssmtp", "-t", "5"], capsys)
    assert code == 3 and "ssmtp.conf" in first_line(out)
