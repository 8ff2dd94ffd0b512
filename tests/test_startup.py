"""The start-up rule, enforced: a ``check_callout -H <address>`` run imports neither
``typing`` nor ``dataclasses`` nor dnspython nor pyspf (``spf``: only a run with
``--client-ip`` evaluates SPF) (docs/performance.md: imports dominate a
plugin's start-up, which Icinga pays on every check of every host)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.servers import closed_port

PROBE = """
import json, sys
from check_callout.plugin import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ("typing", "dataclasses", "spf")
mods = sorted(m for m in sys.modules if m in heavy or m == "dns" or m.startswith("dns."))
sys.stderr.write(json.dumps({"code": code, "modules": mods}))
"""

HEAVY = ("typing", "dataclasses", "dns")


def test_callout_with_an_address_stays_lean():
    port = closed_port()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "-s", "a@example.test", "-H", "127.0.0.1", "-p", str(port), "-t", "5"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert done.stdout.startswith("CALLOUT CRITICAL - "), done.stdout  # it really ran: refused
    assert report["code"] == 2
    assert report["modules"] == [], f"imported at start-up: {report['modules']}"
