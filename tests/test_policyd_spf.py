"""pyspf's answer is what policyd-spf sees: the real policyd-spf (Debian's
postfix-policyd-spf-python engine, its stock configuration) is asked over its policy
protocol, with its DNS pointed at the in-process responder, and its action is
compared with the postfix:strict profile's SPF steps for every SPF case."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from check_callout.receivers import STRICT_PROFILES
from check_callout.receivers.profile import ACCEPT, REJECT, Prediction
from check_callout.senders import run_sender_checks, strict_predictions
from tests.support.ci import require
from tests.support.sender_zone import CLIENT, ZONE
from tests.support.servers import DNSTestServer

SYSTEM_PYTHON = "/usr/bin/python3"
STOCK_CONF = "/etc/postfix-policyd-spf-python/policyd-spf.conf"
# The engine's only change: dnspython's default resolver is the test DNS (the
# program reads /etc/resolv.conf otherwise); everything else is the installed code.
POLICYD = """
import sys, dns.resolver
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = int(sys.argv[1])
dns.resolver.default_resolver = resolver
sys.argv = ["policyd-spf"] + sys.argv[2:]
from spf_engine.policyd_spf import main
main()
"""
CASES = [
    # (HELO name, sender): every SPF result for MAIL FROM, a failing HELO, the null sender
    *[
        ("web1.good.test", f"www-data@{d}")
        for d in (
            "good.test pass.test soft.test neutral.test none.test syntax.test two.test many.test "
            "void.test loop.test redir.test macro.test split.test tempfail.test"
        ).split()
    ],
    ("sfhelo.test", "a@pass.test"),
    ("sfhelo.test", ""),
    ("web1.good.test", ""),
    ("other.good.test", "a@pass.test"),  # another host's name: no SPF of its own
]


def ask_policyd(port: int, cases: list[tuple[str, str]]) -> list[str]:
    """policyd-spf's action for each (HELO, sender) from CLIENT, in one process."""
    requests = "".join(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
        f"client_address={CLIENT}\nclient_name=web1.good.test\nhelo_name={helo}\n"
        f"sender={sender}\nrecipient=user@receiver\ninstance=case{i}\n\n"
        for i, (helo, sender) in enumerate(cases)
    )
    config = STOCK_CONF if os.path.exists(STOCK_CONF) else ""
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", POLICYD, str(port), *([config] if config else [])],
        input=requests,
        capture_output=True,
        text=True,
        timeout=120,
    )
    actions = [block.strip() for block in done.stdout.split("\n\n") if block.strip()]
    assert len(actions) == len(cases), done
    return [a.removeprefix("action=") for a in actions]


def has_engine() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import spf_engine.policyd_spf"], capture_output=True)
    return found.returncode == 0


def test_postfix_strict_spf_answers_equal_policyd_spf() -> None:
    require(has_engine(), "policyd-spf's engine missing (Debian python3-spf-engine)")
    accepting = [Prediction(STRICT_PROFILES["postfix:strict"], ACCEPT, 250, "2.1.5 Ok", "accepted")]
    with DNSTestServer(ZONE) as dns:
        actions = ask_policyd(dns.port, CASES)
        for (helo, sender), action in zip(CASES, actions):
            checks = run_sender_checks(
                [CLIENT],
                helo,
                sender,
                nameserver="127.0.0.1",
                dns_port=dns.port,
                deadline=time.monotonic() + 5,
            )
            (predicted,) = strict_predictions(checks, accepting if sender else None, ["postfix:strict"])
            spf_step = predicted.failing is not None and predicted.failing.key.startswith("spf_")
            if action.startswith("550 "):
                assert spf_step and predicted.action == REJECT, (helo, sender, action, predicted)
                # Postfix puts "<rcpt>: Recipient address rejected: " before the policy's text
                said = action.split(" ", 2)[2]
                assert predicted.text.split("Recipient address rejected: ", 1)[1] == said, (action, predicted)
            else:
                assert action.startswith(("prepend ", "dunno")), action
                assert not spf_step, (helo, sender, action, predicted)


@pytest.mark.parametrize("helo", ["web1.good.test"])
def test_the_stock_configuration_is_the_one_modelled(helo) -> None:
    require(os.path.exists(STOCK_CONF), f"{STOCK_CONF} missing (postfix-policyd-spf-python)")
    settings = dict(
        line.split("=", 1)
        for line in open(STOCK_CONF).read().splitlines()
        if "=" in line and not line.startswith("#")
    )
    settings = {k.strip(): v.strip() for k, v in settings.items()}
    assert settings["HELO_reject"] == "Fail"
    assert settings["Mail_From_reject"] == "Fail"
    assert settings["PermError_reject"] == "False"
    assert settings["TempError_Defer"] == "False"
