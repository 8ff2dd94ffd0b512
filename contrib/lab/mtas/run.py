"""Run MTA configurations, each in its own throwaway namespace, a few at a time.

``python3 contrib/lab/mtas/run.py [--python VENV_PYTHON] [MTA/NAME ...]`` prints the
truth table (real ``MAIL FROM`` domain, and the plugin's origin with ``--mta NAME``
and ``--mta auto``).  The tests use :func:`run_cases`.

Each case runs under ``unshare --mount --uts --net --pid --fork --kill-child
--mount-proc``: it has only a loopback interface, and when the case ends its PID
namespace ends, and with it every process the MTA started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mtas.cases import ABSENT, CASES, DIRECT, Case  # noqa: E402
from mtas.kinds import BUILDERS, PREFIX  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RUN_DIR = Path(os.environ.get("MTA_LAB_DIR", "/var/tmp/ccmta-run"))
CASE_TIMEOUT = 60.0
WORKERS = 4
NOTHING = "nothing"
HOSTS_FQDN = "127.0.0.1 localhost\n127.0.1.1 web1.example.test web1\n::1 localhost ip6-localhost\n"
HOSTS_BARE = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n"


@dataclass
class Outcome:
    case: Case
    real: str  # the MAIL FROM domain, or "nothing"
    mail_from: str  # the whole address, or the MTA's own error when nothing was sent
    plugin: dict[str, str] = field(default_factory=dict)  # "--mta NAME"/"auto" -> origin
    plugin_text: dict[str, str] = field(default_factory=dict)  # the plugin's first lines
    egress: tuple[str, str, str] = ("", "", "")  # what the sink saw: route, HELO, source
    plugin_egress: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    seconds: float = 0.0
    raw: dict = field(default_factory=dict)  # type: ignore[type-arg]


def missing_prerequisites() -> list[str]:
    problems = []
    if os.geteuid() != 0:
        problems.append("needs root (namespaces, mounts)")
    for tool in ("unshare", "setpriv", "postconf"):
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            problems.append(f"{tool} not found")
    for mta in ("exim", "nullmailer", "ssmtp", "msmtp", "dma", "opensmtpd"):
        if (
            not (PREFIX / mta / "usr/sbin/sendmail").is_symlink()
            and not (PREFIX / mta / "usr/sbin/sendmail").exists()
        ):
            problems.append(f"{PREFIX / mta} not unpacked (contrib/lab/install-mtas.sh)")
    return problems


def spec_for(case: Case, python: str, scratch: Path) -> dict:  # type: ignore[type-arg]
    setup = BUILDERS[case.mta](case.fqdn, dict(case.knobs))
    files: dict[str, str | None] = {
        "/etc/hostname": case.hostname + "\n",
        "/etc/hosts": HOSTS_FQDN if case.hosts else HOSTS_BARE,
        "/etc/resolv.conf": "nameserver 127.0.0.1\n",  # the sink answers NXDOMAIN
    }
    if case.mta != "postfix":
        files["/etc/postfix"] = None  # the system's Postfix is not this namespace's MTA
    files.update(setup.files)
    if case.mailname is ABSENT:
        files["/etc/mailname"] = None
    elif case.mailname is not None:
        files["/etc/mailname"] = str(case.mailname) + "\n"
    elif files.get("/etc/mailname"):
        files["/etc/mailname"] = str(files["/etc/mailname"]).rstrip("\n") + "\n"
    files.update(dict(case.extra))
    spec = asdict(setup)
    spec.update(
        files=files,
        package=str(PREFIX / setup.package) if setup.package else "",
        hostname=case.hostname,
        scratch=str(scratch),
        mta=case.mta,
        python=python,
        repo=str(REPO),
    )
    return spec


_ORIGIN_LINE = re.compile(r"^\[\w+\] envelope origin: .*\n\s+postmaster@([^\s:]+):", re.MULTILINE)


def plugin_origin(out: str) -> str:
    """The origin domain the plugin judged (``postmaster@DOMAIN`` of its long output)."""
    m = _ORIGIN_LINE.search(out)
    if m:
        return m.group(1).lower()
    first = out.splitlines()[0] if out else ""
    if re.search(r"\bsends nothing\b", first):
        return NOTHING
    if re.search(r"\bwith no @domain\b", first):
        return "(no domain)"
    if re.search(r"\bwith no domain\b", first):
        return "(empty domain)"
    return "unknown"


_EGRESS_LINE = re.compile(r"^\[\w+\] egress: (.*), HELO (\S+), from (.*)$", re.MULTILINE)


def plugin_egress(out: str) -> tuple[str, str, tuple[str, ...]]:
    """The route, HELO name and source addresses the plugin said (its egress line)."""
    m = _EGRESS_LINE.search(out)
    if not m:
        return ("", "", ())
    route = DIRECT if m.group(1).startswith("direct") else m.group(1)
    return (route, m.group(2), tuple(m.group(3).split(", ")))


def live_egress(record: dict) -> tuple[str, str, str]:  # type: ignore[type-arg]
    """Route, HELO and source address of what the sink recorded."""
    if record.get("port") == 25:
        route = DIRECT
    else:
        route = f"smarthost {record.get('server')} port {record.get('port')}"
    return (route, str(record.get("helo", "")), str(record.get("peer", "")))


def run_spec(name: str, spec: dict) -> tuple[dict, float]:  # type: ignore[type-arg]
    """Run one spec in its own throwaway namespaces; what it recorded, and the seconds."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    spec_path = RUN_DIR / f"{name}.json"
    spec_path.write_text(json.dumps(spec))
    argv = ["unshare", "--mount", "--uts", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
            "/usr/bin/python3", str(HERE / "inside.py"), str(spec_path)]  # fmt: skip
    t0 = time.monotonic()
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=CASE_TIMEOUT, stdin=subprocess.DEVNULL
        )
        raw = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
        if not raw:
            raw = {"error": done.stderr[-2000:]}
    except subprocess.TimeoutExpired:
        raw = {"error": f"still running after {CASE_TIMEOUT}s"}
    return raw, time.monotonic() - t0


