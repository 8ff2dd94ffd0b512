# ruff: noqa: E501  (one table row per line: the reasons are sentences)
"""The MTA × configuration table: what each real MTA put in ``MAIL FROM``.

Every case is one ordinary null-mailer configuration of one MTA.  ``real`` is what
the real MTA sent (the domain of its ``MAIL FROM``, or ``nothing``), as seen in the
lab; ``helo``, ``route`` and ``source`` how it sent it (the HELO name, the smarthost
or direct delivery to the recipient's MX, and the client's source address, all seen
by the sink); ``notes`` say what the real MTA did that its documentation does not
say; ``differs`` says why the plugin's origin still differs (an expected failure).

Host names: the namespace is ``web1.example.test`` unless the case says otherwise,
``/etc/hosts`` maps ``web1`` to ``web1.example.test`` unless ``hosts=False``, and
``/etc/mailname`` is what the package's postinst writes (``hostname --fqdn``) unless
the case sets it (``mailname=``) or removes it (``mailname=ABSENT``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mtas.kinds import SINK_HOST, SINK_PORT, msmtprc

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


def rc(*lines: str) -> str:
    """A whole msmtprc: the lab's port and TLS as defaults, then ``lines``."""
    return "\n".join(["defaults", f"port {SINK_PORT}", "tls off", *lines]) + "\n"


SINK = f"host {SINK_HOST}"


SHORT = {"hostname": "web1", "fqdn": "web1"}
EXIM_LEFTOVER = (("/etc/exim4/update-exim4.conf.conf", "dc_eximconfig_configtype='satellite'\n"
                  "dc_readhost='exim.example.test'\ndc_hide_mailname='true'\n"),)  # fmt: skip
POSTFIX_LEFTOVER = (
    ("/etc/postfix/main.cf", "myhostname = web1.example.test\nmyorigin = postfix.example.test\n"),
)
NULLMAILER_LEFTOVER = (("/etc/nullmailer/allmailfrom", "old@nullmailer.example.test\n"),)
SSMTP_LEFTOVER = (("/etc/ssmtp/ssmtp.conf", "mailhub=mail\nrewriteDomain=ssmtp.example.test\n"),)

