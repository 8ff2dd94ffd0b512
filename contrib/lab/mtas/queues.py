"""The queue lab: each real MTA defers a real message, and its own tools count it.

One case per MTA, in its Debian configuration as installed (with the file modes its
package gives, which is what the monitoring user meets).  The sink answers every
``RCPT`` with ``451 Could not complete sender verify callout``; once the MTA has
recorded the deferral, its own queue tool runs (as root), then the plugin runs in the
same namespace: as root, as the monitoring user ``nagios``, and as ``nagios`` with
``--sudo`` where the queue is root's (contrib/sudoers.d/check_nullmailer laid in
``/etc/sudoers.d``).  ``own_counts`` reads the MTA's own output, independently of the
plugin's parsers: the test compares the two.

``python3 contrib/lab/mtas/queues.py [MTA ...]`` prints the table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mtas.cases import FQDN, Case  # noqa: E402
from mtas.kinds import msmtprc  # noqa: E402
from mtas.run import REPO, RUN_DIR, missing_prerequisites, run_spec, spec_for  # noqa: E402

SUDOERS = REPO / "contrib" / "sudoers.d" / "check_nullmailer"
MONITOR = "nagios"
AS_ROOT = ("root", "root", ())
AS_MONITOR = (MONITOR, MONITOR, ())
AS_MONITOR_SUDO = (f"{MONITOR}+sudo", MONITOR, ("--sudo",))
CALLOUT = re.compile(r"sender verify callout", re.IGNORECASE)
NO_QUEUE = "no queue"


@dataclass(frozen=True)
class QueueCase:
    case: Case  # the configuration, and the MAIL FROM domain it sends
    own: tuple[tuple[str, str, tuple[str, ...]], ...]  # (label, user, argv) of the MTA's own tools
    settle: tuple[tuple[str, ...], str, float]  # (argv, pattern, seconds): the deferral is recorded
    backdate: tuple[str, ...] = ()  # spool directories whose files are aged by two minutes
    runs: tuple[tuple[str, str, tuple[str, ...]], ...] = (AS_ROOT, AS_MONITOR)
    modes: tuple[tuple[str, str, str], ...] = ()  # (path, mode, owner) besides the package's
    unreadable: str = ""  # the file the monitoring user cannot read (origin: UNKNOWN naming it)
    users: tuple[tuple[str, str, str], ...] = ()  # more users (name, uid, primary group)
    notes: str = field(default="", compare=False)

    @property
    def mta(self) -> str:
        return self.case.mta

    @property
    def id(self) -> str:
        return f"{self.case.mta}/queue"


def _case(mta: str, real: str = FQDN, **kwargs: object) -> Case:
    return Case(mta, "queue", real, **kwargs)  # type: ignore[arg-type]


SH = ("sh", "-c")
# Exim 4.96 has no -bpi: the ids are the third word of -bp's first lines
EXIM_LOGS = (
    "for id in $(exim4 -bp | awk '/^ *[0-9]+[smhd] /{print $3}'); do echo \"== $id\"; exim4 -Mvl $id; done"
)
QUEUE_CASES: list[QueueCase] = [
    QueueCase(
        _case("postfix"),
        own=(("postqueue -p", "root", ("postqueue", "-p")),),
        settle=(("postqueue", "-p"), r"sender verify callout", 8.0),
    ),
    QueueCase(
        _case("exim"),
        own=(
            ("exim4 -bp", "root", ("exim4", "-bp")),
            ("exim4 -Mvl", "root", (*SH, EXIM_LOGS)),
        ),
        settle=((*SH, "cat /var/spool/exim4/msglog/* 2>/dev/null"), r"sender verify callout", 8.0),
        # the other grant: a monitoring user whose group is Exim's (admin users)
        runs=(AS_ROOT, AS_MONITOR, AS_MONITOR_SUDO, ("eximadm", "eximadm", ())),
        users=(("eximadm", "945", "Debian-exim"),),
    ),
    QueueCase(
        _case("nullmailer"),
        own=(("mailq", "root", ("mailq",)), ("failed/", "root", ("ls", "/var/spool/nullmailer/failed"))),
        settle=(("cat", "{runner_log}"), r"451|[Ff]ailed", 8.0),
        backdate=("/var/spool/nullmailer/queue",),
        notes="nullmailer-send prints the 451 on its output (syslog on a real host) and keeps no reason",
    ),
    QueueCase(
        _case("dma"),
        own=(("mailq", "root", ("mailq",)),),
        settle=(("sleep", "1"), r"", 3.0),  # dma logs only to syslog: give it a second
        backdate=("/var/spool/dma",),
        unreadable="/etc/dma/dma.conf",
        notes="dma logs the deferral only to syslog and keeps no reason in its spool",
    ),
    QueueCase(
        _case("opensmtpd"),
        own=(("smtpctl show queue", "root", ("smtpctl", "show", "queue")),),
        settle=(("smtpctl", "show", "queue"), r"sender verify callout", 8.0),
        # and a user that sudoers does not name: sudo -n refuses, the check says so
        runs=(AS_ROOT, AS_MONITOR, AS_MONITOR_SUDO, ("other+sudo", "other", ("--sudo",))),
        users=(("other", "946", "other"),),
    ),
    QueueCase(
        _case("msmtp", knobs=(("msmtprc", msmtprc("from www@example.test")),), real="example.test"),
        own=(),
        settle=(("true",), r"", 1.0),
        modes=(("/etc/msmtprc", "640", "root:www-data"),),
        unreadable="/etc/msmtprc",
        notes="msmtp delivers while the sender waits: its sendmail exits 69 and prints the 451",
    ),
    QueueCase(
        _case("ssmtp"),
        own=(),
        settle=(("true",), r"", 1.0),
        unreadable="/etc/ssmtp/ssmtp.conf",
        notes="ssmtp delivers while the sender waits: its sendmail exits 1 and prints the 451",
    ),
]


def queue_spec(qcase: QueueCase, python: str) -> dict:  # type: ignore[type-arg]
    name = "ccmq-" + qcase.id.replace("/", "-")
    spec = spec_for(qcase.case, python, RUN_DIR / name)
    spec["files"]["/etc/sudoers.d/check_nullmailer"] = SUDOERS.read_text()
    spec["modes"]["/etc/sudoers.d/check_nullmailer"] = ["440", "root:root"]
    for path, mode, owner in qcase.modes:
        spec["modes"][path] = [mode, owner]
    spec["users"] = [*spec["users"], [MONITOR, "944", MONITOR], *[list(u) for u in qcase.users]]
    spec["queue"] = {
        "own": [[label, user, list(argv)] for label, user, argv in qcase.own],
        "settle": [list(qcase.settle[0]), qcase.settle[1], qcase.settle[2]],
        "backdate": list(qcase.backdate),
        "runs": [[key, user, list(extra)] for key, user, extra in qcase.runs],
    }
    return spec


@dataclass
class QueueOutcome:
    qcase: QueueCase
    raw: dict  # type: ignore[type-arg]
    seconds: float
    own_deferred: int | None = None
    own_callout: int | None = None  # None: the MTA keeps no reasons


def own_counts(mta: str, own: dict[str, dict[str, object]]) -> tuple[int | None, int | None]:
    """Deferred messages and those deferred by a callout, read from the MTA's own tools."""

    def out(label: str) -> str:
        return str(own.get(label, {}).get("out", ""))

    if mta == "postfix":
        # postqueue -p: "ID[*!] size date sender", then "(reason)", then recipients
        entries = re.findall(r"^[0-9A-F]{6,}\s", out("postqueue -p"), re.MULTILINE)
        reasons = re.findall(r"^\s*\((.*)\)\s*$", out("postqueue -p"), re.MULTILINE)
        return len(entries), sum(1 for r in reasons if CALLOUT.search(r))
    if mta == "exim":
        ids = re.findall(r"^\s*\d+[smhd]\s+\S+\s+(\S{6}-\S+-\S+)", out("exim4 -bp"), re.MULTILINE)
        logs = out("exim4 -Mvl").split("== ")[1:]
        return len(ids), sum(1 for log in logs if CALLOUT.search(log))
    if mta == "nullmailer":
        # nullmailer's mailq: "DATE TIME  SIZE bytes from <sender>" then "  to <rcpt>"
        return len(re.findall(r"^\S+ \S+\s+\d+ bytes", out("mailq"), re.MULTILINE)), None
    if mta == "dma":
        return len(re.findall(r"^ID\s*:", out("mailq"), re.MULTILINE)), None
    if mta == "opensmtpd":
        lines = [line for line in out("smtpctl show queue").splitlines() if "|" in line]
        return len(lines), sum(1 for line in lines if CALLOUT.search(line))
    return None, None


