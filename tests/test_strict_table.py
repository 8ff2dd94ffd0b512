"""Predicted = live: every strict scenario of the lab × every strict receiver.

The lab's live table (tests/data/receivers/strict-live-replies.json, recorded from the
real Postfix + policyd-spf and Exim heavy receivers by tests/lab/test_lab_strict.py) is
the authority.  Here the lab's own DNS data (contrib/lab/lab: its host records, MX
records, SPF records and the strict scenarios' dnsmasq lines) is served by the
in-process DNS responder, the MX host the scenarios' sender domains use is an SMTP
server on loopback that accepts (as the lab's does), and check_callout's engine with
the sender checks predicts each cell: the answer, the code and the whole text.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from check_callout.address import parse_address
from check_callout.kit.parallel import run_parallel
from check_callout.receivers import STRICT_PROFILES, STRICT_RECEIVERS
from check_callout.settings import CalloutSettings, SenderCheckSettings
from check_callout.strict_engine import run_with_sender_checks
from tests.support.lab import load_lab
from tests.support.servers import DROP, SERVFAIL, DNSTestServer, SMTPTestServer, free_port

DATA = Path(__file__).resolve().parent / "data" / "receivers" / "strict-live-replies.json"
LIVE = json.loads(DATA.read_text())
RCPT = "recipient@receiver"  # the predictions' stand-in for the receiver's recipient
#: what the lab's fault servers answer (contrib/lab/lab/dns_faults.py): SERVFAIL, never,
#: and a CNAME loop passed on by dnsmasq without chasing it
FAULTS = {
    "spf.servfail.test": SERVFAIL,
    "spf.silent.test": DROP,
    "loop1.loop.test": [("CNAME-ONLY", "loop2.loop.test")],
    "loop2.loop.test": [("CNAME-ONLY", "loop1.loop.test")],
}


def lab_zone() -> dict[str, object]:
    """The lab's DNS data as the in-process responder's zone (dnsmasq lines read)."""
    import ipaddress

    lab = load_lab()
    dns = lab.dns
    zone: dict[str, list] = {}

    def add(name: str, record: tuple) -> None:
        zone.setdefault(name.lower().rstrip("."), []).append(record)

    ptrs: dict[str, str] = {}
    for name, addrs in dns.HOST_RECORDS.items():
        for addr in addrs:
            add(name, ("AAAA" if ":" in addr else "A", addr))
            ptrs.setdefault(ipaddress.ip_address(addr).reverse_pointer, name)
    for domain, exchange, pref in dns.MX_RECORDS:
        add(domain, ("MX", (pref, exchange)))
    for domain in dns.NULL_MX:
        add(domain, ("MX", (0, ".")))
    add("good.test", ("TXT", dns.GOOD_SPF))
    explicit: dict[str, str] = {}
    for line in lab.strict_scenarios.strict_dns_lines():
        key, _, value = line.partition("=")
        if key == "host-record":
            name, addr = value.split(",")
            add(name, ("A", addr))
            ptrs[ipaddress.ip_address(addr).reverse_pointer] = name
        elif key == "mx-host":
            domain, exchange, pref = value.split(",")
            add(domain, ("MX", (int(pref), exchange)))
        elif key == "txt-record":
            name, _, strings = value.partition(",")
            # dnsmasq sends a string over 255 characters as several character-strings
            parts = [s.strip('"') for s in strings.split('","')]
            add(name, ("TXT", [p[i : i + 255] for p in parts for i in range(0, len(p), 255)]))
        elif key == "ptr-record":
            rev, name = value.split(",")
            explicit[rev] = name  # answered instead of a host-record's PTR
        elif key == "address":
            _, name, addr = value.split("/")
            add(name, ("A", addr))
        elif key == "cname":
            alias, target = value.split(",")
            add(alias, ("CNAME", target))
        elif key != "server":
            raise AssertionError(f"a dnsmasq line this test does not read: {line}")
    for rev, name in {**ptrs, **explicit}.items():
        zone[rev] = [("PTR", name)]
    # the scenarios' MX host is the SMTP server on loopback
    zone["mx.good.test"] = [("A", "127.0.0.1")]
    return {**zone, **FAULTS}


@pytest.fixture(scope="module")
def predictions():
    return predict_all()


def predict_all() -> dict:
    """Every scenario's result, the scenarios run at once (as the lab asks them)."""
    lab = load_lab()
    scenarios = lab.strict_scenarios.STRICT_SCENARIOS
    port = free_port()
    with DNSTestServer(lab_zone()) as dns, SMTPTestServer("127.0.0.1", port):
        options = CalloutSettings(
            port=port,
            helo="mon.test",
            nameserver="127.0.0.1",
            dns_port=dns.port,
            receivers=STRICT_RECEIVERS,
            timeout=5,
        )

        def predict(s):  # type: ignore[no-untyped-def]
            strict = SenderCheckSettings((s.addr,), s.helo_name, not s.sender)
            senders = (parse_address(s.sender),) if s.sender else ()
            (result,) = run_with_sender_checks(senders, options, strict, time.monotonic() + 8)
            return result

        done = run_parallel(
            {s.id: (lambda s=s: predict(s)) for s in scenarios}, time.monotonic() + 30, workers=32
        )
    return {s.id: (s, done[s.id]) for s in scenarios}


CELLS = [(s, r) for s in LIVE["scenarios"] for r in ("postfix:strict", "exim:strict")]


@pytest.mark.parametrize(("scenario", "receiver"), CELLS)
def test_predicted_answer_is_the_live_answer(predictions, scenario, receiver):
    definition, result = predictions[scenario]
    assert not isinstance(result, BaseException), result
    prediction = next(p for p in result.predictions if p.profile.name == receiver)
    rcpt_domain = LIVE["receivers"][receiver]["rcpt_domain"]
    text = prediction.text.replace(RCPT, f"{scenario}@{rcpt_domain}").replace(
        "r=receiver", f"r={rcpt_domain}"
    )
    live = LIVE["scenarios"][scenario]["replies"][receiver]["variants"]
    answers = []
    for variant in live:
        code, said = variant["ehlo"] if variant["stage"] == "helo" else (variant["code"], variant["text"])
        answers.append((variant["answer"], code, said))
    action = prediction.action
    if action is None:  # cannot tell (a lookup fails): what the receiver answers meanwhile
        action = STRICT_PROFILES[receiver].action_of(prediction.code)
    assert (action, prediction.code, text) in answers, (scenario, receiver, prediction.reason)
