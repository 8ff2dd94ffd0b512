"""The relay battery of check_nullmailer against real open and closed relays."""

import lab as lab_module
import pytest

CASES = [
    # node, address, extra arguments, expected exit code
    ("open", "192.0.2.31", [], 2),  # Postfix, mynetworks = 0.0.0.0/0
    ("exrelay", "192.0.2.33", [], 2),  # Exim, relay_from_hosts = *
    # Postfix, stock relay restrictions; it is final destination for its own
    # name, which a null mailer would not be: --allow-inbound says that is wanted
    ("closed", "192.0.2.32", ["--allow-inbound"], 0),
    ("web1", "192.0.2.21", [], 0),  # the null mailer, port 25 closed to the outside
]


def queue_size(node: str) -> int:
    if node == "exrelay":
        return lab_module.exim_queue_count(node)
    return len(lab_module.postfix_queue(node))


@pytest.mark.parametrize("node,address,extra,expected", CASES, ids=[c[0] for c in CASES])
def test_relay_battery(check_nullmailer, node, address, extra, expected):
    before = queue_size(node)
    result = check_nullmailer("-H", address, "-t", "60", "-v", *extra)
    state = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[expected]
    assert result.returncode == expected, str(result)
    assert result.first_line.startswith(f"NULLMAILER {state}"), str(result)
    # the battery never sends DATA: nothing may have been queued for delivery
    assert queue_size(node) == before == 0, f"{node} queue not empty after the battery"
    if expected == 2:
        assert "relay" in result.stdout.lower(), str(result)


def test_closed_relay_without_allow_inbound_warns(check_nullmailer):
    """As a null mailer, a host that takes inbound mail is suspicious (WARNING)."""
    result = check_nullmailer("-H", "192.0.2.32", "-t", "60")
    assert result.returncode == 1, str(result)
    assert queue_size("closed") == 0
