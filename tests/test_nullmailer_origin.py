"""Envelope origin and exposure of each MTA, read from configuration trees written here
(the files as the Debian packages ship them, trimmed to the settings that matter)."""

from __future__ import annotations

import os

import pytest

from check_nullmailer import host, mta
from check_nullmailer.mta import base, dma, exim, msmtp, nullmailer, opensmtpd, postfix, ssmtp
from tests.support.relay_servers import write

DEBIAN_MAIN_CF = """\
# See /usr/share/postfix/main.cf.dist for a commented, more complete version
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = web1.example.com
alias_maps = hash:/etc/aliases
myorigin = /etc/mailname
mydestination = $myhostname, web1, localhost.localdomain, localhost
relayhost = [smtp.example.com]:587
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = loopback-only
inet_protocols = all
"""
MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
#submission inet n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
"""
POSTCONF = host.find_tool(("postconf",))


def postfix_tree(
    tmp_path, main_cf: str, master_cf: str = MASTER_CF, mailname: str | None = "web1.example.com\n"
):
    write(tmp_path, "/etc/postfix/main.cf", main_cf)
    write(tmp_path, "/etc/postfix/master.cf", master_cf)
    if mailname is not None:
        write(tmp_path, "/etc/mailname", mailname)
    write(tmp_path, "/etc/hostname", "web1\n")
    return str(tmp_path)


TOOLS = [None] + ([POSTCONF] if POSTCONF else [])


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postfix_debian_mailname(tmp_path, tool):
    info = postfix.read_config(postfix_tree(tmp_path, DEBIAN_MAIN_CF), postconf=tool)
    assert info.origin == "web1.example.com"
    assert info.origin_text == "Postfix myorigin = /etc/mailname = web1.example.com"
    assert info.listens is True and info.listen_public is False
    assert info.relay == base.RELAY_NONE


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postfix_default_myorigin_is_myhostname(tmp_path, tool):
    main_cf = "compatibility_level = 3.6\nmyhostname = web1.example.com\ninet_interfaces = all\n"
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    assert info.origin == "web1.example.com"
    assert info.origin_text == "Postfix myorigin = $myhostname = web1.example.com"
    assert info.listen_public is True


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postfix_mydomain(tmp_path, tool):
    main_cf = "compatibility_level = 3.6\nmyhostname = web1.example.com\nmyorigin = $mydomain\n"
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    assert (info.origin, info.origin_text) == ("example.com", "Postfix myorigin = $mydomain = example.com")


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postfix_open_relay_settings(tmp_path, tool):
    main_cf = (
        "compatibility_level = 3.6\nmyhostname = web1.example.com\nmynetworks = 127.0.0.0/8,\n  0.0.0.0/0\n"
    )
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    assert info.relay == base.RELAY_OPEN and "every address" in info.relay_text
    main_cf = (
        "compatibility_level = 3.6\nmyhostname = web1.example.com\nmynetworks = 127.0.0.0/8 10.0.0.0/8\n"
    )
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    assert info.relay == base.RELAY_NETWORKS and "10.0.0.0/8" in info.relay_text
    main_cf = "compatibility_level = 3.6\nmyhostname = web1.example.com\nsmtpd_relay_restrictions = permit\n"
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    assert info.relay == base.RELAY_OPEN


def test_postfix_old_compatibility_relays_for_the_subnet(tmp_path):
    info = postfix.read_config(postfix_tree(tmp_path, "myhostname = web1.example.com\n"), postconf=None)
    # style subnet: not a list
    assert info.relay in (base.RELAY_NETWORKS, base.RELAY_UNKNOWN, base.RELAY_NONE)


def test_postfix_without_smtp_service(tmp_path):
    master = "pickup    unix  n       -       y       60      1       pickup\n#smtp inet n - y - - smtpd\n"
    info = postfix.read_config(postfix_tree(tmp_path, DEBIAN_MAIN_CF, master), postconf=None)
    assert info.listens is False and "no smtp" in info.listen_text


def test_postfix_missing_and_unreadable(tmp_path):
    info = postfix.read_config(str(tmp_path), postconf=None)
    assert info.origin is None and "main.cf" in info.notes[0]
    info = postfix.read_config(postfix_tree(tmp_path, DEBIAN_MAIN_CF, mailname=None), postconf=None)
    assert info.origin is None and info.refuses.startswith("sends nothing: myorigin = /etc/mailname")


def test_postfix_broken_postconf_falls_back(tmp_path):
    info = postfix.read_config(postfix_tree(tmp_path, DEBIAN_MAIN_CF), postconf="/nonexistent/postconf")
    assert info.origin == "web1.example.com"
    assert any("postconf failed" in n for n in info.notes)


def test_postfix_expansion():
    params = {"myhostname": "a.b.example", "mydomain": "$(x)", "x": "${y}", "y": "example.org"}
    assert postfix.expand_postfix("$mydomain", params) == "example.org"
    assert isinstance(postfix.expand_postfix("$loop", {"loop": "$loop"}), str)  # bounded, no recursion error


EXIM_CONF = """\
# a minimal hand-written Exim configuration
MY_NETS = 127.0.0.1 : ::::1
primary_hostname = web2.example.com
local_interfaces = <; 127.0.0.1 ; ::1
hostlist relay_from_hosts = MY_NETS
begin acl
qualify_domain = not.this.one
"""


def test_exim_plain_config(tmp_path):
    write(tmp_path, "/etc/exim/exim.conf", EXIM_CONF)
    info = exim.read_config(str(tmp_path))
    assert info.origin == "web2.example.com"
    assert info.listen_public is False and info.relay == base.RELAY_NONE


def test_exim_public_and_relaying(tmp_path):
    write(
        tmp_path,
        "/etc/exim/exim.conf",
        "qualify_domain = example.com\nhostlist relay_from_hosts = 127.0.0.1 : 192.168.0.0/16\n",
    )
    info = exim.read_config(str(tmp_path))
    assert info.origin == "example.com"
    assert info.listen_public is True  # the default local_interfaces is every address
    assert info.relay == base.RELAY_NETWORKS


def test_exim_debian(tmp_path):
    write(
        tmp_path,
        "/etc/exim4/update-exim4.conf.conf",
        "dc_eximconfig_configtype='satellite'\ndc_other_hostnames=''\n"
        "dc_local_interfaces='127.0.0.1 ; ::1'\ndc_readhost=''\ndc_relay_domains=''\n"
        "dc_minimaldns='false'\ndc_relay_nets=''\ndc_smarthost='smtp.example.com'\n"
        "CFILEMODE='644'\ndc_use_split_config='false'\ndc_hide_mailname='false'\n"
        "dc_mailname_in_oh='true'\ndc_localdelivery='mail_spool'\n",
    )
    write(tmp_path, "/etc/mailname", "web3.example.com\n")
    info = exim.read_config(str(tmp_path))
    assert info.origin == "web3.example.com"
    assert info.origin_text == "Exim qualify_domain = /etc/mailname = web3.example.com"
    assert info.listen_public is False and info.relay == base.RELAY_NONE
    path = tmp_path / "etc/exim4/update-exim4.conf.conf"
    path.write_text(
        path.read_text()
        .replace("dc_hide_mailname='false'", "dc_hide_mailname='true'")
        .replace("dc_readhost=''", "dc_readhost='example.com'")
        .replace("dc_relay_nets=''", "dc_relay_nets='10.1.0.0/16'")
    )
    info = exim.read_config(str(tmp_path))
    assert info.origin == "example.com" and "dc_readhost" in info.origin_text
    assert info.relay == base.RELAY_NETWORKS


def test_exim_with_its_own_binary(tmp_path, monkeypatch):
    # The lab's install script unpacks Exim privately (it conflicts with Postfix as a package).
    private = os.path.join(os.environ.get("LAB_EXIM_PREFIX", "/opt/cclab/exim4"), "usr/sbin")
    if os.path.isdir(private):
        monkeypatch.setenv("PATH", os.environ.get("PATH", "") + os.pathsep + private)
    tool = host.find_tool(("exim4", "exim"))
    if not tool:
        pytest.skip("no Exim binary installed")
    conf = tmp_path / "exim.conf"
    conf.write_text(
        f"spool_directory = {tmp_path}\nprimary_hostname = web4.example.com\n"
        "hostlist relay_from_hosts = 0.0.0.0/0\n"
    )
    info = exim.read_config("/", str(conf))
    assert info.origin == "web4.example.com" and info.relay == base.RELAY_OPEN


def test_nullmailer(tmp_path):
    write(tmp_path, "/etc/hostname", "web5\n")
    write(tmp_path, "/etc/nullmailer/remotes", "smtp.example.com smtp --port=587 --starttls\n")
    info = nullmailer.read_config(str(tmp_path))
    assert info.origin == "web5" and info.listens is False
    write(tmp_path, "/etc/nullmailer/me", "web5\n")
    write(tmp_path, "/etc/nullmailer/defaultdomain", "example.com\n")
    info = nullmailer.read_config(str(tmp_path))
    assert info.origin == "web5.example.com" and "defaultdomain" in info.origin_text
    write(tmp_path, "/etc/nullmailer/allmailfrom", "noreply@example.com\n")
    assert nullmailer.read_config(str(tmp_path)).origin == "example.com"


def test_ssmtp(tmp_path):
    write(
        tmp_path,
        "/etc/ssmtp/ssmtp.conf",
        "root=postmaster\nmailhub=smtp.example.com:587\n"
        "hostname=web6.example.com\n#rewriteDomain=\nFromLineOverride=YES\n",
    )
    info = ssmtp.read_config(str(tmp_path))
    assert (info.origin, info.origin_text) == ("web6.example.com", "ssmtp hostname = web6.example.com")
    write(tmp_path, "/etc/ssmtp/ssmtp.conf", "mailhub=smtp.example.com\nrewriteDomain=example.com\n")
    assert ssmtp.read_config(str(tmp_path)).origin == "example.com"


def test_msmtp(tmp_path):
    write(tmp_path, "/etc/hostname", "web7.example.com\n")
    write(
        tmp_path,
        "/etc/msmtprc",
        "defaults\nauth on\ntls on\n\naccount relay\nhost smtp.example.com\n"
        "from alerts@example.com\n\naccount other\nhost x\nfrom %U@%H\n\naccount default : relay\n",
    )
    info = msmtp.read_config(str(tmp_path))
    assert info.origin == "example.com" and "account relay" in info.origin_text
    # msmtp's sendmail uses only the account default (msmtp 1.8.23 in the MTA lab): these
    # two configurations name it, as a working one must
    write(tmp_path, "/etc/msmtprc", "account other\nhost x\nfrom %U@%H\naccount default : other\n")
    assert msmtp.read_config(str(tmp_path)).origin == "web7.example.com"
    rc = "account a\nhost x\nauto_from on\nmaildomain example.org\naccount default : a\n"
    write(tmp_path, "/etc/msmtprc", rc)
    assert msmtp.read_config(str(tmp_path)).origin == "example.org"


def test_dma(tmp_path):
    write(tmp_path, "/etc/dma/dma.conf", "SMARTHOST smtp.example.com\nPORT 587\n#MASQUERADE\n")
    write(tmp_path, "/etc/mailname", "web8.example.com\n")
    info = dma.read_config(str(tmp_path))
    assert info.origin == "web8.example.com"
    write(tmp_path, "/etc/dma/dma.conf", "SMARTHOST smtp.example.com\nMASQUERADE noreply@example.com\n")
    assert dma.read_config(str(tmp_path)).origin == "example.com"


def test_opensmtpd(tmp_path):
    write(
        tmp_path,
        "/etc/smtpd.conf",
        'listen on localhost\naction "relay" relay host smtp+tls://smtp.example.com '
        'mail-from "@example.com"\nmatch from local for any action "relay"\n',
    )
    info = opensmtpd.read_config(str(tmp_path))
    assert info.origin == "example.com" and info.listen_public is False and info.relay == base.RELAY_NONE
    write(
        tmp_path,
        "/etc/smtpd.conf",
        'listen on all\naction "out" relay\nmatch from any for any action "out"\n',
    )
    write(tmp_path, "/etc/mailname", "web9.example.com\n")
    info = opensmtpd.read_config(str(tmp_path))
    assert info.origin == "web9.example.com" and info.listen_public is True and info.relay == base.RELAY_OPEN


def test_detect(tmp_path):
    with pytest.raises(mta.NoMTA):
        mta.detect(str(tmp_path))
    write(tmp_path, "/etc/nullmailer/remotes", "smtp.example.com smtp\n")
    assert mta.detect(str(tmp_path)) == ("nullmailer", [])
    write(tmp_path, "/etc/postfix/main.cf", "myhostname = a.example.com\n")
    assert mta.detect(str(tmp_path)) == ("postfix", ["nullmailer"])
    (tmp_path / "usr/sbin").mkdir(parents=True)
    (tmp_path / "usr/sbin/nullmailer-inject").write_text("")
    os.symlink(str(tmp_path / "usr/sbin/nullmailer-inject"), str(tmp_path / "usr/sbin/sendmail"))
    assert mta.detect(str(tmp_path)) == ("nullmailer", ["postfix"])


@pytest.mark.parametrize("name", mta.MTAS)
def test_every_reader_survives_an_empty_tree(tmp_path, name):
    info = mta.read_config(name, str(tmp_path))
    assert isinstance(info, base.MTAInfo)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_config(tmp_path):
    write(tmp_path, "/etc/ssmtp/ssmtp.conf", "hostname=x.example.com\n")
    os.chmod(tmp_path / "etc/ssmtp/ssmtp.conf", 0)
    info = ssmtp.read_config(str(tmp_path))
    assert info.origin is None and "ssmtp.conf" in info.notes[0]
