"""cclab-esx: the strict Exim receiver, Debian's exim4-daemon-heavy (built with SPF, by
libspf2) unpacked beside the light one. Its RCPT ACL checks SPF, the HELO name, the
client's reverse DNS and the sender (callout), the first failing check deciding.
docs/lab.md quotes this configuration."""

from __future__ import annotations

from pathlib import Path

from .base import EXIM_HEAVY, write
from .exim import (
    exim_config_path,
    exim_main_options,
    exim_mainlog,
    make_exim_dirs,
    receiver_delivery,
    start_exim,
)
from .nodes import NODES

# The RCPT ACL of the exim:strict profile (docs/strict.md), in its order. A `require`
# reads a `message` written after its condition only if the condition holds, so the
# refusals are written `deny !verify = ...` with the message after (a failing
# `require verify = helo` with a later message answered "550 Administrative prohibition").
#: the ACL's words for an SPF identity: the MAIL FROM domain, the HELO name for <>
_IDENTITY = "${if def:sender_address_domain {$sender_address_domain}{$sender_helo_name}}"
_SCOPE = "${if def:sender_address_domain {mfrom}{helo}}"
_WHO = "${if def:sender_address_domain {$sender_address}{$sender_helo_name}}"

STRICT_ACL = f"""\
acl_check_rcpt:
  accept  hosts = :
  deny    message = relay not permitted
          domains = ! +local_domains
  deny    !verify = helo
          message = HELO/EHLO name $sender_helo_name does not resolve to your address $sender_host_address
  deny    !verify = reverse_host_lookup
          message = no forward-confirmed reverse DNS for $sender_host_address
  deny    spf = fail
          message = [SPF] $sender_host_address is not allowed to send mail from {_IDENTITY}. \\
                    Please see http://www.open-spf.org/Why?scope={_SCOPE};\\
                    identity={_WHO};\\
                    ip=$sender_host_address
  defer   spf = temperror
          message = Temporary DNS error while checking SPF record. Try again later.
  require verify = sender/callout
  accept
"""


def strict_exim_dir() -> Path:
    return NODES["esx"].dir


def strict_exim_conf() -> str:
    d = strict_exim_dir()
    return (
        exim_main_options("esx", EXIM_HEAVY, d, 25)
        + f"""\
smtp_accept_max = 100
domainlist local_domains = esx.test
acl_smtp_rcpt = acl_check_rcpt

begin acl
{STRICT_ACL}
"""
        + receiver_delivery(d)
    )


def setup_strict_exim() -> None:
    make_exim_dirs(strict_exim_dir())
    write(exim_config_path("esx"), strict_exim_conf())


def start_strict_exim() -> None:
    start_exim("esx", binary=EXIM_HEAVY)


def strict_exim_mainlog() -> str:
    return exim_mainlog("esx")
