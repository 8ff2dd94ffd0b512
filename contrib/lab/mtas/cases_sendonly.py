# ruff: noqa: E501  (one table row per line: the reasons are sentences)
"""The MTA table's rows for the send-only MTAs with plain configuration files: nullmailer,
ssmtp, dma (msmtp has its own: ``cases_msmtp``)."""

from __future__ import annotations

from mtas.case import (
    ABSENT,
    DIRECT,
    EXIM_LEFTOVER,
    HOST_ADDRESS,
    NULLMAILER_LEFTOVER,
    POSTFIX_LEFTOVER,
    SHORT,
    SSMTP_LEFTOVER,
    Case,
    knobs,
)

NULLMAILER: list[Case] = [
    Case("nullmailer", "as-installed", "web1.example.test"),
    Case("nullmailer", "allmailfrom", "example.test", knobs=knobs(allmailfrom="www@example.test")),
    Case("nullmailer", "defaulthost", "example.test", knobs=knobs(defaulthost="example.test")),
    Case(
        "nullmailer",
        "me",
        "web1.example.test",
        knobs=knobs(me="relay.example.test"),
        notes="Debian's nullmailer reads /etc/mailname, not /etc/nullmailer/me (Debian patch)",
    ),
    Case(
        "nullmailer",
        "mailname-absent",
        "defaulthost.example.test",
        helo="me",
        mailname=ABSENT,
        notes="without /etc/mailname Debian's nullmailer uses the literal 'defaulthost' + defaultdomain",
    ),
    Case(
        "nullmailer",
        "short-host-defaultdomain",
        "web1.example.test",
        helo="web1",
        **SHORT,
        knobs=knobs(defaultdomain="example.test"),
    ),
    Case(
        "nullmailer",
        "short-host-bare",
        "defaulthost",
        helo="me",
        **SHORT,
        hosts=False,
        mailname=ABSENT,
        notes="without /etc/mailname and defaultdomain Debian's nullmailer sends @defaulthost",
    ),
    Case(
        "nullmailer",
        "no-remotes",
        "nothing",
        knobs=knobs(remotes=""),
        notes="an empty remotes file: nullmailer-send says 'No remote hosts listed for delivery' and sends nothing",
    ),
    Case(
        "nullmailer",
        "leftovers",
        "web1.example.test",
        extra=SSMTP_LEFTOVER + EXIM_LEFTOVER,
        notes="/usr/sbin/sendmail is nullmailer's; Exim's update-exim4.conf.conf is a leftover",
    ),
    Case(
        "nullmailer",
        "helohost",
        "web1.example.test",
        helo="helo.example.test",
        knobs=knobs(helohost="helo.example.test"),
    ),  # fmt: skip
]

SSMTP: list[Case] = [
    Case("ssmtp", "as-installed", "web1.example.test"),
    Case("ssmtp", "rewritedomain", "example.test", knobs=knobs(rewriteDomain="example.test")),
    Case(
        "ssmtp",
        "hostname-other",
        "other.example.test",
        helo="other.example.test",
        knobs=knobs(hostname="other.example.test"),
    ),
    Case("ssmtp", "no-hostname", "web1.example.test", knobs=knobs(hostname=None)),
    Case("ssmtp", "short-host-no-hostname", "web1", helo="web1", **SHORT, knobs=knobs(hostname=None)),
    Case("ssmtp", "short-host-bare", "web1", helo="web1", **SHORT, hosts=False, knobs=knobs(hostname=None)),
    Case(
        "ssmtp",
        "no-config",
        "nothing",
        extra=(("/etc/ssmtp/ssmtp.conf", None),),
        notes="without ssmtp.conf ssmtp cannot open mailhub:25 and sends nothing",
    ),
    Case("ssmtp", "leftovers", "web1.example.test", extra=NULLMAILER_LEFTOVER + POSTFIX_LEFTOVER),
]

DMA: list[Case] = [
    Case("dma", "as-installed", "web1.example.test"),
    Case("dma", "masquerade-domain", "example.test", knobs=knobs(MASQUERADE="example.test")),
    Case("dma", "masquerade-user-at", "example.test", knobs=knobs(MASQUERADE="www@example.test")),
    Case("dma", "mailname-absent", "web1.example.test", mailname=ABSENT),
    Case("dma", "no-mailname-setting-short", "web1", helo="web1", **SHORT, knobs=knobs(MAILNAME=None)),
    Case(
        "dma",
        "mailname-literal",
        "literal.example.test",
        helo="literal.example.test",
        knobs=knobs(MAILNAME="literal.example.test"),
    ),
    Case(
        "dma",
        "no-smarthost-direct",
        "web1.example.test",
        route=DIRECT,
        source=HOST_ADDRESS,
        knobs=knobs(SMARTHOST=None),
    ),
    Case("dma", "leftovers", "web1.example.test", extra=POSTFIX_LEFTOVER + EXIM_LEFTOVER),
]
