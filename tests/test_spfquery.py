"""What Exim's SPF library says, beside pyspf: libspf2's own command line, spfquery
(Debian package spfquery), asks the in-process DNS responder, in a throwaway network
and mount namespace whose /etc/resolv.conf names it on 127.0.0.1:53.  The
``spf_exim`` check (pyspf without the void-lookup limit) must give libspf2's result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from check_callout.senders import run_sender_checks
from tests.support.ci import require
from tests.support.hostile import ROOT
from tests.support.sender_zone import CLIENT, ZONE
from tests.support.servers import DNSTestServer

DOMAINS = (
    "good.test pass.test soft.test neutral.test none.test two.test many.test void.test loop.test "
    "redir.test macro.test split.test tempfail.test syntax.test"
).split()
SERVE = """
import sys, time
from tests.support.servers import DNSTestServer
from tests.support.sender_zone import ZONE
with DNSTestServer(ZONE, port=53):
    open(sys.argv[1], "w").close()
    time.sleep(60)
"""
SCRIPT = """
D=$1; P=$2; shift 2
ip link set lo up || exit 97
mount --bind "$D/resolv.conf" /etc/resolv.conf || exit 98
"$P" -c "$SERVE" "$D/ready" & dns=$!
for i in $(seq 100); do [ -e "$D/ready" ] && break; sleep 0.1; done
for s in "$@"; do
  echo "== $s"
  timeout 20 spfquery -ip "$CLIENT" -sender "$s" -helo web1.good.test 2>&1
done
kill "$dns"
"""


def libspf2_results(directory: Path) -> dict[str, str]:
    """spfquery's result word per domain ("(invalid)": a record libspf2 cannot compile)."""
    (directory / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
    senders = [f"a@{d}" for d in DOMAINS]
    done = subprocess.run(
        ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", SCRIPT, "sh"]
        + [str(directory), sys.executable, *senders],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(ROOT), SERVE=SERVE, CLIENT=CLIENT),
        cwd=str(ROOT),
    )
    results = {}
    for block in done.stdout.split("== ")[1:]:
        sender, _, text = block.partition("\n")
        lines = text.split("EndError\n")[-1].splitlines()
        results[sender.split("@")[1]] = lines[0].strip() if lines else ""
    assert len(results) == len(DOMAINS), done
    return results


def test_exims_spf_view_equals_libspf2(tmp_path):
    require(os.geteuid() == 0 and shutil.which("unshare") is not None, "needs root and unshare")
    require(shutil.which("spfquery") is not None, "spfquery missing (Debian package spfquery)")
    found = libspf2_results(tmp_path)
    with DNSTestServer(ZONE) as dns:
        for domain in DOMAINS:
            checks = run_sender_checks(
                [CLIENT],
                "web1.good.test",
                f"a@{domain}",
                nameserver="127.0.0.1",
                dns_port=dns.port,
                deadline=time.monotonic() + 5,
            )
            ours = checks.per_client[CLIENT]["spf_exim"].outcome
            if found[domain] == "(invalid)":
                # libspf2 cannot compile the record: no SPF result at all; pyspf says
                # permerror.  Exim's `spf = fail` and `spf = temperror` match neither.
                assert ours == "permerror", (domain, ours)
            else:
                assert ours == found[domain], (domain, ours, found[domain])
    # the differences worth knowing, as libspf2 1.2.10 answered
    assert found["void.test"] == "pass"  # no void-lookup limit (pyspf: permerror)
    assert found["redir.test"] == "permerror"
    assert found["syntax.test"] == "(invalid)"
