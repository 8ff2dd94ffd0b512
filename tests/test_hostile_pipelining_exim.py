"""A server that offers PIPELINING and breaks off after its replies: what does a real
callout make of it?  The authority is the real program: Exim 4.96 (the lab's) with
``verify = sender/callout`` meets the scripted server in a ``cchn-*`` namespace, and
check_callout must predict what it did (tests/test_hostile_multiline.py holds the Exim
configuration and the way it is run).

Seen: Exim accepts when the server answers MAIL and RCPT with 250 and then hangs up or
says garbage (Exim has its RCPT reply before it sends anything else), rejects on a 550
to RCPT whatever follows, and defers when the connection drops before the RCPT reply
is whole.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.support.ci import require
from tests.support.hostile import assert_well_formed
from tests.support.sandbox import Sandbox, sandbox_available
from tests.test_hostile_multiline import EXIM, EXPECTED, MX, exim_config  # noqa: F401 (a fixture)

CASES = [
    "drop_at_rset",
    "garbage_at_rset",
    "rejects_then_drop_at_rset",
    "drop_after_mail",
    "drop_mid_rcpt_reply",
]


@pytest.fixture(scope="module")
def box():
    require(sandbox_available(), "network namespaces need root and iproute2")
    with Sandbox("pipe", setup=[["ip", "addr", "add", f"{MX}/32", "dev", "lo"]]) as sandbox:
        yield sandbox


@pytest.mark.parametrize("kind", CASES)
def test_a_break_after_the_replies_judged_as_exim_judges_it(box, exim_config, kind):  # noqa: F811
    done = box.exec(
        [sys.executable, "-m", "tests.support.scenes", "exim-callout", str(EXIM), str(exim_config), MX, kind]
    )
    assert done.returncode == 0, done.stderr
    exim = json.loads(done.stdout.splitlines()[-1])
    assert exim["code"] in EXPECTED, exim
    run = box.scene(
        "serve", "--smtp", f"{MX},25,{kind}", "--",
        "check_callout.plugin", "-s", "alice@sender.test", "-H", MX, "-t", "4", "--helo", "monitor.test",
    )  # fmt: skip
    match = assert_well_formed(run)
    code, words = EXPECTED[exim["code"]]
    assert (run.code, words in match.group("text")) == (code, True), (exim, run)
