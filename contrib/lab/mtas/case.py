"""One case of the MTA table (``cases``) and the words its rows are written in."""

from __future__ import annotations

from dataclasses import dataclass, field

FQDN = "web1.example.test"
ABSENT = "<absent>"
NOTHING = "nothing"
SMARTHOST = "smarthost 127.0.0.2 port 2525"  # the sink on loopback
DIRECT = "direct"  # to dest.test's MX, by the default route
LOOPBACK = "127.0.0.1"  # the kernel's source toward 127.0.0.2
HOST_ADDRESS = "192.0.2.30"  # the namespace's address on its link to the world


@dataclass(frozen=True)
class Case:
    mta: str
    name: str
    real: str
    hostname: str = FQDN
    hosts: bool = True
    mailname: str | None = None  # None: as the postinst wrote it; ABSENT: removed
    knobs: tuple[tuple[str, str | None], ...] = ()
    extra: tuple[tuple[str, str | None], ...] = ()  # more files (None removes)
    fqdn: str = FQDN  # what `hostname --fqdn` said when the package was configured
    helo: str = ""  # the HELO name the MTA sent ("": FQDN, or msmtp's "localhost")
    route: str = SMARTHOST
    source: str = LOOPBACK
    differs: str = ""  # why the plugin's origin differs today
    egress_differs: str = ""  # why the plugin's egress differs today
    notes: str = field(default="", compare=False)

    @property
    def sent_helo(self) -> str:
        """The HELO name the MTA sent: msmtp greets with localhost unless ``domain`` is set."""
        return self.helo or ("localhost" if self.mta == "msmtp" else FQDN)

    @property
    def id(self) -> str:
        return f"{self.mta}/{self.name}"


def knobs(**values: str | None) -> tuple[tuple[str, str | None], ...]:
    return tuple(values.items())


SHORT = {"hostname": "web1", "fqdn": "web1"}
EXIM_LEFTOVER = (("/etc/exim4/update-exim4.conf.conf", "dc_eximconfig_configtype='satellite'\n"
                  "dc_readhost='exim.example.test'\ndc_hide_mailname='true'\n"),)  # fmt: skip
POSTFIX_LEFTOVER = (
    ("/etc/postfix/main.cf", "myhostname = web1.example.test\nmyorigin = postfix.example.test\n"),
)
NULLMAILER_LEFTOVER = (("/etc/nullmailer/allmailfrom", "old@nullmailer.example.test\n"),)
SSMTP_LEFTOVER = (("/etc/ssmtp/ssmtp.conf", "mailhub=mail\nrewriteDomain=ssmtp.example.test\n"),)
