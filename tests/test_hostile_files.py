"""Files named by an argument or by configuration that cannot be read whole: a FIFO, a
file larger than the reader's bound, a file on a hung mount (a real FUSE file system
that never answers READ).  Each is a clear "could not read", within ``-t``, and the
other parts of the audit keep their verdicts (an open relay stays CRITICAL)."""

from __future__ import annotations

import os
import time

import pytest

from check_nullmailer import plugin
from tests.support import hung_mount
from tests.support.hostile import callout, nullmailer
from tests.support.output import first_line
from tests.support.relay_servers import write
from tests.test_nullmailer_plugin import proc_tables

# -- --extra-opts ------------------------------------------------------------------------


@pytest.mark.parametrize("run", [callout, nullmailer], ids=["callout", "nullmailer"])
def test_extra_opts_fifo_is_refused_at_once(tmp_path, run):
    fifo = tmp_path / "plugins.ini"
    os.mkfifo(fifo)  # no writer: open() without O_NONBLOCK would wait for ever, before any timer
    done = run(f"--extra-opts=@{fifo}", "-t", "5", limit=10)
    assert done.code == 3, done.output
    assert "extra-opts: cannot read " in done.output and "a FIFO, not a regular file" in done.output
    assert done.elapsed < 2.0


def test_extra_opts_larger_than_its_bound_is_refused_not_cut(tmp_path):
    # "port = 25259" straddles the 256 KiB edge: read in part it became port 2525
    filler = "; " + "x" * 100 + "\n"
    head = "[check_callout]\ndomain = good.test\n"
    body = head + filler * ((256 * 1024 - len(head)) // len(filler))
    body += ";" * (256 * 1024 - len(body) - 10) + "\nport = 25259\n"
    path = tmp_path / "plugins.ini"
    path.write_text(body)
    assert path.stat().st_size > 256 * 1024
    done = callout(f"--extra-opts=@{path}", "-t", "5", limit=10)
    assert done.code == 3, done.output
    assert done.output.startswith("CALLOUT UNKNOWN - extra-opts: cannot read ")
    assert "larger than 262144 bytes: not read in part" in done.output


# -- --local: a file named by the configuration ----------------------------------------

OPEN_RELAY_MAIN_CF = (
    "compatibility_level = 3.6\nmyhostname = web1.example.com\n"
    "inet_interfaces = all\nmynetworks = 0.0.0.0/0\nmyorigin = {origin}\n"
)
MASTER_CF = "smtp      inet  n       -       y       -       -       smtpd\n"


def open_relay_postfix(root, origin: str) -> None:
    write(root, "/etc/postfix/main.cf", OPEN_RELAY_MAIN_CF.format(origin=origin))
    write(root, "/etc/postfix/master.cf", MASTER_CF)
    proc_tables(root, "00000000:0019")


def run_local(args: list[str], capsys) -> tuple[int, str, float]:
    start = time.monotonic()
    with pytest.raises(SystemExit) as exc:
        plugin.main(args)
    return exc.value.code, capsys.readouterr().out, time.monotonic() - start


def test_myorigin_naming_a_fifo_keeps_the_open_relay(tmp_path, capsys):
    open_relay_postfix(tmp_path, "/etc/mailname")
    os.mkfifo(tmp_path / "etc/mailname")
    code, out, took = run_local(["--local", "--root", str(tmp_path), "-t", "10"], capsys)
    assert code == 2, out  # the open relay, seen, is not hidden by the origin not read
    assert "listening on 0.0.0.0:25 and Postfix mynetworks = 0.0.0.0/0" in first_line(out)
    assert "cannot tell the envelope origin of Postfix" in out
    assert "a FIFO, not a regular file" in out
    assert took < 5


def test_myorigin_naming_a_fifo_alone_is_a_warning(tmp_path, capsys):
    write(tmp_path, "/etc/postfix/main.cf", "compatibility_level = 3.6\nmyorigin = /etc/mailname\n")
    write(tmp_path, "/etc/postfix/master.cf", MASTER_CF)
    proc_tables(tmp_path, "0100007F:0019")
    os.mkfifo(tmp_path / "etc/mailname")
    code, out, _ = run_local(["--local", "--root", str(tmp_path), "-t", "10"], capsys)
    assert code == 1, out
    assert "cannot tell the envelope origin of Postfix: myorigin names a file: cannot read" in out


@pytest.mark.skipif(not hung_mount.available(), reason="needs root and /dev/fuse")
def test_myorigin_on_a_hung_mount_keeps_the_open_relay(tmp_path, capsys):
    with hung_mount.hung_mount(str(tmp_path / "mnt")) as mount:
        open_relay_postfix(tmp_path, "/mnt/hung")
        code, out, took = run_local(["--local", "--root", str(tmp_path), "-t", "10"], capsys)
        assert mount.reads >= 1
    assert code == 2, out
    assert "listening on 0.0.0.0:25 and Postfix mynetworks = 0.0.0.0/0" in first_line(out)
    assert "no answer within" in out
    assert took < 10


@pytest.mark.skipif(not hung_mount.available(), reason="needs root and /dev/fuse")
def test_a_configuration_that_hangs_is_abandoned_in_its_share(tmp_path, capsys):
    """Every nullmailer control file on a hung mount: each read ends in 2 s, together
    longer than the configuration's share of the run; that part is abandoned, the
    listening socket is still judged, and the run ends within -t."""
    with hung_mount.hung_mount(str(tmp_path / "mnt")) as mount:
        os.makedirs(tmp_path / "etc/nullmailer")
        for name in ("remotes", "allmailfrom", "defaulthost", "me", "defaultdomain"):
            os.symlink(mount.file, tmp_path / "etc/nullmailer" / name)
        (tmp_path / "var/spool/nullmailer/queue").mkdir(parents=True)
        proc_tables(tmp_path, "00000000:0019")
        code, out, took = run_local(
            ["--local", "--root", str(tmp_path), "--mta", "nullmailer", "-t", "6"], capsys
        )
    assert code == 1, out
    assert "listening on 0.0.0.0:25" in out
    assert "could not read nullmailer's configuration: no answer within its share" in out
    assert took < 6


# -- Postfix parameter expansion, when postconf refuses main.cf ------------------------


def bomb(levels: int, fanout: int = 10) -> str:
    """``p0 = $p1$p1...`` over ``levels`` levels: fanout**levels characters expanded."""
    lines = [f"p{i} = " + f"$p{i + 1}" * fanout for i in range(levels)]
    return "\n".join(lines + [f"p{levels} = x"]) + "\n"


def test_expansion_is_bounded_in_size_and_depth():
    from check_callout.kit.files import CouldNotRead
    from check_nullmailer.mta.postfix import parse_main_cf
    from check_nullmailer.mta.postfix_expand import expand_checked

    params = parse_main_cf(bomb(8))  # 10**8 characters
    start = time.monotonic()
    with pytest.raises(CouldNotRead, match="expands to more than 65536 characters"):
        expand_checked("p0", params)
    assert time.monotonic() - start < 1.0
    with pytest.raises(CouldNotRead, match="nested deeper than 10 levels"):
        expand_checked("a", {"a": "$a$a$a"})
    assert expand_checked("p0", parse_main_cf(bomb(4))) == "x" * 10_000


# postconf 3.7 refuses a loop ("unreasonable macro call nesting", "fatal: macro
# processing error"), so the reader expands main.cf itself.
LOOP = "mydomain = $z\nz = $z$z\n"


@pytest.mark.parametrize("tool", ["auto", None], ids=["postconf-refuses", "no-postconf"])
def test_a_bomb_in_myorigin_is_could_not_read(tmp_path, tool):
    from check_nullmailer.mta import postfix

    write(
        tmp_path, "/etc/postfix/main.cf", "myhostname = web1.example.test\nmyorigin = $p0\n" + LOOP + bomb(8)
    )
    write(tmp_path, "/etc/postfix/master.cf", MASTER_CF)
    start = time.monotonic()
    info = postfix.read_config(str(tmp_path), postconf=tool, deadline=start + 3)  # postconf 3.7 spends
    assert time.monotonic() - start < 3.5  # minutes on it: it is stopped, main.cf read here
    assert info.origin is None
    assert "cannot use main.cf myorigin: expands to more than 65536 characters: not used" in info.notes
    assert any(getattr(exc, "what", "") == "main.cf myorigin" for exc in info.unread)


def test_a_bomb_in_the_relay_settings_is_not_judged(tmp_path):
    from check_nullmailer.mta import postfix
    from check_nullmailer.mta.base import RELAY_UNKNOWN

    main_cf = "myhostname = web1.example.test\nmyorigin = example.test\nmynetworks = $p0\n" + LOOP + bomb(8)
    write(tmp_path, "/etc/postfix/main.cf", main_cf)
    write(tmp_path, "/etc/postfix/master.cf", MASTER_CF)
    info = postfix.read_config(str(tmp_path), postconf=None)
    assert info.relay == RELAY_UNKNOWN
    assert "main.cf mynetworks: expands to more than 65536 characters" in info.relay_text


def test_a_bomb_in_myorigin_keeps_the_open_relay(tmp_path, capsys):
    main_cf = OPEN_RELAY_MAIN_CF.format(origin="$p0") + LOOP + bomb(8)
    write(tmp_path, "/etc/postfix/main.cf", main_cf)
    write(tmp_path, "/etc/postfix/master.cf", MASTER_CF)
    proc_tables(tmp_path, "00000000:0019")
    code, out, took = run_local(["--local", "--root", str(tmp_path), "-t", "10"], capsys)
    assert code == 2, out
    assert "listening on 0.0.0.0:25 and Postfix mynetworks = 0.0.0.0/0" in first_line(out)
    assert "main.cf myorigin: expands to more than 65536 characters" in out
    assert took < 10


# -- /etc/mailname that is there but cannot be read: never "absent" ----------------------


def _mailname_fifo(root) -> None:
    (root / "etc").mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / "etc/mailname")


