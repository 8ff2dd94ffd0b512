"""The seed story, end to end, on real servers.

A Postfix null mailer with the stock ``myorigin = $myhostname`` sends to a
user at rx.test; the Exim receiver's sender callout finds no MX for
web1.good.test and the implicit MX (the null mailer itself) has port 25
closed, so Exim answers 451 and the message stays deferred.  Both checks must
see it.  After ``myorigin = $mydomain`` the queued message is released and
delivered, and both checks are OK.

A message already in the queue keeps the envelope sender it was given at
submission: changing ``myorigin`` alone does not change it.  The story
therefore also sets ``masquerade_domains = $mydomain`` and requeues the
message (``postsuper -r ALL``), which runs it through cleanup(8) again and
turns root@web1.good.test into root@good.test.
"""

import re

import lab as lab_module
import pytest
from lab import DNS_V4

WEB1 = "web1"
RCPT = lab_module.SEED_RCPT


def conf() -> str:
    return str(lab_module.postfix_dir(WEB1))


@pytest.fixture
def null_mailer(lab):
    lab.seed_reset()
    yield lab
    lab.seed_reset()


def exim_log_since(mark: int) -> str:
    return lab_module.exim_mainlog("rx")[mark:]


def test_seed_story(null_mailer, check_callout, check_nullmailer):
    lab = null_mailer
    assert lab.web1("postconf", "-h", "myorigin").stdout.strip() == "$myhostname"
    mark = len(lab.exim_mainlog("rx"))

    # 1. a message from the box, the way cron or a web application sends it
    deferred = lab.seed_send("lab seed story")
    reason = deferred[0]["recipients"][0]["delay_reason"]
    assert re.search(r"451 .*Could not complete sender verify callout", reason), reason
    sender = deferred[0]["sender"]
    assert sender == "root@web1.good.test"
    assert f"sender verify defer for <{sender}>" in exim_log_since(mark)

    # 2. both checks see it and name the cause
    callout = check_callout("-s", sender, "--nameserver", DNS_V4, "--helo", "mon.test", "-v")
    assert callout.returncode == 2, str(callout)
    assert callout.first_line.startswith("CALLOUT CRITICAL"), str(callout)
    assert callout.exim_actions() == ["defer"], str(callout)
    assert "implicit MX" in callout.stdout and "refused" in callout.stdout, str(callout)

    local = check_nullmailer("--local", "--postfix-config", conf(), "--nameserver", DNS_V4, "-v", node=WEB1)
    assert local.returncode == 2, str(local)
    assert local.first_line.startswith("NULLMAILER CRITICAL"), str(local)
    assert "myorigin" in local.stdout, str(local)
    assert re.search(r"callout|451", local.stdout), str(local)

    # 3. myorigin alone does not release what is already queued: the retry
    #    still carries root@web1.good.test, and check_nullmailer says so
    lab.web1("postconf", "-e", "myorigin = $mydomain")
    lab.web1("postfix", "reload")
    defers = exim_log_since(mark).count(f"sender verify defer for <{sender}>")
    lab.web1("postqueue", "-f")
    lab.wait_until(
        "the retry to be deferred again",
        lambda: (
            exim_log_since(mark).count(f"sender verify defer for <{sender}>") > defers
            and [m for m in lab.postfix_queue(WEB1) if m["queue_name"] == "deferred"]
        ),
    )
    assert [m["sender"] for m in lab.postfix_queue(WEB1)] == [sender]
    stuck = check_nullmailer("--local", "--postfix-config", conf(), "--nameserver", DNS_V4, node=WEB1)
    assert stuck.returncode == 2, str(stuck)
    assert re.search(r"callout", stuck.first_line), str(stuck)
    assert "[critical] queue (postqueue -j)" in stuck.stdout, str(stuck)
    assert "requeue it (postsuper -r ALL)" in stuck.stdout, str(stuck)

    # 4. release the queued message: masquerade it while it is requeued
    lab.seed_fix()
    log = lab.wait_until(
        "Exim to deliver the message",
        lambda: (lambda t: t if re.search(rf"=> \S*{RCPT}|=> user <{RCPT}>", t) else None)(
            exim_log_since(mark)
        ),
    )
    assert re.search(rf"<= root@good\.test .*for {RCPT}", log), log
    inbox = (lab_module.NODES["rx"].dir / "mail" / "inbox").read_text()
    assert "lab seed story" in inbox

    # 5. both checks are OK now
    callout = check_callout("-s", "root@good.test", "--nameserver", DNS_V4, "--helo", "mon.test", "-v")
    assert callout.returncode == 0, str(callout)
    assert callout.exim_actions() == ["accept"], str(callout)
    local = check_nullmailer("--local", "--postfix-config", conf(), "--nameserver", DNS_V4, "-v", node=WEB1)
    assert local.returncode == 0, str(local)
    assert local.first_line.startswith("NULLMAILER OK"), str(local)
