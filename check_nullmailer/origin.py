"""Which MTA sends from this host, which domain it puts in envelope senders, and how
it is exposed (listening addresses, relay permissions), read from its configuration.

Every file path is taken under a ``root`` prefix (tests and chroots).  Postfix and Exim
are asked through their own tools (``postconf``, ``exim -bP``) when present, because
only they know the compiled-in defaults and the expansion rules; a small parser of
``main.cf`` / the Exim configuration is the fallback.  Nothing here raises for a
missing or unreadable file: it becomes a note, and the value stays unknown (``None``).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

from check_callout.text import sanitize

MTAS = ("postfix", "exim", "nullmailer", "ssmtp", "msmtp", "dma", "opensmtpd")
LABELS = {
    "postfix": "Postfix",
    "exim": "Exim",
    "nullmailer": "nullmailer",
    "ssmtp": "ssmtp",
    "msmtp": "msmtp",
    "dma": "dma",
    "opensmtpd": "OpenSMTPD",
}
MAX_FILE = 1024 * 1024  # configuration files larger than this are read only in part
COMMAND_TIMEOUT = 10.0

# relay states, from the configuration
RELAY_NONE = "none"  # relays only for local submitters (loopback) or authenticated users
RELAY_NETWORKS = "networks"  # relays for listed networks beyond this host
RELAY_OPEN = "open"  # relays for everyone
RELAY_UNKNOWN = "unknown"


@dataclass
class MTAInfo:
    """What one MTA's configuration says; unknown values are ``None``."""

    mta: str
    origin: str | None = None  # the domain of locally generated envelope senders
    origin_text: str = ""  # how it was derived, in the MTA's own words
    listens: bool | None = None  # whether the configuration runs an SMTP listener
    listen_public: bool | None = None  # ... on a non-loopback address
    listen_text: str = ""
    relay: str = RELAY_UNKNOWN
    relay_text: str = ""
    notes: list[str] = field(default_factory=list)  # skipped parts and problems
    config: str = ""  # the directory or file that was read

    @property
    def label(self) -> str:
        return LABELS.get(self.mta, self.mta)


class NoMTA(Exception):
    """No supported MTA was found."""


# -- small helpers ---------------------------------------------------------------------


def under(root: str, path: str) -> str:
    """``path`` (absolute) below ``root``."""
    if root in ("", "/"):
        return path
    return os.path.join(root, path.lstrip("/"))


def read_text(path: str) -> str:
    """A configuration file's text; raises OSError (missing/unreadable)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(MAX_FILE)


def first_word(path: str) -> str | None:
    """The first word of the first non-comment line (``/etc/mailname``-style files)."""
    for line in read_text(path).splitlines()[:1000]:
        line = line.split("#", 1)[0].strip()
        if line:
            return line.split()[0]
    return None


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def local_hostname(root: str) -> tuple[str, str]:
    """This host's name and where it came from (``/etc/hostname`` under a root)."""
    if root not in ("", "/"):
        try:
            name = first_word(under(root, "/etc/hostname"))
            if name:
                return name, "/etc/hostname"
        except OSError:
            pass
    return socket.gethostname(), "the system host name"


def mailname(root: str) -> str | None:
    try:
        return first_word(under(root, "/etc/mailname"))
    except OSError:
        return None


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip("<>").rstrip(".").lower()


def run_command(argv: list[str], deadline: float | None) -> tuple[int, str, str]:
    """Run a local tool, bounded by ``deadline``; raises OSError/TimeoutExpired."""
    timeout = COMMAND_TIMEOUT
    if deadline is not None:
        timeout = max(0.1, min(timeout, deadline - time.monotonic()))
    proc = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"},
    )
    decode = lambda data: data.decode("utf-8", errors="replace")  # noqa: E731
    return proc.returncode, decode(proc.stdout), decode(proc.stderr)


