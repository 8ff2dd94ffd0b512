"""Receiver profiles: pure predictions from probe outcomes, the replies as the live
receivers send them (tests/data/receivers), and the probes they need (counted on a
server that counts connections)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from check_callout.net.routes import MX, NO_ADDRESS, NULL_MX, NXDOMAIN, MXHost, Route
from check_callout.receiver import ACCEPT, REJECT, TEMPFAIL, UNREACHABLE, Outcome
from check_callout.receivers import PROFILES, predict, profiles
from check_callout.receivers.evidence import Evidence
from check_callout.receivers.postfix import double_bounce
from tests.support.servers import DNSTestServer, RawServer, free_port, scripted_smtp

DATA = json.loads((Path(__file__).parent / "data" / "receivers" / "live-replies.json").read_text())
PF = "double-bounce@mx.prx.test"
OK250 = Outcome(ACCEPT, "rcpt", 250, "2.1.5 Ok")
NO550 = Outcome(REJECT, "rcpt", 550, "5.1.1 <s@d.test>: Recipient address rejected: No such user here")
MAIL550 = Outcome(REJECT, "mail", 550, "5.7.1 <>: Sender address rejected: Bounces are not accepted here")
GREY451 = Outcome(TEMPFAIL, "rcpt", 451, "4.3.0 <s@d.test>: Recipient address rejected: try again later")
REFUSED = Outcome(UNREACHABLE, "connect", 0, "refused port 25")


def route(*hosts: tuple[int, str, list[str]], status: str = MX, domain: str = "d.test") -> Route:
    return Route(domain, status, [MXHost(name, pref, addrs) for pref, name, addrs in hosts])


def evidence(
    the_route: Route,
    null: dict,
    postfix: dict | None = None,
    random: dict | None = None,
    postmaster: dict | None = None,
    sender: str = "s@d.test",
) -> Evidence:
    answers: dict = {}
    for ip, outcome in null.items():
        answers.setdefault(ip, {})[("", sender)] = outcome
    for ip, outcome in (postfix if postfix is not None else null).items():
        answers.setdefault(ip, {})[(PF, sender)] = outcome
    for ip, outcome in (random or {}).items():
        answers.setdefault(ip, {})[("", "r@d.test")] = outcome
    for ip, outcome in (postmaster or {}).items():
        answers.setdefault(ip, {})[("", "postmaster@d.test")] = outcome
    return Evidence(
        sender,
        the_route,
        answers,
        "r@d.test" if random else "",
        "postmaster@d.test" if postmaster else "",
        PF,
    )


def answers(ev: Evidence) -> dict[str, list[str]]:
    return {p.profile.name: p.actions for p in predict(profiles(list(PROFILES)), ev)}


THREE = route(
    (10, "mx1.d.test", ["192.0.2.1"]), (20, "mx2.d.test", ["192.0.2.2"]), (30, "mx3.d.test", ["192.0.2.3"])
)


def test_postfix_stops_after_two_sessions():
    ev = evidence(THREE, {"192.0.2.1": GREY451, "192.0.2.2": GREY451, "192.0.2.3": OK250})
    found = answers(ev)
    assert found["exim"] == ["accept"] and found["postfix"] == ["defer"]
    postfix = predict([PROFILES["postfix"]], ev)[0]
    assert postfix.code == 450
    assert postfix.text == (
        "4.1.7 <s@d.test>: Sender address rejected: unverified address: host "
        "mx2.d.test[192.0.2.2] said: 451 4.3.0 <s@d.test>: Recipient address rejected: "
        "try again later (in reply to RCPT TO command)"
    )


def test_a_refused_connection_is_no_session():
    ev = evidence(THREE, {"192.0.2.1": REFUSED, "192.0.2.2": GREY451, "192.0.2.3": OK250})
    assert answers(ev)["postfix"] == ["accept"]


def test_postfix_address_limit():
    five_down = [(10 + i, f"mx{i}.d.test", [f"192.0.2.{i}"]) for i in range(1, 6)]
    the_route = route(*five_down, (20, "mx9.d.test", ["192.0.2.9"]))
    outcomes = {f"192.0.2.{i}": REFUSED for i in range(1, 6)} | {"192.0.2.9": OK250}
    assert answers(evidence(the_route, outcomes))["postfix"] == ["defer"]
    assert answers(evidence(the_route, outcomes))["exim"] == ["accept"]


def test_null_sender_refused_fails_exim_not_postfix():
    one = route((10, "mx.d.test", ["192.0.2.1"]))
    found = answers(evidence(one, {"192.0.2.1": MAIL550}, postfix={"192.0.2.1": OK250}))
    assert found["exim"] == ["reject"] and found["postfix"] == ["accept"]


def test_postfix_orders_a_hosts_addresses_at_random():
    split = route((10, "mx.d.test", ["2001:db8::7", "192.0.2.7"]))
    ev = evidence(split, {"2001:db8::7": OK250, "192.0.2.7": NO550})
    found = answers(ev)
    assert found["exim"] == ["accept"]
    assert found["postfix"] == ["accept", "defer"]


def test_exim_options():
    one = route((10, "mx.d.test", ["192.0.2.1"]))
    grey = answers(evidence(one, {"192.0.2.1": GREY451}))
    assert grey["exim"] == ["defer"] and grey["exim:defer_ok"] == ["accept"]
    catch_all = answers(evidence(one, {"192.0.2.1": NO550}, random={"192.0.2.1": OK250}))
    assert catch_all["exim"] == ["reject"] and catch_all["exim:random"] == ["accept"]
    no_pm = answers(evidence(one, {"192.0.2.1": OK250}, postmaster={"192.0.2.1": NO550}))
    assert no_pm["exim"] == ["accept"] and no_pm["exim:postmaster"] == ["reject"]


def stored(scenario: str, receiver: str) -> list[tuple[int, str]]:
    return [(v["code"], v["text"]) for v in DATA["scenarios"][scenario]["replies"][receiver]["variants"]]


@pytest.mark.parametrize(
    "scenario, status, sender, hosts",
    [
        ("null-mx", NULL_MX, "user@nullmx.test", []),
        ("nxdomain", NXDOMAIN, "user@nxdomain.test", []),
        ("mx-no-address", NO_ADDRESS, "user@noaddr.test", [(10, "mx.noaddr.test", [])]),
    ],
)
def test_replies_decided_by_dns_equal_the_live_ones(scenario, status, sender, hosts):
    """Where DNS alone decides, every profile's reply is exactly what the live one sent."""
    domain = sender.split("@")[1]
    ev = Evidence(sender, route(*hosts, status=status, domain=domain), {}, postfix_sender=PF)
    for prediction in predict(profiles(list(PROFILES)), ev):
        assert (prediction.code, prediction.text) in stored(scenario, prediction.profile.name), prediction


