"""--local against queue listings it cannot understand, messages too long to read whole,
and an Exim queue of a million messages (issue 17, classes 2 and 3).

Fake ``postqueue`` and ``exim4`` programs (and a ``sudo`` that runs its command, for
``--sudo``) first in PATH print what the case needs; the plugin runs as a real process
and its peak RSS is measured from outside.  The Exim listings follow what Exim 4.96
prints (tests/data/nullmailer/exim-bp*.txt, captured from the real program).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.hostile import FIRST_LINE, STATES, measure
from tests.support.processes import fake_tool, plugin_env
from tests.support.relay_servers import smtp_server
from tests.support.servers import DNSTestServer
from tests.test_hostile_queue import ZONE, local_run

DATA = Path(__file__).parent / "data" / "nullmailer"
CALLOUT_451 = "host mx.example.net[192.0.2.25] said: 451 4.7.1 Sender verify failed"


@pytest.fixture(scope="module")
def receiver():
    """example.com's MX on loopback accepts postmaster: the origin part is OK."""
    with smtp_server(lambda phase, address: "") as (port, _handler), DNSTestServer(ZONE) as dns:
        yield [*dns.args, "-p", str(port)]


def state_of(out: str) -> int:
    match = FIRST_LINE.match(out.split("\n", 1)[0])
    assert match, out
    return STATES[match.group("state")]


def printing(text: str, code: int = 0, stderr: str = "") -> str:
    """A fake tool that prints ``text`` (and ``stderr``) and exits ``code``."""
    quoted = text.replace("'", "'\\''")
    err = stderr.replace("'", "'\\''")
    return f"#!/bin/sh\nprintf '%s' '{quoted}'\nprintf '%s' '{err}' >&2\nexit {code}\n"


def deferred_json(queue_id: str, recipients: int = 1, reason: str = CALLOUT_451) -> str:
    item = {
        "queue_name": "deferred",
        "queue_id": queue_id,
        "arrival_time": 1700000000,
        "message_size": 321,
        "forced_expire": False,
        "sender": "www-data@web1.example.test",
        "recipients": [
            {"address": f"user{i}@example.net", "delay_reason": reason} for i in range(recipients)
        ],
    }
    return json.dumps(item) + "\n"


# --------------------------------------------------------------------------- postqueue -j


@pytest.mark.parametrize(
    "case, listing",
    [
        # an older Postfix, or a wrapper, printing the text listing: no JSON at all
        ("no-json", (DATA / "postqueue-p.txt").read_text()),
        # some lines JSON, one not: the listing is not what the reader knows
        ("one-line-not-json", deferred_json("A1") + "postqueue: warning: odd\n" + deferred_json("A2")),
        ("a-json-array", "[1, 2, 3]\n"),
    ],
)
def test_a_postqueue_listing_that_does_not_parse_is_could_not_read(tmp_path, receiver, case, listing):
    run = local_run(tmp_path, receiver, printing(listing), timeout=6)
    assert run.code == 1 and state_of(run.stdout) == 1, run
    assert "[warning] queue: could not read it, cannot tell whether mail is stuck" in run.stdout, run
    assert "not a message in JSON" in run.stdout, run
    assert "[ok] envelope origin" in run.stdout, run  # the other parts keep their verdicts


def test_a_deferred_message_too_long_to_read_whole_is_counted(tmp_path, receiver):
    """5000 recipients make one line of about 500 KiB (over the 64 KiB line limit): the
    message is counted, and its callout deferral read from the part kept."""
    listing = deferred_json("SHORT1") + deferred_json("HUGE", recipients=5000) + deferred_json("SHORT2")
    assert len(listing) > 400_000
    run = local_run(tmp_path, receiver, printing(listing), timeout=6)
    line = run.stdout.split("\n", 1)[0]
    assert run.code == 2, run
    assert "3 queued messages deferred by sender verify callouts" in line, line
    assert "3 messages, 3 deferred" in run.stdout, run
    assert "longer than 64 KiB: counted" in run.stdout, run


def test_a_failing_postqueue_is_never_ok_whatever_it_says(tmp_path, receiver):
    """The tool's own words cannot make a queue that could not be read look like one not
    read by design ("queue is not supported", "under another root is not read")."""
    script = printing("", 1, "postqueue: fatal: the queue is not supported here\n")
    run = local_run(tmp_path, receiver, script, timeout=6)
    assert run.code == 1 and state_of(run.stdout) == 1, run
    assert "[warning] queue: could not read it" in run.stdout, run


# --------------------------------------------------------------------------- exim -bp

EXIM_CONF = "primary_hostname = web1.example.com\nqualify_domain = example.com\n"
MSGLOG = (
    "2026-11-27 13:00:36 callout@rx.example.org R=smarthost T=remote_smtp defer (-44) "
    "H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT TO:<callout@rx.example.org>: "
    "451 Could not complete sender verify callout\n"
)


def exim_script(listing_command: str) -> str:
    """A fake exim4: ``-Mvl ID`` prints a callout deferral, ``-bp`` runs
    ``listing_command``, anything else (``-bP``) fails."""
    log = MSGLOG.replace("'", "'\\''")
    return (
        "#!/bin/sh\n"
        'for arg in "$@"; do\n'
        f"  if [ \"$arg\" = -Mvl ]; then printf '%s' '{log}'; exit 0; fi\n"
        '  if [ "$arg" = -bp ]; then break; fi\n'
        '  if [ "$arg" = -bP ]; then exit 1; fi\n'
        "done\n"
        f"{listing_command}\n"
    )


def exim_listing(text: str, code: int = 0) -> str:
    quoted = text.replace("'", "'\\''")
    return exim_script(f"printf '%s' '{quoted}'\nexit {code}")


