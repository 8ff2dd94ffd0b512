"""The one file reader (check_callout/kit/files.py), on real files, FIFOs, devices and a
real hung mount (a FUSE file system that never answers READ): every way a file can fail
to be read whole is a CouldNotRead, within its time, never a hang and never a cut file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from check_callout.kit.files import MAX_WAIT, CouldNotRead, read_bytes, read_text
from tests.support import hung_mount

ROOT = Path(__file__).resolve().parent.parent


def test_a_regular_file_whole(tmp_path):
    path = tmp_path / "a.cf"
    path.write_bytes(b"myorigin = example.test\n\xff")
    assert read_text(str(path)) == "myorigin = example.test\n\ufffd"
    assert read_bytes(str(path)) == b"myorigin = example.test\n\xff"


def test_missing_and_its_kind(tmp_path):
    with pytest.raises(CouldNotRead) as caught:
        read_text(str(tmp_path / "nope"), what="msmtprc")
    assert caught.value.missing and not caught.value.denied
    assert caught.value.what == "msmtprc" and caught.value.why == "No such file or directory"
    assert isinstance(caught.value, OSError)  # every `except OSError` keeps catching it


def test_larger_than_the_bound_is_refused_never_cut(tmp_path):
    path = tmp_path / "big.ini"
    path.write_bytes(b"x" * 1000 + b"port = 25259\n")
    with pytest.raises(CouldNotRead, match="larger than 1000 bytes"):
        read_text(str(path), limit=1000)
    assert read_text(str(path), limit=1013) == "x" * 1000 + "port = 25259\n"  # exactly the bound


def test_prefix_reads_only_the_start_by_design(tmp_path):
    path = tmp_path / "spool"
    path.write_bytes(b"sender@example.test\n" + b"y" * 10000)
    assert read_text(str(path), limit=20, prefix=True) == "sender@example.test\n"


def test_a_fifo_never_blocks_the_open(tmp_path):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(CouldNotRead, match="a FIFO, not a regular file"):
        read_text(fifo)  # no writer: a plain open() would wait forever
    assert time.monotonic() - start < 0.5


def test_a_fifo_allowed_as_special_is_bounded_in_time(tmp_path):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    writer_fd = os.open(fifo, os.O_RDWR)  # a writer that never writes nor closes
    try:
        start = time.monotonic()
        with pytest.raises(CouldNotRead, match="no answer within"):
            read_text(fifo, special=True, deadline=time.monotonic() + 0.3)
        assert time.monotonic() - start < 0.8
    finally:
        os.close(writer_fd)


def test_devices_and_directories_are_not_read(tmp_path):
    with pytest.raises(CouldNotRead, match="a character device"):
        read_bytes("/dev/zero")  # endless: never read as a configuration
    with pytest.raises(CouldNotRead, match="a directory"):
        read_text(str(tmp_path))
    assert read_bytes("/dev/zero", special=True, limit=4, prefix=True) == b"\0\0\0\0"


def test_an_exhausted_deadline_reads_nothing(tmp_path):
    path = tmp_path / "a"
    path.write_text("x")
    with pytest.raises(CouldNotRead, match="time ran out"):
        read_text(str(path), deadline=time.monotonic() - 1)


DENIED = """
import sys
from check_callout.kit.files import CouldNotRead, read_text
try:
    read_text(sys.argv[1])
except CouldNotRead as exc:
    print(exc.denied, exc.missing, exc.why)
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to nobody")
def test_denied_is_its_own_kind(tmp_path):
    """As an unprivileged user (nobody, through setpriv): a file closed to it is
    ``denied`` (the fix is a grant), not missing."""
    tmp_path.chmod(0o755)
    path = tmp_path / "closed"
    path.write_text("x")
    path.chmod(0o600)
    nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    done = subprocess.run(
        [*nobody, sys.executable, "-c", DENIED, str(path)],
        capture_output=True, text=True, timeout=30, cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert done.stdout.strip() == "True False Permission denied", done.stdout + done.stderr


@pytest.mark.skipif(not hung_mount.available(), reason="needs root and /dev/fuse")
def test_a_file_on_a_hung_mount_ends_at_the_deadline(tmp_path):
    with hung_mount.hung_mount(str(tmp_path / "mnt")) as mount:
        start = time.monotonic()
        with pytest.raises(CouldNotRead, match=r"no answer within 0\.4 s"):
            read_text(mount.file, deadline=time.monotonic() + 0.4)
        assert 0.35 < time.monotonic() - start < 0.9
        assert mount.reads >= 1  # it really reached the file system's READ
        start = time.monotonic()
        with pytest.raises(CouldNotRead, match="no answer within"):
            read_text(mount.file)  # no deadline: MAX_WAIT bounds it
        assert time.monotonic() - start < MAX_WAIT + 0.5
    leftover = [t for t in threading.enumerate() if t.name == "read"]
    deadline = time.monotonic() + 2
    while leftover and time.monotonic() < deadline:  # released once the mount is gone
        time.sleep(0.05)
        leftover = [t for t in threading.enumerate() if t.name == "read" and t.is_alive()]
    assert not leftover
