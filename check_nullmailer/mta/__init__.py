"""The MTAs the local audit knows, one module each, and the registry over them.

Each module (``postfix``, ``exim``, ``nullmailer``, ``ssmtp``, ``msmtp``, ``dma``,
``opensmtpd``) reads that MTA's configuration and queue and knows the fix to suggest;
it hands the audit one :class:`~check_nullmailer.mta.base.MTA`.  This module finds
which one sends from this host (:func:`detect`) and reads it (:func:`read_config`,
:func:`read_queue`).
"""

from __future__ import annotations

import os

from check_nullmailer.host import under
from check_nullmailer.mta.base import MTA, MTAInfo, QueueReport, Sources
from check_nullmailer.mta.dma import DMA
from check_nullmailer.mta.exim import EXIM
from check_nullmailer.mta.msmtp import MSMTP
from check_nullmailer.mta.nullmailer import NULLMAILER
from check_nullmailer.mta.opensmtpd import OPENSMTPD
from check_nullmailer.mta.postfix import POSTFIX
from check_nullmailer.mta.ssmtp import SSMTP

REGISTRY: dict[str, MTA] = {m.name: m for m in (POSTFIX, EXIM, NULLMAILER, SSMTP, MSMTP, DMA, OPENSMTPD)}
MTAS = tuple(REGISTRY)
LABELS = {name: m.label for name, m in REGISTRY.items()}


class NoMTA(Exception):
    """No supported MTA was found."""


def installed(root: str = "/") -> list[str]:
    """The MTAs whose configuration exists under ``root``, in :data:`MTAS` order."""
    return [name for name, m in REGISTRY.items() if any(os.path.exists(under(root, p)) for p in m.markers)]


# Words inside a /usr/sbin/sendmail that is a regular file, not a symlink to its MTA.
_SIGNATURES = ((b"nullmailer-queue", "nullmailer"), (b"postdrop", "postfix"))
_MAX_BINARY = 8 * 1024 * 1024


def sendmail_mta(root: str = "/") -> str | None:
    """The MTA that ``/usr/sbin/sendmail`` really is: by the file it resolves to (Exim,
    msmtp, ssmtp, dma, OpenSMTPD install symlinks), else by the binary's own words
    (nullmailer and Postfix install a program called sendmail)."""
    path = under(root, "/usr/sbin/sendmail")
    try:
        target = os.path.realpath(path)
    except OSError:
        return None
    base = os.path.basename(target)
    for name, m in REGISTRY.items():
        if base != "sendmail" and (m.sendmail_hint in base or f"/{m.sendmail_hint}" in target):
            return name
    from check_callout.kit.files import CouldNotRead, read_bytes

    try:  # only its words matter: the start of a big binary is enough by design
        data = read_bytes(target, limit=_MAX_BINARY, prefix=True)
    except CouldNotRead:
        return None
    return next((name for word, name in _SIGNATURES if word in data), None)


def detect(root: str = "/") -> tuple[str, list[str]]:
    """The MTA that sends from this host, and the others whose files were found.

    ``/usr/sbin/sendmail`` decides: an MTA removed but not purged leaves its
    configuration behind, and that must not be trusted over the MTA installed now.
    Only when sendmail is missing or unknown do the configuration files decide.
    """
    found = installed(root)
    chosen = sendmail_mta(root)
    if chosen:
        return chosen, [name for name in found if name != chosen]
    if not found:
        raise NoMTA(f"no MTA configuration found under {root} (looked for {', '.join(LABELS.values())})")
    return found[0], found[1:]


def read_config(
    mta: str,
    root: str = "/",
    *,
    postfix_config: str | None = None,
    exim_config: str | None = None,
    deadline: float | None = None,
) -> MTAInfo:
    """Read one MTA's configuration (never raises for missing files)."""
    return REGISTRY[mta].read_config(Sources(root, postfix_config, exim_config, deadline))


def read_queue(
    mta: str,
    root: str = "/",
    *,
    postfix_config: str | None = None,
    exim_config: str | None = None,
    deadline: float | None = None,
    sudo: bool = False,
) -> QueueReport:
    """The queue of ``mta``; raises :class:`~check_nullmailer.mta.base.QueueUnavailable`."""
    return REGISTRY[mta].read_queue(Sources(root, postfix_config, exim_config, deadline, sudo))
