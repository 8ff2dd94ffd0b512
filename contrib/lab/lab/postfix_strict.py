"""cclab-psx: the strict Postfix receiver. Beside the callout (``reject_unverified_sender``)
it checks the HELO name, the client's reverse DNS, the sender domain and SPF
(postfix-policyd-spf-python with its stock ``/etc/postfix-policyd-spf-python/policyd-spf.conf``),
all at RCPT, the first failing check deciding: the configuration of the postfix:strict
profile (docs/strict.md), quoted in docs/lab.md."""

from __future__ import annotations

from .postfix import setup_postfix
from .postfix_receiver import VERIFYING_RECEIVER

#: the recipient restrictions, in order (smtpd_delay_reject = yes: all are run at RCPT)
STRICT_RESTRICTIONS = [
    "reject_non_fqdn_helo_hostname",
    "reject_unknown_helo_hostname",
    "reject_unknown_reverse_client_hostname",
    "reject_non_fqdn_sender",
    "reject_unknown_sender_domain",
    "permit_mynetworks",
    "reject_unauth_destination",
    "check_policy_service unix:private/policyd-spf",
    "reject_unverified_sender",
]
#: the policy service, as Debian's README for postfix-policyd-spf-python has it
POLICYD_SPF = "policyd-spf unix - n n - 0 spawn\n  user=policyd-spf argv=/usr/bin/policyd-spf"

STRICT_POSTFIX_MAIN = {
    "mydestination": "psx.test, localhost",
    "local_recipient_maps": "",  # every local part of psx.test is taken
    "smtpd_recipient_restrictions": ", ".join(STRICT_RESTRICTIONS),
    "policyd-spf_time_limit": "3600",
    **VERIFYING_RECEIVER,
}


def configure_strict_postfix() -> None:
    setup_postfix("psx", STRICT_POSTFIX_MAIN, ["smtp inet n - n - - smtpd", POLICYD_SPF])
