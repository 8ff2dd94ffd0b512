"""The Debian package: built from the checkout, clean under lintian, installed
with apt-get, and run by the nagios user from /usr/lib/nagios/plugins on
Debian's own python3-nagiosplugin and python3-dnspython."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from .conftest import PLUGIN_DIR, debian_version, run, source_version

# Debian's icinga2 drops to the nagios user, which cannot read root's temporary files.
ICINGA_ENV = {**os.environ, "ICINGA2_USER": "root", "ICINGA2_GROUP": "root"}

EXPECTED_FILES = {
    "./usr/lib/nagios/plugins/check_callout",
    "./usr/lib/nagios/plugins/check_nullmailer",
    "./usr/share/icinga2/include/plugins-contrib.d/mail-callout-checks.conf",
    "./etc/nagios-plugins/config/mail-callout-checks.cfg",
    "./usr/share/doc/mail-callout-checks/examples/nrpe.cfg",
    "./usr/share/doc/mail-callout-checks/examples/sudoers.d/check_nullmailer",
    "./usr/share/doc/mail-callout-checks/copyright",
}


def test_versions_agree() -> None:
    assert debian_version() == source_version()


def test_package_contents(built_deb) -> None:
    listing = run(["dpkg-deb", "-c", str(built_deb.deb)]).stdout
    files = {line.split()[-1] for line in listing.splitlines()}
    assert EXPECTED_FILES <= files, sorted(EXPECTED_FILES - files)
    assert not [f for f in files if f.startswith("./usr/bin/")], listing
    modes = {line.split()[-1]: line.split()[0] for line in listing.splitlines()}
    for name in ("check_callout", "check_nullmailer"):
        assert modes[f"./usr/lib/nagios/plugins/{name}"] == "-rwxr-xr-x"
    fields = run(["dpkg-deb", "-f", str(built_deb.deb), "Depends"]).stdout
    for dependency in ("python3-nagiosplugin", "python3-dnspython", "python3-idna"):
        assert dependency in fields, fields


def test_lintian_reports_no_errors(built_deb) -> None:
    """Errors fail; warnings and the rest are printed (pytest -s shows them)."""
    result = run(
        ["lintian", "--info", "--display-info", "--display-experimental", "--pedantic", str(built_deb.deb)],
        timeout=300,
    )
    tags = [line for line in result.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
    print("\nlintian:", *(tags or ["(no tags)"]), sep="\n  ")
    errors = [line for line in tags if line.startswith("E: ")]
    assert not errors, "\n".join(errors)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plugins_print_the_version_as_nagios(installed_package) -> None:
    """-V exits 3 as in the C plugins: the printed version is what counts."""
    assert installed_package.version == debian_version()
    for name in ("check_callout", "check_nullmailer"):
        result = run(["runuser", "-u", "nagios", "--", str(PLUGIN_DIR / name), "-V"], timeout=30, cwd="/")
        assert result.stdout.strip() == f"{name} {source_version()}", result
        assert result.stderr == "", result.stderr


def test_plugins_run_on_debians_libraries(installed_package) -> None:
    shebang = (PLUGIN_DIR / "check_callout").read_text().split("\n", 1)[0]
    assert shebang == "#!/usr/bin/python3", shebang
    probe = run(
        [
            "runuser",
            "-u",
            "nagios",
            "--",
            "/usr/bin/python3",
            "-c",
            "import check_callout, nagiosplugin, dns.version;"
            "print(check_callout.__file__, nagiosplugin.__file__, dns.version.version)",
        ],
        timeout=30,
        cwd="/",
    )
    assert probe.returncode == 0, probe.stderr
    module, nagiosplugin_file, dns_version = probe.stdout.split()
    assert module.startswith("/usr/lib/python3/dist-packages/"), module
    assert nagiosplugin_file.startswith("/usr/lib/python3/dist-packages/"), nagiosplugin_file
    owners = run(["dpkg", "-S", nagiosplugin_file]).stdout
    assert owners.startswith("python3-nagiosplugin:"), owners
    assert dns_version.startswith("2."), dns_version


def test_help_lists_the_options_as_nagios(installed_package) -> None:
    for name in ("check_callout", "check_nullmailer"):
        result = run(["runuser", "-u", "nagios", "--", str(PLUGIN_DIR / name), "-h"], timeout=30, cwd="/")
        assert result.returncode in (0, 3), result
        assert "-t" in result.stdout and "-V" in result.stdout, result.stdout


def test_icinga_finds_the_packaged_commands(installed_package, tmp_path) -> None:
    """The stock "include <plugins-contrib>" reads the package's file: both
    CheckCommands exist, with the plugin path of the package."""
    conf = tmp_path / "icinga2.conf"
    conf.write_text(
        'const PluginDir = "/usr/lib/nagios/plugins"\n'
        'const PluginContribDir = "/usr/lib/nagios/plugins"\n'
        'const ManubulonPluginDir = "/usr/lib/nagios/plugins"\n'
        'const NodeName = "master.test"\nconst ZoneName = NodeName\nconst TicketSalt = ""\n'
        "include <itl>\ninclude <plugins>\ninclude <plugins-contrib>\n"
    )
    cache = tmp_path / "cache"
    for sub in ("cache", "lib", "log", "run", "spool"):
        (tmp_path / sub).mkdir()
    result = run(
        [
            "icinga2",
            "daemon",
            "-C",
            "-c",
            str(conf),
            f"-DCacheDir={cache}",
            f"-DDataDir={tmp_path}/lib",
            f"-DLogDir={tmp_path}/log",
            f"-DInitRunDir={tmp_path}/run",
            f"-DSpoolDir={tmp_path}/spool",
            "-DRunAsUser=root",
            "-DRunAsGroup=root",
        ],
        timeout=120,
        env=ICINGA_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Instantiated \d+ CheckCommands", result.stdout), result.stdout
    listed = run(
        ["icinga2", "object", "list", f"-DCacheDir={cache}", "--type", "CheckCommand"], env=ICINGA_ENV
    )
    for name in ("callout", "nullmailer"):
        block = listed.stdout.split(f"Object '{name}' of type 'CheckCommand':", 1)
        assert len(block) == 2, f"CheckCommand {name} missing"
        assert f"/usr/lib/nagios/plugins/check_{name}" in block[1].split("Object '", 1)[0]


DEBIAN_OBJECTS = ("timeperiods", "contacts", "templates", "commands")


def test_nagios_validates_with_the_packaged_commands(installed_package) -> None:
    """Debian's nagios4.cfg reads /etc/nagios-plugins/config (cfg_dir): the
    package's commands load there, next to other packages' files, and a
    service can use them."""
    # Nagios reads the object files as the nagios user: not from root's tmp.
    tmp_path = Path(tempfile.mkdtemp(prefix="ccdep-nagios-", dir="/var/tmp"))
    tmp_path.chmod(0o755)
    try:
        check_packaged_commands_in_nagios(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def check_packaged_commands_in_nagios(tmp_path: Path) -> None:
    stock = Path("/etc/nagios4/nagios.cfg").read_text()
    assert "cfg_dir=/etc/nagios-plugins/config" in stock.splitlines()
    objects = tmp_path / "mail.cfg"
    objects.write_text(
        "define host {\n use generic-host\n host_name web1.example.test\n address 192.0.2.10\n"
        " max_check_attempts 3\n check_period 24x7\n}\n"
        "define service {\n use generic-service\n host_name web1.example.test\n"
        " service_description callout-example.test\n check_command check_callout_domain!example.test\n}\n"
        "define service {\n use generic-service\n host_name web1.example.test\n"
        " service_description nullmailer-local\n check_command check_nrpe_mail!check_nullmailer_local\n}\n"
    )
    main = tmp_path / "nagios.cfg"
    main.write_text(
        "cfg_dir=/etc/nagios-plugins/config\n"
        + "".join(
            f"cfg_file=/etc/nagios4/objects/{n}.cfg\n"
            for n in ("timeperiods", "contacts", "templates", "commands")
        )
        + f"cfg_file={objects}\nresource_file=/etc/nagios4/resource.cfg\n"
    )
    result = run(["nagios4", "-v", str(main)], timeout=60)
    assert result.returncode == 0, result.stdout
    assert "Total Errors:   0" in result.stdout, result.stdout
    assert "Checked 2 services." in result.stdout, result.stdout
