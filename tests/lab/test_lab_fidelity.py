"""Fidelity: check_callout predicts what the real Exim receiver does.

For every scenario domain the receiver's answer is computed live (MAIL FROM +
RCPT TO to Exim from the monitoring namespace, then QUIT) and compared with
the ``exim: accept|defer|reject`` prediction of check_callout run from the same
namespace against the lab DNS.
"""

import pytest
from lab import DNS_V4, SCENARIOS, ask_exim

#: scenarios where check_callout is known to disagree with the real Exim
# Scenarios where check_callout is known to predict wrongly, with the reason; each is
# marked xfail(strict=True) so that a fix turns it red until the entry is removed.
KNOWN_WRONG: dict[str, str] = {}


def _params():
    for s in SCENARIOS:
        marks = []
        if s.id in KNOWN_WRONG:
            marks.append(pytest.mark.xfail(reason=KNOWN_WRONG[s.id], strict=True))
        yield pytest.param(s, id=s.id, marks=marks)


@pytest.mark.parametrize("scenario", list(_params()))
def test_prediction_equals_real_exim(check_callout, scenario):
    result = check_callout(
        "-s", scenario.sender, "--nameserver", DNS_V4, "--helo", "mon.test", "-t", "30", "-v"
    )
    real = ask_exim(scenario.sender)
    predicted = result.exim_actions()
    assert predicted, f"no 'exim: <action>' in the output\n{result}"
    assert predicted == [real["action"]], (
        f"check_callout predicts {predicted}, the real Exim answered "
        f"{real.get('rcpt_reply') or real.get('mail')}\n{result}"
    )
    if real["action"] == "accept":
        assert result.returncode in (0, 1), str(result)
    else:
        assert result.returncode == 2, str(result)
    assert result.first_line.startswith("CALLOUT "), str(result)
