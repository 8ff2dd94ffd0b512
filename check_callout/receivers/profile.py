"""Receivers as data: what each verifying MTA does, and what it would answer.

A :class:`Profile` describes one receiver configuration (Exim's callout with its
options, Postfix's ``reject_unverified_sender``); a :class:`Prediction` is what that
receiver would answer its client for one sender, worked out from the probes by
:mod:`check_callout.receivers.exim` or :mod:`check_callout.receivers.postfix`.
"""

from __future__ import annotations

from collections import namedtuple

ACCEPT = "accept"
DEFER = "defer"
REJECT = "reject"

#: how MX hosts are walked: every host in order (Exim), or Postfix's smtp(8) limits
ALL_HOSTS = "all"
SESSION_LIMITED = "limited"


class Profile(
    namedtuple(
        "Profile",
        "name family label walk session_limit address_limit probe_sender defer_ok random postmaster "
        "reject_code defer_code",
        defaults=(ALL_HOSTS, 0, 0, "", False, False, False, 550, 451),
    )
):
    """One receiver configuration.

    ``walk``: :data:`ALL_HOSTS` (every MX host in order until one decides) or
    :data:`SESSION_LIMITED` (Postfix: at most ``session_limit`` SMTP sessions and
    ``address_limit`` addresses); ``probe_sender``: the probe's MAIL FROM ("" is the
    null sender, "double-bounce" Postfix's ``$double_bounce_sender`` at a domain given at
    run time); ``defer_ok``/``random``/``postmaster``: Exim's callout options;
    ``reject_code``/``defer_code``: what it answers when the sender fails or cannot be
    verified.
    """

    __slots__ = ()

    def action_of(self, code: int) -> str:
        """What a reply code means to the client that offered the sender."""
        return {2: ACCEPT, 4: DEFER, 5: REJECT}.get(code // 100, DEFER)


class Prediction:
    """What one receiver would answer for one sender.

    ``action`` is accept, defer or reject (None: cannot tell, the DNS failed or a host
    that matters did not answer in time); ``code`` and ``text`` the reply as the receiver
    would send it (``text`` may span lines); ``reason`` plain words on why; ``also`` the
    other (action, code, text) the receiver may pick, when it chooses hosts or addresses
    at random.
    """

    __slots__ = ("profile", "action", "code", "text", "reason", "also")

    def __init__(
        self,
        profile: Profile,
        action: str | None,
        code: int = 0,
        text: str = "",
        reason: str = "",
        also: tuple[tuple[str, int, str], ...] = (),
    ) -> None:
        self.profile = profile
        self.action = action
        self.code = code
        self.text = text
        self.reason = reason
        self.also = also

    def __repr__(self) -> str:
        return f"Prediction({self.profile.name!r}, {self.action!r}, {self.code}, {self.text!r})"

    @property
    def actions(self) -> list[str]:
        """Every action this receiver may take, the predicted one first."""
        found = [self.action] if self.action else []
        for action, _code, _text in self.also:
            if action not in found:
                found.append(action)
        return found

    def word(self) -> str:
        """``accept``, ``defer (450)``, ``accept or defer (450)`` (the long output's word)."""
        if self.action is None:
            return "cannot tell"
        words = []
        for action, code in [(self.action, self.code)] + [(a, c) for a, c, _t in self.also]:
            word = action if action == ACCEPT or self.profile.family == "exim" else f"{action} ({code})"
            if word not in words:
                words.append(word)
        return " or ".join(words)

    def reply(self) -> str:
        """The reply on one line: ``450 4.1.7 <x>: ...``; lines of a multi-line reply joined by " / "."""
        return f"{self.code} {' / '.join(self.text.splitlines())}".strip()
