"""Exposure service by service: the listening sockets of now against the SMTP servers the
MTA's configuration runs (a Postfix master.cf service each), and what the configuration
will open on the next start.

- a public socket served by a service that relays for strangers: CRITICAL, naming the
  service and the setting (an ``-o`` override of master.cf included);
- a public socket served by a Postfix smtpd that exits at start (no restriction refuses
  foreign recipients): WARNING, the service is broken (Postfix closes every connection
  and clients wait for a greeting that never comes) and nothing is relayed;
- a service that will listen beyond loopback but does not now (Postfix stopped, or not
  yet reloaded): WARNING "will expose it on the next start" (also with
  ``--allow-listen`` when that service would relay for strangers);
- a public socket served by a service whose relay setting was not evaluated (a table in
  ``mynetworks``): WARNING, also with ``--allow-listen``;
- master.cf could not be read: never OK, the services are not known (WARNING).
"""

from __future__ import annotations

from typing import Any

from check_callout.kit.states import CRITICAL, OK, WARNING
from check_nullmailer.mta.base import RELAY_NETWORKS, RELAY_OPEN, RELAY_UNKNOWN, MTAInfo, ServiceInfo

_RELAYS = (RELAY_OPEN, RELAY_NETWORKS)


def _named(info: MTAInfo, service: ServiceInfo) -> str:
    """``Postfix`` alone when main.cf alone decides, else ``Postfix service NAME``."""
    if service.plain and len(info.services) == 1:
        return info.label
    return f"{info.label} service {service.name}"


def _colon(info: MTAInfo, service: ServiceInfo) -> str:
    return " " if service.plain and len(info.services) == 1 else ": "


def judge_services(
    info: MTAInfo, public: list[Any], listeners: list[Any], allow_listen: bool
) -> tuple[int, str]:
    """The state and words for an MTA whose SMTP services are known one by one.

    ``public`` and ``listeners`` are :class:`~check_nullmailer.exposure.Listener` lists
    (the public ones, and all on the ports looked at)."""
    label = info.label
    served: list[tuple[Any, ServiceInfo]] = [
        (sock, service)
        for sock in public
        for service in info.services
        if service.serves(sock.address, sock.port)
    ]
    relaying = [(sock, s) for sock, s in served if s.relay in _RELAYS and not s.fatal]
    if relaying:
        sock, service = relaying[0]
        where = ", ".join(sorted({str(sock) for sock, s in relaying}))
        return (
            CRITICAL,
            f"listening on {where} and {_named(info, service)}{_colon(info, service)}{service.relay_text}",
        )
    broken = [(sock, s) for sock, s in served if s.fatal]
    if broken:
        sock, service = broken[0]
        return (
            WARNING,
            f"listening on {sock}, but {_named(info, service)}: {service.fatal} (nothing relayed)",
        )
    bound = {(sock.address, sock.port) for sock in public}
    later = [
        s for s in info.services if s.public and not any(s.serves(addr, port) for addr, port in bound)
    ]  # fmt: skip
    later_open = [s for s in later if s.relay == RELAY_OPEN and not s.fatal]
    unknown = [(sock, s) for sock, s in served if s.relay == RELAY_UNKNOWN]
    if unknown:  # listening is allowed, relaying is not: a verdict not reached is not OK
        sock, service = unknown[0]
        return (
            WARNING,
            f"listening on {sock}; {_named(info, service)}: relay not evaluated: {service.relay_text}",
        )
    if public:
        where = ", ".join(str(item) for item in public[:4])
        if allow_listen:
            return OK, f"listening on {where} (allowed)"
        return WARNING, f"listening on {where}"
    where = ", ".join(str(item) for item in listeners)
    ports = ", ".join(
        str(port) for port in sorted({25, 465, 587} | {s.port for s in info.services if s.port})
    )
    hint = f"listens on loopback only ({where})" if where else f"not listening on {ports}"
    if later_open or (later and not allow_listen):
        first = (later_open or later)[0]
        said = info.listen_text if first.plain and len(info.services) == 1 else f"service {first.name}"
        text = f"{hint} now, but {label}'s configuration ({said}) will expose it on the next start"
        if later_open:
            text += f", an open relay: {first.relay_text}"
        return WARNING, text
    return OK, hint