def test_postfix_reply_equals_the_live_one_for_a_probe_result():
    # the lab's many-deferring-mx domain, with the replies its MX hosts give
    text = "4.3.0 <user@manymx.test>: Recipient address rejected: Temporary lookup failure, try again later"
    grey = Outcome(TEMPFAIL, "rcpt", 451, text)
    the_route = route(
        (10, "mx1.manymx.test", ["192.0.2.14"]),
        (20, "mx2.manymx.test", ["192.0.2.18"]),
        (30, "mx3.manymx.test", ["192.0.2.12"]),
        domain="manymx.test",
    )
    ev = evidence(
        the_route,
        {},
        postfix={"192.0.2.14": grey, "192.0.2.18": grey, "192.0.2.12": OK250},
        sender="user@manymx.test",
    )
    postfix = predict([PROFILES["postfix"]], ev)[0]
    assert (postfix.code, postfix.text) in stored("many-deferring-mx", "postfix")


def test_double_bounce_sender():
    assert double_bounce("mx.prx.test") == "double-bounce@mx.prx.test"
    assert double_bounce("verify@prx.test") == "verify@prx.test"


# ---------------------------------------------------------------- on the wire
MX1, MX2 = "127.0.0.41", "127.0.0.42"


def ask(callout, two_mx, *args: str):
    """check_callout about s@d.test against the two MX hosts, with ``args``."""
    return callout(
        "-s", "s@d.test", "-p", two_mx["port"], *two_mx["dns"].args, "-t", "8", "--helo", "mon.test", *args
    )


