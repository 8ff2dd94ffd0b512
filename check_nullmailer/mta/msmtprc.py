"""``msmtprc`` read as msmtp 1.8 reads it: which account its sendmail uses, with the
settings that account really has, or msmtp's own reason to send nothing.

What the real msmtp 1.8.23 does (``msmtp --pretend`` and the MTA lab,
contrib/lab/mtas/cases_msmtp.py), where its manual says less:

- ``account NAME : P1,P2`` copies only the settings P1, P2 *set themselves*, later
  parents winning, over the ``defaults`` in force at that line; a parent defined later
  in the file, or never, is an error ("account P not (yet) defined") and msmtp sends
  nothing.  So are an account defined twice, a line over 500 characters and an unknown
  command -- ``include`` among them: msmtp 1.8 has no include.  Loops cannot be written.
- ``account default : P`` is an account named ``default`` that inherits P (not an
  alias): lines after it set ``default``'s own values.
- Its sendmail, with no ``-a``, uses the account ``default`` and nothing else: without
  one it says "account default not found in FILE" and sends nothing.
- ``auto_from on`` wins over ``from`` wherever it stands; without ``maildomain`` the
  envelope sender is the bare user name.
- A ``defaults`` after an account does not change that account.
- Command words are case-sensitive (``From`` is unknown); ``#`` starts a comment only at
  the start of a line.
- ``eval CMD`` replaces its line with a command's output: the check does not run it, so
  an account with an ``eval`` cannot be told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LINE = 500  # msmtp 1.8.23: "line longer than 500 characters"
COMMANDS = frozenset(
    """account aliases allow_from_override auth auto_from defaults domain dsn_notify
    dsn_return eval from host logfile logfile_time_format maildomain ntlmdomain password
    passwordeval port protocol proxy_host proxy_port remove_bcc_headers set_date_header
    set_from_header set_msgid_header socket source_ip syslog timeout tls tls_cert_file
    tls_certcheck tls_crl_file tls_fingerprint tls_host_override tls_key_file
    tls_min_dh_prime_bits tls_priorities tls_starttls tls_trust_file
    undisclosed_recipients user add_missing_from_header add_missing_date_header
    tls_nocertcheck tls_force_sslv3 keepbcc""".split()
)  # every one accepted by msmtp 1.8.23 (tests/test_msmtprc.py); others are errors


class MsmtprcError(Exception):
    """msmtp refuses the file: ``str()`` is its own message (after ``FILE: ``)."""


@dataclass
class Account:
    name: str
    values: dict[str, str]  # with the defaults and parents filled in
    own: dict[str, str] = field(default_factory=dict)  # set on its own lines
    parents: tuple[str, ...] = ()
    evaluated: list[str] = field(default_factory=list)  # eval lines (not run here)


def accounts(text: str, path: str = "msmtprc") -> dict[str, Account]:
    """Every account of ``text`` as msmtp builds it; raises :class:`MsmtprcError`."""
    try:
        return _accounts(text)
    except MsmtprcError as exc:
        raise MsmtprcError(f"{path}: {exc}") from None


def _accounts(text: str) -> dict[str, Account]:
    found: dict[str, Account] = {}
    defaults = Account("defaults", {})
    current = defaults
    for number, raw in enumerate(text.split("\n"), 1):
        if len(raw) > MAX_LINE:
            raise MsmtprcError(f"line longer than {MAX_LINE} characters")
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, value = (line.split(None, 1) + [""])[:2]
        value = value.strip()
        if key not in COMMANDS:
            raise MsmtprcError(f"line {number}: unknown command {key}")
        if key == "defaults":
            current = defaults
        elif key == "account":
            current = _account(number, value, found, defaults)
            found[current.name] = current
        elif key == "eval":
            current.evaluated.append(value)
        else:
            current.values[key] = value
            current.own[key] = value
    return found


def _account(number: int, value: str, found: dict[str, Account], defaults: Account) -> Account:
    name, colon, parents = value.partition(":")
    name = name.strip()
    if not name:
        raise MsmtprcError(f"line {number}: missing account name")
    if "," in name:
        raise MsmtprcError(f"line {number}: an account name must not contain colons or commas")
    if name in found:
        raise MsmtprcError(f"line {number}: account {name} was already defined")
    account = Account(name, dict(defaults.values), evaluated=list(defaults.evaluated))
    if colon:
        account.parents = tuple(p.strip() for p in parents.split(","))
        for parent in account.parents:
            if parent not in found:
                raise MsmtprcError(f"line {number}: account {parent} not (yet) defined")
            account.values.update(found[parent].own)
            account.own.update(found[parent].own)
            account.evaluated.extend(found[parent].evaluated)
    return account


def sender_account(text: str, path: str = "msmtprc") -> Account:
    """The account msmtp's sendmail uses (``default``); raises :class:`MsmtprcError`
    with msmtp's words when it would send nothing."""
    found = accounts(text, path)
    if "default" not in found:
        raise MsmtprcError(f"account default not found in {path}")
    return found["default"]
