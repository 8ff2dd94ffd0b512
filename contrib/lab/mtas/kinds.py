"""How each MTA is installed and run in its namespace: what its Debian postinst writes
(reproduced here, since ``dpkg -x`` runs no maintainer script), the users it creates,
the daemons or queue runners it needs, and where it logs.

A builder gets the case's knobs and returns a :class:`Setup`; the case itself adds
its own files (another MTA's leftovers, a removed ``/etc/mailname``) on top.
The smarthost is always the capture sink, 127.0.0.2 port 2525.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

PREFIX = Path(os.environ.get("MTA_LAB_PREFIX", "/opt/ccmta"))
SINK_HOST = "127.0.0.2"
SINK_PORT = 2525
Files = dict[str, "str | None"]


@dataclass
class Setup:
    package: str = ""  # the unpacked package laid over /etc, /usr, /var ("" = the system's)
    files: Files = field(default_factory=dict)
    modes: dict[str, list[str]] = field(default_factory=dict)  # path -> [octal mode, "user:group"]
    users: list[list[str]] = field(default_factory=list)  # [name, uid, group]
    tmpfs: list[str] = field(default_factory=list)
    prepare: list[list[str]] = field(default_factory=list)  # as root, before the submission
    daemons: list[list[str]] = field(default_factory=list)  # started before, killed after
    ready: list[str] = field(default_factory=list)  # paths that appear when the daemons are up
    runners: list[list[str]] = field(default_factory=list)  # started after the submission
    after: list[list[str]] = field(default_factory=list)  # as root, to show the queue or errors
    logs: list[str] = field(default_factory=list)
    wait: float = 6.0  # seconds to wait for the MAIL FROM after a successful submission


def as_user(user: str, argv: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *argv]


def domain_of(name: str) -> str:
    return name.partition(".")[2]


def key_lines(pairs: dict[str, str | None], sep: str) -> str:
    return "".join(f"{key}{sep}{value}\n" for key, value in pairs.items() if value is not None)


# -- Postfix (installed normally; Debian "Satellite system") ----------------------------------


def postfix(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    base = Path("/usr/share/postfix/main.cf.debian").read_text()
    params: dict[str, str | None] = {
        # what the postinst sets for a satellite (postfix.postinst, set_postconf calls)
        "myhostname": fqdn,
        "myorigin": "/etc/mailname",
        "mydestination": f"{fqdn}, localhost.{domain_of(fqdn) or 'localdomain'}, localhost",
        "relayhost": f"[{SINK_HOST}]:{SINK_PORT}",
        "mynetworks": "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128",
        "inet_interfaces": "loopback-only",
        "alias_maps": "",
        "maillog_file": "/var/log/postfix.log",  # the lab has no syslog
        **knobs,
    }
    lines = [line for line in base.splitlines() if line.partition("=")[0].strip() not in params]
    main_cf = "\n".join(lines) + "\n" + key_lines(params, " = ")
    return Setup(
        # postfix.postinst also writes /etc/mailname (postfix/mailname, default hostname --fqdn)
        files={"/etc/mailname": fqdn, "/etc/postfix/main.cf": main_cf},
        tmpfs=["/var/spool/postfix", "/var/lib/postfix"],
        prepare=[
            ["postconf", "-F", "*/*/chroot = n"],
            ["chown", "postfix:postfix", "/var/lib/postfix"],
            ["postfix", "start"],
        ],
        after=[["postqueue", "-p"]],
        logs=["/var/log/postfix.log"],
        wait=5.0,
    )


# -- Exim 4 (exim4-daemon-light + exim4-config, update-exim4.conf) -----------------------------


def exim(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    dc: dict[str, str | None] = {
        # exim4-config's postinst for "mail sent by smarthost; no local mail"
        "dc_eximconfig_configtype": "satellite",
        "dc_other_hostnames": "",
        "dc_local_interfaces": "127.0.0.1 ; ::1",
        "dc_readhost": "",
        "dc_relay_domains": "",
        "dc_minimaldns": "false",
        "dc_relay_nets": "",
        "dc_smarthost": f"{SINK_HOST}::{SINK_PORT}",
        "CFILEMODE": "644",
        "dc_use_split_config": "false",
        "dc_hide_mailname": "",
        "dc_mailname_in_oh": "true",
        "dc_localdelivery": "mail_spool",
        **knobs,
    }
    conf = "".join(f"{key}='{value}'\n" for key, value in dc.items() if value is not None)
    spool = ["/var/spool/exim4", "/var/spool/exim4/input", "/var/spool/exim4/msglog",
             "/var/spool/exim4/db", "/var/log/exim4"]  # fmt: skip
    return Setup(
        package="exim",
        files={"/etc/mailname": fqdn, "/etc/exim4/update-exim4.conf.conf": conf},
        users=[["Debian-exim", "940", "Debian-exim"]],
        prepare=[
            ["install", "-d", "-o", "Debian-exim", "-g", "Debian-exim", "-m", "750", *spool],
            ["update-exim4.conf"],
        ],
        after=[["exim4", "-bp"]],
        logs=["/var/log/exim4/mainlog", "/var/log/exim4/paniclog"],
        wait=5.0,
    )


# -- nullmailer ---------------------------------------------------------------------------------


def nullmailer(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    control: dict[str, str | None] = {
        # nullmailer.postinst: /etc/mailname from shared/mailname (default hostname --fqdn),
        # defaultdomain = the mailname after its first dot (nullmailer.config), remotes
        "defaultdomain": domain_of(fqdn),
        "remotes": f"{SINK_HOST} smtp --port={SINK_PORT}",
        "adminaddr": "",
        **knobs,
    }
    files: Files = {"/etc/mailname": fqdn}
    for name, value in control.items():
        files[f"/etc/nullmailer/{name}"] = None if value is None else value + ("\n" if value else "")
    return Setup(
        package="nullmailer",
        files=files,
        modes={"/etc/nullmailer/remotes": ["600", "mail:mail"]},
        prepare=[
            ["mkfifo", "-m", "622", "/var/spool/nullmailer/trigger"],
            ["chown", "mail:root", "/var/spool/nullmailer/trigger"],
        ],  # fmt: skip
        runners=[as_user("mail", ["/usr/sbin/nullmailer-send"])],  # nullmailer.service: User=mail
        after=[["ls", "-l", "/var/spool/nullmailer/queue", "/var/spool/nullmailer/failed"]],
    )


# -- ssmtp --------------------------------------------------------------------------------------


def ssmtp(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    conf: dict[str, str | None] = {
        # the file ssmtp.postinst writes on a fresh install (rewriteDomain commented out)
        "root": "postmaster",
        "mailhub": f"{SINK_HOST}:{SINK_PORT}",
        "#rewriteDomain": "",
        "hostname": fqdn,
        "#FromLineOverride": "YES",
        **knobs,
    }
    return Setup(
        package="ssmtp",
        files={"/etc/mailname": fqdn, "/etc/ssmtp/ssmtp.conf": key_lines(conf, "=")},
        modes={"/etc/ssmtp/ssmtp.conf": ["640", "root:mail"]},
        wait=3.0,
    )


# -- msmtp + msmtp-mta ----------------------------------------------------------------------------


def msmtp(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    """msmtp's postinst writes no configuration: ``knobs["msmtprc"]`` is the whole file."""
    rc = knobs.get("msmtprc")
    return Setup(
        package="msmtp",
        files={} if rc is None else {"/etc/msmtprc": rc},
        users=[["msmtp", "941", "msmtp"]],  # msmtp-mta.postinst
        wait=3.0,
    )


