"""cclab-prx: the Postfix receiver that verifies senders (``reject_unverified_sender``)."""

from __future__ import annotations

from .nodes import KNOWN_USERS
from .postfix import setup_postfix


def configure_postfix_receiver() -> None:
    """reject_unverified_sender with the stock verification settings; its smtp(8) client
    gets callout-like timeouts and no TLS."""
    users = ", ".join(f"{u}=ok" for u in KNOWN_USERS)
    setup_postfix(
        "prx",
        {
            "mydestination": "prx.test, localhost",
            "local_recipient_maps": f"inline:{{ {users} }}",
            "defer_transports": "local",  # the probes go out by smtp; nothing is delivered
            "inet_interfaces": "all",
            "smtpd_recipient_restrictions": "reject_unauth_destination, reject_unverified_sender",
            "address_verify_map": "btree:$data_directory/verify_cache",  # empty each lab run
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "smtp_connect_timeout": "10s",
            "smtp_helo_timeout": "30s",
            "smtp_mail_timeout": "30s",
            "smtp_rcpt_timeout": "30s",
        },
        ["smtp inet n - n - - smtpd"],
    )