def run_queue_case(qcase: QueueCase, python: str) -> QueueOutcome:
    raw, seconds = run_spec(f"ccmq-{qcase.id.replace('/', '-')}", queue_spec(qcase, python))
    deferred, callout = own_counts(qcase.mta, raw.get("own") or {})
    return QueueOutcome(qcase, raw, seconds, deferred, callout)


def run_queue_cases(cases: list[QueueCase], python: str, workers: int = 4) -> list[QueueOutcome]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda qcase: run_queue_case(qcase, python), cases))


def perf(out: str) -> dict[str, int]:
    """``deferred`` and ``callout_deferred`` of the plugin's perfdata."""
    first = out.splitlines()[0] if out else ""
    return {k: int(v) for k, v in re.findall(r"'?(\w+)'?=(\d+)", first.partition("|")[2])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(REPO / ".venv/bin/python"), help="Python with the plugin")
    parser.add_argument("--raw", action="store_true", help="print everything each case recorded")
    parser.add_argument("mtas", nargs="*", help="MTA names (default: all)")
    args = parser.parse_args()
    missing = missing_prerequisites()
    if missing:
        sys.exit("; ".join(missing))
    chosen = [q for q in QUEUE_CASES if not args.mtas or q.mta in args.mtas]
    t0 = time.monotonic()
    for out in run_queue_cases(chosen, args.python):
        own = f"own deferred {out.own_deferred} callout {out.own_callout}"
        print(f"{out.qcase.id:18} {own}  {out.seconds:.1f}s")
        for key, result in (out.raw.get("plugin") or {}).items():
            text = str(result.get("out", "")) or str(result.get("err", ""))
            first = text.splitlines()[0] if text else ""
            print(f"    {key:12} rc {result.get('rc')} perf {perf(text)}: {first}")
        if args.raw:
            print(json.dumps(out.raw, indent=1)[:8000])
    print(f"{len(chosen)} queue cases in {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
