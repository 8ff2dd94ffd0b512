"""Scenes run inside a :class:`tests.support.sandbox.Sandbox`: start the servers a test
asks for, run one plugin as a real process, print its ProcessRun as one JSON line.

    python -m tests.support.scenes plugin MODULE ARGS...
    python -m tests.support.scenes serve [--smtp ADDR,PORT,KIND]... [--dns ZONE_JSON] -- MODULE ARGS...

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
}


def main(argv: list[str]) -> None:
    scene, rest = argv[0], argv[1:]
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
