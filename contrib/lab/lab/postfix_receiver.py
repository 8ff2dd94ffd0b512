"""cclab-prx: the Postfix receiver that verifies senders (``reject_unverified_sender``)."""

from __future__ import annotations

from .nodes import KNOWN_USERS
from .postfix import setup_postfix

#: what every verifying Postfix receiver of the lab (cclab-prx, the strict cclab-psx) sets
#: beside its domain and restrictions: the stock verification settings, nothing delivered
#: (the probes go out by smtp), and an smtp(8) client with callout-like timeouts, no TLS
VERIFYING_RECEIVER = {
    "defer_transports": "local",
    "inet_interfaces": "all",
    "address_verify_map": "btree:$data_directory/verify_cache",  # empty each lab run
    "smtp_tls_security_level": "none",
    "smtpd_tls_security_level": "none",
    "smtp_connect_timeout": "10s",
    "smtp_helo_timeout": "30s",
    "smtp_mail_timeout": "30s",
    "smtp_rcpt_timeout": "30s",
}


def configure_postfix_receiver() -> None:
    """reject_unverified_sender for the lab's known users of prx.test."""
    users = ", ".join(f"{u}=ok" for u in KNOWN_USERS)
    setup_postfix(
        "prx",
        {
            "mydestination": "prx.test, localhost",
            "local_recipient_maps": f"inline:{{ {users} }}",
            "smtpd_recipient_restrictions": "reject_unauth_destination, reject_unverified_sender",
            **VERIFYING_RECEIVER,
        },
        ["smtp inet n - n - - smtpd"],
    )
