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

import pytest

from tests.support.ci import require
from tests.support.sandbox import Sandbox, sandbox_available
from tests.test_hostile_multiline import MX, assert_judged_as_exim, exim_config  # noqa: F401 (a fixture)

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
    assert_judged_as_exim(box, exim_config, kind)
