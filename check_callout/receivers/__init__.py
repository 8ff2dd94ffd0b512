"""Receiver profiles: each verifying receiver described as data, and its prediction.

``PROFILES`` names every profile ``--receiver`` accepts; the first one given decides
the check's state.  :func:`predict` works out every requested profile's answer from
one set of probes (:class:`~check_callout.receivers.evidence.Evidence`).
"""

from __future__ import annotations

from check_callout.receivers.profile import (
    ACCEPT,
    DEFER,
    REJECT,
    SESSION_LIMITED,
    Prediction,
    Profile,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.receiver import Decision
    from check_callout.receivers.evidence import Evidence

__all__ = [
    "ACCEPT",
    "DEFER",
    "REJECT",
    "PROFILES",
    "DEFAULT_RECEIVERS",
    "STRICT_RECEIVERS",
    "STRICT_PROFILES",
    "Prediction",
    "Profile",
    "predict",
    "profiles",
    "needs",
]

PROFILES = {
    p.name: p
    for p in [
        Profile("exim", "exim", "an Exim receiver"),
        Profile("exim:defer_ok", "exim", "an Exim receiver with callout=defer_ok", defer_ok=True),
        Profile("exim:random", "exim", "an Exim receiver with callout=random", random=True),
        Profile("exim:postmaster", "exim", "an Exim receiver with callout=postmaster", postmaster=True),
        # Postfix 3.7 defaults: smtp_mx_session_limit = 2, smtp_mx_address_limit = 5,
        # address_verify_sender = $double_bounce_sender, unverified_sender_reject_code =
        # unverified_sender_defer_code = 450
        Profile(
            "postfix",
            "postfix",
            "a Postfix receiver",
            SESSION_LIMITED,
            2,
            5,
            "double-bounce",
            reject_code=450,
            defer_code=450,
        ),
    ]
}
# The strict receivers (check_callout.receivers.strict): sender checks in their order,
# then the callout of the profile they are built on, with its settings
STRICT_PROFILES = {
    p.name: p
    for p in [
        Profile("exim:strict", "exim", "a strict Exim receiver"),
        PROFILES["postfix"]._replace(name="postfix:strict", label="a strict Postfix receiver"),
    ]
}
DEFAULT_RECEIVERS = ("exim", "postfix")
STRICT_RECEIVERS = ("exim:strict", "postfix:strict")  # the defaults when the client is known


def profiles(names: Sequence[str]) -> tuple[Profile, ...]:
    """The profiles named (each once, in order); KeyError names an unknown one."""
    return tuple(PROFILES.get(name) or STRICT_PROFILES[name] for name in dict.fromkeys(names))


def needs(chosen: Sequence[Profile]) -> tuple[bool, bool, bool]:
    """What the probes must ask for these profiles: (a random local part, postmaster,
    the non-null probe sender)."""
    return (
        any(p.random for p in chosen),
        any(p.postmaster for p in chosen),
        any(p.probe_sender for p in chosen),
    )


def predict(
    chosen: Sequence[Profile], evidence: Evidence, decision: Decision | None = None
) -> list[Prediction]:
    """Every chosen profile's answer; ``decision`` is the bare callout's, when known."""
    from check_callout.receivers.exim import predict_exim
    from check_callout.receivers.postfix import predict_postfix

    found = []
    for profile in chosen:
        if profile.family == "postfix":
            found.append(predict_postfix(profile, evidence))
        else:
            found.append(predict_exim(profile, evidence, decision))
    return found
