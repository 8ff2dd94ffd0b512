"""What each strict receiver answers: its checks in its order, the first failing check
deciding, the callout last.

:func:`strict_predictions` combines the sender checks with the callout's predictions
(:func:`check_callout.receivers.predict`) for every requested profile: a strict
profile (:mod:`check_callout.receivers.strict`) walks its steps and, when none
decides, answers as its callout profile does; any other profile is the callout's
prediction unchanged.  A dual-stack sender is judged per client address: the worst
answer decides (the mail may leave over either).
"""

from __future__ import annotations

from check_callout.receivers.profile import ACCEPT, DEFER, REJECT, Prediction
from check_callout.receivers.strict import STRICT, UNKNOWN, exim_lines
from check_callout.senders.result import TITLES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.receivers.profile import Profile
    from check_callout.receivers.strict import StrictProfile
    from check_callout.senders.result import Check, SenderChecks

RCPT = "recipient@receiver"
CANNOT_TELL = (UNKNOWN, "temperror")  # the receiver's lookup fails: which way it goes is not known
_ACCEPTED = {"exim": (250, "Accepted"), "postfix": (250, "2.1.5 Ok")}


class StrictPrediction(Prediction):
    """A strict receiver's answer: ``failing`` the check that decided (None: the
    callout did, or everything passed), ``blind`` the checks that could not tell
    on the way, ``client`` the client address judged."""

    __slots__ = ("failing", "blind", "client")

    def __init__(
        self,
        profile: Profile,
        action: str | None,
        code: int = 0,
        text: str = "",
        reason: str = "",
        also: tuple[tuple[str, int, str], ...] = (),
        failing: Check | None = None,
        blind: tuple[Check, ...] = (),
        client: str = "",
    ) -> None:
        super().__init__(profile, action, code, text, reason, also)
        self.failing = failing
        self.blind = blind
        self.client = client


def strict_predictions(
    checks: SenderChecks | None, callout: Sequence[Prediction] | None, receivers: Sequence[str]
) -> list[Prediction]:
    """One prediction per name in ``receivers`` (in order): strict profiles from
    ``checks`` then the callout prediction of the same name, or of the profile it is
    built on (``exim``, ``postfix``) (``callout`` None or without either: no callout,
    as for a null sender, which receivers do not verify); other names: their callout
    prediction as it is."""
    from check_callout.receivers import profiles

    by_name = {p.profile.name: p for p in callout or ()}
    found: list[Prediction] = []
    for name in dict.fromkeys(receivers):
        strict = STRICT.get(name)
        if strict is None or checks is None:
            if name in by_name:
                found.append(by_name[name])
            continue
        profile = by_name[name].profile if name in by_name else profiles([name])[0]
        # the callout under the strict name, else its base profile's (the same question)
        callout_p = by_name.get(name) or by_name.get(strict.base)
        answers = [_walk(strict, profile, checks, client, callout_p) for client in checks.clients]
        found.append(max(answers, key=_badness))
    return found


def _badness(p: Prediction) -> int:
    blind = bool(getattr(p, "blind", ()))
    return {REJECT: 4, DEFER: 3, None: 2}.get(p.action, 1 if blind else 0)


def _walk(
    strict: StrictProfile, profile: Profile, checks: SenderChecks, client: str, callout: Prediction | None
) -> StrictPrediction:
    seen = checks.per_client[client]
    blind: list[Check] = []
    for step in strict.steps:
        check = seen.get(step.check)
        if check is None:
            continue
        answer = step.answers.get(check.outcome)
        if answer is None:
            if check.outcome in CANNOT_TELL:
                blind.append(check)
            continue
        action, code, text = answer
        text = _fill(text, checks, client, check)
        if strict.base == "exim":
            text = exim_lines(text)
        what = brief(check, client)
        if check.outcome in CANNOT_TELL:
            blind.append(check)
            if action == ACCEPT:
                continue  # the receiver accepts while its lookup fails, and goes on
            return StrictPrediction(
                profile,
                None,
                code,
                text,
                what,
                failing=check,
                blind=tuple(blind),
                client=client,
            )
        return StrictPrediction(
            profile, action, code, text, what, failing=check, blind=tuple(blind), client=client
        )
    if callout is None:
        code, text = _ACCEPTED[strict.base]
        reason = (
            "every sender check passes (no callout asked)"
            if checks.sender
            else "every sender check passes; a null sender is not verified by callout"
        )
        return StrictPrediction(profile, ACCEPT, code, text, reason, blind=tuple(blind), client=client)
    reason = callout.reason or "every sender check passes"
    return StrictPrediction(
        profile,
        callout.action,
        callout.code,
        callout.text,
        reason,
        callout.also,
        blind=tuple(blind),
        client=client,
    )


def _word(outcome: str) -> str:
    return "cannot tell" if outcome == UNKNOWN else outcome


def _fill(text: str, checks: SenderChecks, client: str, check: Check) -> str:
    spf = check.spf
    domain = checks.sender.rpartition("@")[2] if checks.sender else checks.helo
    if spf is not None:
        scope = "mfrom" if spf.identity == "mailfrom" else "helo"
        identity = spf.sender if scope == "mfrom" else checks.helo
        why = spf.explanation or f"SPF {spf.result}"
        domain = spf.domain
    else:
        scope, identity, why = "mfrom", checks.sender, ""
    return text.format(
        helo=checks.helo,
        client=client,
        sender=checks.sender,
        domain=domain,
        rcpt=RCPT,
        rcpt_domain=RCPT.rpartition("@")[2],
        why=why,
        identity=identity,
        scope=scope,
    )


def brief(check: Check, client: str) -> str:
    """A failing check in a few words for the first line (the long output has it all):
    ``SPF of the MAIL FROM domain: fail for 192.0.2.30 ("v=spf1 mx -all")``."""
    title = TITLES.get(check.key, check.key)
    if check.spf is not None:
        return f"{title}: {_word(check.outcome)} for {client} ({check.spf.record_words()})"
    saw = check.saw if len(check.saw) <= 80 else check.saw[:77].rstrip() + "..."
    return f"{title}: {_word(check.outcome)} ({saw})"


def sender_findings(predictions: Sequence[Prediction], checks: SenderChecks) -> list[tuple[int, str]]:
    """Notes the judgement adds for an accepted sender: a check that could not tell on
    the deciding receiver's way (WARNING: accepted, but not seen whole), an SPF softfail
    (WARNING: accepted, but counted against the message by spam filters)."""
    from check_callout.kit.states import WARNING

    found: list[tuple[int, str]] = []
    deciding = predictions[0] if predictions else None
    for check in getattr(deciding, "blind", ()):
        found.append((WARNING, f"cannot tell: {check.line()}"))
    for client in checks.clients:
        for key in ("spf_mfrom", "spf_helo"):
            check = checks.per_client[client].get(key)
            if check is None or check.spf is None:
                continue
            spf = check.spf
            if check.outcome == "softfail":
                found.append(
                    (
                        WARNING,
                        f"SPF softfail ({spf.domain} for {client}, {spf.record_words()}): "
                        "strict receivers accept it, spam filters count it against the message",
                    )
                )
            elif check.outcome == "permerror":
                found.append(
                    (
                        WARNING,
                        f"SPF permerror ({spf.domain}, {spf.record_words()}: {spf.explanation}): these "
                        "receivers accept it, one with policyd-spf's PermError_reject = True rejects it",
                    )
                )
    return list(dict.fromkeys(found))
