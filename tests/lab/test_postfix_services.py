"""Postfix services from master.cf, against the real Postfix.

For each master.cf variant a real Postfix starts in a namespace of the test's own
(tests/support/postfix_host.py), a client in another namespace tries a relay (MAIL FROM,
RCPT TO a foreign domain, never DATA), and ``check_nullmailer --local --allow-listen``
runs on the Postfix host, once with ``postconf`` and once with ``postconf`` hidden (the
files read by the plugin itself).  The real smtpd is the authority: the first assertion pins what
it answered (a changed package is noticed), the second asks the plugin's exposure verdict
to predict that same answer.

Answers: ``relays`` (RCPT 250), ``denied`` (454 Relay access denied), ``silent`` (no
greeting before the client gives up: smtpd exits at start, the master throttles it), ``refused`` (nothing
listens on that address).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.support.ci import require
from tests.support.postfix_host import SERVER_V4, SERVER_V6, PostfixHost, available

ALL = "inet_interfaces = all\n"
OPEN = "-o mynetworks=0.0.0.0/0"
LOOPBACK = "inet_interfaces = loopback-only\n"
SMTPD = "inet  n       -       n       -       -       smtpd"

# name: (main.cf lines, master.cf services, port tried, address tried, what Postfix answers)
VARIANTS: dict[str, tuple[str, str, int, str, str]] = {
    "stock": (ALL, f"smtp {SMTPD}\n", 25, SERVER_V4, "denied"),
    "loopback-only": (LOOPBACK, f"smtp {SMTPD}\n", 25, SERVER_V4, "refused"),
    "host-part-beats-inet_interfaces": (LOOPBACK, f"0.0.0.0:smtp {SMTPD}\n", 25, SERVER_V4, "denied"),
    "ipv6-host-part": (LOOPBACK, f"[::]:smtp {SMTPD}\n", 25, SERVER_V6, "denied"),
    "address-and-port-open": (
        LOOPBACK, f"{SERVER_V4}:2525 {SMTPD} -o mynetworks=0.0.0.0/0\n", 2525, SERVER_V4, "relays"
    ),
    "o-mynetworks": (ALL, f"smtp {SMTPD} -o mynetworks=0.0.0.0/0\n", 25, SERVER_V4, "relays"),
    "o-glued": (ALL, f"smtp {SMTPD} -omynetworks=0.0.0.0/0\n", 25, SERVER_V4, "relays"),
    "o-braces": (ALL, f"smtp {SMTPD} -o {{ mynetworks = 0.0.0.0/0 }}\n", 25, SERVER_V4, "relays"),
    "o-expanded": (ALL + "wide = 0.0.0.0/0\n", f"smtp {SMTPD} -o mynetworks=$wide\n", 25, SERVER_V4,
                   "relays"),
    "continued-past-a-comment": (
        ALL, f"smtp {SMTPD}\n# a comment inside the entry\n  {OPEN}\n", 25, SERVER_V4, "relays"
    ),
    "relay-permit-alone": (ALL, f"smtp {SMTPD} -o smtpd_relay_restrictions=permit\n", 25, SERVER_V4,
                           "silent"),
    "relay-permit-before-gate": (
        ALL, f"smtp {SMTPD} -o smtpd_relay_restrictions=permit,reject_unauth_destination\n", 25, SERVER_V4,
        "silent",
    ),
    "main-cf-relay-permit": (
        ALL + "smtpd_relay_restrictions = permit\n", f"smtp {SMTPD}\n", 25, SERVER_V4, "silent"
    ),
    "recipient-permit-only": (
        ALL, f"smtp {SMTPD} -o smtpd_recipient_restrictions=permit\n", 25, SERVER_V4, "denied"
    ),
    "recipient-list-decides": (
        ALL,
        f"smtp {SMTPD} -o smtpd_relay_restrictions= -o smtpd_recipient_restrictions=permit_mynetworks,"
        "reject_unauth_destination -o mynetworks=0.0.0.0/0\n",
        25, SERVER_V4, "relays",
    ),
    "loopback-service-open": (
        ALL, f"127.0.0.1:smtp {SMTPD} -o mynetworks=0.0.0.0/0\n", 25, SERVER_V4, "refused"
    ),
    "postscreen-hands-over-to-an-open-smtpd": (
        ALL + "postscreen_greet_wait = 1s\n",
        "smtp inet n - n - 1 postscreen\nsmtpd pass - - n - - smtpd\n  -o mynetworks=0.0.0.0/0\n",
        25, SERVER_V4, "relays",
    ),
    "restriction-class": (
        ALL + "smtpd_restriction_classes = wide_open\n"
        "wide_open = permit_mynetworks, reject_unauth_destination\n",
        f"smtp {SMTPD} -o smtpd_relay_restrictions=wide_open {OPEN}\n", 25, SERVER_V4, "relays",
    ),
    "compatibility-level-0": (ALL + "compatibility_level = 0\n", f"smtp {SMTPD}\n", 25, SERVER_V4, "silent"),
    "second-service-open": (
        ALL, f"smtp {SMTPD}\n2525 {SMTPD}\n  -o mynetworks=0.0.0.0/0\n", 2525, SERVER_V4, "relays"
    ),
}  # fmt: skip

# the origin's MX is this host's loopback, port 9: the callouts end at once (refused)
ZONE = {"example.test": [("MX", (10, "mx.example.test"))], "mx.example.test": [("A", "127.0.0.1")]}
PLUGIN = ("--local", "--mta", "postfix", "--allow-listen", "--origin", "example.test", "-t", "6", "-p", "9")


def predicted(output: str) -> str:
    """The answer the plugin's exposure verdict predicts for an outside client."""
    line = next((x for x in output.split("\n") if "exposure:" in x), "")
    if "exits at start" in line:
        return "silent"
    if line.startswith("[critical] exposure: listening on"):
        return "relays"
    if re.match(r"\[ok\] exposure: listening on .* \(allowed\)", line):
        return "denied"
    if re.match(r"\[ok\] exposure: (listens on loopback only|not listening)", line):
        return "refused"
    return f"unclear: {line or output}"