def _dma(root):
    from check_nullmailer.mta import dma

    write(root, "/etc/dma/dma.conf", "SMARTHOST smtp.example.test\n")  # MAILNAME /etc/mailname by default
    return dma.read_config(str(root))


def _nullmailer_debian(root):
    from check_nullmailer.mta import nullmailer

    write(root, "/etc/nullmailer/remotes", "smtp.example.test smtp\n")
    write(root, nullmailer.DEBIAN_MARK, "")
    return nullmailer.read_config(str(root))


def _opensmtpd(root):
    from check_nullmailer.mta import opensmtpd

    write(
        root,
        "/etc/smtpd.conf",
        'listen on localhost\naction "relay" relay\nmatch from local for any action "relay"\n',
    )
    return opensmtpd.read_config(str(root))


def _msmtp(root):
    from check_nullmailer.mta import msmtp

    write(root, "/etc/msmtprc", "account default\nhost smtp.example.test\nfrom www@%M\n")
    return msmtp.read_config(str(root))


def _exim_debian(root):
    from check_nullmailer.mta import exim

    conf = "dc_eximconfig_configtype='satellite'\ndc_relay_nets='10.1.0.0/16'\n"
    write(root, "/etc/exim4/update-exim4.conf.conf", conf)
    info = exim.read_config(str(root))
    assert info.relay == "networks"  # the part that was read keeps its verdict
    return info


@pytest.mark.parametrize(
    "reader", [_dma, _nullmailer_debian, _opensmtpd, _msmtp, _exim_debian], ids=lambda r: r.__name__[1:]
)
def test_a_mailname_fifo_is_not_taken_for_absent(tmp_path, reader):
    """Each of these MTAs reads /etc/mailname; when it is a FIFO the check used to fall
    back to the host name as if the file were absent, and judged that name."""
    _mailname_fifo(tmp_path)
    write(tmp_path, "/etc/hostname", "web1.example.test\n")
    start = time.monotonic()
    info = reader(tmp_path)
    assert time.monotonic() - start < 2
    assert info.origin is None, info.origin_text
    assert any("a FIFO, not a regular file" in note for note in info.notes), info.notes
    assert info.unread and not info.unread[0].missing and not info.unread[0].denied
