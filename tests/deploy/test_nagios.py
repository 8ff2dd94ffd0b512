"""Nagios Core 4 with contrib/nagios: the real ``nagios4 -v`` validates it, and
a real Nagios in the lab's monitoring namespace runs the packaged plugins
(as the nagios user, from /usr/lib/nagios/plugins) against the lab and
records OK, WARNING and CRITICAL; the local audit of the null mailer comes
over NRPE with contrib/icinga/nrpe.cfg unchanged."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import in_private_mount

from . import nagios
from .conftest import PLUGIN_DIR, REPO, require

CONTRIB = REPO / "contrib" / "nagios"
CONTRIB_FILES = [CONTRIB / "commands.cfg", CONTRIB / "templates.cfg"]
NRPE = "/usr/sbin/nrpe"
WEB1_V4 = "192.0.2.21"
MON_V4 = "192.0.2.99"

# host -> address; services: (host, service, check_command, expected state)
HOSTS = {"web1.good.test": WEB1_V4, "openrelay.test": "192.0.2.31"}
SERVICES = [
    ("web1.good.test", "nullmailer-relay", "check_nullmailer_relay!--helo mon.test", "OK"),
    ("openrelay.test", "nullmailer-relay", "check_nullmailer_relay!--helo mon.test", "CRITICAL"),
    ("web1.good.test", "callout-good.test", "check_callout_domain!good.test!--helo mon.test", "OK"),
    (
        "web1.good.test",
        "callout-implicit.test",
        "check_callout_domain!implicit.test!--helo mon.test",
        "WARNING",
    ),
    (
        "web1.good.test",
        "callout-web1.good.test",
        "check_callout_domain!web1.good.test!--helo mon.test",
        "CRITICAL",
    ),
    ("web1.good.test", "nullmailer-local", "check_nrpe_mail!check_nullmailer_local", "CRITICAL"),
]


def objects_cfg() -> str:
    parts = [
        f"define host {{\n    use nullmailer-host\n    host_name {name}\n    address {addr}\n}}\n"
        for name, addr in HOSTS.items()
    ]
    parts += [
        f"define service {{\n    use mail-callout-service\n    host_name {host}\n"
        f"    service_description {service}\n    check_command {command}\n}}\n"
        for host, service, command, _ in SERVICES
    ]
    return "\n".join(parts)


def nagios_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ccdep-nagios-", dir="/var/tmp"))


@pytest.fixture(scope="module")
def nagios_available() -> None:
    require(nagios.available(), "nagios4 not installed (contrib/deploy/install-packages.sh)")
    require(os.geteuid() == 0, "Nagios drops to the nagios user: run as root")


# --------------------------------------------------------------------------- validation


def validate_with(objects: str, workdir: Path) -> subprocess.CompletedProcess:
    (workdir / "objects.cfg.in").write_text(objects)
    config = nagios.main_config(workdir, [*CONTRIB_FILES, workdir / "objects.cfg.in"], PLUGIN_DIR)
    return nagios.validate(config)


def test_contrib_example_validates(nagios_available) -> None:
    workdir = nagios_workdir()
    try:
        result = validate_with((CONTRIB / "objects.cfg.example").read_text(), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert result.returncode == 0, result.stdout
    assert "Total Errors:   0" in result.stdout, result.stdout
    # A validation that creates nothing would pass as well: count the objects.
    assert re.search(r"Checked 4 services\.", result.stdout), result.stdout
    assert re.search(r"Checked 1 hosts\.", result.stdout), result.stdout
    commands = int(re.search(r"Checked (\d+) commands\.", result.stdout).group(1))
    assert commands >= 5, result.stdout


def test_a_broken_command_reference_fails(nagios_available) -> None:
    workdir = nagios_workdir()
    broken = (
        (CONTRIB / "objects.cfg.example")
        .read_text()
        .replace("check_callout_domain!example.com", "check_callout_domian!example.com")
    )
    try:
        result = validate_with(broken, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert result.returncode != 0, result.stdout
    assert "check_callout_domian" in result.stdout, result.stdout


# --------------------------------------------------------------------------- a real run


def start_nrpe(lab, workdir: Path) -> subprocess.Popen:
    """nrpe on the null mailer web1 with contrib/icinga/nrpe.cfg as shipped; in
    its mount namespace /etc/postfix is web1's real Postfix configuration, as
    on a real null mailer."""
    shutil.copy(REPO / "contrib" / "icinga" / "nrpe.cfg", workdir / "mail-checks.cfg")
    (workdir / "nrpe.cfg").write_text(f"""\
