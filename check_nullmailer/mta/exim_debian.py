"""Debian's Exim packaging: ``update-exim4.conf.conf`` (the ``dc_*`` values that
``update-exim4.conf`` turns into the generated configuration) and what that generated
configuration makes Exim do, as the lab saw it."""

from __future__ import annotations

import os

from check_nullmailer.host import read_text, under


def read_debian_conf(root: str) -> dict[str, str]:
    """The ``dc_*`` values of Debian's ``update-exim4.conf.conf``; raises OSError."""
    path = under(root, "/etc/exim4/update-exim4.conf.conf")
    values: dict[str, str] = {}
    for line in read_text(path).splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().startswith("dc_"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def debian_refusal(root: str, debian: dict[str, str], values: dict[str, str]) -> str:
    """What Debian's generated configuration makes Exim do instead of relaying, or ""."""
    generated = debian and not os.path.exists(under(root, "/etc/exim4/exim4.conf"))
    if generated and debian.get("dc_eximconfig_configtype") == "local":
        return (
            "sends nothing: dc_eximconfig_configtype = local delivers on this host only (mail to "
            "other domains bounces); choose 'satellite' or 'smarthost' (dpkg-reconfigure exim4-config)"
        )
    if "qualify_domain" in values and not values["qualify_domain"].strip():
        # Debian's template takes qualify_domain from /etc/mailname when update-exim4.conf
        # runs; without that file it is empty and Exim sends MAIL FROM:<www-data@>.
        return (
            "sends MAIL FROM:<user@> with no domain: qualify_domain is empty"
            + (" (/etc/mailname was missing when update-exim4.conf ran)" if generated else "")
            + "; write the mail domain into /etc/mailname and run update-exim4.conf"
        )
    return ""
