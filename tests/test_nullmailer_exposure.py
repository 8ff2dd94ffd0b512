"""Listening sockets from /proc/net/tcp{,6}: real captured tables and written ones."""

from __future__ import annotations

import os
import shutil

import pytest

from check_nullmailer.exposure import Listener, ProcUnreadable, listeners, parse_proc_tcp, public

DATA = os.path.join(os.path.dirname(__file__), "data", "nullmailer")
HEAD4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
HEAD6 = "  sl  local_address                         remote_address                        st ...\n"


def row(n: int, local: str, state: str = "0A") -> str:
    return (
        f"   {n}: {local} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
    )


def write_proc(tmp_path, tcp: str, tcp6: str | None) -> str:
    net = tmp_path / "proc" / "net"
    net.mkdir(parents=True)
    (net / "tcp").write_text(tcp)
    if tcp6 is not None:
        (net / "tcp6").write_text(tcp6)
    return str(tmp_path / "proc")


def test_captured_loopback_only_tables():
    """Tables captured from a host where Postfix has inet_interfaces = loopback-only."""
    with open(os.path.join(DATA, "proc-net-tcp-loopback.txt")) as handle:
        v4 = parse_proc_tcp(handle.read(), ipv6=False)
    with open(os.path.join(DATA, "proc-net-tcp6-loopback.txt")) as handle:
        v6 = parse_proc_tcp(handle.read(), ipv6=True)
    assert Listener("127.0.0.1", 25) in v4
    assert Listener("::1", 25) in v6
    assert public([item for item in v4 + v6 if item.port == 25]) == []


def test_public_and_wildcard_listeners(tmp_path):
    tcp = (
        HEAD4
        + row(0, "00000000:0019")
        + row(1, "0500000A:01D1")
        + row(2, "0100007F:024B")
        + row(3, "00000000:0019", state="01")
    )  # an established connection, not a listener
    tcp6 = (
        HEAD6
        + row(0, "00000000000000000000000000000000:024B")
        + row(1, "0000000000000000FFFF00000100007F:0019")
        + row(2, "B80D0120000000000000000001000000:01D1")
    )
    found = listeners(write_proc(tmp_path, tcp, tcp6))
    assert [str(item) for item in found] == [
        "0.0.0.0:25",
        "[::ffff:127.0.0.1]:25",
        "10.0.0.5:465",
        "[2001:db8::1]:465",
        "127.0.0.1:587",
        "[::]:587",
    ]
    assert [str(item) for item in public(found)] == [
        "0.0.0.0:25",
        "10.0.0.5:465",
        "[2001:db8::1]:465",
        "[::]:587",
    ]
    assert Listener("::", 587).wildcard and not Listener("10.0.0.5", 465).wildcard


def test_other_ports_are_ignored_and_ipv6_table_may_be_missing(tmp_path):
    tcp = HEAD4 + row(0, "00000000:0050") + row(1, "00000000:0016")
    assert listeners(write_proc(tmp_path, tcp, None)) == []


def test_garbage_lines_are_skipped(tmp_path):
    tcp = HEAD4 + "   0: zz:yy 00 0A\n   1: short\n" + row(2, "00000000:0019")
    assert [str(item) for item in listeners(write_proc(tmp_path, tcp, None))] == ["0.0.0.0:25"]


def test_no_tables_is_an_error(tmp_path):
    with pytest.raises(ProcUnreadable):
        listeners(str(tmp_path / "nowhere"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_table_is_an_error(tmp_path):
    proc = write_proc(tmp_path, HEAD4, None)
    os.chmod(os.path.join(proc, "net", "tcp"), 0)
    with pytest.raises(ProcUnreadable):
        listeners(proc)


def test_real_proc_is_readable():
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("no /proc")
    assert isinstance(listeners("/proc"), list)


def test_fixture_copy_keeps_working(tmp_path):
    net = tmp_path / "net"
    net.mkdir()
    shutil.copy(os.path.join(DATA, "proc-net-tcp-loopback.txt"), net / "tcp")
    assert public(listeners(str(tmp_path))) == []