pid_file={workdir}/nrpe.pid
server_address={WEB1_V4}
server_port=5666
nrpe_user=nagios
nrpe_group=nagios
allowed_hosts={MON_V4}
dont_blame_nrpe=0
command_timeout=60
connection_timeout=30
disable_syslog=1
log_file={workdir}/nrpe.log
include={workdir}/mail-checks.cfg
""")
    (workdir / "nrpe.log").touch()
    shutil.chown(workdir / "nrpe.log", "nagios", "nagios")
    postfix_conf = lab.postfix_dir("web1")
    script = f"mount --bind '{postfix_conf}' /etc/postfix && exec {NRPE} -c '{workdir}/nrpe.cfg' -f"
    with open(workdir / "nrpe.stdout", "wb") as out:
        return subprocess.Popen(
            in_private_mount(lab.NODES["web1"].ns, script),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def nagios_run(nagios_available, installed_package, lab) -> Iterator[dict]:
    require(os.access(NRPE, os.X_OK), "nrpe missing (contrib/icinga/install-packages.sh)")
    require(os.access(PLUGIN_DIR / "check_nrpe", os.X_OK), "check_nrpe missing (nagios-nrpe-plugin)")
    workdir = nagios_workdir()
    objects = workdir / "objects.cfg.in"
    objects.write_text(objects_cfg())
    config = nagios.main_config(workdir, [*CONTRIB_FILES, objects], PLUGIN_DIR)
    checked = nagios.validate(config)
    assert checked.returncode == 0, checked.stdout
    nrpe = start_nrpe(lab, workdir)
    core = None
    try:
        lab.wait_ready_in("mon", [f"{WEB1_V4}:5666"])
        core = nagios.Nagios(config, ["ip", "netns", "exec", lab.NODES["mon"].ns])
        core.wait_for_command_file()
        wanted = [(host, service) for host, service, _, _ in SERVICES]
        since = core.force_checks(wanted)
        status = core.wait_checked(wanted, since, timeout=90)
        yield {key: status[key] for key in wanted}
    finally:
        if core is not None:
            core.stop()
        stop(nrpe)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize(("host", "service", "state"), [(h, s, state) for h, s, _, state in SERVICES])
def test_nagios_records_the_expected_state(nagios_run, host, service, state) -> None:
    attrs = nagios_run[(host, service)]
    output = attrs["plugin_output"]
    assert nagios.STATES[int(attrs["current_state"])] == state, (output, attrs["long_plugin_output"])
    prefix = "CALLOUT" if service.startswith("callout") else "NULLMAILER"
    assert output.startswith(f"{prefix} {state} - "), output
    assert "Timeout" not in output and "Return code" not in output, output


def test_nagios_keeps_long_output_and_perfdata(nagios_run) -> None:
    attrs = nagios_run[("web1.good.test", "callout-web1.good.test")]
    assert "451 Could not complete sender verify callout" in attrs["plugin_output"]
    assert "implicit MX" in attrs["long_plugin_output"], attrs
    assert re.search(r"\bmx_hosts=1;", attrs["performance_data"]), attrs["performance_data"]


def test_local_audit_over_nrpe_sees_the_null_mailers_origin(nagios_run) -> None:
    attrs = nagios_run[("web1.good.test", "nullmailer-local")]
    text = attrs["plugin_output"] + "\n" + attrs["long_plugin_output"]
    assert "myorigin" in text and "web1.good.test" in text, text
