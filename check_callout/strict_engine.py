"""The callouts and the sender checks side by side (``--client-ip``).

The sender checks for every sender run in a thread while the engine probes the MX
hosts; both end by the run's deadline.  Each sender's predictions then become the
strict receivers' (:func:`check_callout.senders.strict_predictions`).  The null sender
``<>`` has no callout: its result is the sender checks alone.
"""

from __future__ import annotations

import threading
import time

from check_callout.address import Address
from check_callout.engine import SenderResult, run_callouts
from check_callout.net.routes import EXPLICIT, Route
from check_callout.receiver import EXIM_ACCEPT, Decision

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.senders.result import SenderChecks
    from check_callout.settings import CalloutSettings, SenderCheckSettings

NULL_SENDER = Address("", "", "")
NO_CALLOUT = "a null sender is not verified by callout"


def is_null(address: Address) -> bool:
    return not address.local and not address.domain


def display(address: Address) -> str:
    return "<>" if is_null(address) else address.display


def run_with_sender_checks(
    senders: Sequence[Address], options: CalloutSettings, strict: SenderCheckSettings, deadline: float
) -> list[SenderResult]:
    """Every sender's callout and sender checks, the null sender's checks when asked."""
    from check_callout.kit.parallel import run_parallel
    from check_callout.senders import lookup_for, run_sender_checks, strict_predictions

    every = list(senders) + ([NULL_SENDER] if strict.null_sender else [])
    # the checks stop a little before the run's deadline, so that a lookup that never
    # answers is said as such rather than as the run's timeout
    checks_deadline = deadline - min(0.5, 0.2 * max(0.0, deadline - time.monotonic()))
    # each sender's checks end before the wait for them does: their results are whole
    own_deadline = checks_deadline - min(0.5, 0.1 * max(0.0, checks_deadline - time.monotonic()))
    # one DNS for every sender: the clients' PTR and the HELO name are asked once
    lookup = lookup_for(options.nameserver, options.dns_port, own_deadline)
    jobs = {
        str(addr): (
            lambda addr=addr: run_sender_checks(
                strict.clients,
                strict.helo,
                str(addr),
                nameserver=options.nameserver,
                dns_port=options.dns_port,
                deadline=own_deadline,
                lookup=lookup,
            )
        )
        for addr in every
    }
    box: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: box.update(run_parallel(jobs, checks_deadline, workers=8)), daemon=True, name="senders"
    )
    worker.start()
    results = run_callouts(senders, options, deadline) if senders else []
    worker.join(max(0.0, deadline - time.monotonic()))
    if strict.null_sender:
        route = Route("", EXPLICIT, detail="")
        results.append(SenderResult(NULL_SENDER, route, Decision(EXIM_ACCEPT, "250", NO_CALLOUT)))
    for result in results:
        checks = box.get(str(result.sender))
        checks = checks if _is_checks(checks) else _late(strict, str(result.sender))
        result.sender_checks = checks
        callout = None if is_null(result.sender) else result.predictions
        result.predictions = strict_predictions(checks, callout, options.receivers)
    return results


def _is_checks(value: object) -> bool:
    from check_callout.senders.result import SenderChecks

    return isinstance(value, SenderChecks)


def _late(strict: SenderCheckSettings, sender: str) -> SenderChecks:
    """Every check "cannot tell": the checks had not finished by the deadline."""
    from check_callout.senders.result import OUTCOMES, UNKNOWN, Check, SenderChecks

    late = "no answer before the check's time ran out"
    per_client = {c: {key: Check(key, UNKNOWN, late) for key in OUTCOMES} for c in strict.clients}
    return SenderChecks(sender, strict.helo, tuple(strict.clients), per_client)
