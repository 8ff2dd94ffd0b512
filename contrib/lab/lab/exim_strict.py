"""cclab-esx: the strict Exim receiver, Debian's exim4-daemon-heavy (built with SPF, by
libspf2) unpacked beside the light one. Its RCPT ACL checks SPF, the HELO name, the
client's reverse DNS and the sender (callout), the first failing check deciding.
docs/lab.md quotes this configuration."""

from __future__ import annotations

import shutil
from pathlib import Path

from .base import EXIM_HEAVY, nsrun, write
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
    node = NODES["esx"]
    d = strict_exim_dir()
    ifaces = " ; ".join(node.v4 + node.v6)
    return f"""\
primary_hostname = {node.fqdn}
exim_path = {EXIM_HEAVY}
spool_directory = {d / "spool"}
log_file_path = {d / "log"}/%slog
pid_file_path = {d / "exim.pid"}
local_interfaces = <; {ifaces}
daemon_smtp_ports = 25
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
keep_environment =
never_users = root
smtp_accept_max = 100
log_selector = +smtp_connection +received_recipients +smtp_protocol_error
domainlist local_domains = esx.test
acl_smtp_rcpt = acl_check_rcpt

begin acl
{STRICT_ACL}
begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  ignore_target_hosts = 0.0.0.0 : 127.0.0.0/8
  no_more

mailbox:
  driver = accept
  domains = +local_domains
  transport = mailbox

begin transports
remote_smtp:
  driver = smtp

mailbox:
  driver = appendfile
  file = {d / "mail"}/inbox
  envelope_to_add
  return_path_add
  user = Debian-exim
  group = Debian-exim
  mode = 0600

begin retry
* * F,2h,15m; G,16h,1h,1.5; F,4d,6h
"""


def setup_strict_exim() -> None:
    d = strict_exim_dir()
    for sub in ("spool", "log", "mail"):
        (d / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(d / sub, "Debian-exim", "Debian-exim")
        (d / sub).chmod(0o750)
    write(d / "exim4.conf", strict_exim_conf())


def start_strict_exim() -> None:
    conf = strict_exim_dir() / "exim4.conf"
    nsrun("esx", str(EXIM_HEAVY), "-C", str(conf), "-bd", "-oP", str(conf.parent / "exim.pid"))


def strict_exim_mainlog() -> str:
    try:
        return (strict_exim_dir() / "log" / "mainlog").read_text(errors="replace")
    except OSError:
        return ""
