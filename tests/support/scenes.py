"""Scenes run inside a :class:`tests.support.sandbox.Sandbox`: start the servers a test
asks for, run one plugin as a real process, print its ProcessRun as one JSON line.

    python -m tests.support.scenes plugin MODULE ARGS...
    python -m tests.support.scenes serve [--smtp ADDR,PORT,KIND]... [--dns ZONE_JSON] -- MODULE ARGS...
    python -m tests.support.scenes exim-callout EXIM CONFIG ADDR KIND

``exim-callout`` puts a real Exim in the receiver's place: a scripted server of ``KIND``
on ``ADDR`` port 25, and ``exim -bhc`` (a session replayed from stdin with real
callouts) offering a sender whose callout goes there; it prints Exim's RCPT reply.

``--dns`` serves the zone on 127.0.0.1 port 53 of the namespace (the address a
``resolv.conf`` there can name).  SMTP kinds are in :data:`KINDS`.  Every server stops
when the plugin has finished.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack

from tests.support.hostile import dialogue, run_plugin
from tests.support.servers import DNSTestServer, RawServer

KINDS = {
    "open": lambda: dialogue(),  # accepts every MAIL and RCPT: an open relay, a callout accepts
    "reject": lambda: dialogue(replies={b"RCPT": b"550 5.1.1 no such user\r\n"}),
    # a multi-line RCPT reply whose lines disagree
    "mixed550": lambda: dialogue(
        replies={b"RCPT": b"550-5.1.1 first line says no\r\n250 2.1.5 last says ok\r\n"}
    ),
    "mixed250": lambda: dialogue(
        replies={b"RCPT": b"250-2.1.5 first line says ok\r\n550 5.1.1 last says no\r\n"}
    ),
    "mixed450": lambda: dialogue(
        replies={b"RCPT": b"450-4.2.0 first line says later\r\n250 2.1.5 last says ok\r\n"}
    ),
    "mixed250_450": lambda: dialogue(
        replies={b"RCPT": b"250-2.1.5 first line says ok\r\n450 4.2.0 last says later\r\n"}
    ),
    # offer PIPELINING (as dialogue does), answer MAIL and RCPT, then break off
    "drop_at_rset": lambda: dialogue(close_after={b"RSET": b"", b"QUIT": b""}),
    "garbage_at_rset": lambda: dialogue(replies={b"RSET": b"\x00garbage\r\n", b"QUIT": b"\x00garbage\r\n"}),
    "rejects_then_drop_at_rset": lambda: dialogue(
        replies={b"RCPT": b"550 5.1.1 no such user\r\n"}, close_after={b"RSET": b"", b"QUIT": b""}
    ),
    "drop_after_mail": lambda: dialogue(close_after={b"RCPT": b""}),
    "drop_mid_rcpt_reply": lambda: dialogue(close_after={b"RCPT": b"250 2.1"}),
}


EXIM_SESSION = b"EHLO client.test\r\nMAIL FROM:<alice@sender.test>\r\nRCPT TO:<u@rx.test>\r\nQUIT\r\n"


def exim_callout(exim: str, config: str, address: str, kind: str) -> dict[str, object]:
    """Exim's answer to RCPT when its sender callout meets a ``kind`` server."""
    import subprocess

    with RawServer(address, 25, KINDS[kind]()):
        done = subprocess.run(
            [exim, "-C", config, "-bhc", "192.0.2.99"], input=EXIM_SESSION, capture_output=True, timeout=30
        )
    replies = [line for line in done.stdout.decode("utf-8", "replace").splitlines() if line[:3].isdigit()]
    # the reply to RCPT: the last reply before QUIT's 221
    final = [line for line in replies if not line.startswith("221")]
    last = final[-1] if final else ""
    lines = []
    for line in reversed(final):
        if line[:4] != f"{last[:3]}-" and line != last:
            break
        lines.insert(0, line)
    return {"code": int(last[:3]) if last else 0, "reply": lines}


def main(argv: list[str]) -> None:
    scene, rest = argv[0], argv[1:]
    if scene == "exim-callout":
        print(json.dumps(exim_callout(*rest)))
        return
    if scene == "plugin":
        run = run_plugin(rest[0], rest[1:], limit=30)
        print(json.dumps(run.__dict__))
        return
    if scene != "serve":
        raise SystemExit(f"unknown scene {scene!r}")
    cut = rest.index("--")
    parser = argparse.ArgumentParser(prog="scenes serve")
    parser.add_argument("--smtp", action="append", default=[])
    parser.add_argument("--dns")
    opts = parser.parse_args(rest[:cut])
    module, args = rest[cut + 1], rest[cut + 2 :]
    with ExitStack() as stack:
        for spec in opts.smtp:
            address, port, kind = spec.split(",")
            stack.enter_context(RawServer(address, int(port), KINDS[kind]()))
        if opts.dns:
            stack.enter_context(DNSTestServer(json.loads(opts.dns), port=53))
        run = run_plugin(module, args, limit=30)
    print(json.dumps(run.__dict__))


if __name__ == "__main__":
    main(sys.argv[1:])
