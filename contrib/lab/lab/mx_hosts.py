"""cclab-mx: one Postfix instance playing the MX hosts of the scenario domains, one smtpd
per address, each with its own restrictions."""

from __future__ import annotations

from .nodes import KNOWN_USERS
from .postfix import postfix_dir, setup_postfix, smtpd_line
from .strict_scenarios import STRICT_SENDER_DOMAINS

#: domains the Postfix of cclab-mx is final destination for
MX_DOMAINS = [
    "good.test",
    "backup.test",
    "tempfail.test",
    "flaky.test",
    "implicit.test",
    "v6only.test",
    "nobounce.test",
    "split.test",
    "manymx.test",
    "catchall.test",
    "rcptnobounce.test",
    "nopm.test",
]


def configure_mx_hosts() -> None:
    """The MX hosts of the scenario domains."""
    users = ", ".join(f"{u}=ok" for u in KNOWN_USERS)
    setup_postfix(
        "mx",
        {
            "mydestination": ", ".join(MX_DOMAINS + STRICT_SENDER_DOMAINS + ["localhost"]),
            "local_recipient_maps": f"inline:{{ {users} }}",
            "defer_transports": "local, smtp, relay",  # nothing is ever delivered here
            "inet_interfaces": "all",
            "tempfail_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/tempfail",
            "nobounce_restrictions": f"check_sender_access regexp:{postfix_dir('mx')}/nobounce",
            "reject_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/rejectall",
            "nopostmaster_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/nopostmaster",
            "catchall_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/disabled",
        },
        [
            smtpd_line("192.0.2.10"),
            smtpd_line("2001:db8::10"),
            smtpd_line("192.0.2.12"),
            smtpd_line("192.0.2.14", "smtpd_recipient_restrictions=$tempfail_restrictions"),
            smtpd_line("192.0.2.15"),
            smtpd_line(
                "192.0.2.16", "smtpd_delay_reject=no", "smtpd_sender_restrictions=$nobounce_restrictions"
            ),
            smtpd_line("192.0.2.17", "smtpd_recipient_restrictions=$reject_restrictions"),
            smtpd_line("2001:db8::17"),
            smtpd_line("192.0.2.13", "smtpd_recipient_restrictions=$nopostmaster_restrictions"),
            smtpd_line("192.0.2.18", "smtpd_recipient_restrictions=$tempfail_restrictions"),
            # a catch-all: no recipient table, one disabled mailbox
            smtpd_line(
                "192.0.2.19", "local_recipient_maps=", "smtpd_recipient_restrictions=$catchall_restrictions"
            ),
            # refuses the null sender, but (smtpd_delay_reject = yes) only at RCPT
            smtpd_line("192.0.2.20", "smtpd_sender_restrictions=$nobounce_restrictions"),
        ],
        {
            "rejectall": "/./ 550 5.1.1 No such user here\n",
            "tempfail": "/./ 451 4.3.0 Temporary lookup failure, try again later\n",
            "nobounce": "/^<>$/ 550 5.7.1 Bounces are not accepted here\n",
            "nopostmaster": "/^postmaster@/ 550 5.1.1 No postmaster here\n",
            "disabled": "/^disabled@/ 550 5.2.1 Mailbox disabled\n",
        },
    )