# a million messages as exim -bp lists them (awk: no Python start-up; ids of Exim 4.96)
EXIM_MILLION = exim_script(
    r"""exec awk -v n=1000000 'BEGIN {
  for (i = 0; i < n; i++)
    printf "%3dh   317 1xW%03d-%06d-0E <www-data@web1.example.test>\n          user@example.net\n\n", \
      1 + i % 48, i % 1000, i
}'"""
)

# a tool run through "sudo -n -- ARGV": it notes that it was used, then runs ARGV
SUDO = (
    '#!/bin/sh\ntouch "$(dirname "$0")/sudo-was-used"\n'
    '[ "$1" = -n ] && shift\n[ "$1" = -- ] && shift\nexec "$@"\n'
)


def exim_run(tmp_path: Path, receiver: list[str], script: str, *extra: str, timeout: int = 6):
    root = tmp_path / "root"
    conf = root / "etc" / "exim4" / "exim4.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(EXIM_CONF)
    (root / "proc" / "net").mkdir(parents=True, exist_ok=True)
    (root / "proc" / "net" / "tcp").write_text(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    )
    fake_tool(tmp_path / "bin", "exim4", script)
    fake_tool(tmp_path / "bin", "sudo", SUDO)
    argv = ["-m", "check_nullmailer.plugin", "--local", "--root", str(root), "--mta", "exim"]
    argv += ["--exim-config", str(conf), *extra]
    environment = plugin_env(PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    return measure([sys.executable, *argv, *receiver, "-t", str(timeout)], 90, env=environment)


def exim_bp_text() -> str:
    return (DATA / "exim-bp.txt").read_text()


@pytest.mark.parametrize("sudo", [False, True], ids=["direct", "through-sudo"])
@pytest.mark.parametrize(
    "case, listing",
    [
        ("a-sentence", "Mail queue is being rebuilt, try again later\n"),
        ("a-line-between-messages", exim_bp_text() + "exim: warning: lost track of something\n"),
        ("a-header-line-cut", " 3m   317 1xWvZ0-0001Zx-0E\n"),
        ("an-endless-line", "x" * 200_000 + "\n"),
    ],
)
def test_an_exim_listing_in_no_known_format_is_could_not_read(tmp_path, receiver, case, listing, sudo):
    run = exim_run(tmp_path, receiver, exim_listing(listing), *(["--sudo"] if sudo else []))
    assert state_of(run.stdout) == 1 and run.code == 1, run
    assert "[warning] queue: could not read it, cannot tell whether mail is stuck" in run.stdout, run
    assert "exim -bp printed a line in no known format" in run.stdout, run
    assert (tmp_path / "bin" / "sudo-was-used").exists() == sudo


def test_an_exim_listing_that_ends_with_an_error_is_could_not_read(tmp_path, receiver):
    run = exim_run(tmp_path, receiver, exim_listing(exim_bp_text(), code=1))
    assert state_of(run.stdout) == 1, run
    assert "exim -bp failed (exit status 1) after listing 4 messages" in run.stdout, run


@pytest.mark.parametrize("sudo", [False, True], ids=["direct", "through-sudo"])
def test_an_exim_listing_read_whole_is_counted_exactly(tmp_path, receiver, sudo):
    run = exim_run(tmp_path, receiver, exim_listing(exim_bp_text()), *(["--sudo"] if sudo else []))
    assert run.code == 2, run
    line = run.stdout.split("\n", 1)[0]
    assert "4 queued messages deferred by sender verify callouts" in line and "at least" not in line, line
    assert "queue (exim -bp): 4 messages, 4 deferred" in run.stdout, run


def test_an_exim_message_whose_spool_file_exim_cannot_read_is_counted(tmp_path, receiver):
    """Exim 4.96 lists such a message as its id and a "spool format error" line."""
    run = exim_run(tmp_path, receiver, exim_listing((DATA / "exim-bp-spool-error.txt").read_text()))
    assert "queue (exim -bp): 3 messages, 3 deferred" in run.stdout, run
    assert "1 messages whose spool file Exim cannot read" in run.stdout and "1xYzxX-0000ZZ-1L" in run.stdout


def test_a_million_exim_messages_are_streamed_and_capped(tmp_path, receiver):
    run = exim_run(tmp_path, receiver, EXIM_MILLION, timeout=30)
    assert run.code == 2, run
    assert "at least 100000 messages, at least 100000 deferred" in run.stdout, run
    assert "reading stopped after 100000 messages (at least that many)" in run.stdout, run
    assert "reasons read for the 200 oldest of at least 100000 messages only" in run.stdout, run
    assert run.maxrss_kb < 100 * 1024, f"peak RSS {run.maxrss_kb} KiB"


def test_an_endless_exim_message_log_is_read_in_part(tmp_path, receiver):
    """exim -Mvl of a message deferred a million times: the log is streamed and read up to
    its first 10000 lines (before: read whole, about 200 MB for each message)."""
    line = MSGLOG.strip().replace('"', '\\"')
    script = (
        "#!/bin/sh\n"
        'for arg in "$@"; do\n'
        '  if [ "$arg" = -Mvl ]; then\n'
        f"    exec awk 'BEGIN {{ for (i = 0; i < 1000000; i++) print \"{line}\" }}'\n"
        "  fi\n"
        '  if [ "$arg" = -bp ]; then break; fi\n'
        '  if [ "$arg" = -bP ]; then exit 1; fi\n'
        "done\n"
        f"printf '%s' '{exim_bp_text()}'\n"
    )
    run = exim_run(tmp_path, receiver, script, timeout=20)
    assert run.code == 2, run
    assert "4 queued messages deferred by sender verify callouts" in run.stdout.split("\n", 1)[0], run
    assert run.maxrss_kb < 100 * 1024, f"peak RSS {run.maxrss_kb} KiB"