def find_tool(names: tuple[str, ...]) -> str | None:
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def _is_loopback_word(word: str) -> bool:
    word = word.strip().strip("[]").lower()
    if word in ("localhost", "loopback-only", "lo", "lo0", "localhost.localdomain"):
        return True
    word = word.split("/", 1)[0].strip("[]")
    try:
        ip = ipaddress.ip_address(word)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _network_reach(item: str) -> str:
    """Classify one network of a relay list: ``loopback``, ``all``, ``net`` or ``other``."""
    text = item.strip().strip(",").strip()
    bare = text.replace("[", "").replace("]", "")
    if bare in ("*", "0/0", "0.0.0.0/0", "::/0", "0.0.0.0/0.0.0.0"):
        return "all"
    if _is_loopback_word(bare):
        return "loopback"
    try:
        net = ipaddress.ip_network(bare, strict=False)
    except ValueError:
        return "other"  # a name, a map, a file: not evaluated here
    if net.prefixlen == 0:
        return "all"
    return "net"


# -- Postfix -----------------------------------------------------------------------------

POSTFIX_PARAMS = (
    "myorigin",
    "myhostname",
    "mydomain",
    "inet_interfaces",
    "mynetworks",
    "mynetworks_style",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "masquerade_domains",
)
_EXPAND = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|\(([A-Za-z0-9_]+)\)|([A-Za-z0-9_]+))")


def expand_postfix(value: str, params: dict[str, str], depth: int = 0) -> str:
    """Expand ``$name``, ``${name}`` and ``$(name)`` (bounded depth)."""
    if depth > 10 or "$" not in value:
        return value

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return expand_postfix(params.get(name, ""), params, depth + 1)

    return _EXPAND.sub(repl, value)


def parse_main_cf(text: str) -> dict[str, str]:
    """``name = value`` pairs of main.cf, joining continuation lines."""
    params: dict[str, str] = {}
    name: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t" and name is not None:
            params[name] += " " + line.strip()
            continue
        key, sep, value = line.partition("=")
        if not sep:
            name = None
            continue
        name = key.strip()
        params[name] = value.strip()
    return params


def _postfix_defaults(root: str, params: dict[str, str]) -> dict[str, str]:
    host, _ = local_hostname(root)
    defaults = {
        "myhostname": host if "." in host else f"{host}.localdomain",
        "myorigin": "$myhostname",
        "inet_interfaces": "all",
        "smtpd_recipient_restrictions": "",
    }
    hostname = expand_postfix(params.get("myhostname", defaults["myhostname"]), {**defaults, **params})
    defaults["mydomain"] = hostname.partition(".")[2] or "localdomain"
    level = params.get("compatibility_level", "0").split(".")[0]
    modern = level.isdigit() and int(level) >= 2
    defaults["mynetworks_style"] = "host" if modern else "subnet"
    defaults["smtpd_relay_restrictions"] = (
        "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
        if level.isdigit() and int(level) >= 1
        else ""
    )
    return defaults


def _postconf_values(tool: str, confdir: str, expand: bool, deadline: float | None) -> dict[str, str]:
    argv = [tool, "-c", confdir]
    if expand:
        argv.append("-x")
    rc, out, err = run_command(argv + list(POSTFIX_PARAMS), deadline)
    values: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            values[key.strip()] = value.strip()
        elif line.endswith(" ="):
            values[line[:-2].strip()] = ""
    if rc != 0 and not values:
        raise OSError(0, sanitize(err.strip().splitlines()[-1] if err.strip() else f"exit {rc}", 160))
    return values


def _master_cf_ports(text: str) -> list[str]:
    """The SMTP services (``smtp``, ``submission``, ``smtps``, ports) of master.cf."""
    found: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line[0] in "# \t":
            continue
        fields = line.split()
        if len(fields) < 8 or fields[1] != "inet":
            continue
        service = fields[0].rpartition(":")[2]
        if service in ("smtp", "25", "submission", "587", "smtps", "465", "submissions"):
            found.append(fields[0])
    return found


