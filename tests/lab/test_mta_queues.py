"""The queue table: every real MTA defers a real message (the smarthost answers
``451 Could not complete sender verify callout``), and ``check_nullmailer --local``
counts what the MTA's own tools show, as root and as the monitoring user.

Each MTA runs in its own throwaway namespace (contrib/lab/mtas/queues.py) with its
Debian package's file modes; the monitoring user ``nagios`` either reads what it needs
(directly, through the MTA's own set-id ``mailq``, or through ``sudo -n`` with
contrib/sudoers.d/check_nullmailer) or the plugin says UNKNOWN, naming the file and
the grant.  The MTA's own count is read from its own tool's output, not by the plugin.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.ci import require
from tests.support.output import PluginOutput

REPO = Path(__file__).resolve().parents[2]
MTAS_DIR = REPO / "contrib" / "lab" / "mtas"
if "mtas" not in sys.modules:  # contrib/lab/mtas is a package beside the lab scripts
    _spec = importlib.util.spec_from_file_location(
        "mtas", MTAS_DIR / "__init__.py", submodule_search_locations=[str(MTAS_DIR)]
    )
    sys.modules["mtas"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["mtas"])
queues = importlib.import_module("mtas.queues")
run = importlib.import_module("mtas.run")
QUEUE_CASES = queues.QUEUE_CASES
SUDOERS = REPO / "contrib" / "sudoers.d" / "check_nullmailer"
#: measured: about 8 s for the seven MTAs on 2 cores
QUEUE_BUDGET = 60.0
WITH_QUEUE = ("postfix", "exim", "nullmailer", "dma", "opensmtpd")
#: how the monitoring user reads each queue: directly, or only with --sudo
MONITOR_RUN = {"postfix": "nagios", "nullmailer": "nagios", "dma": "nagios",
               "exim": "nagios+sudo", "opensmtpd": "nagios+sudo"}  # fmt: skip


@pytest.fixture(scope="module")
def outcomes() -> dict:
    missing = run.missing_prerequisites()
    if not shutil.which("sudo", path="/usr/bin:/bin"):
        missing.append("sudo not installed (contrib/lab/install-mtas.sh)")
    require(not missing, "MTA queue lab: " + "; ".join(missing))
    t0 = time.monotonic()
    results = queues.run_queue_cases(QUEUE_CASES, sys.executable)
    elapsed = time.monotonic() - t0
    assert elapsed < QUEUE_BUDGET, f"{len(QUEUE_CASES)} MTA queue cases took {elapsed:.0f}s"
    return {out.qcase.mta: out for out in results}


def _output(out: object, key: str) -> PluginOutput:
    result = out.raw.get("plugin", {}).get(key)  # type: ignore[attr-defined]
    assert result, f"no plugin run {key!r}: {out.raw}"  # type: ignore[attr-defined]
    return PluginOutput(result["rc"], result["out"] + result["err"])


def _counts(output: PluginOutput) -> tuple[int | None, int | None]:
    perf = {k: int(v.split(";")[0].rstrip("s")) for k, v in output.perfdata.items()}
    return perf.get("deferred"), perf.get("callout_deferred")


def test_sudoers_snippet_is_valid() -> None:
    visudo = shutil.which("visudo", path="/usr/sbin:/usr/bin:/sbin:/bin")
    require(visudo is not None, "visudo not installed (Debian package sudo)")
    done = subprocess.run([visudo, "-cf", str(SUDOERS)], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr
    text = SUDOERS.read_text()
    assert "NOPASSWD: CHECK_NULLMAILER_QUEUE" in text and "ALL = (root)" in text


@pytest.mark.parametrize("mta", WITH_QUEUE)
def test_real_deferral(outcomes: dict, mta: str) -> None:
    """The MTA really tried, got the 451, and its own tool shows one deferred message."""
    out = outcomes[mta]
    assert out.raw.get("sent"), f"{mta} sent nothing: {out.raw}"
    assert out.own_deferred == 1, f"{mta}'s own tools: {out.raw.get('own')}"
    if out.own_callout is not None:
        assert out.own_callout == 1, f"{mta}'s own tools: {out.raw.get('own')}"


@pytest.mark.parametrize("mta", WITH_QUEUE)
@pytest.mark.parametrize("who", ["root", "monitor"])
def test_plugin_counts_as_the_mta(outcomes: dict, mta: str, who: str) -> None:
    out = outcomes[mta]
    output = _output(out, "root" if who == "root" else MONITOR_RUN[mta])
    deferred, callout = _counts(output)
    assert deferred == out.own_deferred, output.output
    assert callout == out.own_callout, output.output  # None: the MTA keeps no reasons
    if out.own_callout is None:
        assert "by callouts: not known" in output.output


@pytest.mark.parametrize("mta", ["exim", "opensmtpd"])
def test_root_only_queue_without_sudo(outcomes: dict, mta: str) -> None:
    """Without --sudo the monitoring user's check says UNKNOWN, and what to do."""
    output = _output(outcomes[mta], "nagios")
    assert output.code == 3, output.output
    assert "queue: cannot read it" in output.output and "--sudo" in output.output, output.output
    assert "deferred" not in output.perfdata


def test_sudo_refused_for_a_user_sudoers_does_not_name(outcomes: dict) -> None:
    output = _output(outcomes["opensmtpd"], "other+sudo")
    assert output.code == 3, output.output
    assert "sudo: a password is required" in output.output, output.output
    assert "install contrib/sudoers.d/check_nullmailer for other" in output.output, output.output


def test_exim_admin_group_reads_the_queue(outcomes: dict) -> None:
    """The other grant the check names: a user whose group is Debian-exim is an Exim admin."""
    out = outcomes["exim"]
    assert _counts(_output(out, "eximadm")) == (out.own_deferred, out.own_callout)


@pytest.mark.parametrize("mta", ["msmtp", "ssmtp"])
def test_no_queue_said_plainly(outcomes: dict, mta: str) -> None:
    """No queue: the 451 went back to the submitting program, and the plugin says so."""
    out = outcomes[mta]
    assert out.raw["submit"]["rc"] != 0 and "451" in out.raw["submit"]["out"], out.raw["submit"]
    output = _output(out, "root")
    assert f"{mta} has no queue" in output.output, output.output


@pytest.mark.parametrize("qcase", [pytest.param(q, id=q.mta) for q in QUEUE_CASES])
def test_monitoring_user_origin(outcomes: dict, qcase: object) -> None:
    """As ``nagios``, with the package's file modes: the same origin as root, or UNKNOWN
    naming the file it could not read and the grant, never a guess."""
    out = outcomes[qcase.mta]  # type: ignore[attr-defined]
    real = out.raw["sent"][0]["mail_from"].rpartition("@")[2] if out.raw.get("sent") else None
    assert real == qcase.case.real  # type: ignore[attr-defined]
    for key in {"nagios", MONITOR_RUN.get(qcase.mta, "nagios")}:  # type: ignore[attr-defined]
        output = _output(out, key)
        if qcase.unreadable:  # type: ignore[attr-defined]
            assert output.code == 3, output.output
            assert f"cannot tell the envelope origin of {qcase.mta}" in output.output  # type: ignore[attr-defined]
            assert f"cannot read {qcase.unreadable}: Permission denied" in output.output  # type: ignore[attr-defined]
            assert "setfacl -m u:nagios:" in output.output, output.output
        else:
            assert run.plugin_origin(output.output) == real, output.output
