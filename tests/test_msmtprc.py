# ruff: noqa: E501  (one msmtprc a line: the configurations read as written)
"""msmtprc read as msmtp reads it (check_nullmailer/mta/msmtprc.py), each rule against
the real msmtp: ``msmtp --pretend`` prints the account it would use, or refuses the file,
without connecting anywhere.  (What it then really sends is the MTA lab's table,
contrib/lab/mtas/cases_msmtp.py, tests/lab/test_mta_origin.py.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from check_nullmailer.mta import msmtp
from check_nullmailer.mta.msmtprc import COMMANDS, MsmtprcError, sender_account
from tests.support.relay_servers import write

PREFIX = Path(os.environ.get("MTA_LAB_PREFIX", "/opt/ccmta"))
MSMTP = PREFIX / "msmtp/usr/bin/msmtp"
real_msmtp = pytest.mark.skipif(not MSMTP.exists(), reason=f"msmtp is not unpacked at {MSMTP}")

CONFIGS = {
    "inherits": "account relay\nhost h\nfrom a@relay.test\naccount default : relay\n",
    "colon-without-space": "account relay\nhost h\nfrom a@relay.test\naccount default: relay\n",
    "undefined-parent": "account default : relay\nhost h\nfrom a@x.test\n",
    "parent-defined-later": "account default : relay\naccount relay\nhost h\nfrom a@x.test\n",
    "one-parent-undefined": "account relay\nhost h\nfrom a@relay.test\naccount default : relay,other\n",
    "two-parents-later-wins": "account a\nhost h1\nfrom a@a.test\naccount b\nhost h2\nfrom b@b.test\naccount default : a,b\n",
    "own-lines-win": "account relay\nhost h\nfrom a@relay.test\naccount default : relay\nfrom d@d.test\n",
    "own-lines-leave-the-parent": "account relay\nhost h\nfrom a@relay.test\naccount default : relay\nfrom d@d.test\n"
    "account x : relay\n",
    "copies-only-own-settings": "defaults\nfrom x@old.test\naccount relay\nhost h\ndefaults\nfrom y@new.test\n"
    "account default : relay\n",
    "grandparent": "account a\nhost h\nfrom a@a.test\naccount b : a\naccount default : b\n",
    "later-defaults-change-nothing": "account default\nhost h\nfrom a@a.test\ndefaults\nfrom z@z.test\n",
    "self-parent": "account default : default\nhost h\n",
    "duplicate": "account default\nhost h\nfrom a@a.test\naccount default\nfrom b@b.test\n",
    "no-default": "account relay\nhost h\nfrom a@relay.test\n",
    "include": "account default\nhost h\ninclude /nonexistent\n",
    "case-sensitive": "account default\nhost h\nFrom a@a.test\n",
    "long-line": "account default\nhost h\nfrom a@a.test" + " " * 500 + "\n",
    "indented-and-tabs": "  account default\n\thost h\n  # a comment\n\tfrom\ta@a.test\n",
    "auto-from-wins": "account default\nhost h\nfrom x@y.test\nauto_from on\nmaildomain m.test\n",
    "no-from": "account default\nhost h\n",
}


def pretend(tmp_path: Path, text: str) -> tuple[str, str]:
    """What the real msmtp says of ``text``: ("from", VALUE), or ("error", MESSAGE)."""
    rc = tmp_path / "msmtprc"
    rc.write_text(text)
    rc.chmod(0o600)
    done = subprocess.run(
        [str(MSMTP), "-C", str(rc), "--pretend", "rcpt@example.test"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    m = re.search(r"^msmtp: (.*)$", done.stderr, re.MULTILINE)
    if m:
        return "error", m.group(1).replace(str(rc), "FILE")
    m = re.search(r"^from = (.*)$", done.stdout, re.MULTILINE)
    assert m, done.stdout + done.stderr
    return "from", m.group(1)


def ours(text: str) -> tuple[str, str]:
    try:
        account = sender_account(text, "FILE")
    except MsmtprcError as exc:
        return "error", str(exc)
    return "from", account.values.get("from", "(not set)")


@real_msmtp
@pytest.mark.parametrize("name", CONFIGS)
def test_the_account_msmtp_uses(tmp_path, name):
    text = CONFIGS[name]
    assert ours(text) == pretend(tmp_path, text) or name in ("auto-from-wins", "no-from")


@real_msmtp
def test_auto_from_and_no_from_as_msmtp(tmp_path):
    assert pretend(tmp_path, CONFIGS["auto-from-wins"]) == ("from", "root@m.test")  # auto_from wins
    assert sender_account(CONFIGS["auto-from-wins"]).values["auto_from"] == "on"
    assert pretend(tmp_path, CONFIGS["no-from"]) == ("from", "(not set)")
    assert "from" not in sender_account(CONFIGS["no-from"]).values


@real_msmtp
def test_every_command_we_accept_msmtp_accepts(tmp_path):
    for command in sorted(COMMANDS - {"account", "defaults"}):
        kind, said = pretend(tmp_path, f"account default\nhost h\n{command} x\n")
        assert "unknown command" not in said, command


def test_the_verdicts(tmp_path):
    def verdict(text: str) -> tuple[str | None, str]:
        write(tmp_path, "/etc/msmtprc", text)
        info = msmtp.read_config(str(tmp_path))
        return info.origin, info.refuses or "; ".join(info.notes)

    origin, words = verdict(CONFIGS["undefined-parent"])
    assert origin is None and "sends nothing: sendmail says '" in words
    assert "line 1: account relay not (yet) defined" in words
    origin, words = verdict(CONFIGS["no-default"])
    assert origin is None and "account default not found in " in words
    origin, words = verdict("account default\nhost h\nauto_from on\n")
    assert origin is None and words.startswith("sends MAIL FROM:<user> with no @domain")
    origin, words = verdict("account default\nhost h\neval echo from a@a.test\n")
    assert origin is None and "eval" in words and "cannot be told" in words
    origin, words = verdict(CONFIGS["inherits"])
    assert origin == "relay.test" and words == ""