def read_postfix(
    root: str = "/", confdir: str | None = None, deadline: float | None = None, postconf: str | None = "auto"
) -> MTAInfo:
    """Postfix: ``postconf`` (``-c DIR``) when available, else main.cf parsed here."""
    info = MTAInfo("postfix")
    confdir = confdir or under(root, "/etc/postfix")
    info.config = confdir
    tool = find_tool(("postconf",)) if postconf == "auto" else postconf
    main_cf = os.path.join(confdir, "main.cf")
    if not os.access(main_cf, os.R_OK):
        # postconf would exit fatally, after the one-second pause of every Postfix fatal error
        reason = "not found" if not os.path.exists(main_cf) else "not readable"
        info.notes.append(f"{main_cf}: {reason}")
        return info
    raw: dict[str, str] | None = None
    expanded: dict[str, str] | None = None
    if tool:
        try:
            raw = _postconf_values(tool, confdir, False, deadline)
            try:
                expanded = _postconf_values(tool, confdir, True, deadline)
            except (OSError, subprocess.SubprocessError):
                expanded = None  # postconf older than 2.9 has no -x
        except (OSError, subprocess.SubprocessError) as exc:
            info.notes.append(f"postconf failed ({sanitize(str(exc), 120)}); main.cf parsed instead")
            raw = None
    if raw is None:
        try:
            params = parse_main_cf(read_text(os.path.join(confdir, "main.cf")))
        except OSError as exc:
            info.notes.append(f"{os.path.join(confdir, 'main.cf')}: {_why(exc)}")
            return info
        raw = {**_postfix_defaults(root, params), **params}
    if expanded is None:
        expanded = {key: expand_postfix(value, raw) for key, value in raw.items()}

    # envelope origin
    shown = raw.get("myorigin", "$myhostname")
    value = expanded.get("myorigin", "")
    text = f"Postfix myorigin = {shown}"
    if value.startswith("/"):
        try:
            from_file = first_word(under(root, value))
        except OSError as exc:
            info.notes.append(f"myorigin names {value}, which cannot be read: {_why(exc)}")
            from_file = None
        if from_file:
            text += f" = {from_file}" if shown == value else f" = {value} = {from_file}"
            value = from_file
        else:
            value = ""
    elif value and value != shown:
        text += f" = {value}"
    if value:
        info.origin = value.rstrip(".").lower()
        info.origin_text = text
    masq = expanded.get("masquerade_domains", "").strip()
    if masq:
        info.notes.append(f"masquerade_domains = {sanitize(masq, 80)} may rewrite senders (not evaluated)")

    # exposure
    try:
        services = _master_cf_ports(read_text(os.path.join(confdir, "master.cf")))
        info.listens = bool(services)
        if not services:
            info.listen_text = "master.cf has no smtp/submission/smtps inet service"
    except OSError as exc:
        info.notes.append(f"{os.path.join(confdir, 'master.cf')}: {_why(exc)}")
        services = []
    interfaces = expanded.get("inet_interfaces", "all")
    words = [w for w in re.split(r"[\s,]+", interfaces) if w]
    if info.listens is not False:
        info.listen_public = not all(_is_loopback_word(w) for w in words) if words else True
        info.listen_text = f"inet_interfaces = {sanitize(interfaces, 80)}"
        if services:
            info.listen_text += f" ({', '.join(services[:4])} in master.cf)"

    networks = [w for w in re.split(r"[\s,]+", expanded.get("mynetworks", "")) if w]
    reach = {item: _network_reach(item) for item in networks}
    relay_list = expanded.get("smtpd_relay_restrictions", "")
    items = [w for w in re.split(r"[\s,]+", relay_list) if w]
    if not items:
        items = [w for w in re.split(r"[\s,]+", expanded.get("smtpd_recipient_restrictions", "")) if w]
    gate = next(
        (i for i, w in enumerate(items) if w in ("reject_unauth_destination", "defer_unauth_destination")),
        None,
    )
    before = items if gate is None else items[:gate]
    if "permit" in before:
        info.relay = RELAY_OPEN
        info.relay_text = f"smtpd_relay_restrictions permits everyone ({sanitize(relay_list, 80)})"
    elif "permit_mynetworks" in before and any(v == "all" for v in reach.values()):
        info.relay = RELAY_OPEN
        info.relay_text = f"mynetworks = {sanitize(' '.join(networks), 80)} includes every address"
    elif "permit_mynetworks" in before and any(v == "net" for v in reach.values()):
        info.relay = RELAY_NETWORKS
        wide = [k for k, v in reach.items() if v == "net"]
        info.relay_text = f"relays for mynetworks {sanitize(' '.join(wide), 80)}"
    elif "permit_mynetworks" in before and any(v == "other" for v in reach.values()):
        info.relay = RELAY_UNKNOWN
        info.relay_text = f"mynetworks = {sanitize(' '.join(networks), 80)} (tables not evaluated)"
    else:
        info.relay = RELAY_NONE
        info.relay_text = "relays only for this host" + (
            " and authenticated clients" if "permit_sasl_authenticated" in before else ""
        )
    return info


