"""`icinga2 daemon -C` validates contrib/icinga with the ITL; the CheckCommands
match the plugins' command lines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.icinga import icinga
from tests.support.ci import require

CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "icinga"
EXAMPLE_HOSTS = (CONTRIB / "zones.d" / "master" / "mail-hosts.conf.example").read_text()

# Options every plugin has that a CheckCommand does not map.
NOT_MAPPED = {"-h", "--help", "-V", "--version"}


def object_list(layout, type_: str, name: str | None = None) -> str:
    argv = [layout.argv()[0], "object", "list", f"-DCacheDir={layout.root / 'cache'}", "--type", type_]
    if name:
        argv += ["--name", name]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=layout.env())
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def parse_objects(text: str) -> dict[str, dict[str, str]]:
    """``icinga2 object list`` output -> {object name: {top-level attribute: value}}."""
    objects: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^Object '(.+)' of type '\w+':$", line)
        if match:
            current = objects.setdefault(match.group(1), {})
            continue
        match = re.match(r"^  \* ([\w.]+)(?: = (.*))?$", line)
        if match:
            current[match.group(1)] = match.group(2) or ""
    return objects


def section(text: str, attribute: str) -> str:
    """The lines of one top-level attribute in ``object list`` output."""
    lines: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("  * "):
            inside = line == f"  * {attribute}"
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def argument_keys(text: str) -> list[str]:
    """The `arguments` keys of a single CheckCommand in ``object list`` output."""
    keys: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("  * "):
            inside = line == "  * arguments"
            continue
        match = re.match(r"^    \* (\S+)$", line)
        if inside and match:
            keys.append(match.group(1))
    return keys


@pytest.fixture(scope="module")
def validated(make_icinga_layout):
    layout = make_icinga_layout(EXAMPLE_HOSTS)
    result = icinga.icinga_validate(layout)
    assert result.returncode == 0, result.stdout + result.stderr
    return layout


def test_contrib_files_validate_with_the_itl(validated) -> None:
    services = parse_objects(object_list(validated, "Service"))
    assert set(services) == {
        "web1.example.com!nullmailer-relay",
        "web1.example.com!nullmailer-local",
        "web1.example.com!callout-web1.example.com",
        "web1.example.com!callout-example.com",
        "web2.example.com!nullmailer-relay",
        "web2.example.com!nullmailer-local",
        "web2.example.com!callout-web2.example.com",
    }
    local1 = services["web1.example.com!nullmailer-local"]
    assert local1["check_command"] == '"nullmailer"'
    assert local1["command_endpoint"] == '"web1.example.com"'
    local2 = services["web2.example.com!nullmailer-local"]
    assert local2["check_command"] == '"nrpe"'
    assert local2.get("command_endpoint", '""') == '""'
    assert services["web1.example.com!callout-example.com"]["check_command"] == '"callout"'
    assert services["web1.example.com!nullmailer-relay"]["check_command"] == '"nullmailer"'


def test_services_in_the_global_zone_validate(make_icinga_layout) -> None:
    layout = make_icinga_layout(EXAMPLE_HOSTS, services_zone="global-templates")
    result = icinga.icinga_validate(layout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Instantiated 7 Services" in result.stdout, result.stdout


def test_command_vars_and_timeouts(validated) -> None:
    for name, prefix in (("callout", "callout_"), ("nullmailer", "nullmailer_")):
        text = object_list(validated, "CheckCommand", name)
        source = (CONTRIB / "commands.conf").read_text()
        source = source.split(f'object CheckCommand "{name}"', 1)[1].split("\nobject ", 1)[0]
        macros = set(re.findall(r"\$(\w+)\$", section(text, "arguments")))
        macros |= set(re.findall(r'macro\("\$(\w+)\$"\)', source))
        assert macros, text
        foreign = {m for m in macros if not m.startswith(prefix)}
        assert not foreign, f"{name}: vars not named {prefix}*: {foreign}"
        assert re.search(r"^  \* timeout = 40$", text, re.M), text
        assert re.search(rf"^    \* {prefix}timeout = 30$", text, re.M), text
    text = object_list(validated, "CheckCommand", "nullmailer")
    assert re.search(r'^    \* nullmailer_address = "\$check_address\$"$', text, re.M), text


@pytest.mark.parametrize(
    ("filename", "old", "new"),
    [
        ("commands.conf", '"$callout_timeout$"', '"$callout_timeout$'),  # broken string
        ("commands.conf", "repeat_key = true", "repeat_key = yes"),  # unknown identifier
        ("services.conf", 'check_command = "callout"', 'check_command = "callout-typo"'),
        ("services.conf", 'import "mail-service"', 'import "mail-services"'),
    ],
)
def test_validation_catches_broken_copies(make_icinga_layout, filename, old, new) -> None:
    text = (CONTRIB / filename).read_text()
    assert old in text
    broken = text.replace(old, new, 1)
    kwargs = {"commands_conf" if filename == "commands.conf" else "services_conf": broken}
    result = icinga.icinga_validate(make_icinga_layout(EXAMPLE_HOSTS, **kwargs))
    assert result.returncode != 0, result.stdout


def help_option_groups(help_text: str) -> list[set[str]]:
    """Option groups (aliases) from an argparse help text."""
    groups = []
    for line in help_text.splitlines():
        match = re.match(r"^\s{1,8}(-[^\s].*?)(?:\s{2,}.*)?$", line)
        if not match:
            continue
        names = set(re.findall(r"(?:^|,\s|\s)(--?[A-Za-z0-9][\w-]*)", match.group(1)))
        if names:
            groups.append(names)
    return groups


@pytest.mark.parametrize("name", ["callout", "nullmailer"])
def test_arguments_match_plugin_help(validated, plugin_paths, name) -> None:
    keys = argument_keys(object_list(validated, "CheckCommand", name))
    assert keys
    result = subprocess.run(
        [str(plugin_paths[f"check_{name}"]), "-h"], capture_output=True, text=True, timeout=30
    )
    groups = [g for g in help_option_groups(result.stdout) if not g & NOT_MAPPED]
    assert groups, result.stdout
    known = set().union(*groups)
    unknown = sorted(set(keys) - known)
    assert not unknown, f"{name}: arguments the plugin does not know: {unknown}\n{result.stdout}"
    for group in groups:
        mapped = group & set(keys)
        assert mapped, f"{name}: plugin option {sorted(group)} not mapped in the CheckCommand"
        assert len(mapped) == 1, f"{name}: {sorted(mapped)} are aliases, map one of them"

    # Each argument reads the variable named after the option, and only
    # variables of other arguments besides (a typo in a variable name would
    # silently drop the option).
    source = command_source(name)
    wanted: dict[str, str] = {}
    for key in keys:
        group = next(g for g in groups if key in g)
        longs = sorted(o for o in group if o.startswith("--"))
        var = VAR_EXCEPTIONS.get((name, key)) or (
            f"{name}_" + longs[0][2:].replace("-", "_") if longs else None
        )
        assert var, f"{name}: no variable name rule for {key}"
        wanted[key] = var
    for key, var in wanted.items():
        pattern = r'\n\t\t"' + re.escape(key) + r'" = \{\n(.*?)\n\t\t\}'
        block = re.search(pattern, source, re.S)
        assert block, key
        macros = set(re.findall(r"\$(\w+)\$", block.group(1)))
        assert var in macros, f"{name} {key}: does not use {var} ({sorted(macros)})"
        stray = macros - set(wanted.values())
        assert not stray, f"{name} {key}: unknown variables {sorted(stray)}"
    defaults = set(re.findall(rf"^\tvars\.({name}_\w+) = ", source, re.M))
    unused = defaults - set(wanted.values())
    assert not unused, f"{name}: defaults for unused vars {sorted(unused)}"


VAR_EXCEPTIONS = {
    ("callout", "-H"): "callout_host",
    ("nullmailer", "-H"): "nullmailer_address",
}


def command_source(name: str) -> str:
    text = (CONTRIB / "commands.conf").read_text()
    return text.split(f'object CheckCommand "{name}" {{', 1)[1].split("\n}\n", 1)[0]


def test_nrpe_file_needs_no_command_arguments() -> None:
    text = (CONTRIB / "nrpe.cfg").read_text()
    commands = re.findall(r"^command\[([\w.-]+)\]=(.+)$", text, re.M)
    assert commands
    nasty = set("|`&><'\\[]{};")
    for name, line in commands:
        assert "$ARG" not in line, f"{name} needs dont_blame_nrpe"
        assert not nasty & set(line.split("=", 1)[-1]), name
        assert line.startswith("/"), f"{name}: absolute plugin path expected"
    services = (CONTRIB / "services.conf").read_text()
    for name, _ in commands:
        assert f'"{name}"' in services, f"{name} not used by services.conf"


# --------------------------------------------------------------------------- single node

SINGLE_NODE_CONF = """\
/* As a stock single node: its own zone (ZoneName = NodeName), the global zone
 * of the stock zones.conf, conf.d read by icinga2.conf. */
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const NodeName = "icinga.test"
const ZoneName = NodeName
const TicketSalt = ""

