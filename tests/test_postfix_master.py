"""Postfix master.cf read as the master daemon reads it, the relay verdict of each smtpd
service (main.cf with the service's -o overrides on top), and the exposure judged
service by service.  Real files in a temporary tree; the plugin as a real process where
the whole run matters.  What the real Postfix does with each form is proved in
tests/lab/test_postfix_services.py."""

from __future__ import annotations

import os

import pytest

from check_callout.kit.files import CouldNotRead
from check_callout.kit.states import CRITICAL, OK, WARNING
from check_nullmailer import host
from check_nullmailer.exposure import Listener
from check_nullmailer.mta import base, postfix
from check_nullmailer.mta.postfix_master import parse_master_cf, read_master_cf
from check_nullmailer.mta.postfix_relay import relay_verdict
from check_nullmailer.service_exposure import judge_services
from tests.support.relay_servers import write

SMTPD = "inet  n       -       y       -       -       smtpd"
MODERN = "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
POSTCONF = host.find_tool(("postconf",))
TOOLS = [None] + ([POSTCONF] if POSTCONF else [])


# -- the parser --------------------------------------------------------------------------------


def test_continuation_lines_and_comments_inside_an_entry():
    text = (
        "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
        f"smtp      {SMTPD}\n"
        "  -o smtpd_tls_security_level=may\n"
        "#  -o mynetworks=10.0.0.0/8\n"
        "\n"
        "\t-o mynetworks=0.0.0.0/0\n"
        "pickup    unix  n       -       y       60      1       pickup\n"
    )
    services = parse_master_cf(text)
    assert [(s.name, s.type, s.command, s.line) for s in services] == [
        ("smtp", "inet", "smtpd", 2),
        ("pickup", "unix", "pickup", 7),
    ]
    assert services[0].overrides == (("smtpd_tls_security_level", "may"), ("mynetworks", "0.0.0.0/0"))


@pytest.mark.parametrize(
    "args,overrides",
    [
        ("-o mynetworks=0.0.0.0/0", (("mynetworks", "0.0.0.0/0"),)),
        ("-omynetworks=0.0.0.0/0", (("mynetworks", "0.0.0.0/0"),)),
        ("-o { mynetworks = 0.0.0.0/0 }", (("mynetworks", "0.0.0.0/0"),)),
        ("-o { smtpd_relay_restrictions = permit_mynetworks, reject }", (
            ("smtpd_relay_restrictions", "permit_mynetworks, reject"),)),
        ("-o smtpd_relay_restrictions=", (("smtpd_relay_restrictions", ""),)),
        ("-o { smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:9 }, reject }"
         " -o mynetworks=0.0.0.0/0", (
            ("smtpd_recipient_restrictions", "check_policy_service { inet:127.0.0.1:9 }, reject"),
            ("mynetworks", "0.0.0.0/0"))),
        ("-v -o syslog_name=postfix/submission -o x", (("syslog_name", "postfix/submission"),)),
    ],
)  # fmt: skip
def test_override_forms(args, overrides):
    (service,) = parse_master_cf(f"submission {SMTPD} {args}\n")
    assert service.overrides == overrides


@pytest.mark.parametrize(
    "name,host_part,port",
    [
        ("smtp", None, 25),
        ("0.0.0.0:smtp", "0.0.0.0", 25),
        ("[::]:smtp", "::", 25),
        ("[::1]:2525", "::1", 2525),
        ("192.0.2.1:2525", "192.0.2.1", 2525),
        ("localhost:submission", "localhost", 587),
        ("smtps", None, 465),
        ("no-such-service-name", None, None),
    ],
)
def test_service_names(name, host_part, port):
    (service,) = parse_master_cf(f"{name} {SMTPD}\n")
    assert (service.host, service.port) == (host_part, port)


def test_short_and_unknown_lines_are_not_services():
    text = "   an orphan continuation\nsmtp inet n - y - -\nfoo bar\n"
    assert parse_master_cf(text) == []