# -- Exim --------------------------------------------------------------------------------

EXIM_CONFIGS = (
    "/etc/exim4/exim4.conf",
    "/var/lib/exim4/config.autogenerated",
    "/etc/exim/exim.conf",
    "/etc/exim/configure",
    "/etc/exim.conf",
    "/usr/exim/configure",
)
_EXIM_OPTION = re.compile(r"^\s*(?:hide\s+)?([a-z_]+)\s*=\s*(.*?)\s*$")
_EXIM_LIST = re.compile(r"^\s*(?:hide\s+)?hostlist\s+relay_from_hosts\s*=\s*(.*?)\s*$")
_EXIM_MACRO = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*$")


def parse_exim_config(text: str) -> dict[str, str]:
    """Main-section options, ``relay_from_hosts`` and simple macros of an Exim config."""
    values: dict[str, str] = {}
    macros: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip().lower().startswith("begin "):
            break  # only the main section matters here
        if line.lstrip().startswith(("#", ".")):
            continue
        m = _EXIM_MACRO.match(line)
        if m:
            macros.setdefault(m.group(1), m.group(2))
            continue
        m = _EXIM_LIST.match(line)
        if m:
            values.setdefault("relay_from_hosts", m.group(1))
            continue
        m = _EXIM_OPTION.match(line)
        if m:
            values.setdefault(m.group(1), m.group(2))
    for key, value in list(values.items()):
        for _ in range(5):
            new = re.sub(r"\b([A-Z][A-Z0-9_]*)\b", lambda x: macros.get(x.group(1), x.group(1)), value)
            if new == value:
                break
            value = new
        values[key] = value
    return values


def _exim_list(value: str) -> list[str]:
    value = value.strip()
    sep = ":"
    if value.startswith("<") and len(value) > 1:
        sep, value = value[1], value[2:]
    if sep == ":":
        value = value.replace("::", "\0")  # doubled colons inside IPv6 addresses
    return [item.strip().replace("\0", ":") for item in value.split(sep) if item.strip()]


def _exim_interface(item: str) -> str:
    """An Exim interface without its optional ``.port`` (or ``[addr]:port``) suffix."""
    item = item.strip()
    if item.startswith("["):
        return item[1:].partition("]")[0]
    try:
        ipaddress.ip_address(item)
        return item
    except ValueError:
        head, _, tail = item.rpartition(".")
        return head if tail.isdigit() and head else item


