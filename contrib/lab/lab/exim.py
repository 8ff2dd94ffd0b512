"""Exim daemons of the lab (unpacked privately): the callout receivers of cclab-rx and the
Exim relay."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .base import EXIM, nsrun, write
from .nodes import KNOWN_USERS, NODES

#: the Exim daemons of cclab-rx: variant -> (port, callout options)
EXIM_VARIANTS = {
    "exim": (25, ""),
    "exim:defer_ok": (2525, "defer_ok"),
    "exim:random": (2526, "random"),
    "exim:postmaster": (2527, "postmaster"),
}


def exim_dir(variant: str) -> Path:
    """The directory of one Exim receiver daemon of cclab-rx (the bare one: the node's)."""
    if variant == "exim":
        return NODES["rx"].dir
    return NODES["rx"].dir / variant.replace(":", "-")


def exim_main_options(name: str, binary: Path, d: Path, port: int) -> str:
    """The main options every Exim daemon of the lab starts with: NAME's host name and
    addresses, a spool, log and pid file of its own under D, no ident, no TLS."""
    node = NODES[name]
    ifaces = " ; ".join(node.v4 + node.v6)
    return f"""\
primary_hostname = {node.fqdn}
exim_path = {binary}
spool_directory = {d / "spool"}
log_file_path = {d / "log"}/%slog
pid_file_path = {d / "exim.pid"}
local_interfaces = <; {ifaces}
daemon_smtp_ports = {port}
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
keep_environment =
never_users = root
log_selector = +smtp_connection +received_recipients +smtp_protocol_error
"""


def receiver_delivery(d: Path, local_parts: str = "") -> str:
    """A receiver's routers, transports and retries: other domains by their MX, its own
    domain (only LOCAL_PARTS when given) to one inbox under D."""
    only = f"  local_parts = {local_parts}\n" if local_parts else ""
    return f"""\
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
{only}  transport = mailbox

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


def exim_conf(name: str, relay: bool, variant: str = "exim") -> str:
    d = exim_dir(variant) if name == "rx" else NODES[name].dir
    port, options = EXIM_VARIANTS[variant]
    callout = f"callout={options}" if options else "callout"
    common = exim_main_options(name, EXIM, d, port) + "host_lookup =\n"
    if relay:
        return (
            common
            + f"""\
# an open relay: every host may relay; nothing is ever delivered from here
domainlist local_domains = {NODES[name].fqdn}
hostlist relay_from_hosts = *
queue_only = true
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept hosts = +relay_from_hosts
  accept domains = +local_domains

begin routers
nowhere:
  driver = redirect
  data = :blackhole:

begin retry
* * F,2h,15m
"""
        )
    return (
        common
        + f"""\
domainlist local_domains = rx.test
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept hosts = :
  deny    domains = ! +local_domains
          message = relay not permitted
  require verify = recipient
  require verify = sender/{callout}
  accept

"""
        + receiver_delivery(d, " : ".join(KNOWN_USERS))
    )


def exim_config_path(name: str, variant: str = "exim") -> Path:
    d = exim_dir(variant) if name == "rx" else NODES[name].dir
    return d / "exim4.conf"


def make_exim_dirs(d: Path) -> None:
    """The spool, log and mail directories of one Exim daemon, Exim's own."""
    for sub in ("spool", "log", "mail"):
        (d / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(d / sub, "Debian-exim", "Debian-exim")
        (d / sub).chmod(0o750)


def setup_exim(name: str, relay: bool, variant: str = "exim") -> None:
    """One Exim daemon; each receiver variant has its own spool (its own callout cache)."""
    make_exim_dirs(exim_config_path(name, variant).parent)
    write(exim_config_path(name, variant), exim_conf(name, relay, variant), mode=0o644)


def start_exim(name: str, variant: str = "exim", binary: Path = EXIM) -> None:
    """Start NAME's Exim daemon (BINARY: the heavy Exim for the strict receiver)."""
    conf = exim_config_path(name, variant)
    nsrun(name, str(binary), "-C", str(conf), "-bd", "-oP", str(conf.parent / "exim.pid"))


def exim_run(name: str, *args: str, **kw) -> subprocess.CompletedProcess:
    """Run Exim with the configuration of NAME's daemon (the bare receiver for cclab-rx)."""
    return nsrun(name, str(EXIM), "-C", str(exim_config_path(name)), *args, **kw)


def exim_queue_count(name: str) -> int:
    return int(exim_run(name, "-bpc").stdout.strip() or "0")


def exim_mainlog(name: str) -> str:
    try:
        return (NODES[name].dir / "log" / "mainlog").read_text(errors="replace")
    except OSError:
        return ""