def run_case(case: Case, python: str) -> Outcome:
    name = case.id.replace("/", "-")
    raw, seconds = run_spec(name, spec_for(case, python, RUN_DIR / name))
    sent = raw.get("sent") or []
    if sent:
        address = sent[0]["mail_from"]
        real = address.rpartition("@")[2].lower() if "@" in address else "(no domain)"
        real = real or "(empty domain)"
        egress = live_egress(sent[0])
    else:
        address = (raw.get("submit", {}).get("out") or raw.get("runner") or raw.get("mta_log")
                   or "\n".join(raw.get("log", [])[-1:]) or raw.get("error") or "")  # fmt: skip
        real = NOTHING
        egress = ("", "", "")
    outcome = Outcome(case, real, address.strip(), raw=raw, seconds=round(seconds, 2), egress=egress)
    for name, result in (raw.get("plugin") or {}).items():
        key = "auto" if name == "auto" else "mta"
        outcome.plugin[key] = plugin_origin(result["out"])
        outcome.plugin_egress[key] = plugin_egress(result["out"])
        outcome.plugin_text[key] = "\n".join(result["out"].splitlines()[:2])
    return outcome


def run_cases(cases: list[Case], python: str, workers: int = WORKERS) -> list[Outcome]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda case: run_case(case, python), cases))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(REPO / ".venv/bin/python"), help="Python with the plugin")
    parser.add_argument("--raw", action="store_true", help="print everything each case recorded")
    parser.add_argument("cases", nargs="*", help="MTA/NAME or MTA (default: all)")
    args = parser.parse_args()
    chosen = [c for c in CASES if not args.cases or c.id in args.cases or c.mta in args.cases]
    missing = missing_prerequisites()
    if missing:
        sys.exit("; ".join(missing))
    t0 = time.monotonic()
    for out in run_cases(chosen, args.python):
        flag = "" if out.real == out.plugin.get("mta") == out.plugin.get("auto") else "  <-- differs"
        print(f"{out.case.id:38} real {out.real:22} --mta {out.plugin.get('mta', '?'):22} "
              f"auto {out.plugin.get('auto', '?'):22} {out.seconds:5.1f}s{flag}")  # fmt: skip
        if out.real != NOTHING:
            route, helo, source = out.egress
            said = out.plugin_egress.get("mta", ("", "", ()))
            flag = "" if (said[0], said[1]) == (route, helo) and source in said[2] else "  <-- differs"
            print(f"    sent: {route}, HELO {helo}, from {source}; plugin: {said[0]}, HELO {said[1]}, "
                  f"from {', '.join(said[2])}{flag}")  # fmt: skip
        if out.real == NOTHING or args.raw:
            print(f"    MTA said: {out.mail_from[-300:]!r}")
        if args.raw:
            print(json.dumps(out.raw, indent=1)[:6000])
    print(f"{len(chosen)} cases in {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