@pytest.fixture(scope="module")
def postfix_host():
    why = available()
    require(not why, f"real Postfix in a namespace: {why}")
    with PostfixHost("pfm") as host:
        host.serve_dns(ZONE)
        yield host


@pytest.mark.parametrize("name", list(VARIANTS))
def test_verdict_equals_what_postfix_answers(postfix_host, name):
    main_cf, master_cf, port, address, expected = VARIANTS[name]
    postfix_host.configure(main_cf, master_cf)
    postfix_host.start()
    try:
        time.sleep(
            0.2
        )  # the master's sockets are bound before postfix start returns; smtpd is spawned per client
        answer = postfix_host.relay_attempt(port, address)
        run = postfix_host.plugin(*PLUGIN)
        files = postfix_host.plugin(*PLUGIN, postconf=False)
    finally:
        postfix_host.stop()
    assert answer["answer"] == expected, answer  # what the real Postfix did
    assert predicted(run.output) == expected, (answer, run.output)
    assert predicted(files.output) == expected, (answer, files.output)  # main.cf and master.cf read here


def test_a_stopped_postfix_whose_master_cf_would_open_a_relay(postfix_host):
    postfix_host.configure(LOOPBACK, f"0.0.0.0:2525 {SMTPD} -o mynetworks=0.0.0.0/0\n")
    before = postfix_host.plugin(*PLUGIN)
    line = next(x for x in before.output.split("\n") if "exposure:" in x)
    assert line.startswith("[warning] exposure:"), before.output
    assert "will expose it on the next start, an open relay" in line and "0.0.0.0:2525" in line, line
    postfix_host.start()
    try:
        answer = postfix_host.relay_attempt(2525)
        after = postfix_host.plugin(*PLUGIN)
    finally:
        postfix_host.stop()
    assert answer["answer"] == "relays", answer
    assert predicted(after.output) == "relays", after.output
    line = next(x for x in after.output.split("\n") if "exposure:" in x)
    assert "listening on 0.0.0.0:2525 and Postfix service 0.0.0.0:2525" in line, line