def test_a_huge_master_cf_is_not_read_in_part(tmp_path):
    path = tmp_path / "master.cf"
    with open(path, "w") as handle:
        handle.write("# padding\n" * (host.MAX_FILE // 10 + 1))
        handle.write(f"0.0.0.0:2525 {SMTPD} -o mynetworks=0.0.0.0/0\n")  # after the reader's bound
    with pytest.raises(CouldNotRead) as caught:
        read_master_cf(str(path))
    assert "not read in part" in caught.value.why


def test_a_missing_or_unreadable_master_cf(tmp_path):
    with pytest.raises(CouldNotRead) as caught:
        read_master_cf(str(tmp_path / "master.cf"))
    assert caught.value.what.endswith("master.cf") and caught.value.why
    os.mkdir(tmp_path / "dir.cf")
    with pytest.raises(CouldNotRead):
        read_master_cf(str(tmp_path / "dir.cf"))


# -- the relay verdict of one smtpd --------------------------------------------------------------


@pytest.mark.parametrize(
    "settings,state,fatal",
    [
        ({"smtpd_relay_restrictions": MODERN, "mynetworks": "127.0.0.0/8"}, base.RELAY_NONE, False),
        ({"smtpd_relay_restrictions": MODERN, "mynetworks": "0.0.0.0/0"}, base.RELAY_OPEN, False),
        ({"smtpd_relay_restrictions": MODERN, "mynetworks": "10.0.0.0/8"}, base.RELAY_NETWORKS, False),
        ({"smtpd_relay_restrictions": MODERN, "smtpd_recipient_restrictions": "permit"},
         base.RELAY_NONE, False),
        ({"smtpd_relay_restrictions": "permit"}, base.RELAY_OPEN, True),
        ({"smtpd_relay_restrictions": "permit, reject_unauth_destination"}, base.RELAY_OPEN, True),
        ({"smtpd_relay_restrictions": "", "smtpd_recipient_restrictions": ""}, base.RELAY_NONE, True),
        ({"smtpd_relay_restrictions": "permit", "smtpd_recipient_restrictions": "reject_unauth_destination"},
         base.RELAY_NONE, False),
        ({"smtpd_relay_restrictions": "", "mynetworks": "0.0.0.0/0",
          "smtpd_recipient_restrictions": "permit_mynetworks reject_unauth_destination"},
         base.RELAY_OPEN, False),
        ({"smtpd_relay_restrictions": "mine", "smtpd_restriction_classes": "mine",
          "mine": "permit_mynetworks reject_unauth_destination", "mynetworks": "127.0.0.0/8"},
         base.RELAY_NONE, False),  # a restriction class decides as its items do
    ],
)  # fmt: skip
def test_relay_verdict(settings, state, fatal):
    verdict = relay_verdict(settings)
    assert verdict.state == state, verdict
    assert bool(verdict.fatal) is fatal, verdict


# -- services of a configuration tree ------------------------------------------------------------


def tree(tmp_path, master_cf: str, main_cf: str = "inet_interfaces = loopback-only\n") -> str:
    write(
        tmp_path,
        "/etc/postfix/main.cf",
        "compatibility_level = 3.6\nmyhostname = web1.example.com\n" + main_cf,
    )
    write(tmp_path, "/etc/postfix/master.cf", master_cf)
    write(tmp_path, "/etc/mailname", "web1.example.com\n")
    return str(tmp_path)


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_an_override_makes_one_service_an_open_relay(tmp_path, tool):
    master = f"smtp {SMTPD}\n0.0.0.0:2525 {SMTPD}\n  -o mynetworks=$wide\n"
    info = postfix.read_config(tree(tmp_path, master, "inet_interfaces = loopback-only\nwide = 0.0.0.0/0\n"),
                               postconf=tool)  # fmt: skip
    first, second = info.services
    assert (first.public, first.relay) == (False, base.RELAY_NONE)
    assert (second.public, second.port, second.relay) == (True, 2525, base.RELAY_OPEN)
    assert "0.0.0.0:2525 (master.cf line 2, -o mynetworks=$wide)" == second.name
    assert info.listen_public is True and info.relay == base.RELAY_OPEN and "0.0.0.0:2525" in info.relay_text


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postscreen_hands_over_to_the_smtpd_pass_service(tmp_path, tool):
    master = (
        "smtp      inet  n       -       y       -       1       postscreen\n"
        "smtpd     pass  -       -       y       -       -       smtpd\n  -o mynetworks=0.0.0.0/0\n"
    )
    info = postfix.read_config(tree(tmp_path, master, "inet_interfaces = all\n"), postconf=tool)
    (service,) = info.services
    assert service.relay == base.RELAY_OPEN and service.public


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_restriction_classes_are_spelled_out(tmp_path, tool):
    main = "inet_interfaces = all\nmynetworks = 127.0.0.0/8\nsmtpd_restriction_classes = wide_open\n"
    main += "wide_open = permit_mynetworks, reject\n"
    master = f"smtp {SMTPD} -o smtpd_relay_restrictions=wide_open -o mynetworks=0.0.0.0/0\n2525 {SMTPD}\n"
    info = postfix.read_config(tree(tmp_path, master, main), postconf=tool)
    first, second = info.services
    assert (first.relay, first.fatal) == (base.RELAY_OPEN, ""), first
    assert (second.relay, second.fatal) == (base.RELAY_NONE, ""), second


def test_an_unreadable_master_cf_is_never_ok(tmp_path):
    root = tree(tmp_path, f"smtp {SMTPD}\n")
    os.remove(os.path.join(root, "etc/postfix/master.cf"))
    os.mkdir(os.path.join(root, "etc/postfix/master.cf"))
    info = postfix.read_config(root, postconf=None)
    assert info.services_unread.startswith("could not read ") and "master.cf" in info.services_unread
    assert any("cannot tell which services listen" in note for note in info.notes)


# -- exposure, service by service -----------------------------------------------------------------


def services_info(tmp_path, master: str, main: str = "inet_interfaces = loopback-only\n") -> base.MTAInfo:
    return postfix.read_config(tree(tmp_path, master, main), postconf=None)


def test_a_public_socket_of_an_open_service_is_critical_even_when_listening_is_allowed(tmp_path):
    info = services_info(tmp_path, f"smtp {SMTPD}\n0.0.0.0:2525 {SMTPD} -o mynetworks=0.0.0.0/0\n")
    sock = Listener("0.0.0.0", 2525)
    state, text = judge_services(info, [sock], [Listener("127.0.0.1", 25), sock], allow_listen=True)
    assert state == CRITICAL
    assert text.startswith("listening on 0.0.0.0:2525 and Postfix service 0.0.0.0:2525 (master.cf line 2")


def test_a_fatal_smtpd_is_a_warning_that_says_what_postfix_does(tmp_path):
    info = services_info(
        tmp_path, f"smtp {SMTPD} -o smtpd_relay_restrictions=permit\n", "inet_interfaces = all\n"
    )
    sock = Listener("0.0.0.0", 25)
    state, text = judge_services(info, [sock], [sock], allow_listen=True)
    assert state == WARNING and "exits at start" in text and "clients get no greeting" in text


def test_a_stopped_postfix_whose_master_cf_would_expose_an_open_relay(tmp_path):
    info = services_info(tmp_path, f"0.0.0.0:smtp {SMTPD} -o mynetworks=0.0.0.0/0\n")
    for allow in (False, True):
        state, text = judge_services(info, [], [], allow_listen=allow)
        assert state == WARNING
        assert "will expose it on the next start, an open relay" in text and "0.0.0.0:smtp" in text


def test_a_loopback_service_with_an_open_override_is_ok(tmp_path):
    info = services_info(
        tmp_path, f"127.0.0.1:smtp {SMTPD} -o mynetworks=0.0.0.0/0\n", "inet_interfaces = all\n"
    )
    sock = Listener("127.0.0.1", 25)
    assert judge_services(info, [], [sock], allow_listen=False) == (
        OK,
        "listens on loopback only (127.0.0.1:25)",
    )


# -- the whole plugin, on configuration trees ------------------------------------------------------


def plugin_run(tmp_path, master_cf: str | None, main_cf: str, listening: str, *extra: str) -> tuple[int, str]:
    """``check_nullmailer --local`` as a real process on a tree with socket tables
    (``master_cf`` None: the one in place)."""
    import subprocess
    import sys

    from tests.support.hostile import ROOT

    if master_cf is not None:
        tree(tmp_path, master_cf, main_cf)
    head = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    )
    rows = (
        f"   0: {listening} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
        if listening
        else ""
    )
    write(tmp_path, "/proc/net/tcp", head + rows)
    argv = [sys.executable, "-m", "check_nullmailer.plugin", "--local", "--mta", "postfix",
            "--root", str(tmp_path), "--origin", "example.test", "--nameserver", "127.0.0.1",
            "--dns-port", "9", "-t", "3", *extra]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=str(ROOT),
                          env=dict(os.environ, PYTHONPATH=str(ROOT), PATH="/nonexistent"))  # fmt: skip
    return done.returncode, done.stdout