CASES: list[Case] = [
    # -- Postfix ---------------------------------------------------------------------------
    Case("postfix", "as-installed", "web1.example.test"),
    Case("postfix", "myorigin-mydomain", "example.test", knobs=knobs(myorigin="$mydomain")),
    Case("postfix", "myorigin-default", "web1.example.test", knobs=knobs(myorigin=None)),
    Case(
        "postfix",
        "short-host-hosts",
        "web1.localdomain",
        helo="web1.localdomain",
        **SHORT,
        knobs=knobs(myhostname=None, myorigin=None),
    ),
    Case(
        "postfix",
        "short-host-bare",
        "web1.localdomain",
        helo="web1.localdomain",
        **SHORT,
        hosts=False,
        knobs=knobs(myhostname=None, myorigin=None),
    ),
    Case(
        "postfix",
        "mailname-absent",
        "nothing",
        mailname=ABSENT,
        notes="myorigin = /etc/mailname with no /etc/mailname: Postfix sendmail exits fatally",
    ),
    Case("postfix", "mailname-short", "web1", mailname="web1"),
    Case("postfix", "leftovers", "web1.example.test", extra=EXIM_LEFTOVER + NULLMAILER_LEFTOVER),
    Case(
        "postfix",
        "submit-refused",
        "nothing",
        knobs=knobs(authorized_submit_users="root"),
        differs="authorized_submit_users = root refuses www-data ('not allowed to submit mail'); the plugin cannot know which local user submits, so it reports myorigin",
    ),
    Case(
        "postfix",
        "smtp-helo-name",
        "web1.example.test",
        helo="helo.example.test",
        knobs=knobs(smtp_helo_name="helo.example.test"),
    ),  # fmt: skip
    Case(
        "postfix",
        "bind-address",
        "web1.example.test",
        source="127.0.0.3",
        knobs=knobs(smtp_bind_address="127.0.0.3"),
    ),  # fmt: skip
    Case(
        "postfix", "direct", "web1.example.test", route=DIRECT, source=HOST_ADDRESS, knobs=knobs(relayhost="")
    ),
    # -- Exim 4 ----------------------------------------------------------------------------
    Case("exim", "as-installed", "web1.example.test"),
    Case(
        "exim",
        "readhost-hide-mailname",
        "example.test",
        knobs=knobs(dc_readhost="example.test", dc_hide_mailname="true"),
    ),
    Case("exim", "readhost-only", "web1.example.test", knobs=knobs(dc_readhost="example.test")),
    Case(
        "exim",
        "mailname-absent",
        "(empty domain)",
        mailname=ABSENT,
        notes="Debian's qualify_domain comes from /etc/mailname at update-exim4.conf time; without it Exim sends MAIL FROM:<www-data@>",
    ),
    Case(
        "exim",
        "short-host-mailname-absent",
        "(empty domain)",
        **SHORT,
        mailname=ABSENT,
        notes="as mailname-absent: the generated config has an empty qualify_domain",
    ),
    Case(
        "exim",
        "short-host-bare",
        "(empty domain)",
        helo="web1",
        **SHORT,
        hosts=False,
        mailname=ABSENT,
        notes="as mailname-absent: the generated config has an empty qualify_domain",
    ),
    Case(
        "exim",
        "qualify-domain-local-macro",
        "example.test",
        extra=(("/etc/exim4/exim4.conf.localmacros", "MAIN_QUALIFY_DOMAIN = example.test\n"),),
    ),
    Case(
        "exim",
        "hand-written-exim4-conf",
        "hand.example.test",
        extra=(
            (
                "/etc/exim4/exim4.conf",
                "qualify_domain = hand.example.test\n"
                "domainlist local_domains = @\nbegin routers\n"
                "smarthost:\n  driver = manualroute\n  domains = ! +local_domains\n"
                "  transport = remote_smtp\n  route_list = * 127.0.0.2::2525 byname\n"
                "begin transports\nremote_smtp:\n  driver = smtp\n",
            ),
        ),
    ),
    Case(
        "exim",
        "local-only",
        "nothing",
        knobs=knobs(dc_eximconfig_configtype="local"),
        notes="dc_eximconfig_configtype='local' sends nothing off the host",
    ),
    Case("exim", "leftovers", "web1.example.test", extra=POSTFIX_LEFTOVER + SSMTP_LEFTOVER),
    Case(
        "exim",
        "internet-direct",
        "web1.example.test",
        route=DIRECT,
        source=HOST_ADDRESS,
        knobs=knobs(dc_eximconfig_configtype="internet", dc_smarthost=""),
    ),  # fmt: skip
    Case(
        "exim",
        "helo-data-macro",
        "web1.example.test",
        helo="helo.example.test",
        extra=(("/etc/exim4/exim4.conf.localmacros", "REMOTE_SMTP_HELO_DATA = helo.example.test\n"),),
    ),  # fmt: skip
    # -- nullmailer ------------------------------------------------------------------------
    Case("nullmailer", "as-installed", "web1.example.test"),
    Case("nullmailer", "allmailfrom", "example.test", knobs=knobs(allmailfrom="www@example.test")),
    Case("nullmailer", "defaulthost", "example.test", knobs=knobs(defaulthost="example.test")),
    Case(
        "nullmailer",
        "me",
        "web1.example.test",
        knobs=knobs(me="relay.example.test"),
        notes="Debian's nullmailer reads /etc/mailname, not /etc/nullmailer/me (Debian patch)",
    ),
    Case(
        "nullmailer",
        "mailname-absent",
        "defaulthost.example.test",
        helo="me",
        mailname=ABSENT,
        notes="without /etc/mailname Debian's nullmailer uses the literal 'defaulthost' + defaultdomain",
    ),
    Case(
        "nullmailer",
        "short-host-defaultdomain",
        "web1.example.test",
        helo="web1",
        **SHORT,
        knobs=knobs(defaultdomain="example.test"),
    ),
    Case(
        "nullmailer",
        "short-host-bare",
        "defaulthost",
        helo="me",
        **SHORT,
        hosts=False,
        mailname=ABSENT,
        notes="without /etc/mailname and defaultdomain Debian's nullmailer sends @defaulthost",
    ),
    Case(
        "nullmailer",
        "no-remotes",
        "nothing",
        knobs=knobs(remotes=""),
        notes="an empty remotes file: nullmailer-send says 'No remote hosts listed for delivery' and sends nothing",
    ),
    Case(
        "nullmailer",
        "leftovers",
        "web1.example.test",
        extra=SSMTP_LEFTOVER + EXIM_LEFTOVER,
        notes="/usr/sbin/sendmail is nullmailer's; Exim's update-exim4.conf.conf is a leftover",
    ),
    Case(
        "nullmailer",
        "helohost",
        "web1.example.test",
        helo="helo.example.test",
        knobs=knobs(helohost="helo.example.test"),
    ),  # fmt: skip
    # -- ssmtp -----------------------------------------------------------------------------
    Case("ssmtp", "as-installed", "web1.example.test"),
    Case("ssmtp", "rewritedomain", "example.test", knobs=knobs(rewriteDomain="example.test")),
    Case(
        "ssmtp",
        "hostname-other",
        "other.example.test",
        helo="other.example.test",
        knobs=knobs(hostname="other.example.test"),
    ),
    Case("ssmtp", "no-hostname", "web1.example.test", knobs=knobs(hostname=None)),
    Case("ssmtp", "short-host-no-hostname", "web1", helo="web1", **SHORT, knobs=knobs(hostname=None)),
    Case("ssmtp", "short-host-bare", "web1", helo="web1", **SHORT, hosts=False, knobs=knobs(hostname=None)),
    Case(
        "ssmtp",
        "no-config",
        "nothing",
        extra=(("/etc/ssmtp/ssmtp.conf", None),),
        notes="without ssmtp.conf ssmtp cannot open mailhub:25 and sends nothing",
    ),
    Case("ssmtp", "leftovers", "web1.example.test", extra=NULLMAILER_LEFTOVER + POSTFIX_LEFTOVER),
    # -- msmtp -----------------------------------------------------------------------------
    Case(
        "msmtp",
        "as-installed",
        "nothing",
        notes="msmtp-mta as installed has no /etc/msmtprc and sends nothing",
    ),
    Case(
        "msmtp",
        "from",
        "example.test",
        knobs=knobs(msmtprc=msmtprc("from www@example.test")),
    ),
    Case(
        "msmtp",
        "no-from",
        "nothing",
        knobs=knobs(msmtprc=msmtprc()),
        notes="msmtp 1.8 without from refuses ('envelope-from address is missing')",
    ),
    Case(
        "msmtp",
        "auto-from-maildomain",
        "example.test",
        knobs=knobs(msmtprc=msmtprc("auto_from on", "maildomain example.test")),
    ),
    Case(
        "msmtp",
        "from-percent-H",
        "web1.example.test",
        knobs=knobs(msmtprc=msmtprc("from %U@%H")),
    ),
    Case(
        "msmtp",
        "from-percent-C-short",
        "web1.example.test",
        **SHORT,
        knobs=knobs(msmtprc=msmtprc("from %U@%C")),
        notes="%C is the canonical name (web1.example.test from /etc/hosts)",
    ),
    Case(
        "msmtp",
        "from-percent-M",
        "example.test",
        mailname="example.test",
        knobs=knobs(msmtprc=msmtprc("from %U@%M")),
    ),
    Case(
        "msmtp",
        "no-from-short-host",
        "nothing",
        **SHORT,
        knobs=knobs(msmtprc=msmtprc()),
        notes="msmtp 1.8 without from refuses ('envelope-from address is missing')",
    ),
    Case(
        "msmtp",
        "leftovers",
        "example.test",
        knobs=knobs(msmtprc=msmtprc("from www@example.test")),
        extra=SSMTP_LEFTOVER + NULLMAILER_LEFTOVER,
    ),
    Case(
        "msmtp",
        "domain",
        "example.test",
        helo="helo.example.test",
        knobs=knobs(msmtprc=msmtprc("from www@example.test", "domain helo.example.test")),
    ),  # fmt: skip
    Case(
        "msmtp",
        "source-ip",
        "example.test",
        source="127.0.0.3",
        knobs=knobs(msmtprc=msmtprc("from www@example.test", "source_ip 127.0.0.3")),
    ),  # fmt: skip
    # -- msmtp account chains: msmtprc read as msmtp reads it -------------------------------
    Case(
        "msmtp",
        "chain-default-inherits",
        "example.test",
        knobs=knobs(msmtprc=rc("account relay", SINK, "from www@example.test", "account default : relay")),
    ),
    Case(
        "msmtp",
        "chain-undefined-parent",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default : relay", SINK, "from www@example.test")),
        notes="msmtp: 'line 4: account relay not (yet) defined', and it sends nothing",
    ),
    Case(
        "msmtp",
        "chain-parent-defined-later",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default : relay", "account relay", SINK, "from www@example.test")),
        notes="a parent must be defined above its child: 'account relay not (yet) defined'",
    ),
    Case(
        "msmtp",
        "chain-own-lines-win",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "account relay",
                SINK,
                "from www@relay.example.test",
                "account default : relay",
                "from www@example.test",
            )
        ),
    ),
    Case(
        "msmtp",
        "chain-two-parents-later-wins",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "account a",
                SINK,
                "from www@a.example.test",
                "account b",
                "from www@example.test",
                "account default : a,b",
            )
        ),
    ),
    Case(
        "msmtp",
        "chain-copies-only-own-settings",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "defaults",
                "from www@old.example.test",
                "account relay",
                SINK,
                "defaults",
                "from www@example.test",
                "account default : relay",
            )
        ),
    ),
    Case(
        "msmtp",
        "chain-duplicate-account",
        NOTHING,
        knobs=knobs(
            msmtprc=rc(
                "account default",
                SINK,
                "from www@example.test",
                "account default",
                "from www@other.example.test",
            )
        ),
        notes="'account default was already defined': a second definition is an error, not an override",
    ),
    Case(
        "msmtp",
        "no-account-default",
        NOTHING,
        knobs=knobs(msmtprc=rc("account relay", SINK, "from www@example.test")),
        notes="without -a its sendmail uses only the account default: 'account default not found in /etc/msmtprc'",
    ),
    Case(
        "msmtp",
        "include-is-unknown",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default", SINK, "include /etc/msmtp-from")),
        extra=(("/etc/msmtp-from", "from www@example.test\n"),),
        notes="msmtp 1.8 has no include: 'line 6: unknown command include'",
    ),
    Case(
        "msmtp",
        "long-line",
        NOTHING,
        knobs=knobs(msmtprc=rc("account default", SINK, "from www@example.test" + " " * 500)),
        notes="'line longer than 500 characters', and it sends nothing",
    ),
    Case(
        "msmtp",
        "auto-from-wins-over-from",
        "example.test",
        knobs=knobs(
            msmtprc=rc(
                "account default",
                SINK,
                "auto_from on",
                "maildomain example.test",
                "from www@other.example.test",
            )
        ),
    ),
    Case(
        "msmtp",
        "auto-from-no-maildomain",
        "(no domain)",
        knobs=knobs(msmtprc=rc("account default", SINK, "auto_from on")),
        notes="auto_from without maildomain sends the bare user name, no @domain",
    ),
    Case(
        "msmtp",
        "eval-from",
        "example.test",
        knobs=knobs(msmtprc=rc("account default", SINK, "eval echo from www@example.test")),
        differs="the check does not run eval commands: it says it cannot tell the sender",
    ),
    # -- dma -------------------------------------------------------------------------------
    Case("dma", "as-installed", "web1.example.test"),
    Case("dma", "masquerade-domain", "example.test", knobs=knobs(MASQUERADE="example.test")),
    Case("dma", "masquerade-user-at", "example.test", knobs=knobs(MASQUERADE="www@example.test")),
    Case("dma", "mailname-absent", "web1.example.test", mailname=ABSENT),
    Case("dma", "no-mailname-setting-short", "web1", helo="web1", **SHORT, knobs=knobs(MAILNAME=None)),
    Case(
        "dma",
        "mailname-literal",
        "literal.example.test",
        helo="literal.example.test",
        knobs=knobs(MAILNAME="literal.example.test"),
    ),
    Case(
        "dma",
        "no-smarthost-direct",
        "web1.example.test",
        route=DIRECT,
        source=HOST_ADDRESS,
        knobs=knobs(SMARTHOST=None),
    ),
    Case("dma", "leftovers", "web1.example.test", extra=POSTFIX_LEFTOVER + EXIM_LEFTOVER),
    # -- OpenSMTPD -------------------------------------------------------------------------
    Case("opensmtpd", "as-installed-relay-host", "web1.example.test"),
    Case(
        "opensmtpd",
        "mail-from",
        "example.test",
        knobs=knobs(relay='action "relay" relay host smtp://127.0.0.2:2525 mail-from "@example.test"'),
    ),
    Case("opensmtpd", "mailname-absent", "web1.example.test", mailname=ABSENT),
    Case(
        "opensmtpd",
        "short-host-mailname-absent",
        "web1.example.test",
        **SHORT,
        mailname=ABSENT,
        notes="without /etc/mailname OpenSMTPD uses the canonical name (web1.example.test from /etc/hosts)",
    ),
    Case("opensmtpd", "leftovers", "web1.example.test", extra=NULLMAILER_LEFTOVER + EXIM_LEFTOVER),
    Case(
        "opensmtpd",
        "mailname-other",
        "mail.example.test",
        helo="mail.example.test",
        mailname="mail.example.test",
    ),
    Case(
        "opensmtpd",
        "helo",
        "web1.example.test",
        helo="helo.example.test",
        knobs=knobs(relay='action "relay" relay host smtp://127.0.0.2:2525 helo helo.example.test'),
    ),  # fmt: skip
    Case(
        "opensmtpd",
        "src",
        "web1.example.test",
        source="127.0.0.3",
        knobs=knobs(relay='action "relay" relay host smtp://127.0.0.2:2525 src 127.0.0.3'),
    ),  # fmt: skip
    Case(
        "opensmtpd",
        "direct",
        "web1.example.test",
        route=DIRECT,
        source=HOST_ADDRESS,
        knobs=knobs(relay='action "relay" relay'),
    ),  # fmt: skip
]
