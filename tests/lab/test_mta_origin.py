"""The truth table: seven real MTAs, each in ordinary configurations, against
``check_nullmailer --local``: the envelope origin, and how the mail leaves (smarthost or
direct delivery, the HELO name, the source address).

Every case runs in its own throwaway namespace (contrib/lab/mtas): the MTA's Debian
package laid over the system paths, one message submitted as ``www-data`` through the
MTA's own ``/usr/sbin/sendmail``, the ``MAIL FROM`` it really sent captured by a sink,
then the plugin run in the same namespace with ``--mta NAME`` and ``--mta auto``.
The sink records the HELO name and the client's address too; direct delivery goes to
the recipients' MX in a second namespace, by the default route.
The real MTA is the authority: the first test pins what it did (so a changed package
is noticed), the second asks the plugin to agree with it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
import types
from pathlib import Path

import pytest

from tests.support.ci import require

MTAS_DIR = Path(__file__).resolve().parents[2] / "contrib" / "lab" / "mtas"


def _load_mtas() -> types.ModuleType:
    """contrib/lab/mtas is a package beside the lab scripts: load it by path."""
    spec = importlib.util.spec_from_file_location(
        "mtas", MTAS_DIR / "__init__.py", submodule_search_locations=[str(MTAS_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["mtas"] = module
    spec.loader.exec_module(module)
    return module


_load_mtas()
run = importlib.import_module("mtas.run")
cases = importlib.import_module("mtas.cases")
CASES, Case = cases.CASES, cases.Case

#: the whole table must stay fast (measured: about 35 s on 2 cores)
TABLE_BUDGET = 120.0


@pytest.fixture(scope="module")
def outcomes() -> dict:
    missing = run.missing_prerequisites()
    require(not missing, "MTA origin lab: " + "; ".join(missing))
    t0 = time.monotonic()
    results = run.run_cases(CASES, sys.executable)
    elapsed = time.monotonic() - t0
    assert elapsed < TABLE_BUDGET, f"{len(CASES)} MTA cases took {elapsed:.0f}s"
    return {out.case.id: out for out in results}


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.differs)] if case.differs else []
    return pytest.param(case, id=case.id, marks=marks)


def test_table_size() -> None:
    assert len(CASES) >= 35
    assert {case.mta for case in CASES} == {
        "postfix",
        "exim",
        "nullmailer",
        "ssmtp",
        "msmtp",
        "dma",
        "opensmtpd",
    }


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_real_mail_from(outcomes: dict, case: Case) -> None:
    out = outcomes[case.id]
    assert out.real == case.real, f"{case.id}: the MTA sent {out.mail_from!r}\n{out.raw}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_plugin_origin(outcomes: dict, case: Case) -> None:
    out = outcomes[case.id]
    seen = (out.plugin.get("mta"), out.plugin.get("auto"))
    assert seen == (out.real, out.real), (
        f"{case.id}: the MTA sent {out.mail_from!r}; plugin --mta {case.mta}: {seen[0]}, auto: {seen[1]}\n"
        f"{out.plugin_text}"
    )


def _egress_param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.egress_differs)] if case.egress_differs else []
    return pytest.param(case, id=case.id, marks=marks)


SENT = [c for c in CASES if c.real != cases.NOTHING]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in SENT])
def test_real_egress(outcomes: dict, case: Case) -> None:
    """How the real MTA sent: route, HELO name, source address (pinned)."""
    out = outcomes[case.id]
    assert out.egress == (case.route, case.sent_helo, case.source), (
        f"{case.id}: the sink saw {out.egress}\n{out.raw}"
    )


@pytest.mark.parametrize("case", [_egress_param(c) for c in SENT])
def test_plugin_egress(outcomes: dict, case: Case) -> None:
    """The plugin names the route, HELO name and source address the MTA really used."""
    out = outcomes[case.id]
    route, helo, source = out.egress
    for key in ("mta", "auto"):
        said_route, said_helo, said_sources = out.plugin_egress.get(key, ("", "", ()))
        assert (said_route, said_helo) == (route, helo) and source in said_sources, (
            f"{case.id} ({key}): the MTA sent {out.egress}; the plugin said "
            f"{(said_route, said_helo, said_sources)}"
        )