def _debian_exim(root: str) -> dict[str, str]:
    path = under(root, "/etc/exim4/update-exim4.conf.conf")
    values: dict[str, str] = {}
    for line in read_text(path).splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().startswith("dc_"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def read_exim(
    root: str = "/", config: str | None = None, deadline: float | None = None, exim: str | None = "auto"
) -> MTAInfo:
    """Exim: ``exim -bP`` when the binary is present, else the configuration parsed."""
    info = MTAInfo("exim")
    tool = find_tool(("exim4", "exim")) if exim == "auto" else exim
    if root not in ("", "/") and exim == "auto" and config is None:
        tool = None  # the binary would read the real configuration, not the one under root
    values: dict[str, str] = {}
    if tool:
        argv = (
            [tool]
            + (["-C", config] if config else [])
            + [
                "-bP",
                "primary_hostname",
                "qualify_domain",
                "local_interfaces",
                "daemon_smtp_ports",
                "+relay_from_hosts",
            ]
        )
        try:
            rc, out, err = run_command(argv, deadline)
            for line in out.splitlines():
                m = _EXIM_LIST.match(line) or None
                if m:
                    values["relay_from_hosts"] = m.group(1)
                    continue
                key, sep, value = line.partition(" = ")
                if sep:
                    values[key.strip()] = value.strip()
            if "qualify_domain" not in values:
                raise OSError(0, sanitize((err or out).strip() or f"exit {rc}", 160))
            info.config = config or f"{os.path.basename(tool)} -bP"
        except (OSError, subprocess.SubprocessError) as exc:
            info.notes.append(
                f"{os.path.basename(tool)} -bP failed ({sanitize(str(exc), 120)}); "
                "configuration parsed instead"
            )
            values = {}
    debian: dict[str, str] = {}
    try:
        debian = _debian_exim(root)
    except OSError:
        pass
    if not values:
        paths = [config] if config else [under(root, p) for p in EXIM_CONFIGS]
        for path in paths:
            try:
                values = parse_exim_config(read_text(path))
                info.config = path
                break
            except OSError as exc:
                if config:
                    info.notes.append(f"{path}: {_why(exc)}")
        if not info.config and not debian:
            info.notes.append("no Exim configuration file found")
            return info
        if debian:
            info.config = info.config or under(root, "/etc/exim4/update-exim4.conf.conf")
            values.setdefault(
                "local_interfaces", "<; " + debian.get("dc_local_interfaces", "127.0.0.1 ; ::1")
            )
            values.setdefault("relay_from_hosts", "<; 127.0.0.1 ; ::1 ; " + debian.get("dc_relay_nets", ""))
        host, _ = local_hostname(root)
        values.setdefault("primary_hostname", host)
        if "qualify_domain" not in values:
            name = mailname(root) if debian else None
            values["qualify_domain"] = name or values["primary_hostname"]
            values["_qualify_from"] = "/etc/mailname" if name else "primary_hostname"

    qualify = values.get("qualify_domain", "")
    source = values.get("_qualify_from")
    if source == "/etc/mailname":
        info.origin_text = f"Exim qualify_domain = /etc/mailname = {qualify}"
    elif qualify and qualify == values.get("primary_hostname") and source == "primary_hostname":
        info.origin_text = f"Exim qualify_domain = primary_hostname = {qualify}"
    else:
        info.origin_text = f"Exim qualify_domain = {qualify}"
    info.origin = qualify.rstrip(".").lower() or None
    if debian.get("dc_hide_mailname", "").lower() == "true" and debian.get("dc_readhost"):
        info.origin = debian["dc_readhost"].rstrip(".").lower()
        info.origin_text += f", rewritten to dc_readhost = {info.origin} (dc_hide_mailname)"

    interfaces = values.get("local_interfaces", "<; ::0 ; 0.0.0.0")
    items = _exim_list(interfaces)
    info.listen_public = not all(_is_loopback_word(_exim_interface(w)) for w in items)
    info.listen_text = f"local_interfaces = {sanitize(interfaces, 80)}"
    relay = _exim_list(values.get("relay_from_hosts", ""))
    reach = [_network_reach(item) for item in relay]
    shown = sanitize(" : ".join(relay), 80)
    if "all" in reach:
        info.relay, info.relay_text = RELAY_OPEN, f"relay_from_hosts = {shown} includes every address"
    elif "net" in reach:
        info.relay, info.relay_text = RELAY_NETWORKS, f"relay_from_hosts = {shown}"
    elif "other" in reach:
        info.relay, info.relay_text = (
            RELAY_UNKNOWN,
            f"relay_from_hosts = {shown} (names and lists not evaluated)",
        )
    else:
        info.relay = RELAY_NONE
        info.relay_text = "relay_from_hosts lists only this host" if relay else "relay_from_hosts is empty"
    return info


# -- the send-only MTAs -------------------------------------------------------------------


def _no_listener(info: MTAInfo) -> None:
    info.listens = False
    info.listen_public = False
    info.listen_text = f"{info.label} has no SMTP server"
    info.relay = RELAY_NONE
    info.relay_text = "cannot relay (no SMTP server)"


def _control(path: str) -> str | None:
    try:
        return first_word(path)
    except OSError:
        return None


def read_nullmailer(root: str = "/") -> MTAInfo:
    info = MTAInfo("nullmailer")
    _no_listener(info)
    base = under(root, "/etc/nullmailer")
    info.config = base
    if not os.path.isdir(base):
        info.notes.append(f"{base}: not found")
        return info
    allmailfrom = _control(os.path.join(base, "allmailfrom"))
    if allmailfrom:
        info.origin = _domain_of(allmailfrom)
        info.origin_text = f"nullmailer allmailfrom = {allmailfrom}"
        return info
    me = _control(os.path.join(base, "me"))
    host, where = local_hostname(root)
    defaulthost = _control(os.path.join(base, "defaulthost"))
    name = defaulthost or me or host
    source = "defaulthost" if defaulthost else "me" if me else where
    text = f"nullmailer {source} = {name}"
    if "." not in name and name != "localhost":
        domain = _control(os.path.join(base, "defaultdomain"))
        if domain:
            name = f"{name}.{domain}"
            text = f"nullmailer {source} + defaultdomain = {name}"
    info.origin = name.rstrip(".").lower()
    info.origin_text = text
    return info


def _key_values(text: str, sep: str = "=") -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if sep == " ":
            key, _, value = line.partition(" ")
        else:
            key, _, value = line.partition(sep)
        values[key.strip().lower()] = value.strip()
    return values


def read_ssmtp(root: str = "/") -> MTAInfo:
    info = MTAInfo("ssmtp")
    _no_listener(info)
    path = under(root, "/etc/ssmtp/ssmtp.conf")
    info.config = path
    try:
        conf = _key_values(read_text(path))
    except OSError as exc:
        info.notes.append(f"{path}: {_why(exc)}")
        return info
    if conf.get("rewritedomain"):
        info.origin, info.origin_text = (
            conf["rewritedomain"],
            f"ssmtp rewriteDomain = {conf['rewritedomain']}",
        )
    elif conf.get("hostname"):
        info.origin, info.origin_text = conf["hostname"], f"ssmtp hostname = {conf['hostname']}"
    else:
        host, where = local_hostname(root)
        info.origin, info.origin_text = host, f"ssmtp: no rewriteDomain or hostname, {where} = {host}"
    info.origin = info.origin.rstrip(".").lower()
    return info


def _msmtp_accounts(text: str) -> tuple[dict[str, dict[str, str]], str | None]:
    accounts: dict[str, dict[str, str]] = {}
    defaults: dict[str, str] = {}
    current: dict[str, str] = defaults
    chosen: str | None = None
    first: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        key, value = key.lower(), value.strip()
        if key == "defaults":
            current = defaults
        elif key == "account":
            name, colon, parent = value.partition(":")
            name = name.strip()
            if name == "default" and colon:
                chosen = parent.strip()
                continue
            current = dict(defaults)
            if colon:
                for base in parent.split(","):
                    current.update(accounts.get(base.strip(), {}))
            accounts[name] = current
            first = first or name
        else:
            current[key] = value
    accounts.setdefault("", defaults)
    return accounts, chosen or ("default" if "default" in accounts else first)


def read_msmtp(root: str = "/") -> MTAInfo:
    info = MTAInfo("msmtp")
    _no_listener(info)
    path = under(root, "/etc/msmtprc")
    info.config = path
    try:
        accounts, chosen = _msmtp_accounts(read_text(path))
    except OSError as exc:
        info.notes.append(f"{path}: {_why(exc)}")
        return info
    conf = accounts.get(chosen or "", accounts[""])
    host, where = local_hostname(root)
    label = f"msmtp account {chosen}" if chosen else "msmtp"
    sender = conf.get("from", "")
    if sender:
        domain = _domain_of(sender)
        for pattern, value in (("%H", host), ("%C", host), ("%M", mailname(root) or host)):
            domain = domain.replace(pattern.lower(), value)
        info.origin, info.origin_text = (
            domain,
            f"{label}: from {sender}" + (f" = {domain}" if "%" in sender else ""),
        )
    elif conf.get("auto_from", "off") == "on":
        domain = conf.get("maildomain") or host
        info.origin, info.origin_text = domain, f"{label}: auto_from with maildomain = {domain}"
    else:
        info.origin, info.origin_text = host, f"{label}: no from, so the local host name ({where}) = {host}"
    info.origin = (info.origin or "").rstrip(".").lower() or None
    return info


def read_dma(root: str = "/") -> MTAInfo:
    info = MTAInfo("dma")
    _no_listener(info)
    path = under(root, "/etc/dma/dma.conf")
    info.config = path
    try:
        conf = _key_values(read_text(path), sep=" ")
    except OSError as exc:
        info.notes.append(f"{path}: {_why(exc)}")
        return info
    masquerade = conf.get("masquerade", "")
    if masquerade:
        domain = masquerade.rpartition("@")[2] if "@" in masquerade else masquerade
        if domain:
            info.origin, info.origin_text = domain, f"dma MASQUERADE {masquerade}"
    if not info.origin:
        name_setting = conf.get("mailname", "/etc/mailname")
        name = None
        if name_setting.startswith("/"):
            try:
                name = first_word(under(root, name_setting))
            except OSError:
                name = None
        else:
            name = name_setting
        if name:
            info.origin, info.origin_text = (
                name,
                f"dma MAILNAME {name_setting}" + (f" = {name}" if name != name_setting else ""),
            )
        else:
            host, where = local_hostname(root)
            info.origin, info.origin_text = host, f"dma: no MASQUERADE or MAILNAME, {where} = {host}"
    info.origin = (info.origin or "").rstrip(".").lower() or None
    return info


OPENSMTPD_CONFIGS = ("/etc/smtpd.conf", "/etc/smtpd/smtpd.conf", "/etc/mail/smtpd.conf")


def read_opensmtpd(root: str = "/") -> MTAInfo:
    info = MTAInfo("opensmtpd")
    text = None
    for candidate in OPENSMTPD_CONFIGS:
        path = under(root, candidate)
        try:
            text = read_text(path)
            info.config = path
            break
        except OSError:
            continue
    if text is None:
        info.notes.append("no smtpd.conf found")
        return info
    listens: list[str] = []
    relay = RELAY_NONE
    relay_text = "no match rule relays for other hosts"
    relay_actions: set[str] = set()
    mail_from = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        words = line.split()
        if len(words) >= 3 and words[0] == "listen" and words[1] == "on":
            listens.append(words[2])
        if words[:1] == ["action"] and len(words) >= 3 and ("relay" in words[2:]):
            relay_actions.add(words[1].strip('"'))
            if "mail-from" in words:
                mail_from = (
                    words[words.index("mail-from") + 1].strip('"')
                    if words.index("mail-from") + 1 < len(words)
                    else None
                )
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] != ["match"] or "action" not in words:
            continue
        action = words[words.index("action") + 1].strip('"') if words.index("action") + 1 < len(words) else ""
        if action not in relay_actions or "auth" in words:
            continue
        if "from" in words and words.index("from") + 1 < len(words):
            source = words[words.index("from") + 1]
            if source == "any":
                relay, relay_text = RELAY_OPEN, f"match from any ... action {action} relays for everyone"
                break
            if source == "src":
                relay, relay_text = RELAY_NETWORKS, f"match from src ... action {action}"
    info.listens = bool(listens)
    info.listen_public = any(not _is_loopback_word(w) for w in listens)
    info.listen_text = "listen on " + ", ".join(listens) if listens else "no listen directive"
    info.relay, info.relay_text = relay, relay_text
    if mail_from:
        info.origin, info.origin_text = _domain_of(mail_from), f"OpenSMTPD mail-from {mail_from}"
    else:
        for candidate in ("/etc/mail/mailname", "/etc/mailname"):
            try:
                name = first_word(under(root, candidate))
            except OSError:
                continue
            if name:
                info.origin, info.origin_text = name.lower(), f"OpenSMTPD {candidate} = {name}"
                break
        else:
            host, where = local_hostname(root)
            info.origin, info.origin_text = host.lower(), f"OpenSMTPD: no mailname, {where} = {host}"
    return info


