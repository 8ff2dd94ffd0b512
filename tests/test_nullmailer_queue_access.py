"""Queue listings of OpenSMTPD, nullmailer's and dma's mailq, --sudo, and what the
monitoring user is told when a file is closed to it.  The samples are the real tools'
output in the lab (tests/lab/test_mta_queues.py runs the tools themselves)."""

from __future__ import annotations

import os
import subprocess
import time

import nagiosplugin
import pytest

from check_nullmailer import access, host
from check_nullmailer.local import QueueUnread
from check_nullmailer.local_judge import QueueUnreadContext
from check_nullmailer.mta import base, dma, nullmailer, opensmtpd

# smtpctl show queue after the smarthost answered 451 (OpenSMTPD 6.8, Debian 12)
SHOW_QUEUE = (
    "3a212950e8316a65|local|mta|auth|www-data@web1.example.test|someone@dest.test|someone@dest.test"
    "|1796179932|1796179932|0|1|pending|400|451 Could not complete sender verify callout\n"
)


def test_show_queue_deferred_by_a_callout() -> None:
    [msg] = opensmtpd.parse_show_queue(SHOW_QUEUE, now=1796180032)
    assert (msg.queue_id, msg.queue, msg.sender) == ("3a212950", "deferred", "www-data@web1.example.test")
    assert msg.age == 100 and msg.callout
    report = base.summarize([msg], "smtpctl show queue")
    assert (report.deferred, report.callout_deferred) == (1, 1)


def test_show_queue_groups_envelopes_and_skips_untried() -> None:
    second = SHOW_QUEUE.replace("3a212950e8316a65", "3a212950aaaaaaaa").replace("someone@", "other@")
    fresh = "0badc0de00000001|local|mta|auth|a@b.test|c@d.test|c@d.test|1796180030|0|0|0|inflight|0|\n"
    messages = opensmtpd.parse_show_queue(SHOW_QUEUE + second + fresh + "garbage|line\n", now=1796180032)
    assert [(m.queue_id, m.queue, len(m.reasons)) for m in messages] == [
        ("3a212950", "deferred", 2),
        ("0badc0de", "incoming", 0),
    ]


def test_nullmailer_mailq() -> None:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 120))
    text = f"{when} 324 bytes from <www-data@web1.example.test>\n  to <someone@dest.test>\n"
    [msg] = nullmailer.parse_mailq(text)
    assert msg.queue == "deferred" and msg.sender == "www-data@web1.example.test"
    assert 110 < (msg.age or 0) < 200


def test_dma_mailq() -> None:
    text = "ID\t: 21.558b5b6deb30\nFrom\t: www-data@web1.example.test\nTo\t: someone@dest.test\n"
    [msg] = dma.parse_mailq(text)
    assert (msg.queue_id, msg.queue, msg.sender) == (
        "21.558b5b6deb30",
        "deferred",
        "www-data@web1.example.test",
    )
    assert dma.parse_mailq("Mail queue is empty\n") == []


def test_sudo_wraps_only_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(host.subprocess, "run", fake_run)
    host.run_command(["/usr/sbin/smtpctl", "show", "queue"], None, sudo=True)
    host.run_command(["/usr/sbin/smtpctl", "show", "queue"], None)
    assert seen[0][1:] == ["-n", "--", "/usr/sbin/smtpctl", "show", "queue"]
    assert seen[0][0].endswith("sudo")
    assert seen[1] == ["/usr/sbin/smtpctl", "show", "queue"]


def test_needs_sudo_words() -> None:
    refused = access.needs_sudo("/usr/sbin/exim4 -bp", "sudo: a password is required\n", sudo=True)
    assert "sudo: a password is required" in refused and access.SUDOERS in refused
    plain = access.needs_sudo("/usr/sbin/smtpctl show queue", "smtpctl: need root privileges\n", sudo=False)
    assert plain.endswith(f"need root privileges; run with --sudo (and {access.SUDOERS})")


def test_unreadable_names_mode_owner_and_grant(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "dma.conf")
    with open(path, "w") as handle:
        handle.write("MASQUERADE example.test\n")
    os.chmod(path, 0o640)
    note = access.unreadable(path, PermissionError(13, "Permission denied"))
    assert note.startswith(f"cannot read {path}: Permission denied; {path} (0640 ")
    assert f"setfacl -m u:{access.user_name()}:r {path}" in note
    assert access.unreadable(path, FileNotFoundError(2, "No such file or directory")).endswith(
        "No such file or directory"
    )


@pytest.mark.parametrize(
    ("reason", "state"),
    [
        ("/usr/sbin/exim4 -bp as nagios: exim: permission denied; run with --sudo", nagiosplugin.Unknown),
        (
            "/usr/sbin/smtpctl show queue: sudo: a password is required (install contrib/sudoers.d/x)",
            nagiosplugin.Unknown,
        ),
        ("the Exim queue under another root is not read", nagiosplugin.Ok),
        ("postqueue -j: fatal: Queue report unavailable - mail system is down", nagiosplugin.Warn),
    ],
)
def test_closed_queue_is_unknown(reason: str, state: nagiosplugin.state.ServiceState) -> None:
    result = QueueUnreadContext().evaluate(nagiosplugin.Metric("queue", QueueUnread(reason)), None)
    assert result.state == state
