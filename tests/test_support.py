"""The support layer's servers behave as their names say."""

from __future__ import annotations

import socket

import pytest

from tests.support.output import PluginOutput
from tests.support.relay_servers import auth_only, closed_relay, greylisting, open_relay, smtp_server
from tests.support.servers import DNSTestServer, closed_port


def test_free_port_is_closed():
    port = closed_port()
    with socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("policy", [open_relay, closed_relay, auth_only, greylisting])
def test_servers_start_and_stop(policy):
    with smtp_server(policy) as (port, _handler):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            assert sock.recv(100).startswith(b"220 mx.test")


def test_dns_server_answers_from_its_zone():
    import dns.resolver

    zone = {"example.test": [("MX", (10, "mx.example.test"))], "mx.example.test": [("A", "192.0.2.25")]}
    with DNSTestServer(zone) as server:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], server.port
        answer = resolver.resolve("example.test", "MX", lifetime=5)
        assert [str(r.exchange) for r in answer] == ["mx.example.test."]
        with pytest.raises(dns.resolver.NXDOMAIN):
            resolver.resolve("nothing.example.test", "A", lifetime=5)


def test_output_parser_reads_the_first_line_and_perfdata():
    run = PluginOutput(1, "CALLOUT WARNING - a; b | time=0.5s;;;0 'time_mx.test'=0.1s;;;0\nlong 1\n")
    assert run.summary == "a; b"
    assert run.perfdata == {"time": "0.5s;;;0", "time_mx.test": "0.1s;;;0"}
    assert run.long_output == ["long 1"]
