"""The command line of the lab (``labctl``, ``python -m lab``)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .asking import _ask_many, ask_receivers, smtp_ask
from .base import PREFIX, READY_TIMEOUT, LabLock
from .control import down, status, up
from .dns_faults import serve_dns_faults
from .network import wait_ready
from .nodes import NODES
from .scenarios import RECEIVERS, SCENARIOS
from .seed import seed_demo
from .strict_asking import ask_strict_receivers, strict_ask_here


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="labctl", description="real-MTA lab in network namespaces")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="build the lab (removes a stale one first)")
    sub.add_parser("down", help="stop every lab process and delete the namespaces")
    sub.add_parser("status", help="list lab namespaces and their processes")
    sh_p = sub.add_parser("shell", help="interactive shell in a lab host")
    sh_p.add_argument("node", choices=sorted(NODES))
    run_p = sub.add_parser("run", help="run a command in a lab host")
    run_p.add_argument("node", choices=sorted(NODES))
    run_p.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("scenarios", help="list the scenario senders")
    sub.add_parser("seed", help="play the seed story and show what happens")
    ask_p = sub.add_parser("ask", help="ask a live receiver about a sender, from mon")
    ask_p.add_argument("sender")
    ask_p.add_argument("--receiver", choices=[r.name for r in RECEIVERS], default="exim")
    sub.add_parser("table", help="ask every live receiver about every scenario")
    # internal helpers, run inside a namespace
    wr = sub.add_parser("wait-ready")
    wr.add_argument("--timeout", type=float, default=READY_TIMEOUT)
    wr.add_argument("targets", nargs="+")
    sa = sub.add_parser("smtp-ask")
    sa.add_argument("--host", required=True)
    sa.add_argument("--sender", required=True)
    sa.add_argument("--rcpt", required=True)
    sub.add_parser("ask-many")  # JSON [[receiver, sender], ...] on stdin
    sub.add_parser("strict-ask-many")  # JSON [[strict receiver, scenario id], ...] on stdin
    sub.add_parser("dns-faults")  # the misbehaving DNS servers, in cclab-dns
    sub.add_parser("strict-table", help="ask both strict receivers about every strict scenario")
    a = p.parse_args(argv)

    if a.cmd == "up":
        with LabLock():
            took = up(verbose=True)
        print(
            f"lab up in {took:.1f}s; hosts: "
            + ", ".join(f"{n.ns} ({n.fqdn} {' '.join(n.v4)})" for n in NODES.values())
        )
        return 0
    if a.cmd == "down":
        with LabLock():
            down(quiet=False)
        return 0
    if a.cmd == "status":
        print(status())
        return 0
    if a.cmd == "shell":
        shell = os.environ.get("SHELL", "/bin/bash")
        os.execvp("ip", ["ip", "netns", "exec", PREFIX + a.node, shell])
    if a.cmd == "run":
        if not a.command:
            p.error("run needs a command")
        os.execvp("ip", ["ip", "netns", "exec", PREFIX + a.node, *a.command])
    if a.cmd == "scenarios":
        for s in SCENARIOS:
            designed = ", ".join(f"{r.name}: {s.designed(r.name)}" for r in RECEIVERS)
            print(f"{s.id:24} {s.sender:24} {designed}  ({s.what})")
        return 0
    if a.cmd == "seed":
        seed_demo()
        return 0
    if a.cmd == "ask":
        print(json.dumps(ask_receivers([(a.receiver, a.sender)])[0], indent=1))
        return 0
    if a.cmd == "table":
        questions = [(r.name, s.sender) for s in SCENARIOS for r in RECEIVERS]
        answers = iter(ask_receivers(questions))
        for s in SCENARIOS:
            for r in RECEIVERS:
                got = next(answers)
                print(
                    f"{s.id:24} {r.name:16} {got['answer']:13} (designed {s.designed(r.name)})"
                    f" {got['code']} {' '.join(got['text'].split())[:150]}"
                )
        return 0
    if a.cmd == "wait-ready":
        left = wait_ready(a.targets, a.timeout)
        if left:
            print("not ready: " + " ".join(left))
            return 1
        return 0
    if a.cmd == "strict-ask-many":
        print(json.dumps(strict_ask_here(json.load(sys.stdin))))
        return 0
    if a.cmd == "dns-faults":
        serve_dns_faults()
        return 0
    if a.cmd == "strict-table":
        for got in ask_strict_receivers():
            print(
                f"{got['scenario']:22} {got['receiver']:15} {got['answer']:7} {got['stage']:5}"
                f" {got['code']} {' '.join(got['text'].split())[:140]} ({got['seconds']} s)"
            )
        return 0
    if a.cmd == "ask-many":
        print(json.dumps(_ask_many(json.load(sys.stdin))))
        return 0
    if a.cmd == "smtp-ask":
        print(json.dumps(smtp_ask(a.host, a.sender, a.rcpt)))
        return 0
    return 2