# -- detection -----------------------------------------------------------------------------

_MARKERS: dict[str, tuple[str, ...]] = {
    "postfix": ("/etc/postfix/main.cf",),
    "exim": EXIM_CONFIGS + ("/etc/exim4/update-exim4.conf.conf",),
    "nullmailer": ("/etc/nullmailer",),
    "ssmtp": ("/etc/ssmtp/ssmtp.conf",),
    "msmtp": ("/etc/msmtprc",),
    "dma": ("/etc/dma/dma.conf",),
    "opensmtpd": OPENSMTPD_CONFIGS,
}
_SENDMAIL_HINTS = {
    "postfix": "postfix",
    "exim": "exim",
    "nullmailer": "nullmailer",
    "ssmtp": "ssmtp",
    "msmtp": "msmtp",
    "dma": "dma",
    "opensmtpd": "smtpctl",
}


def installed(root: str = "/") -> list[str]:
    """The MTAs whose configuration exists under ``root``, in :data:`MTAS` order."""
    return [mta for mta in MTAS if any(os.path.exists(under(root, p)) for p in _MARKERS[mta])]


def detect(root: str = "/") -> tuple[str, list[str]]:
    """The MTA that sends from this host, and the others found.

    When several are configured, the one ``/usr/sbin/sendmail`` points to wins.
    """
    found = installed(root)
    if not found:
        raise NoMTA(f"no MTA configuration found under {root} (looked for {', '.join(LABELS.values())})")
    chosen = found[0]
    if len(found) > 1:
        try:
            target = os.path.realpath(under(root, "/usr/sbin/sendmail"))
        except OSError:
            target = ""
        for mta in found:
            if _SENDMAIL_HINTS[mta] in os.path.basename(target) or f"/{_SENDMAIL_HINTS[mta]}" in target:
                chosen = mta
                break
    return chosen, [mta for mta in found if mta != chosen]


def read_mta(
    mta: str,
    root: str = "/",
    *,
    postfix_config: str | None = None,
    exim_config: str | None = None,
    deadline: float | None = None,
) -> MTAInfo:
    """Read one MTA's configuration (never raises for missing files)."""
    if mta == "postfix":
        return read_postfix(root, postfix_config, deadline)
    if mta == "exim":
        return read_exim(root, exim_config, deadline)
    readers = {
        "nullmailer": read_nullmailer,
        "ssmtp": read_ssmtp,
        "msmtp": read_msmtp,
        "dma": read_dma,
        "opensmtpd": read_opensmtpd,
    }
    return readers[mta](root)
