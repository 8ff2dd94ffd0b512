"""check_callout end to end: real DNS and SMTP servers on loopback, one test per state."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import pytest

from tests.support.servers import (
    DROP,
    NXDOMAIN,
    SERVFAIL,
    Behaviour,
    DNSTestServer,
    RawServer,
    SMTPTestServer,
    free_port,
    make_certificate,
    scripted_smtp,
)

ACCEPT = "127.0.0.11"
DOWN = "127.0.0.12"  # nothing listens: connection refused
BACKUP = "127.0.0.13"
SEED = "127.0.0.14"  # the null mailer: port closed
IMPLICIT = "127.0.0.15"
REJECT = "127.0.0.16"
TEMPFAIL = "127.0.0.17"
CATCHALL = "127.0.0.18"
SLOW = "127.0.0.19"
TLS = "127.0.0.20"
BANNER421 = "127.0.0.21"
TARPIT = "127.0.0.22"
DUAL_V4 = "127.0.0.23"  # nothing listens: refused
V6 = "::1"

ZONE = {
    "good.test": [("MX", (10, "mx1.good.test"))],
    "mx1.good.test": [("A", ACCEPT)],
    "backup.test": [("MX", (10, "mx-down.backup.test")), ("MX", (20, "mx2.backup.test"))],
    "mx-down.backup.test": [("A", DOWN)],
    "mx2.backup.test": [("A", BACKUP)],
    "web1.seed.test": [("A", SEED)],
    "implicit.test": [("A", IMPLICIT)],
    "nullmx.test": [("MX", (0, "."))],
    "servfail.test": SERVFAIL,
    "slowdns.test": DROP,
    "nx.test": NXDOMAIN,
    "reject.test": [("MX", (10, "mx.reject.test"))],
    "mx.reject.test": [("A", REJECT)],
    "tempfail.test": [("MX", (10, "mx.tempfail.test"))],
    "mx.tempfail.test": [("A", TEMPFAIL)],
    "tempfirst.test": [("MX", (5, "mx.tempfail.test")), ("MX", (10, "mx1.good.test"))],
    "rejectfirst.test": [("MX", (5, "mx.reject.test")), ("MX", (10, "mx1.good.test"))],
    "noaddr.test": [("MX", (10, "ghost.noaddr.test"))],
    "ghost.noaddr.test": [("TXT", "nothing")],
    "cname.test": [("MX", (10, "alias.cname.test"))],
    "alias.cname.test": [("CNAME", "mx1.good.test")],
    "catchall.test": [("MX", (10, "mx.catchall.test"))],
    "mx.catchall.test": [("A", CATCHALL)],
    "slow.test": [("MX", (10, "mx.slow.test"))],
    "mx.slow.test": [("A", SLOW)],
    "tls.test": [("MX", (10, "mx.tls.test"))],
    "mx.tls.test": [("A", TLS)],
    "banner421.test": [("MX", (10, "mx.banner421.test")), ("MX", (20, "mx1.good.test"))],
    "mx.banner421.test": [("A", BANNER421)],
    "xn--bcher-kva.test": [("MX", (10, "mx1.good.test"))],
    "dual.test": [("MX", (10, "mx.dual.test"))],
    "mx.dual.test": [("AAAA", V6), ("A", DUAL_V4)],
    "disagree.test": [("MX", (10, "mx1.good.test")), ("MX", (20, "mx.reject.test"))],
    "tarpit.test": [("MX", (10, "mx.tarpit.test")), ("MX", (20, "mx-down.backup.test"))],
    "mx.tarpit.test": [("A", TARPIT)],
    "private.test": [("MX", (10, "mx1.good.test"))],
}

UNKNOWN_USER = "550 5.1.1 <nobody>: Recipient address rejected: User unknown"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    addresses = [
        ACCEPT,
        DOWN,
        BACKUP,
        SEED,
        IMPLICIT,
        REJECT,
        TEMPFAIL,
        CATCHALL,
        SLOW,
        TLS,
        BANNER421,
        TARPIT,
        DUAL_V4,
        V6,
    ]
    port = free_port(addresses)
    cert = make_certificate(tmp_path_factory.mktemp("tls"), "mx.tls.test")
    strict = Behaviour(
        rcpt_for={"nobody": UNKNOWN_USER, "postmaster": "250 2.1.5 Ok"}, rcpt="550 5.1.1 User unknown"
    )
    servers = [
        SMTPTestServer(ACCEPT, port, Behaviour(rcpt_for={"nobody": UNKNOWN_USER})),
        SMTPTestServer(BACKUP, port, Behaviour(pipelining=True)),
        SMTPTestServer(IMPLICIT, port),
        SMTPTestServer(REJECT, port, Behaviour(rcpt=UNKNOWN_USER)),
        SMTPTestServer(TEMPFAIL, port, Behaviour(rcpt="451 4.7.1 Greylisted, try again later")),
        SMTPTestServer(CATCHALL, port),
        SMTPTestServer(TLS, port, strict, tls=cert),
        RawServer(SLOW, port, scripted_smtp(delay={b"RCPT": 1.2})),
        RawServer(BANNER421, port, scripted_smtp(banner=b"421 4.3.2 too busy\r\n")),
        RawServer(TARPIT, port, lambda conn: time.sleep(4)),
        SMTPTestServer(V6, port),
    ]
    for server in servers:
        server.__enter__()
    dns = DNSTestServer(ZONE).__enter__()
    try:
        yield {"port": str(port), "dns": dns, "servers": servers}
    finally:
        dns.__exit__()
        for server in servers:
            server.__exit__()


def check(callout, lab, *args: str, private: bool = False):
    extra = [] if private else ["--allow-private"]
    return callout(
        "-p",
        lab["port"],
        *lab["dns"].args,
        "-t",
        "8",
        "--connect-timeout",
        "2",
        "--helo",
        "monitor.test",
        *extra,
        *args,
    )


def exim(run) -> str:
    match = re.search(r"exim: (\w+)", run.output)
    return match.group(1) if match else ""


def test_good_mx_is_ok(callout, lab):
    run = check(callout, lab, "-s", "alice@good.test")
    assert run.code == 0, run.output
    assert run.first_line.startswith("CALLOUT OK - alice@good.test: mx1.good.test [127.0.0.11] accepts RCPT")
    assert "an Exim receiver would accept" in run.first_line
    assert exim(run) == "accept"
    assert run.perfdata["mx_hosts"].startswith("1;")
    assert run.perfdata["mx_accepting"].startswith("1;")
    assert re.match(r"[0-9.]+s;;;0$", run.perfdata["time"])
    assert "time_mx1.good.test" in run.perfdata


def test_seed_no_mx_closed_port_is_critical_defer(callout, lab):
    run = check(callout, lab, "-s", "www-data@web1.seed.test")
    assert run.code == 2, run.output
    assert (
        "CALLOUT CRITICAL - www-data@web1.seed.test: no MX, implicit MX web1.seed.test "
        "[127.0.0.14] refused port"
    ) in run.first_line
    assert "an Exim receiver would defer (451 Could not complete sender verify callout)" in run.first_line
    assert exim(run) == "defer"
    assert "postfix: defer (450)" in run.output
    assert re.match(r"[0-9]+\.[0-9]{6}s;;;0$", run.perfdata["time"])  # present for graphs, fixed notation


def test_primary_down_backup_accepts_is_warning(callout, lab):
    run = check(callout, lab, "-s", "bob@backup.test")
    assert run.code == 1, run.output
    assert "mx2.backup.test [127.0.0.13] accepts RCPT" in run.first_line
    assert "more preferred mx-down.backup.test [127.0.0.12] refused port" in run.first_line
    assert exim(run) == "accept"
    assert run.perfdata["mx_hosts"].startswith("2;")
    assert run.perfdata["mx_accepting"].startswith("1;")


def test_pipelined_dialogue_with_an_mta_that_offers_it(callout, lab):
    server = lab["servers"][1]
    before = len(server.commands)
    run = check(callout, lab, "-s", "a@backup.test", "-s", "b@backup.test", "-vv")
    assert run.code == 1, run.output
    # Exim's two questions, then the Postfix receiver's (its own probe sender), one write
    assert "-- 12 commands pipelined" in run.output
    new = [c.split()[0] for c in server.commands[before:]]
    assert new == ["EHLO"] + ["MAIL", "RCPT", "RSET"] * 4
    assert run.output.count("exim: accept") == 2


def test_primary_tempfail_backup_accepts_is_warning(callout, lab):
    run = check(callout, lab, "-s", "carol@tempfirst.test")
    assert run.code == 1, run.output
    assert exim(run) == "accept"
    assert "defers RCPT (451 4.7.1 Greylisted" in run.first_line


def test_primary_rejects_means_reject_backup_not_asked(callout, lab):
    run = check(callout, lab, "-s", "nobody@rejectfirst.test")
    assert run.code == 2, run.output
    assert exim(run) == "reject"
    assert "mx.reject.test [127.0.0.16] rejects RCPT (550 5.1.1" in run.first_line
    assert "an Exim receiver would reject (550 Sender verify failed)" in run.first_line


def test_implicit_mx_is_warning_by_default_and_configurable(callout, lab):
    run = check(callout, lab, "-s", "dave@implicit.test")
    assert run.code == 1, run.output
    assert "no MX record: mail relies on the implicit MX" in run.first_line
    assert "implicit MX implicit.test [127.0.0.15] accepts RCPT" in run.first_line
    assert check(callout, lab, "-s", "dave@implicit.test", "--implicit-mx", "ok").code == 0
    assert check(callout, lab, "-s", "dave@implicit.test", "--implicit-mx", "critical").code == 2


def test_null_mx_is_critical_reject(callout, lab):
    run = check(callout, lab, "-s", "x@nullmx.test")
    assert run.code == 2, run.output
    assert "null MX (RFC 7505)" in run.first_line
    assert exim(run) == "reject"


def test_nxdomain_is_critical_reject(callout, lab):
    run = check(callout, lab, "-s", "x@nx.test")
    assert run.code == 2, run.output
    assert "nx.test does not exist (NXDOMAIN)" in run.first_line
    assert "550 Unrouteable address" in run.first_line


def test_mx_hosts_without_address_reject(callout, lab):
    run = check(callout, lab, "-s", "x@noaddr.test")
    assert run.code == 2, run.output
    assert exim(run) == "reject"
    assert "no MX host of the domain has an address" in run.first_line


def test_servfail_is_unknown(callout, lab):
    run = check(callout, lab, "-s", "x@servfail.test")
    assert run.code == 3, run.output
    assert run.first_line.startswith("CALLOUT UNKNOWN - x@servfail.test: cannot tell")


def test_resolver_timeout_is_unknown_within_t(callout, lab):
    start = time.monotonic()
    run = check(callout, lab, "-s", "x@slowdns.test", "-t", "3")
    assert time.monotonic() - start < 4
    assert run.code == 3, run.output
    assert "cannot tell" in run.first_line


def test_timeout_names_the_hosts_that_did_not_answer(callout, lab):
    start = time.monotonic()
    run = check(callout, lab, "-s", "x@tarpit.test", "-t", "2")
    assert time.monotonic() - start < 2.5
    assert run.code == 3, run.output
    assert run.first_line.startswith(
        "CALLOUT UNKNOWN - x@tarpit.test: cannot tell, no answer in time from "
        "mx.tarpit.test [127.0.0.22]; the others: mx-down.backup.test "
        "[127.0.0.12] refused port"
    )
    assert float(run.perfdata["time"].split("s;")[0]) > 1.0  # waited for, not an instant answer


def test_address_families(callout, lab):
    run = check(callout, lab, "-s", "x@dual.test")
    assert run.code == 0, run.output  # IPv6 first, as Exim: it accepts
    assert "mx.dual.test [::1] accepts RCPT" in run.first_line
    assert "[127.0.0.23]: refused port" in run.output
    run = check(callout, lab, "-s", "x@dual.test", "-6")
    assert run.code == 0 and "127.0.0.23" not in run.output, run.output
    run = check(callout, lab, "-s", "x@dual.test", "-4")
    assert run.code == 2 and "::1" not in run.output, run.output
    assert "mx.dual.test [127.0.0.23] refused port" in run.first_line


def test_connect_timeout_bounds_each_connect(callout, lab):
    """A host whose SYN queue is full never completes the handshake (like a filtered
    port): --connect-timeout, not -t, ends the wait for it."""
    address = "127.0.0.24"
    listener = socket.socket()
    listener.bind((address, int(lab["port"])))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue; nothing ever accepts
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect((address, int(lab["port"])))
            except BlockingIOError:
                pass
            fillers.append(filler)
        time.sleep(0.2)
        start = time.monotonic()
        run = callout(
            "-H",
            address,
            "-p",
            lab["port"],
            "-s",
            "x@good.test",
            "-t",
            "20",
            "--connect-timeout",
            "1",
            "--helo",
            "monitor.test",
        )
        took = time.monotonic() - start
    finally:
        for sock in fillers + [listener]:
            sock.close()
    assert run.code == 2, run.output
    assert f"[{address}] timed out on port {lab['port']}" in run.first_line
    assert 0.9 < took < 5


def test_mx_hosts_that_disagree_warn(callout, lab):
    run = check(callout, lab, "-s", "x@disagree.test")
    assert run.code == 1, run.output
    assert exim(run) == "accept"
    assert run.first_line.startswith(
        "CALLOUT WARNING - x@disagree.test: MX answers disagree: "
        "mx.reject.test [127.0.0.16] rejects RCPT (550 5.1.1"
    )


def test_rcpt_550_is_critical_reject(callout, lab):
    run = check(callout, lab, "-s", "nobody@reject.test")
    assert run.code == 2, run.output
    assert exim(run) == "reject"


def test_rcpt_451_is_critical_defer(callout, lab):
    run = check(callout, lab, "-s", "x@tempfail.test")
    assert run.code == 2, run.output
    assert exim(run) == "defer"
    assert "451 Could not complete sender verify callout" in run.first_line


def test_421_banner_moves_on_to_next_host(callout, lab):
    run = check(callout, lab, "-s", "x@banner421.test")
    assert run.code == 1, run.output
    assert exim(run) == "accept"
    assert "defers at the greeting (421 4.3.2 too busy)" in run.output


def test_mx_through_cname_is_followed(callout, lab):
    run = check(callout, lab, "-s", "x@cname.test")
    assert run.code == 0, run.output
    assert "[127.0.0.11] accepts RCPT" in run.first_line


def test_idn_domain(callout, lab):
    run = check(callout, lab, "-s", "x@bücher.test")
    assert run.code == 0, run.output
    assert run.first_line.startswith("CALLOUT OK - x@bücher.test")


def test_random_accept_all_is_warning(callout, lab):
    run = check(callout, lab, "-s", "x@catchall.test", "--random")
    assert run.code == 1, run.output
    assert "accepts any local part" in run.first_line
    server = lab["servers"][5]
    assert any(c.startswith("RCPT callout-check-") for c in server.commands)


def test_random_rejected_is_ok(callout, lab):
    run = check(callout, lab, "-s", "x@good.test", "--random")
    # mx1.good.test accepts everything but "nobody": random is accepted there too
    assert run.code == 1
    run = check(callout, lab, "-s", "postmaster@tls.test", "--random")
    assert run.code == 0, run.output


def test_postmaster_checked(callout, lab):
    run = check(callout, lab, "-s", "nobody@good.test", "--postmaster")
    assert run.code == 2  # the sender itself is rejected
    run = check(callout, lab, "-d", "reject.test")
    assert run.code == 2 and "postmaster@reject.test" in run.first_line
    run = check(callout, lab, "-s", "postmaster@tls.test", "--postmaster")
    assert run.code == 0, run.output
    assert "postmaster@tls.test: exim: accept" in run.output


def test_starttls_is_used_and_reported(callout, lab):
    run = check(callout, lab, "-s", "postmaster@tls.test", "-vv")
    assert run.code == 0, run.output
    assert "TLS: TLSv1" in run.output
    assert "name matches" in run.output
    assert "C: STARTTLS" in run.output
    run = check(callout, lab, "-s", "postmaster@tls.test", "-vv", "--no-starttls")
    assert "C: STARTTLS" not in run.output and run.code == 0


def test_warning_and_critical_time_ranges(callout, lab):
    run = check(callout, lab, "-s", "x@slow.test", "-w", "0.5", "-c", "5")
    assert run.code == 1, run.output
    assert run.perfdata["time"].endswith("s;0.5;5;0")
    run = check(callout, lab, "-s", "x@slow.test", "-w", "0.2", "-c", "0.5")
    assert run.code == 2, run.output
    assert "time" in run.first_line


def test_private_address_warns_unless_allowed(callout, lab):
    run = check(callout, lab, "-s", "x@private.test", private=True)
    assert run.code == 1, run.output
    assert "MX points at a non-public address (127.0.0.11)" in run.first_line


def test_several_senders_worst_wins(callout, lab):
    run = check(callout, lab, "-s", "a@good.test", "-s", "www-data@web1.seed.test", "-s", "b@implicit.test")
    assert run.code == 2, run.output
    assert run.first_line.startswith("CALLOUT CRITICAL - www-data@web1.seed.test")
    assert "(+1 more senders not OK)" in run.first_line
    for sender in ("a@good.test", "www-data@web1.seed.test", "b@implicit.test"):
        assert f"{sender}: exim:" in run.output


def test_explicit_host_skips_dns(callout, lab):
    run = callout("-H", ACCEPT, "-p", lab["port"], "-s", "a@nowhere.test", "--helo", "monitor.test")
    assert run.code == 0, run.output
    assert run.first_line.startswith("CALLOUT OK - a@nowhere.test: [127.0.0.11] accepts RCPT")


def test_explicit_host_name_is_resolved(callout, lab):
    run = check(callout, lab, "-H", "mx.reject.test", "-s", "a@nowhere.test")
    assert run.code == 2, run.output
    assert "mx.reject.test [127.0.0.16] rejects RCPT" in run.first_line


def test_probe_never_sends_data_and_ends_with_rset(callout, lab):
    server = lab["servers"][0]
    before = len(server.commands)
    check(callout, lab, "-s", "a@good.test", "-s", "b@good.test")
    new = server.commands[before:]
    assert "DATA" not in new and not server.handler.data_seen
    assert [c.split()[0] for c in new] == ["EHLO"] + ["MAIL", "RCPT", "RSET"] * 4
    # the callout's null sender first, then the Postfix receiver's probe sender
    assert [c for c in new if c.startswith("MAIL")] == [
        "MAIL <>",
        "MAIL <>",
        "MAIL double-bounce@monitor.test",
        "MAIL double-bounce@monitor.test",
    ]
    only_exim = check(callout, lab, "-s", "a@good.test", "--receiver", "exim")
    assert only_exim.code == 0, only_exim.output
    assert [c.split()[0] for c in server.commands[before + len(new) :]] == ["EHLO", "MAIL", "RCPT", "RSET"]


@pytest.mark.parametrize(
    "args, reason",
    [
        (["-s", "not-an-address"], "no @"),
        (["-s", "a b@good.test"], "not a valid local part"),
        (["-s", "a@good.test\r\nRCPT TO:<x@y>"], "control character"),
        (["-s", "a@good.test\x00"], "control character"),
        (["-s", ""], "control character|empty"),
        (["-s", "é@good.test"], "SMTPUTF8"),
        (["-s", "a@" + "x" * 64 + ".test"], "not a valid domain"),
        (["-s", "x" * 65 + "@good.test"], "longer than 64"),
        (["--bogus"], "unrecognized arguments"),
        ([], "at least one sender"),
        (["-s", "a@good.test", "-w", "abc"], "bad range"),
        (["-s", "a@good.test", "-t", "-1"], "usage error"),
        (["-s", "a@good.test", "--nameserver", "ns.good.test"], "must be an IP address"),
    ],
)
def test_bad_input_is_unknown_with_reason(callout, args, reason):
    run = callout(*args)
    assert run.code == 3, run.output
    assert run.first_line.startswith("CALLOUT UNKNOWN - ")
    assert re.search(reason, run.first_line), run.first_line
    assert "Traceback" not in run.output
    assert len(run.output.splitlines()) == 1


def test_help_and_version_exit_unknown():
    for flag in ("-h", "-V"):
        proc = subprocess.run(
            [sys.executable, "-m", "check_callout.plugin", flag], capture_output=True, text=True, timeout=30
        )
        assert proc.returncode == 3
        assert proc.stdout
    assert (
        "usage: check_callout"
        in subprocess.run(
            [sys.executable, "-m", "check_callout.plugin", "-h"], capture_output=True, text=True, timeout=30
        ).stdout
    )


def test_console_script_runs_as_a_process(lab):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_callout.plugin",
            "-p",
            lab["port"],
            *lab["dns"].args,
            "--allow-private",
            "-s",
            "www-data@web1.seed.test",
            "--helo",
            "monitor.test",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith("CALLOUT CRITICAL - www-data@web1.seed.test: no MX")
    assert proc.stderr == ""
