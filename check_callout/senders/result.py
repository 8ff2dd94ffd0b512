"""What the sender checks found, as values the receiver profiles read.

A :class:`Check` is one check's outcome (a word from a small fixed vocabulary per
check, listed in :data:`OUTCOMES`) and what it saw, in words for the long output.
:class:`SenderChecks` holds every check for one sender, per client address (a
dual-stack sender may leave over either address; each is judged).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.senders.spf import SPFResult

UNKNOWN = "unknown"  # every check: a lookup could not complete (cannot tell)
NOT_ASKED = "n/a"  # the check does not apply (a null sender has no domain)

#: every check, and the outcomes it may have (besides UNKNOWN)
OUTCOMES = {
    "helo_syntax": ("ok", "literal", "underscore", "invalid"),
    "helo_fqdn": ("ok", "short"),
    "helo_found": ("found", "none"),  # an A, AAAA or MX record (Postfix)
    "helo_client": ("match", "other", "none"),  # resolves to the client (Exim verify = helo)
    "ptr": ("found", "none"),
    "ptr_confirmed": ("confirmed", "other", "none", "loop"),  # loop: the PTR name is a CNAME loop
    "sender_fqdn": ("ok", "short", NOT_ASKED),
    "sender_domain": ("found", "none", "null_mx", NOT_ASKED),
    "spf_helo": ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"),
    "spf_mfrom": ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror", NOT_ASKED),
    # Exim's `spf` condition: the MAIL FROM identity, the HELO name's for a null sender,
    # evaluated without the void-lookup limit (libspf2 has none)
    "spf_exim": ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"),
}

TITLES = {
    "helo_syntax": "HELO syntax",
    "helo_fqdn": "HELO fully qualified",
    "helo_found": "HELO name found",
    "helo_client": "HELO name is the client",
    "ptr": "PTR",
    "ptr_confirmed": "PTR forward-confirmed",
    "sender_fqdn": "sender domain fully qualified",
    "sender_domain": "sender domain exists",
    "spf_helo": "SPF of HELO",
    "spf_mfrom": "SPF of MAIL FROM",
    "spf_exim": "SPF (Exim's view)",
}


class Check:
    """One check's ``outcome`` for one client and what it ``saw``; ``spf`` the SPF
    evaluation behind an SPF check."""

    __slots__ = ("key", "outcome", "saw", "spf")

    def __init__(self, key: str, outcome: str, saw: str, spf: SPFResult | None = None) -> None:
        self.key = key
        self.outcome = outcome
        self.saw = saw
        self.spf = spf

    def __repr__(self) -> str:
        return f"Check({self.key}: {self.outcome})"

    def line(self) -> str:
        """``reverse DNS (PTR): none - PTR 30.2.0.192.in-addr.arpa: none (NXDOMAIN)``."""
        word = "cannot tell" if self.outcome == UNKNOWN else self.outcome
        return f"{TITLES.get(self.key, self.key)}: {word} - {self.saw}"


class SenderChecks:
    """Every check for one sender: ``sender`` ("" for the null sender), ``helo``, and
    ``per_client[address][key]`` the :class:`Check` for each client address (in the
    order given); ``took`` the wall time of the checks (seconds)."""

    __slots__ = ("sender", "helo", "clients", "per_client", "took")

    def __init__(
        self, sender: str, helo: str, clients: tuple[str, ...], per_client: dict[str, dict[str, Check]]
    ) -> None:
        self.sender = sender
        self.helo = helo
        self.clients = clients
        self.per_client = per_client
        self.took = 0.0

    def __repr__(self) -> str:
        return f"SenderChecks({self.sender!r}, {self.helo!r}, {self.per_client!r})"

    def lines(self) -> list[str]:
        """The long output: one line per check (per client address when several)."""
        lines: list[str] = []
        shared: set[str] = set()
        for client in self.clients:
            checks = self.per_client[client]
            for key, check in checks.items():
                text = check.line()
                if len(self.clients) > 1 and text in shared:
                    continue
                if len(self.clients) > 1 and not _per_address(key):
                    shared.add(text)
                    lines.append(text)
                else:
                    lines.append(f"{text}" if len(self.clients) == 1 else f"[{client}] {text}")
        return lines

    @property
    def unknown(self) -> list[Check]:
        """Checks that could not tell."""
        return [c for checks in self.per_client.values() for c in checks.values() if c.outcome == UNKNOWN]


def _per_address(key: str) -> bool:
    return key in ("helo_client", "ptr", "ptr_confirmed") or key.startswith("spf_")
