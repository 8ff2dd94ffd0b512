"""Long output: one sender's callout in lines an operator reads in Icinga.

Shared by both plugins (check_nullmailer shows the callout of its envelope origin).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.engine import SenderResult


def describe_result(result: SenderResult, verbosity: int, notes: Sequence[str] = ()) -> list[str]:
    """Long output for one sender: the receivers' answers, then every host tried, then
    the judgement's ``notes``."""
    decision = result.decision
    if result.predictions:
        said = ", ".join(f"{p.profile.name}: {p.word()}" for p in result.predictions)
    else:
        said = f"exim: {decision.exim or 'cannot tell'}"
    reason = decision.reason
    if result.predictions and result.predictions[0].profile.family != "exim" and result.predictions[0].reason:
        reason = result.predictions[0].reason  # the deciding receiver's own reason
    lines = [f"{result.sender.display}: {said} - {reason}"]
    for prediction in result.predictions:  # each receiver's reply, as it would send it
        reply = prediction.reply() if prediction.action else "cannot tell"
        if prediction.action is None and getattr(prediction, "failing", None) is not None:
            reply = f"{prediction.reply()} while its lookup fails (cannot tell)"
        lines.append(f"  {prediction.profile.name} would answer {reply}")
        for _action, code, text in prediction.also:
            lines.append(f"    or {code} {' / '.join(text.splitlines())}")
    if result.sender_checks is not None:
        lines.extend(_sender_check_lines(result))
    if result.route.detail and result.route.detail not in decision.reason:
        lines.append(f"  DNS: {result.route.detail}")
    if decision.note:
        lines.append(f"  note: {decision.note}")
    dialogues = {d.address: d for d in result.dialogues}
    for host in result.route.hosts:
        kind = (
            "implicit MX"
            if host.implicit
            else ("host" if result.route.status == "explicit" else f"MX {host.preference}")
        )
        if not host.addresses:
            lines.append(f"  {kind} {host.name}: {host.note or 'no address'}")
            continue
        for address in host.addresses:
            attempt = next((a for a in decision.attempts if a.address == address), None)
            where = host.name if host.name == address else f"{host.name} [{address}]"
            dialogue = dialogues.get(address)
            took = f" in {dialogue.total:.3f} s" if dialogue and dialogue.total else ""
            what = attempt.outcome.describe() if attempt else "not probed"
            lines.append(f"  {kind} {where}: {what}{took}")
            if dialogue is None:
                continue
            if dialogue.tls_note:
                lines.append(f"    {dialogue.tls_note}")
            if dialogue.tls is not None:
                lines.append(f"    TLS: {dialogue.tls.describe()}")
            if verbosity >= 1 and dialogue.timings:
                phases = ", ".join(f"{k} {v:.3f} s" for k, v in dialogue.timings.items())
                lines.append(f"    times: {phases}")
            if verbosity >= 2:
                lines.extend(f"    {line}" for line in dialogue.transcript)
    if result.route.skipped_hosts:
        lines.append(f"  {result.route.skipped_hosts} more MX hosts not probed (--max-hosts)")
    if result.random_decision is not None:
        lines.append(
            f"  random {result.random_address}: exim: {result.random_decision.exim or 'cannot tell'}"
            f" - {result.random_decision.reason}"
        )
    if result.postmaster_decision is not None:
        pm = result.postmaster_decision
        lines.append(f"  postmaster@{result.sender.domain}: exim: {pm.exim or 'cannot tell'} - {pm.reason}")
    lines.extend(f"  note: {note}" for note in notes)
    return lines


def _sender_check_lines(result: SenderResult) -> list[str]:
    """The sender checks, one line each, then what to change."""
    from check_callout.senders import fix_for

    checks = result.sender_checks
    assert checks is not None
    clients = ", ".join(checks.clients)
    lines = [f"  sender checks (client {clients}, HELO {checks.helo}, {checks.took:.3f} s):"]
    lines.extend(f"    {line}" for line in checks.lines())
    lines.extend(
        f"  fix: {fix}" for fix in fix_for(result.sender.domain, checks.clients, checks.helo, checks=checks)
    )
    return lines
