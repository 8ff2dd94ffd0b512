"""What the probes saw for one sender, as every receiver profile reads it."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from check_callout.net.routes import Route
    from check_callout.receiver import Outcome


class Evidence:
    """The route of the sender's domain and, per server address, the outcome of each
    question asked there: ``answers[address][(mail_from, recipient)]``.

    ``random`` and ``postmaster`` are the extra recipients asked with the null sender
    (empty when not asked); ``postfix_sender`` the non-null probe sender ("" when not
    asked)."""

    __slots__ = ("sender", "route", "answers", "random", "postmaster", "postfix_sender", "mail_from")

    def __init__(
        self,
        sender: str,
        route: Route,
        answers: Mapping[str, Mapping[tuple[str, str], Outcome]],
        random: str = "",
        postmaster: str = "",
        postfix_sender: str = "",
        mail_from: str = "",
    ) -> None:
        self.sender = sender
        self.route = route
        self.answers = answers
        self.random = random
        self.postmaster = postmaster
        self.postfix_sender = postfix_sender
        self.mail_from = mail_from  # the callout's own MAIL FROM (the null sender by default)

    def outcomes(self, rcpt: str, mail_from: str | None = None) -> dict[str, Outcome]:
        """Server address -> outcome of ``MAIL FROM:<mail_from> RCPT TO:<rcpt>`` there
        (the callout's own MAIL FROM when ``mail_from`` is None)."""
        if mail_from is None:
            mail_from = self.mail_from
        found = {}
        for address, asked in self.answers.items():
            outcome = asked.get((mail_from, rcpt))
            if outcome is not None:
                found[address] = outcome
        return found