def exposure_line(out: str) -> str:
    return next(line for line in out.split("\n") if "exposure:" in line)


def test_plugin_an_override_open_relay_is_critical_with_allow_listen(tmp_path):
    master = f"smtp {SMTPD}\n  -o mynetworks=0.0.0.0/0\n"
    code, out = plugin_run(tmp_path, master, "inet_interfaces = all\n", "00000000:0019", "--allow-listen")
    assert code in (2, 3), out  # CRITICAL, or the origin's UNKNOWN (no DNS here) above it
    assert exposure_line(out).startswith(
        "[critical] exposure: listening on 0.0.0.0:25 and Postfix service smtp (master.cf line 1, "
        "-o mynetworks=0.0.0.0/0): mynetworks = 0.0.0.0/0 includes every address"
    ), out


def test_plugin_a_service_on_its_own_port_is_looked_at(tmp_path):
    master = (
        f"smtp {SMTPD}\n0.0.0.0:2525 {SMTPD} -o {{ smtpd_relay_restrictions = permit_mynetworks, reject }}\n"
    )
    master += "  -o mynetworks=0.0.0.0/0\n"
    code, out = plugin_run(
        tmp_path, master, "inet_interfaces = loopback-only\n", "00000000:09DD", "--allow-listen"
    )
    assert "listening on 0.0.0.0:2525 and Postfix service 0.0.0.0:2525" in exposure_line(out), out
    assert "open_ports=1" in out.split("\n", 1)[0], out


@pytest.mark.parametrize("how", ["directory", "fifo", "huge"])
def test_plugin_a_master_cf_not_read_whole_is_never_ok(tmp_path, how):
    tree(tmp_path, f"smtp {SMTPD}\n", "inet_interfaces = loopback-only\n")
    path = tmp_path / "etc/postfix/master.cf"
    path.unlink()
    if how == "directory":
        path.mkdir()
    elif how == "fifo":
        os.mkfifo(path)  # nobody writes: a blocking open would hang the run
    else:
        path.write_text("#" * host.MAX_FILE + f"\n0.0.0.0:2525 {SMTPD} -o mynetworks=0.0.0.0/0\n")
    code, out = plugin_run(tmp_path, None, "inet_interfaces = loopback-only\n", "0100007F:0019")
    line = exposure_line(out)
    assert line.startswith("[warning] exposure: listens on loopback only (127.0.0.1:25); could not read "), (
        out
    )
    assert "master.cf" in line, out