@pytest.fixture(params=[True, False], ids=["pipelining", "no-pipelining"])
def two_mx(request):
    """Two MX hosts that defer, each counting its connections and logging commands."""
    port = free_port([MX1, MX2])
    ehlo = b"250-raw.test\r\n250 PIPELINING\r\n" if request.param else b"250 raw.test\r\n"
    logs: dict[str, list[bytes]] = {MX1: [], MX2: []}
    zone = {
        "d.test": [("MX", (10, "mx1.d.test")), ("MX", (20, "mx2.d.test"))],
        "mx1.d.test": [("A", MX1)],
        "mx2.d.test": [("A", MX2)],
    }
    servers = [
        RawServer(
            ip, port, scripted_smtp(replies={b"EHLO": ehlo, b"RCPT": b"451 4.7.1 later\r\n"}, log=logs[ip])
        )
        for ip in (MX1, MX2)
    ]
    with DNSTestServer(zone) as dns, servers[0], servers[1]:
        yield {"port": str(port), "dns": dns, "servers": dict(zip((MX1, MX2), servers)), "logs": logs}


def test_every_profile_from_one_connection_per_address(callout, two_mx):
    every = [a for name in PROFILES for a in ("--receiver", name)]
    run = ask(
        callout,
        two_mx,
        "--postfix-sender",
        "mx.rx.test",
        "--allow-private",
        *every,
        "-v",
    )
    assert run.code == 2, run.output
    for ip, server in two_mx["servers"].items():
        assert len(server.connections) == 1, (ip, run.output)
        commands = [c.decode().strip() for c in two_mx["logs"][ip]]
        mails = [c for c in commands if c.upper().startswith("MAIL")]
        assert mails[-1] == "MAIL FROM:<double-bounce@mx.rx.test>", commands
        assert commands[commands.index(mails[-1]) - 1] == "RSET", commands
        assert "DATA" not in commands
    # one reply line per receiver; the first line names the deciding one's action
    for name in PROFILES:
        assert any(line.startswith(f"  {name} would answer ") for line in run.long_output), run.output
    assert "an Exim receiver would defer (451 Could not complete sender verify callout)" in run.first_line
    assert "(receivers disagree: exim:defer_ok accept" in run.first_line


def test_only_exim_asks_no_more(callout, two_mx):
    run = ask(
        callout,
        two_mx,
        "--allow-private",
        "--receiver",
        "exim",
    )
    assert run.code == 2, run.output
    for ip in (MX1, MX2):
        commands = [c.decode().split()[0].upper() for c in two_mx["logs"][ip]]
        assert commands.count("MAIL") == 1 and commands.count("RCPT") == 1, commands
        assert len(two_mx["servers"][ip].connections) == 1


def test_postfix_deciding_names_its_action_first(callout, two_mx):
    run = ask(
        callout,
        two_mx,
        "--allow-private",
        "--receiver",
        "postfix",
        "--receiver",
        "exim",
    )
    assert run.code == 2, run.output
    assert "a Postfix receiver would defer (450 4.1.7 unverified address)" in run.first_line
    assert (
        "postfix would answer 450 4.1.7 <s@d.test>: Sender address rejected: unverified address: host "
        "mx2.d.test[127.0.0.42] said: 451 4.7.1 later (in reply to RCPT TO command)" in run.output
    )


def test_unknown_receiver_is_a_usage_error(callout):
    run = callout("-s", "s@d.test", "--receiver", "sendmail")
    assert run.code == 3, run.output


def test_a_long_warning_never_cuts_the_deciding_receivers_words(callout):
    """A WARNING reason leads the first line; however long, the line still ends with what
    the deciding receiver would do (and that the receivers disagree)."""
    port = free_port([MX1, MX2])
    long_grey = b"451 4.7.1 " + b"greylisted, " * 40 + b"try again later\r\n"
    zone = {
        "d.test": [("MX", (10, "mx1.d.test")), ("MX", (20, "mx2.d.test"))],
        "mx1.d.test": [("A", MX1)],
        "mx2.d.test": [("A", MX2)],
    }
    with (
        DNSTestServer(zone) as dns,
        RawServer(MX1, port, scripted_smtp(replies={b"RCPT": long_grey})),
        RawServer(MX2, port, scripted_smtp()),
    ):
        for receivers, words in (
            ([], "so an Exim receiver would accept"),
            (["--receiver", "postfix"], "so a Postfix receiver would accept"),
        ):
            run = callout(
                "-s",
                "s" * 60 + "@d.test",
                "-p",
                str(port),
                *dns.args,
                "-t",
                "8",
                "--helo",
                "mon.test",
                "--allow-private",
                *receivers,
            )
            assert run.code == 1, run.output
            summary = run.first_line.split(" | ")[0]
            assert len(summary) <= 220 and "..." in summary, summary
            assert summary.endswith(words), summary
