# ruff: noqa: E501  (one table row per line: the reasons are sentences)
"""The MTA table's rows for msmtp: its msmtprc, and account chains read as msmtp reads them."""

from __future__ import annotations

from mtas.case import NOTHING, NULLMAILER_LEFTOVER, SHORT, SSMTP_LEFTOVER, Case, knobs
from mtas.kinds import SINK_HOST, SINK_PORT, msmtprc


def rc(*lines: str) -> str:
    """A whole msmtprc: the lab's port and TLS as defaults, then ``lines``."""
    return "\n".join(["defaults", f"port {SINK_PORT}", "tls off", *lines]) + "\n"


SINK = f"host {SINK_HOST}"


MSMTP: list[Case] = [
    Case(
        "msmtp",
        "as-installed",
        "nothing",
        notes="msmtp-mta as installed has no /etc/msmtprc and sends nothing",
    ),
    Case(
        "msmtp",
        "from",
        "example.test",
        knobs=knobs(msmtprc=msmtprc("from www@example.test")),
    ),
    Case(
        "msmtp",
        "no-from",
        "nothing",
        knobs=knobs(msmtprc=msmtprc()),
        notes="msmtp 1.8 without from refuses ('envelope-from address is missing')",
    ),
    Case(
        "msmtp",
        "auto-from-maildomain",
        "example.test",
        knobs=knobs(msmtprc=msmtprc("auto_from on", "maildomain example.test")),
    ),
    Case(
        "msmtp",
        "from-percent-H",
        "web1.example.test",
        knobs=knobs(msmtprc=msmtprc("from %U@%H")),
    ),
    Case(
        "msmtp",
        "from-percent-C-short",
        "web1.example.test",
        **SHORT,
        knobs=knobs(msmtprc=msmtprc("from %U@%C")),
        notes="%C is the canonical name (web1.example.test from /etc/hosts)",
    ),
    Case(
        "msmtp",
        "from-percent-M",
        "example.test",
        mailname="example.test",
        knobs=knobs(msmtprc=msmtprc("from %U@%M")),
    ),
    Case(
        "msmtp",
        "no-from-short-host",
        "nothing",
        **SHORT,
        knobs=knobs(msmtprc=msmtprc()),
        notes="msmtp 1.8 without from refuses ('envelope-from address is missing')",
    ),
    Case(
        "msmtp",
        "leftovers",
        "example.test",
        knobs=knobs(msmtprc=msmtprc("from www@example.test")),
        extra=SSMTP_LEFTOVER + NULLMAILER_LEFTOVER,
    ),
    Case(
        "msmtp",
        "domain",
        "example.test",
        helo="helo.example.test",
        knobs=knobs(msmtprc=msmtprc("from www@example.test", "domain helo.example.test")),
    ),  # fmt: skip
    Case(
        "msmtp",
        "source-ip",
        "example.test",
        source="127.0.0.3",
        knobs=knobs(msmtprc=msmtprc("from www@example.test", "source_ip 127.0.0.3")),
    ),  # fmt: skip
    # -- msmtp account chains: msmtprc read as msmtp reads it -------------------------------
    Case(
        "msmtp",
        "chain-default-inherits",
        "example.test",
        knobs=knobs(msmtprc=rc("account relay", SINK, "from www@example.test", "account default : relay")),
    ),
    Case(
        "msmtp",
        "chain-undefined-parent",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default : relay", SINK, "from www@example.test")),
        notes="msmtp: 'line 4: account relay not (yet) defined', and it sends nothing",
    ),
    Case(
        "msmtp",
        "chain-parent-defined-later",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default : relay", "account relay", SINK, "from www@example.test")),
        notes="a parent must be defined above its child: 'account relay not (yet) defined'",
    ),
    Case(
        "msmtp",
        "chain-own-lines-win",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "account relay",
                SINK,
                "from www@relay.example.test",
                "account default : relay",
                "from www@example.test",
            )
        ),
    ),
    Case(
        "msmtp",
        "chain-two-parents-later-wins",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "account a",
                SINK,
                "from www@a.example.test",
                "account b",
                "from www@example.test",
                "account default : a,b",
            )
        ),
    ),
    Case(
        "msmtp",
        "chain-copies-only-own-settings",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "defaults",
                "from www@old.example.test",
                "account relay",
                SINK,
                "defaults",
                "from www@example.test",
                "account default : relay",
            )
        ),
    ),
    Case(
        "msmtp",
        "chain-duplicate-account",
        NOTHING,
        knobs=knobs(
            msmtprc=rc(
                "account default",
                SINK,
                "from www@example.test",
                "account default",
                "from www@other.example.test",
            )
        ),
        notes="'account default was already defined': a second definition is an error, not an override",
    ),
    Case(
        "msmtp",
        "no-account-default",
        NOTHING,
        knobs=knobs(msmtprc=rc("account relay", SINK, "from www@example.test")),
        notes="without -a its sendmail uses only the account default: 'account default not found in /etc/msmtprc'",
    ),
    Case(
        "msmtp",
        "include-is-unknown",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default", SINK, "include /etc/msmtp-from")),
        extra=(("/etc/msmtp-from", "from www@example.test\n"),),
        notes="msmtp 1.8 has no include: 'line 6: unknown command include'",
    ),
    Case(
        "msmtp",
        "long-line",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default", SINK, "from www@example.test" + " " * 500)),
        notes="'line longer than 500 characters', and it sends nothing",
    ),
    Case(
        "msmtp",
        "auto-from-wins-over-from",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "account default",
                SINK,
                "auto_from on",
                "maildomain example.test",
                "from www@other.example.test",
            )
        ),
    ),
    Case(
        "msmtp",
        "auto-from-no-maildomain",
        "(no domain)",
        knobs=knobs(msmtprc=rc("account default", SINK, "auto_from on")),
        notes="auto_from without maildomain sends the bare user name, no @domain",
    ),
    Case(
        "msmtp",
        "eval-from",
        "example.test",
        knobs=knobs(msmtprc=rc("account default", SINK, "eval echo from www@example.test")),
        differs="the check does not run eval commands: it says it cannot tell the sender",
    ),
]
