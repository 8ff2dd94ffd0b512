"""The lab itself: the real servers answer as each scenario is designed.

These dialogues are real SMTP from the monitoring namespace; nothing here uses
the plugins.  If one of them fails, the lab is broken, not a plugin.
"""

import sys

import pytest
from lab import SCENARIOS, ask, ask_exim, nsrun


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_exim_answers_as_designed(lab, scenario):
    answer = ask_exim(scenario.sender)
    assert answer["greeting"][0] == 220
    assert answer["action"] == scenario.exim, answer


def test_exim_defer_names_the_callout(lab):
    answer = ask_exim("root@web1.good.test")
    code, text = answer["rcpt_reply"]
    assert code == 451 and "Could not complete sender verify callout" in text


@pytest.mark.parametrize(
    "host,is_open",
    [
        ("192.0.2.31", True),  # Postfix, mynetworks = 0.0.0.0/0
        ("192.0.2.33", True),  # Exim, relay_from_hosts = *
        ("192.0.2.32", False),  # Postfix, stock relay restrictions
    ],
)
def test_relays_really_relay_or_not(lab, host, is_open):
    answer = ask(host, "probe@mon.test", "someone@elsewhere.test")
    if is_open:
        assert answer["action"] == "accept", answer
    else:
        # stock Postfix: defer_unauth_destination answers 454 Relay access denied
        assert answer["action"] != "accept", answer
        assert "Relay access denied" in answer["rcpt_reply"][1], answer


def test_null_mailer_port_closed_from_outside(lab):
    out = nsrun(
        "mon",
        sys.executable,
        "-c",
        "import socket,sys\n"
        "try:\n socket.create_connection(('192.0.2.21',25),timeout=3)\n"
        "except ConnectionRefusedError:\n sys.exit(0)\n"
        "sys.exit(1)",
        check=False,
    )
    assert out.returncode == 0, "web1.good.test:25 must refuse connections from outside"