def msmtprc(*lines: str) -> str:
    head = ["defaults", f"port {SINK_PORT}", "tls off", "account default", f"host {SINK_HOST}"]
    return "\n".join(head + list(lines)) + "\n"


# -- dma ------------------------------------------------------------------------------------------


def dma(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    shipped = (PREFIX / "dma/usr/share/dma/dma.conf").read_text()
    # dma.postinst: /etc/mailname from dma/mailname (default hostname --fqdn); SMARTHOST
    # from debconf.  PORT is the lab's (the sink listens on 2525).
    settings: dict[str, str | None] = {"SMARTHOST": SINK_HOST, "PORT": str(SINK_PORT), **knobs}
    lines = [line for line in shipped.splitlines() if line.split(" ")[0].lstrip("#") not in settings]
    conf = "\n".join(lines) + "\n" + key_lines(settings, " ")
    return Setup(
        package="dma",
        files={"/etc/mailname": fqdn, "/etc/dma/dma.conf": conf},
        modes={"/etc/dma/dma.conf": ["640", "root:mail"]},
        after=[["sh", "-c", "grep -h -A3 -i 'error\\|fail\\|unable' /var/mail/www-data | tail -8"]],
    )


# -- OpenSMTPD ------------------------------------------------------------------------------------


def opensmtpd(fqdn: str, knobs: dict[str, str | None]) -> Setup:
    shipped = (PREFIX / "opensmtpd/etc/smtpd.conf").read_text()
    relay = knobs.get("relay", f'action "relay" relay host smtp://{SINK_HOST}:{SINK_PORT}')
    conf = shipped.replace('action "relay" relay', relay or 'action "relay" relay')
    return Setup(
        package="opensmtpd",
        # opensmtpd.postinst: /etc/mailname from opensmtpd/mailname (default hostname --fqdn)
        files={"/etc/mailname": fqdn, "/etc/smtpd.conf": conf},
        users=[["opensmtpd", "942", "opensmtpd"], ["opensmtpq", "943", "opensmtpq"]],
        prepare=[
            ["chgrp", "opensmtpq", "/usr/sbin/smtpctl"],  # the postinst's dpkg-statoverride
            ["chmod", "2755", "/usr/sbin/smtpctl"],
            ["mkdir", "-p", "/var/lib/opensmtpd/empty"],
        ],
        daemons=[["/usr/sbin/smtpd", "-d"]],
        ready=["/run/smtpd.sock"],
        after=[["smtpctl", "show", "queue"]],
    )


BUILDERS: dict[str, Callable[[str, dict[str, str | None]], Setup]] = {
    "postfix": postfix,
    "exim": exim,
    "nullmailer": nullmailer,
    "ssmtp": ssmtp,
    "msmtp": msmtp,
    "dma": dma,
    "opensmtpd": opensmtpd,
}
