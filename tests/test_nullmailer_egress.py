"""How a null mailer's mail leaves (route, HELO name, source address), read from
configuration trees written here, Postfix's own ``postconf``, a captured ``exim -bP
routers transports`` of Exim 4.96, the kernel's routes and an in-process DNS server.
The real MTAs' behaviour behind each rule is pinned in tests/lab/test_mta_origin.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from check_nullmailer.mta import base, egress_exim, postfix
from check_nullmailer.mta.egress import DIRECT, SMARTHOST, Egress, read_egress, smarthost_of
from check_nullmailer.mta.egress_source import Lookup, fill_sources, non_public, route_source
from tests.support.relay_servers import write
from tests.support.servers import DNSTestServer
from tests.test_nullmailer_origin import TOOLS, postfix_tree

DATA = Path(__file__).parent / "data" / "nullmailer"
DEBIAN = "/usr/share/doc/nullmailer/changelog.Debian.gz"


def egress_of(mta: str, root: Path, info: base.MTAInfo | None = None) -> Egress:
    info = info or base.MTAInfo(mta)
    return read_egress(info, base.Sources(str(root)))


# -- the shared parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("[192.0.2.5]:587", ("192.0.2.5", 587)),
        ("relay.example.test:2525", ("relay.example.test", 2525)),
        ("relay.example.test", ("relay.example.test", 25)),
        ("[2001:db8::5]:587", ("2001:db8::5", 587)),
        ("[2001:db8::5]", ("2001:db8::5", 25)),
    ],
)
def test_smarthost_of(text, expected):
    assert smarthost_of(text) == expected


def test_route_source_asks_the_kernel():
    assert route_source("127.0.0.2") == "127.0.0.1"


def test_sources_from_the_smarthost_route_a_bind_address_and_client_ip():
    egress = fill_sources(Egress("x", route=SMARTHOST, smarthost="127.0.0.2", port=2525))
    assert (egress.sources, egress.relay_addresses) == (["127.0.0.1"], ["127.0.0.2"])
    assert egress.source_text == "the kernel's route to the smarthost 127.0.0.2"
    assert non_public(egress) == ["127.0.0.1"]
    bound = fill_sources(
        Egress("x", route=SMARTHOST, smarthost="127.0.0.2", bind=["127.0.0.3"], bind_text="b")
    )
    assert (bound.sources, bound.source_text) == (["127.0.0.3"], "b")
    stated = fill_sources(Egress("x", route=DIRECT, bind=["127.0.0.3"]), ("203.0.113.7",))
    assert (stated.sources, stated.source_text) == (["203.0.113.7"], "stated with --client-ip")


def test_smarthost_name_through_the_plugins_nameserver():
    zone = {"relay.example.test": [("A", "127.0.0.2"), ("AAAA", "::1")]}
    with DNSTestServer(zone) as dns:
        lookup = Lookup("127.0.0.1", dns.port)
        egress = fill_sources(Egress("x", route=SMARTHOST, smarthost="relay.example.test"), (), lookup)
    assert egress.relay_addresses == ["::1", "127.0.0.2"]
    assert egress.sources == ["::1", "127.0.0.1"]


def test_smarthost_without_address_is_said():
    with DNSTestServer({}) as dns:
        egress = fill_sources(
            Egress("x", route=SMARTHOST, smarthost="gone.example.test"), (), Lookup("127.0.0.1", dns.port)
        )
    assert egress.sources == [] and egress.relay_addresses == []
    assert egress.notes == [
        "the smarthost gone.example.test has no address: host name does not exist (NXDOMAIN)"
    ]


def test_smarthost_name_under_a_foreign_root_is_not_looked_up(tmp_path):
    egress = fill_sources(
        Egress("x", route=SMARTHOST, smarthost="relay.example.test"), (), Lookup(root=str(tmp_path))
    )
    assert egress.sources == []
    assert "not looked up for a configuration under --root" in egress.notes[0]


# -- Postfix --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postfix_relayhost_and_default_helo(tmp_path, tool):
    main_cf = "compatibility_level = 3.6\nmyhostname = web1.example.test\nrelayhost = [127.0.0.2]:2525\n"
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    egress = egress_of("postfix", tmp_path, info)
    assert (egress.route, egress.smarthost, egress.port) == (SMARTHOST, "127.0.0.2", 2525)
    assert egress.route_text == "Postfix relayhost = [127.0.0.2]:2525"
    assert egress.helo == "web1.example.test"
    assert egress.helo_text == "Postfix smtp_helo_name = $myhostname = web1.example.test"


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: "postconf" if t else "parser")
def test_postfix_direct_with_helo_name_bind_address_and_maps(tmp_path, tool):
    main_cf = (
        "compatibility_level = 3.6\nmyhostname = web1.example.test\nsmtp_helo_name = out.example.test\n"
        "smtp_bind_address = 192.0.2.30\ntransport_maps = hash:/etc/postfix/transport\n"
        "inet_protocols = ipv4\n"
    )
    info = postfix.read_config(postfix_tree(tmp_path, main_cf), postconf=tool)
    egress = fill_sources(egress_of("postfix", tmp_path, info))
    assert egress.route == DIRECT
    assert (egress.helo, egress.helo_text) == (
        "out.example.test",
        "Postfix smtp_helo_name = out.example.test",
    )
    assert (egress.sources, egress.source_text) == (["192.0.2.30"], "Postfix smtp_bind_address = 192.0.2.30")
    assert egress.families == (4,)
    assert egress.notes == [
        "transport_maps = hash:/etc/postfix/transport may route some mail elsewhere (not evaluated)"
    ]


# -- Exim ------------------------------------------------------------------------------------------


def test_exim_sections_pick_the_smarthost_router_and_its_transport():
    routers, transports = egress_exim.parse_sections((DATA / "exim-bP-routers-transports.txt").read_text())
    assert [name for name, _ in routers] == ["hubbed_hosts", "smarthost"]
    assert not egress_exim.takes_remote(routers[0][1])  # domains from a lookup: not every domain
    assert egress_exim.takes_remote(routers[1][1])
    assert transports["remote_smtp"]["interface"] == ""
    assert transports["remote_smtp_smarthost"]["interface"] == "192.0.2.30"


def test_exim_egress_from_the_real_binary_output(tmp_path):
    """``exim -bP routers transports`` as a program printing the captured output."""
    tool = tmp_path / "exim4"
    tool.write_text(f"#!/bin/sh\ncat '{DATA / 'exim-bP-routers-transports.txt'}'\n")
    tool.chmod(0o755)
    info = base.MTAInfo("exim", tool=str(tool), values={"primary_hostname": "web1.example.test"})
    egress = read_egress(info, base.Sources("/"))
    assert (egress.route, egress.smarthost, egress.port) == (SMARTHOST, "127.0.0.2", 2525)
    assert egress.route_text == "Exim router smarthost: route_list = * 127.0.0.2::2525 byname"
    assert egress.helo == "web1.example.test"
    assert egress.helo_text == (
        "Exim transport remote_smtp_smarthost: helo_data = $primary_hostname = web1.example.test"
    )
    assert (egress.bind, egress.bind_text) == (["192.0.2.30"], "Exim transport interface = 192.0.2.30")


def test_exim_without_its_binary_says_so():
    egress = read_egress(base.MTAInfo("exim"), base.Sources("/"))
    assert egress.route == "" and egress.notes == ["how Exim sends was not read: its binary was not asked"]


# -- the one-file MTAs ------------------------------------------------------------------------------


def test_nullmailer_debian_helo_is_mailname_or_the_literal_me(tmp_path):
    write(tmp_path, "/etc/nullmailer/remotes", "relay.example.test smtp --port=587 --source=192.0.2.30\n")
    write(tmp_path, DEBIAN, "")
    write(tmp_path, "/etc/nullmailer/me", "ignored.example.test\n")
    egress = egress_of("nullmailer", tmp_path)
    assert (egress.route, egress.smarthost, egress.port) == (SMARTHOST, "relay.example.test", 587)
    assert (egress.helo, egress.helo_text) == ("me", "nullmailer: no /etc/mailname, HELO me")
    assert egress.bind == ["192.0.2.30"]
    write(tmp_path, "/etc/mailname", "web1.example.test\n")
    assert egress_of("nullmailer", tmp_path).helo == "web1.example.test"
    write(tmp_path, "/etc/nullmailer/helohost", "out.example.test\n")
    assert egress_of("nullmailer", tmp_path).helo_text == "nullmailer helohost = out.example.test"


def test_nullmailer_upstream_helo_is_me(tmp_path):
    write(tmp_path, "/etc/nullmailer/remotes", "relay.example.test smtp\n")
    write(tmp_path, "/etc/nullmailer/me", "web3.example.test\n")
    egress = egress_of("nullmailer", tmp_path)
    assert (egress.port, egress.helo) == (25, "web3.example.test")


def test_nullmailer_closed_remotes_is_a_note(tmp_path):
    write(tmp_path, "/etc/nullmailer/me", "web3.example.test\n")
    egress = egress_of("nullmailer", tmp_path)
    assert egress.route == "" and "the relay was not read" in egress.notes[0]


def test_ssmtp(tmp_path):
    write(tmp_path, "/etc/ssmtp/ssmtp.conf", "mailhub=relay.example.test:587\nhostname=web1.example.test\n")
    egress = egress_of("ssmtp", tmp_path)
    assert (egress.smarthost, egress.port, egress.helo) == ("relay.example.test", 587, "web1.example.test")
    write(tmp_path, "/etc/ssmtp/ssmtp.conf", "root=postmaster\n")
    write(tmp_path, "/etc/hostname", "web1\n")
    egress = egress_of("ssmtp", tmp_path)
    assert (egress.smarthost, egress.port, egress.helo) == ("mailhub", 25, "web1")


def test_msmtp_defaults_to_localhost_and_reads_domain_and_source_ip(tmp_path):
    rc = "defaults\nport 2525\naccount default\nhost relay.example.test\nfrom www@example.test\n"
    write(tmp_path, "/etc/msmtprc", rc)
    egress = egress_of("msmtp", tmp_path)
    assert (egress.smarthost, egress.port, egress.helo) == ("relay.example.test", 2525, "localhost")
    assert egress.helo_text == "msmtp account default: no domain, msmtp sends localhost"
    write(tmp_path, "/etc/msmtprc", rc + "domain out.example.test\nsource_ip 192.0.2.30\n")
    egress = egress_of("msmtp", tmp_path)
    assert (egress.helo, egress.bind) == ("out.example.test", ["192.0.2.30"])


def test_dma_helo_is_mailname_and_no_smarthost_is_direct(tmp_path):
    write(tmp_path, "/etc/dma/dma.conf", "SMARTHOST relay.example.test\nPORT 587\nMAILNAME /etc/mailname\n")
    write(tmp_path, "/etc/mailname", "web1.example.test\n")
    egress = egress_of("dma", tmp_path)
    assert (egress.route, egress.smarthost, egress.port) == (SMARTHOST, "relay.example.test", 587)
    assert egress.helo_text == "dma MAILNAME /etc/mailname = web1.example.test"
    write(tmp_path, "/etc/dma/dma.conf", "MAILNAME literal.example.test\nMASQUERADE example.test\n")
    egress = egress_of("dma", tmp_path)
    assert (egress.route, egress.helo) == (DIRECT, "literal.example.test")


def test_opensmtpd_relay_host_helo_and_src(tmp_path):
    conf = 'action "relay" relay host smtp://relay.example.test:2525 helo out.example.test src 192.0.2.30\n'
    write(tmp_path, "/etc/smtpd.conf", conf)
    info = base.MTAInfo("opensmtpd", config=str(tmp_path / "etc/smtpd.conf"))
    egress = egress_of("opensmtpd", tmp_path, info)
    assert (egress.smarthost, egress.port, egress.helo) == ("relay.example.test", 2525, "out.example.test")
    assert egress.bind == ["192.0.2.30"]
    write(tmp_path, "/etc/smtpd.conf", 'action "relay" relay\n')
    write(tmp_path, "/etc/mailname", "mail.example.test\n")
    egress = egress_of("opensmtpd", tmp_path, info)
    assert (egress.route, egress.helo) == (DIRECT, "mail.example.test")


# -- in the plugin's output -------------------------------------------------------------------------


def run(args: list[str], capsys) -> tuple[int, str]:
    from check_nullmailer import plugin

    with pytest.raises(SystemExit) as exc:
        plugin.main(args)
    return exc.value.code, capsys.readouterr().out


def test_client_ip_must_be_an_address(capsys):
    code, out = run(["--local", "--client-ip", "web1.example.test"], capsys)
    assert code == 3 and "--client-ip 'web1.example.test' is not an IP address" in out
    code, out = run(["--local", "--client-ip", "fe80::1%eth0"], capsys)
    assert code == 3 and "--client-ip 'fe80::1%eth0' is not an IP address" in out


def test_egress_part_in_the_long_output(tmp_path, capsys):
    write(tmp_path, "/etc/ssmtp/ssmtp.conf", "mailhub=127.0.0.2:2525\nhostname=web1.example.test\n")
    with DNSTestServer({}) as dns:
        args = ["--local", "--root", str(tmp_path), "--mta", "ssmtp", *dns.args, "-t", "5"]
        code, out = run(args, capsys)
        lines = out.splitlines()
        at = lines.index("[ok] egress: smarthost 127.0.0.2 port 2525, HELO web1.example.test, from 127.0.0.1")
        assert lines[at + 1 : at + 4] == [
            "  route: ssmtp mailhub=127.0.0.2:2525",
            "  HELO: ssmtp hostname=web1.example.test",
            "  source: the kernel's route to the smarthost 127.0.0.2",
        ]
        code, out = run([*args, "--client-ip", "203.0.113.7", "--client-ip", "2001:db8::7"], capsys)
    assert (
        "[ok] egress: smarthost 127.0.0.2 port 2525, HELO web1.example.test, from 203.0.113.7, 2001:db8::7"
        in out
    )
    assert "  source: stated with --client-ip" in out


def test_direct_delivery_from_a_private_address_says_so(tmp_path, capsys):
    write(tmp_path, "/etc/dma/dma.conf", "MAILNAME web1.example.test\n")
    with DNSTestServer({}) as dns:
        code, out = run(["--local", "--root", str(tmp_path), "--mta", "dma", *dns.args, "-t", "5"], capsys)
    assert "[ok] egress: direct delivery (the recipients' MX hosts), HELO web1.example.test" in out
    assert "  route: dma: no SMARTHOST (the recipients' MX hosts)" in out
