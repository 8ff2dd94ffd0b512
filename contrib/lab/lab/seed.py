"""The null mailer web1.good.test and the seed story: mail deferred by a callout, the fix,
the queue drained."""

from __future__ import annotations

import subprocess

from .base import DNS_V4, nsrun, wait_until
from .exim import exim_mainlog
from .plugins import run_plugin
from .postfix import postfix_dir, postfix_queue, setup_postfix

SEED_RCPT = "user@rx.test"


def configure_null_mailer() -> None:
    """The null mailer: stock myorigin ($myhostname), port 25 only on loopback."""
    setup_postfix(
        "web1",
        {
            "inet_interfaces": "loopback-only",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "relayhost": "",
        },
        ["smtp inet n - n - - smtpd"],
    )


def web1(*argv: str, **kw) -> subprocess.CompletedProcess:
    """Run a Postfix command of the null mailer's instance (``-c DIR`` added)."""
    tool, rest = argv[0], list(argv[1:])
    flag = "-C" if tool == "sendmail" else "-c"
    return nsrun("web1", tool, flag, str(postfix_dir("web1")), *rest, **kw)


def seed_reset() -> None:
    """The null mailer as shipped: stock myorigin, no masquerading, empty queue."""
    web1("postconf", "-X", "myorigin", "masquerade_domains")
    web1("postfix", "reload")
    web1("postsuper", "-d", "ALL", check=False)


def seed_send(subject: str = "lab seed story") -> list[dict]:
    """Submit a message with sendmail on the null mailer; wait until it is deferred."""
    web1("sendmail", SEED_RCPT, input=f"Subject: {subject}\n\nsent from web1.good.test\n")
    return wait_until(
        "the message to be deferred",
        lambda: [
            m
            for m in postfix_queue("web1")
            if m["queue_name"] == "deferred" and m["recipients"][0].get("delay_reason")
        ],
    )


def seed_fix() -> None:
    """myorigin = $mydomain; release the queued message and wait until it is gone.

    Mail already queued keeps its envelope sender, so the queued message is also
    masqueraded (masquerade_domains = $mydomain) while it is requeued."""
    web1("postconf", "-e", "myorigin = $mydomain", "masquerade_domains = $mydomain")
    web1("postfix", "reload")
    web1("postsuper", "-r", "ALL")
    web1("postkick", "public", "pickup", "W")
    web1("postqueue", "-f")
    wait_until("the queue of web1.good.test to drain", lambda: not postfix_queue("web1"))


def seed_demo() -> None:
    """Play the seed story and print what the real servers and the checks say."""

    def say(text: str) -> None:
        print(text, flush=True)

    def check(node: str, package: str, *args: str) -> None:
        cp = run_plugin(node, package, *args)
        say(f"[{node}]$ {package} {' '.join(args)}")
        say(cp.stdout.rstrip() + (("\n" + cp.stderr.rstrip()) if cp.stderr.strip() else ""))
        say(f"(exit {cp.returncode})\n")

    def exim_lines(since: int, pattern: str) -> None:
        for line in exim_mainlog("rx")[since:].splitlines():
            if pattern in line:
                say("  " + line)

    conf = str(postfix_dir("web1"))
    seed_reset()
    mark = len(exim_mainlog("rx"))
    say(f"[web1]$ echo 'Subject: lab seed story' | sendmail -C {conf} {SEED_RCPT}")
    msgs = seed_send()
    sender = msgs[0]["sender"]
    say(f"[web1]$ postqueue -c {conf} -p")
    say(web1("postqueue", "-p").stdout.rstrip())
    say("\nExim's mainlog on mx.rx.test:")
    exim_lines(mark, "sender verify")
    say("")
    check("mon", "check_callout", "-s", sender, "--nameserver", DNS_V4, "--helo", "mon.test")
    check("web1", "check_nullmailer", "--local", "--postfix-config", conf, "--nameserver", DNS_V4)
    say(f"[web1]$ postconf -c {conf} -e 'myorigin = $mydomain' 'masquerade_domains = $mydomain'")
    say(f"[web1]$ postfix -c {conf} reload; postsuper -c {conf} -r ALL; postqueue -c {conf} -f")
    mark2 = len(exim_mainlog("rx"))
    seed_fix()
    wait_until(
        "Exim to deliver the message",
        lambda: " => " in exim_mainlog("rx")[mark2:] or "=> " in exim_mainlog("rx")[mark2:],
    )
    say(f"[web1]$ postqueue -c {conf} -p")
    say(web1("postqueue", "-p").stdout.rstrip())
    say("\nExim's mainlog on mx.rx.test:")
    exim_lines(mark2, "")
    say("")
    check("mon", "check_callout", "-s", "root@good.test", "--nameserver", DNS_V4, "--helo", "mon.test")
    check("web1", "check_nullmailer", "--local", "--postfix-config", conf, "--nameserver", DNS_V4)
    seed_reset()
