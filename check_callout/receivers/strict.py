"""Strict receivers as data: the sender checks they run before (or beside) the
callout, in their order, with the code and text each outcome gets.

Each :class:`StrictProfile` names its exact configuration (``config``: shown by
``--help`` and written out in docs/strict.md).  Its ``steps`` are walked in order and
the first step whose check's outcome is listed decides (the receiver answers there and
asks nothing more); when no step decides, the callout profile it is built on
(``base``: ``exim`` or ``postfix``) answers.  ``unknown`` in a step is what the
receiver answers while the lookup behind the check fails: the plugin cannot tell
which way it will go, so such a prediction has no action.

Text placeholders: ``{helo}``, ``{client}``, ``{sender}``, ``{domain}`` (the sender's
domain, or the HELO name for a null sender), ``{rcpt}`` (the receiver's recipient,
unknown here: written ``recipient@receiver``; ``{rcpt_domain}`` its domain), ``{why}`` (pyspf's explanation),
``{identity}`` and ``{scope}`` (the SPF identity checked).
"""

from __future__ import annotations

from collections import namedtuple

from check_callout.receivers.profile import ACCEPT, DEFER, REJECT

UNKNOWN = "unknown"


class Step(namedtuple("Step", "check restriction answers")):
    """One check in a receiver's order: ``check`` (a key of
    :data:`check_callout.senders.result.OUTCOMES`), the ``restriction`` that runs it,
    and ``answers``: outcome -> (action, code, text); an outcome not listed passes."""

    __slots__ = ()


class StrictProfile(namedtuple("StrictProfile", "name base label config steps")):
    __slots__ = ()


# --- Postfix 3.7 with postfix-policyd-spf-python 3.0.4 (stock policyd-spf.conf) ---
_POLICYD_SPF = (
    "550",
    "5.7.23 <{rcpt}>: Recipient address rejected: Message rejected due to: {why}. "
    "Please see http://www.openspf.net/Why?s={scope};id={identity};ip={client};r={rcpt_domain}",
)
_HELO_NOT_FOUND = (DEFER, 450, "4.7.1 <{helo}>: Helo command rejected: Host not found")
_NON_FQDN_HELO = (REJECT, 504, "5.5.2 <{helo}>: Helo command rejected: need fully-qualified hostname")
_NO_PTR = (DEFER, 450, "4.7.1 Client host rejected: cannot find your reverse hostname, [{client}]")
_SENDER_NOT_FOUND = (DEFER, 450, "4.1.8 <{sender}>: Sender address rejected: Domain not found")
_SPF_REJECT = (REJECT, int(_POLICYD_SPF[0]), _POLICYD_SPF[1])

POSTFIX_STRICT = StrictProfile(
    "postfix:strict",
    "postfix",
    "a strict Postfix receiver",
    "Postfix 3.7: smtpd_recipient_restrictions = reject_non_fqdn_helo_hostname, "
    "reject_unknown_helo_hostname, reject_unknown_reverse_client_hostname, reject_non_fqdn_sender, "
    "reject_unknown_sender_domain, permit_mynetworks, reject_unauth_destination, "
    "check_policy_service unix:private/policyd-spf (postfix-policyd-spf-python, stock "
    "configuration: HELO_reject = Fail, Mail_From_reject = Fail, PermError_reject = False, "
    "TempError_Defer = False), reject_unverified_sender",
    (
        Step("helo_fqdn", "reject_non_fqdn_helo_hostname", {"short": _NON_FQDN_HELO}),
        # Postfix's valid_hostname() takes an underscore: only other characters fail here
        Step("helo_syntax", "reject_non_fqdn_helo_hostname", {"invalid": _NON_FQDN_HELO}),
        Step(
            "helo_found", "reject_unknown_helo_hostname", {"none": _HELO_NOT_FOUND, UNKNOWN: _HELO_NOT_FOUND}
        ),
        Step("ptr", "reject_unknown_reverse_client_hostname", {"none": _NO_PTR, UNKNOWN: _NO_PTR}),
        Step(
            "sender_fqdn",
            "reject_non_fqdn_sender",
            {
                "short": (
                    REJECT,
                    504,
                    "5.5.2 <{sender}>: Sender address rejected: need fully-qualified address",
                )
            },
        ),
        Step(
            "sender_domain",
            "reject_unknown_sender_domain",
            {
                "none": _SENDER_NOT_FOUND,
                "null_mx": (
                    REJECT,
                    550,
                    "5.7.27 <{sender}>: Sender address rejected: "
                    "Domain {domain} does not accept mail (nullMX)",
                ),
                UNKNOWN: _SENDER_NOT_FOUND,
            },
        ),
        # policyd-spf checks the HELO name first, for every sender, and rejects its Fail
        Step(
            "spf_helo",
            "check_policy_service (policyd-spf, HELO)",
            {"fail": _SPF_REJECT, UNKNOWN: (ACCEPT, 250, "")},
        ),
        Step(
            "spf_mfrom",
            "check_policy_service (policyd-spf, MAIL FROM)",
            {"fail": _SPF_REJECT, UNKNOWN: (ACCEPT, 250, "")},
        ),
    ),
)

