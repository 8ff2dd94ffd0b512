"""The rule of docs/never-blind.md, enforced: the check says OK only when it saw what it
needed to see.  Every situation here leaves one plugin unable to look at something it
was asked to judge; none may exit 0, and the long output must name what it could not
see.  Real plugin processes against servers, resolvers and tools on loopback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support.hostile import FIRST_LINE, STATES, dialogue, measure, send_and_close, tarpit
from tests.support.processes import POSTQUEUE_SCRIPTS, fake_tool, plugin_env, postqueue_listing
from tests.support.relay_servers import smtp_server, write
from tests.support.servers import DROP, SERVFAIL, DNSTestServer, RawServer, free_port
from tests.test_hostile_local import HEAD4, LOOPBACK_25, DeadResolver

T = "2"
HOST = "127.0.0.1"
MAIN_CF = (
    "compatibility_level = 3.6\nmyhostname = web1.example.com\nmydomain = example.com\n"
    "myorigin = $mydomain\ninet_interfaces = loopback-only\n"
)
ACCEPTING_ZONE = {"example.com": [("MX", (10, "mx.example.com"))], "mx.example.com": [("A", HOST)]}


@contextmanager
def raw(script: Callable) -> Iterator[int]:
    port = free_port()
    with RawServer(HOST, port, script):
        yield port


def callout_mx(zone_mx: object) -> Callable[[ExitStack], list[str]]:
    """check_callout on a domain whose MX record answer is ``zone_mx``."""

    def setup(stack: ExitStack) -> list[str]:
        dns = stack.enter_context(DNSTestServer({"example.test": zone_mx}))
        return ["-s", "a@example.test", *dns.args]

    return setup


def callout_server(script: Callable) -> Callable[[ExitStack], list[str]]:
    def setup(stack: ExitStack) -> list[str]:
        port = stack.enter_context(raw(script))
        return ["-s", "a@example.test", "-H", HOST, "-p", str(port)]

    return setup


def callout_dead_resolver(stack: ExitStack) -> list[str]:
    dead = stack.enter_context(DeadResolver())
    return ["-s", "a@example.test", "--nameserver", HOST, "--dns-port", str(dead.port)]


def nullmailer_server(script: Callable) -> Callable[[ExitStack], list[str]]:
    def setup(stack: ExitStack) -> list[str]:
        port = stack.enter_context(raw(script))
        return ["-H", HOST, "--ports", str(port)]

    return setup


def nullmailer_local(postqueue: str, resolver: str = "accepting", proc: str = "ok"):
    """--local on a Postfix tree; ``postqueue`` is the fake tool's script."""

    def setup(stack: ExitStack, tmp: Path) -> list[str]:
        root = tmp / "root"
        write(root, "/etc/postfix/main.cf", MAIN_CF)
        write(
            root, "/etc/postfix/master.cf", "smtp      inet  n       -       y       -       -       smtpd\n"
        )
        if proc == "ok":
            write(root, "/proc/net/tcp", HEAD4 + LOOPBACK_25)
        else:  # a listening-socket table that cannot be read
            (root / "proc/net/tcp").mkdir(parents=True)
        fake_tool(tmp / "bin", "postqueue", postqueue)
        if resolver == "dead":
            dead = stack.enter_context(DeadResolver())
            dns_args = ["--nameserver", HOST, "--dns-port", str(dead.port)]
        else:
            port, _ = stack.enter_context(smtp_server(lambda phase, address: ""))
            dns = stack.enter_context(DNSTestServer(ACCEPTING_ZONE))
            dns_args = [*dns.args, "-p", str(port)]
        return ["--local", "--root", str(root), "--mta", "postfix", *dns_args]

    return setup


# situation -> (plugin, setup, words the long output must hold)
CASES: dict[str, tuple[str, Callable, str]] = {
    "callout: MX never greets": ("CALLOUT", callout_server(tarpit()), "cannot tell"),
    "callout: MX hangs up at once": ("CALLOUT", callout_server(send_and_close(b"")), "a@example.test"),
    "callout: resolver never answers": ("CALLOUT", callout_dead_resolver, "cannot tell"),
    "callout: DNS SERVFAIL": ("CALLOUT", callout_mx(SERVFAIL), "a@example.test"),
    "callout: DNS drops the question": ("CALLOUT", callout_mx(DROP), "cannot tell"),
    "nullmailer -H: banner never comes": ("NULLMAILER", nullmailer_server(tarpit()), "port"),
    "nullmailer -H: 421 at the banner": (
        "NULLMAILER",
        nullmailer_server(dialogue(banner=b"421 busy, try later\r\n")),
        "421",
    ),
    "nullmailer --local: postqueue hangs": (
        "NULLMAILER",
        nullmailer_local(POSTQUEUE_SCRIPTS["hangs"]),
        "queue: could not read it",
    ),
    "nullmailer --local: postqueue denied": (
        "NULLMAILER",
        nullmailer_local(POSTQUEUE_SCRIPTS["denied"]),
        "Permission denied",
    ),
    "nullmailer --local: socket table unreadable": (
        "NULLMAILER",
        nullmailer_local(POSTQUEUE_SCRIPTS["empty"], proc="unreadable"),
        "cannot read listening sockets",
    ),
    "nullmailer --local: resolver never answers": (
        "NULLMAILER",
        nullmailer_local(postqueue_listing(0), resolver="dead"),
        "cannot tell whether postmaster@example.com passes callouts",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_never_ok_when_blind(case, tmp_path):
    name, setup, words = CASES[case]
    module = {"CALLOUT": "check_callout.plugin", "NULLMAILER": "check_nullmailer.plugin"}[name]
    with ExitStack() as stack:
        args = setup(stack, tmp_path) if name == "NULLMAILER" and "--local" in case else setup(stack)
        env = plugin_env(PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        run = measure(
            [
                sys.executable,
                "-m",
                module,
                *args,
                "-t",
                T,
                "--connect-timeout",
                "1",
                "--helo",
                "monitor.test",
            ],
            30,
            env=env,
        )
    match = FIRST_LINE.match(run.stdout.split("\n", 1)[0])
    assert match and match.group("name") == name, run
    assert run.code != 0 and STATES[match.group("state")] == run.code, run
    assert words in run.stdout, run
    assert "Traceback" not in run.stdout + run.stderr, run