include <itl>
include <plugins>

object Endpoint NodeName { }
object Zone ZoneName { endpoints = [ NodeName ] }
object Zone "global-templates" { global = true }

include_recursive "conf.d"
"""


def single_node(root: Path, files: dict[str, str]) -> subprocess.CompletedProcess:
    for sub in ("lib", "log", "cache", "spool", "run", "conf.d", "zones.d"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "icinga2.conf").write_text(SINGLE_NODE_CONF)
    layout = icinga.IcingaLayout(root=root, config=root / "icinga2.conf", zones=root / "zones.d", api_port=0)
    return icinga.icinga_validate(layout)


def instantiated(output: str, kind: str) -> int:
    match = re.search(rf"Instantiated (\d+) {kind}\b", output)
    return int(match.group(1)) if match else 0


def test_single_node_layout_creates_the_services(tmp_path) -> None:
    """conf.d as the single-node example says: every service exists (counted,
    since a validation that creates nothing exits 0 as well)."""
    require(icinga.icinga_available(), "icinga2 not installed (contrib/icinga/install-packages.sh)")
    result = single_node(
        tmp_path,
        {
            "conf.d/mail-commands.conf": (CONTRIB / "commands.conf").read_text(),
            "conf.d/mail-services.conf": (CONTRIB / "services.conf").read_text(),
            "conf.d/mail-hosts.conf": (CONTRIB / "conf.d" / "mail-hosts.conf.example").read_text(),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # web1: relay, local over NRPE, two callouts; web3 (IPv6 only): relay, local, one callout.
    assert instantiated(result.stdout, "Services") == 7, result.stdout
    assert instantiated(result.stdout, "Hosts") == 2, result.stdout


def test_distributed_files_on_a_single_node_create_nothing(tmp_path) -> None:
    """What the count guards against: zones.d/master on a node whose zone is
    not "master" is ignored, and the validation still exits 0."""
    require(icinga.icinga_available(), "icinga2 not installed (contrib/icinga/install-packages.sh)")
    result = single_node(
        tmp_path,
        {
            "zones.d/global-templates/mail-commands.conf": (CONTRIB / "commands.conf").read_text(),
            "zones.d/master/mail-services.conf": (CONTRIB / "services.conf").read_text(),
            "zones.d/master/mail-hosts.conf": (CONTRIB / "conf.d" / "mail-hosts.conf.example").read_text(),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "for unknown zone 'master'" in result.stdout, result.stdout
    assert instantiated(result.stdout, "Services") == 0, result.stdout