# --- Exim 4.96 (exim4-daemon-heavy, libspf2 1.2.10), the RCPT ACL in docs/strict.md ---
_EXIM_HELO = (
    REJECT,
    550,
    "HELO/EHLO name {helo} does not resolve to your address {client}",
)
_EXIM_REVERSE = (REJECT, 550, "no forward-confirmed reverse DNS for {client}")
_EXIM_SPF_FAIL = (
    REJECT,
    550,
    "[SPF] {client} is not allowed to send mail from {domain}. "
    "Please see http://www.open-spf.org/Why?scope={scope};identity={identity};ip={client}",
)
_EXIM_SPF_DEFER = (DEFER, 451, "Temporary DNS error while checking SPF record. Try again later.")
# Exim's own words for a `verify` that defers (no message of the ACL's): seen on Exim
# 4.96 for a PTR name that is a CNAME loop
_EXIM_TEMPORARY = (DEFER, 451, "Temporary local problem - please try later")
_EXIM_SYNTAX = (REJECT, 501, "Syntactically invalid EHLO argument(s)")

EXIM_STRICT = StrictProfile(
    "exim:strict",
    "exim",
    "a strict Exim receiver",
    "Exim 4.96 (exim4-daemon-heavy, SPF by libspf2), acl_smtp_rcpt: deny !verify = helo; "
    "deny !verify = reverse_host_lookup; deny spf = fail; defer spf = temperror; "
    "require verify = sender/callout",
    (
        Step(
            "helo_syntax",
            "EHLO syntax check (helo_allow_chars unset)",
            {"underscore": _EXIM_SYNTAX, "invalid": _EXIM_SYNTAX},
        ),
        Step(
            "helo_client",
            "verify = helo",
            {
                "other": _EXIM_HELO,
                "none": _EXIM_HELO,
                UNKNOWN: _EXIM_TEMPORARY,
            },
        ),
        Step(
            "ptr_confirmed",
            "verify = reverse_host_lookup",
            {
                "none": _EXIM_REVERSE,
                "other": _EXIM_REVERSE,
                "loop": _EXIM_TEMPORARY,
                UNKNOWN: _EXIM_TEMPORARY,
            },
        ),
        # Exim's spf condition checks MAIL FROM; only a null sender's HELO name
        Step(
            "spf_exim",
            "spf = fail / spf = temperror",
            {"fail": _EXIM_SPF_FAIL, "temperror": _EXIM_SPF_DEFER, UNKNOWN: _EXIM_SPF_DEFER},
        ),
    ),
)

STRICT = {p.name: p for p in (EXIM_STRICT, POSTFIX_STRICT)}
STRICT_DEFAULT = ("exim:strict", "postfix:strict")


EXIM_LINE = 75


def exim_lines(text: str) -> str:
    """An ACL message as Exim sends it: a line longer than 75 characters is broken at
    its last space between columns 35 and 75 (none there: at the first space after; none
    at all: it stays whole), each line becoming one ``550-`` line of the reply.  Seen on
    Exim 4.96 (the lab's strict receiver): ``[SPF] 192.0.2.102 is not allowed to send mail
    from fail.spf.test. Please`` / ``see http://www.open-spf.org/Why?scope=...`` (86
    characters, its only space too early to break at)."""
    lines = []
    for line in text.split("\n"):
        while len(line) > EXIM_LINE:
            cut = line.rfind(" ", 35, EXIM_LINE + 1)
            if cut < 0:
                cut = line.find(" ", EXIM_LINE + 1)
                if cut < 0:
                    break
            lines.append(line[:cut])
            line = line[cut + 1 :]
        lines.append(line)
    return "\n".join(lines)


def step_order(name: str) -> list[str]:
    """The checks of a strict profile in order, with the callout last (docs, tests)."""
    profile = STRICT[name]
    callout = "verify = sender/callout" if profile.base == "exim" else "reject_unverified_sender"
    return [step.restriction for step in profile.steps] + [callout]
