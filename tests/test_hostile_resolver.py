"""When the DNS fails, say which resolver failed and how: its address and port, and
SERVFAIL, REFUSED, FORMERR or timeout; and what is wrong when the system's
``/etc/resolv.conf`` is empty, missing or unreadable (glibc then asks 127.0.0.1)."""

from __future__ import annotations

import json
import sys

import pytest

from tests.support.ci import require
from tests.support.hostile import ProcessRun, assert_well_formed, callout
from tests.support.sandbox import Sandbox, sandbox_available
from tests.support.servers import DROP, FORMERR, REFUSED, SERVFAIL, DNSTestServer

FAST = ["-t", "1.5", "--connect-timeout", "1", "--helo", "monitor.test"]
ZONE = {"sf.test": SERVFAIL, "rf.test": REFUSED, "fe.test": FORMERR, "drop.test": DROP}


@pytest.mark.parametrize(
    "domain,what",
    [("sf.test", "SERVFAIL"), ("rf.test", "REFUSED"), ("fe.test", "FORMERR"), ("drop.test", "timeout")],
)
def test_dns_failure_names_the_resolver_and_what_it_said(domain, what):
    with DNSTestServer(ZONE) as dns:
        run = callout("-s", f"alice@{domain}", *dns.args, *FAST)
    match = assert_well_formed(run, timeout=3)
    text = match.group("text")
    assert run.code == 3 and "cannot tell" in text, run
    assert f"127.0.0.1 port {dns.port}" in text and what in text, run
    assert "SERVFAIL or REFUSED" not in run.output, run
    assert "time" in run.perfdata, run


def in_sandbox(resolv_conf: str, *prefix: str) -> ProcessRun:
    """check_callout in a namespace whose /etc/resolv.conf is ``resolv_conf`` (nothing
    answers DNS there); ``prefix`` runs it through setpriv with the file made 000."""
    require(sandbox_available(), "network namespaces need root and iproute2")
    with Sandbox("resolv", resolv_conf=resolv_conf) as box:
        if not prefix:
            return box.plugin("check_callout.plugin", "-s", "alice@example.test", *FAST)
        (box.etc / "resolv.conf").chmod(0)
        argv = [*prefix, sys.executable, "-m", "tests.support.scenes", "plugin", "check_callout.plugin"]
        done = box.exec([*argv, "-s", "alice@example.test", *FAST])
        assert done.stdout.startswith("{"), done
        return ProcessRun(**json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "case,content,prefix,words",
    [
        ("empty", "", (), "names no nameserver"),
        ("comments only", "# nothing here\nsearch example.test\n", (), "names no nameserver"),
        # root without the capabilities that override file permissions: the 000 file is
        # unreadable, as it is for an unprivileged monitoring user
        ("unreadable", "nameserver 127.0.0.1\n", ("setpriv", "--bounding-set=-dac_override,-dac_read_search"),
         "cannot be read"),
    ],
)  # fmt: skip
def test_broken_resolv_conf_says_what_is_wrong(case, content, prefix, words):
    run = in_sandbox(content, *prefix)
    match = assert_well_formed(run, timeout=3)
    text = match.group("text")
    assert run.code == 3, run
    assert "internal error" not in run.output, run
    assert "/etc/resolv.conf" in text and words in text and "127.0.0.1" in text, run


def test_missing_resolv_conf_says_what_is_wrong():
    require(sandbox_available(), "network namespaces need root and iproute2")
    with Sandbox("noresolv", hide=("resolv.conf",)) as box:
        run = box.plugin("check_callout.plugin", "-s", "alice@example.test", *FAST)
    match = assert_well_formed(run, timeout=3)
    text = match.group("text")
    assert run.code == 3 and "internal error" not in run.output, run
    assert "/etc/resolv.conf is missing" in text and "127.0.0.1" in text, run
