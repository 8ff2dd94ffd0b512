# ruff: noqa: E501  (one table row per line: the reasons are sentences)
"""The MTA table's rows for the full MTAs run as null mailers: Postfix, Exim 4, OpenSMTPD."""

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

POSTFIX: list[Case] = [
    Case("postfix", "as-installed", "web1.example.test"),
    Case("postfix", "myorigin-mydomain", "example.test", knobs=knobs(myorigin="$mydomain")),
    Case("postfix", "myorigin-default", "web1.example.test", knobs=knobs(myorigin=None)),
    Case(
        "postfix",
        "short-host-hosts",
        "web1.localdomain",
        helo="web1.localdomain",
        **SHORT,
        knobs=knobs(myhostname=None, myorigin=None),
    ),
    Case(
        "postfix",
        "short-host-bare",
        "web1.localdomain",
        helo="web1.localdomain",
        **SHORT,
        hosts=False,
        knobs=knobs(myhostname=None, myorigin=None),
    ),
    Case(
        "postfix",
        "mailname-absent",
        "nothing",
        mailname=ABSENT,
        notes="myorigin = /etc/mailname with no /etc/mailname: Postfix sendmail exits fatally",
    ),
    Case("postfix", "mailname-short", "web1", mailname="web1"),
    Case("postfix", "leftovers", "web1.example.test", extra=EXIM_LEFTOVER + NULLMAILER_LEFTOVER),
    Case(
        "postfix",
        "submit-refused",
        "nothing",
        knobs=knobs(authorized_submit_users="root"),
        differs="authorized_submit_users = root refuses www-data ('not allowed to submit mail'); the plugin cannot know which local user submits, so it reports myorigin",
    ),
    Case(
        "postfix",
        "smtp-helo-name",
        "web1.example.test",
        helo="helo.example.test",
        knobs=knobs(smtp_helo_name="helo.example.test"),
    ),  # fmt: skip
    Case(
        "postfix",
        "bind-address",
        "web1.example.test",
        source="127.0.0.3",
        knobs=knobs(smtp_bind_address="127.0.0.3"),
    ),  # fmt: skip
    Case(
        "postfix", "direct", "web1.example.test", route=DIRECT, source=HOST_ADDRESS, knobs=knobs(relayhost="")
    ),
]

EXIM: list[Case] = [
    Case("exim", "as-installed", "web1.example.test"),
    Case(
        "exim",
        "readhost-hide-mailname",
        "example.test",
        knobs=knobs(dc_readhost="example.test", dc_hide_mailname="true"),
    ),
    Case("exim", "readhost-only", "web1.example.test", knobs=knobs(dc_readhost="example.test")),
    Case(
        "exim",
        "mailname-absent",
        "(empty domain)",
        mailname=ABSENT,
        notes="Debian's qualify_domain comes from /etc/mailname at update-exim4.conf time; without it Exim sends MAIL FROM:<www-data@>",
    ),
    Case(
        "exim",
        "short-host-mailname-absent",
        "(empty domain)",
        **SHORT,
        mailname=ABSENT,
        notes="as mailname-absent: the generated config has an empty qualify_domain",
    ),
    Case(
        "exim",
        "short-host-bare",
        "(empty domain)",
        helo="web1",
        **SHORT,
        hosts=False,
        mailname=ABSENT,
        notes="as mailname-absent: the generated config has an empty qualify_domain",
    ),
    Case(
        "exim",
        "qualify-domain-local-macro",
        "example.test",
        extra=(("/etc/exim4/exim4.conf.localmacros", "MAIN_QUALIFY_DOMAIN = example.test\n"),),
    ),
    Case(
        "exim",
        "hand-written-exim4-conf",
        "hand.example.test",
        extra=(
            (
                "/etc/exim4/exim4.conf",
                "qualify_domain = hand.example.test\n"
                "domainlist local_domains = @\nbegin routers\n"
                "smarthost:\n  driver = manualroute\n  domains = ! +local_domains\n"
                "  transport = remote_smtp\n  route_list = * 127.0.0.2::2525 byname\n"
                "begin transports\nremote_smtp:\n  driver = smtp\n",
            ),
        ),
    ),
    Case(
        "exim",
        "local-only",
        "nothing",
        knobs=knobs(dc_eximconfig_configtype="local"),
        notes="dc_eximconfig_configtype='local' sends nothing off the host",
    ),
    Case("exim", "leftovers", "web1.example.test", extra=POSTFIX_LEFTOVER + SSMTP_LEFTOVER),
    Case(
        "exim",
        "internet-direct",
        "web1.example.test",
        route=DIRECT,
        source=HOST_ADDRESS,
        knobs=knobs(dc_eximconfig_configtype="internet", dc_smarthost=""),
    ),  # fmt: skip
    Case(
        "exim",
        "helo-data-macro",
        "web1.example.test",
        helo="helo.example.test",
        extra=(("/etc/exim4/exim4.conf.localmacros", "REMOTE_SMTP_HELO_DATA = helo.example.test\n"),),
    ),  # fmt: skip
]

OPENSMTPD: list[Case] = [
    Case("opensmtpd", "as-installed-relay-host", "web1.example.test"),
    Case(
        "opensmtpd",
        "mail-from",
        "example.test",
        knobs=knobs(relay='action "relay" relay host smtp://127.0.0.2:2525 mail-from "@example.test"'),
    ),
    Case("opensmtpd", "mailname-absent", "web1.example.test", mailname=ABSENT),
    Case(
        "opensmtpd",
        "short-host-mailname-absent",
        "web1.example.test",
        **SHORT,
        mailname=ABSENT,
        notes="without /etc/mailname OpenSMTPD uses the canonical name (web1.example.test from /etc/hosts)",
    ),
    Case("opensmtpd", "leftovers", "web1.example.test", extra=NULLMAILER_LEFTOVER + EXIM_LEFTOVER),
    Case(
        "opensmtpd",
        "mailname-other",
        "mail.example.test",
        helo="mail.example.test",
        mailname="mail.example.test",
    ),
    Case(
        "opensmtpd",
        "helo",
        "web1.example.test",
        helo="helo.example.test",
        knobs=knobs(relay='action "relay" relay host smtp://127.0.0.2:2525 helo helo.example.test'),
    ),  # fmt: skip
    Case(
        "opensmtpd",
        "src",
        "web1.example.test",
        source="127.0.0.3",
        knobs=knobs(relay='action "relay" relay host smtp://127.0.0.2:2525 src 127.0.0.3'),
    ),  # fmt: skip
    Case(
        "opensmtpd",
        "direct",
        "web1.example.test",
        route=DIRECT,
        source=HOST_ADDRESS,
        knobs=knobs(relay='action "relay" relay'),
    ),  # fmt: skip
]
