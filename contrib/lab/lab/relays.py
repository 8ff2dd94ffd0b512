"""The relays of the battery: a Postfix open relay (cclab-open), a Postfix with stock relay
restrictions (cclab-closed) and an Exim open relay (cclab-exrelay, configured in
``exim.exim_conf``)."""

from __future__ import annotations

from .postfix import setup_postfix

#: the relays of the battery: node -> open?
RELAYS = {"open": True, "closed": False, "exrelay": True}


def configure_relays() -> None:
    """The Postfix relays: anything they accepted would stay in their queue."""
    for name, nets in (("open", "0.0.0.0/0 [::]/0"), ("closed", "127.0.0.0/8 [::1]/128")):
        setup_postfix(
            name,
            {
                "inet_interfaces": "all",
                "mynetworks": nets,
                "mydestination": "$myhostname, localhost",
                "defer_transports": "smtp, relay, local",
            },
            ["smtp inet n - n - - smtpd"],
        )
