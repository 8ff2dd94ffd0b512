"""The scenario sender domains, what each live receiver answers by design, and where the
live receivers are asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import PRX_V4, RX_V4


@dataclass(frozen=True)
class Scenario:
    """A sender domain set up for one situation, and what each receiver does by design.

    ``exim`` is the answer of Exim's bare ``callout`` (accept / defer / reject);
    ``others`` the answers of the other live receivers where they differ from their
    default (see ``designed``); alternatives are joined with ``|`` where the receiver
    itself picks at random.

    A Postfix receiver answers ``accept`` or ``unverified``: with the stock
    ``unverified_sender_reject_code = 450`` a bounced probe gets the same
    "unverified address" text as a deferred one (smtpd chooses the words by the
    class of the reply code, not by the probe's status; only a 5xx reject code
    gives "undeliverable address").  Only the probe's own reason, quoted after it,
    tells a 550 from a 451."""

    id: str
    sender: str
    what: str
    exim: str  # what Exim's callout does by design: accept / defer / reject
    others: dict = field(default_factory=dict, hash=False, compare=False)

    def designed(self, receiver: str) -> str:
        """What RECEIVER answers by design (``|`` between alternatives)."""
        if receiver in self.others:
            return self.others[receiver]
        if receiver == "postfix":
            return "accept" if self.exim == "accept" else "unverified"
        if receiver == "exim:defer_ok" and self.exim == "defer":
            return "accept"
        return self.exim


SCENARIOS = [
    Scenario("good-mx", "user@good.test", "MX accepts the user", "accept"),
    Scenario("seed", "root@web1.good.test", "no MX, implicit MX is the null mailer, port 25 closed", "defer"),
    Scenario("backup-mx", "user@backup.test", "primary MX unreachable, backup MX accepts", "accept"),
    Scenario("null-mx", "user@nullmx.test", "null MX (MX 0 .)", "reject"),
    Scenario("unknown-user", "nosuchuser@good.test", "MX answers 550 for the local part", "reject"),
    Scenario("tempfail", "user@tempfail.test", "only MX answers 451 at RCPT", "defer"),
    Scenario("flaky-primary", "user@flaky.test", "primary 451 at RCPT, backup accepts", "accept"),
    Scenario("implicit-mx", "user@implicit.test", "no MX, implicit MX accepts", "accept"),
    Scenario("nxdomain", "user@nxdomain.test", "domain does not exist", "reject"),
    Scenario("mx-no-address", "user@noaddr.test", "MX host has no address", "reject"),
    Scenario("ipv6-only-mx", "user@v6only.test", "MX host has only an IPv6 address, accepts", "accept"),
    # Postfix's probe does not use the null sender (double-bounce@its own name)
    Scenario(
        "null-sender-refused",
        "user@nobounce.test",
        "MX answers 550 to MAIL FROM:<>",
        "reject",
        {"postfix": "accept"},
    ),
    # Postfix orders the addresses of a host at random (smtp_address_preference = any)
    Scenario(
        "dual-stack-split",
        "user@split.test",
        "one MX host: its IPv6 address accepts, its IPv4 address answers 550",
        "accept",
        {"postfix": "accept|unverified"},
    ),
    # Postfix gives up after smtp_mx_session_limit (2) SMTP sessions
    Scenario(
        "many-deferring-mx",
        "user@manymx.test",
        "MX 10 and MX 20 answer 451 at RCPT, MX 30 accepts",
        "accept",
        {"postfix": "unverified"},
    ),
    Scenario(
        "bounce-refused-at-rcpt",
        "user@rcptnobounce.test",
        "MX accepts MAIL FROM:<> but answers 550 to RCPT from the null sender",
        "reject",
        {"postfix": "accept"},
    ),
    Scenario("catch-all", "anyone@catchall.test", "MX accepts every local part", "accept"),
    # callout=random asks a random local part first: accepted, so the address is not asked
    Scenario(
        "catch-all-disabled",
        "disabled@catchall.test",
        "MX accepts every local part but this one (550)",
        "reject",
        {"exim:random": "accept"},
    ),
    Scenario(
        "no-postmaster",
        "user@nopm.test",
        "MX accepts the user but answers 550 for postmaster@",
        "accept",
        {"exim:postmaster": "reject"},
    ),
]


@dataclass(frozen=True)
class Receiver:
    """A live receiver of the lab: where to ask it, and for which recipient."""

    name: str
    host: str
    port: int
    rcpt: str
    poll: bool = False  # ask again while the answer is "verification in progress"


#: the live receivers, in the order of the table
RECEIVERS = [
    Receiver("exim", RX_V4, 25, "user@rx.test"),
    Receiver("exim:defer_ok", RX_V4, 2525, "user@rx.test"),
    Receiver("exim:random", RX_V4, 2526, "user@rx.test"),
    Receiver("exim:postmaster", RX_V4, 2527, "user@rx.test"),
    Receiver("postfix", PRX_V4, 25, "user@prx.test", poll=True),
]
RECEIVER = {r.name: r for r in RECEIVERS}
