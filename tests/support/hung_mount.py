"""A real hung mount: a FUSE file system, served from this process over ``/dev/fuse``,
that answers every question except READ.  A program that reads one of its files blocks
in the kernel exactly as on a dead NFS server, and is released only when the mount is
taken away.

The server speaks just enough of the FUSE protocol (INIT, LOOKUP, GETATTR, OPEN, FLUSH,
RELEASE); every other request gets ENOSYS.  It needs root and ``/dev/fuse``:
:func:`available` says whether this host can do it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import struct
import threading
import time
from collections.abc import Iterator

_IN_HEADER = struct.Struct("<IIQQIIII")  # len, opcode, unique, nodeid, uid, gid, pid, pad
_OUT_HEADER = struct.Struct("<IiQ")  # len, error, unique
# ino size blocks atime mtime ctime (and their nsec) mode nlink uid gid rdev blksize flags
_ATTR = struct.Struct("<QQQQQQIIIIIIIIII")
LOOKUP, GETATTR, OPEN, READ, RELEASE, FLUSH, INIT, OPENDIR, RELEASEDIR, ACCESS, INTERRUPT = (
    1, 3, 14, 15, 18, 25, 26, 27, 29, 34, 36,
)  # fmt: skip
ROOT = 1
FILE = 2
FILE_SIZE = 4096


def available() -> bool:
    return os.geteuid() == 0 and os.path.exists("/dev/fuse")


def _attr(node: int) -> bytes:
    now = int(time.time())
    if node == ROOT:
        mode, size, nlink = stat.S_IFDIR | 0o755, 0, 2
    else:
        mode, size, nlink = stat.S_IFREG | 0o644, FILE_SIZE, 1
    return _ATTR.pack(node, size, 0, now, now, now, 0, 0, 0, mode, nlink, 0, 0, 0, 4096, 0)


class HungMount:
    """The mount at ``path``; its one file is ``path/hung`` (every read of it hangs)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = os.path.join(path, "hung")
        self.reads = 0  # READ requests seen (answered only by close())
        self._pending: list[int] = []
        self._fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
        libc = ctypes.CDLL(None, use_errno=True)
        options = f"fd={self._fd},rootmode=40000,user_id=0,group_id=0,allow_other".encode()
        if libc.mount(b"hungfs", path.encode(), b"fuse.hungfs", 0, options) != 0:
            code = ctypes.get_errno()
            os.close(self._fd)
            raise OSError(code, f"mount fuse on {path}: {os.strerror(code)}")
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True, name="hungfs")
        self._thread.start()

    def _reply(self, unique: int, body: bytes = b"", error: int = 0) -> None:
        with contextlib.suppress(OSError):
            os.write(self._fd, _OUT_HEADER.pack(_OUT_HEADER.size + len(body), -error, unique) + body)

    def _serve(self) -> None:
        while not self._stop:
            try:
                request = os.read(self._fd, 1024 * 1024 + 4096)
            except OSError:
                return  # unmounted (ENODEV) or the descriptor closed
            _, opcode, unique, node, *_ = _IN_HEADER.unpack_from(request)
            body = request[_IN_HEADER.size :]
            if opcode == INIT:
                major, minor, readahead, flags = struct.unpack_from("<IIII", body)
                init = struct.pack("<IIIIHHIIHHI", 7, min(minor, 31), readahead, 0, 1, 1, 65536, 1, 1, 0, 0)
                self._reply(unique, init + b"\0" * 28)
            elif opcode == LOOKUP:
                name = body.split(b"\0", 1)[0]
                if node == ROOT and name == b"hung":
                    self._reply(unique, struct.pack("<QQQQII", FILE, 0, 0, 0, 0, 0) + _attr(FILE))
                else:
                    self._reply(unique, error=errno.ENOENT)
            elif opcode == GETATTR:
                self._reply(unique, struct.pack("<QII", 0, 0, 0) + _attr(node))
            elif opcode in (OPEN, OPENDIR):
                self._reply(unique, struct.pack("<QII", 0, 0, 0))
            elif opcode in (FLUSH, RELEASE, RELEASEDIR, ACCESS):
                self._reply(unique)
            elif opcode == READ:
                self.reads += 1  # not answered: the reader waits as on a dead server
                self._pending.append(unique)
            elif opcode == INTERRUPT:
                pass  # the reader gave up (its process exits): nothing to answer
            else:
                self._reply(unique, error=errno.ENOSYS)

    def close(self) -> None:
        """Take the mount away: blocked readers get EIO and are released."""
        self._stop = True
        for unique in self._pending:
            self._reply(unique, error=errno.EIO)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.umount2(self.path.encode(), 2)  # MNT_DETACH
        os.close(self._fd)  # aborts the connection: every pending request fails


@contextlib.contextmanager
def hung_mount(path: str) -> Iterator[HungMount]:
    os.makedirs(path, exist_ok=True)
    mount = HungMount(path)
    try:
        yield mount
    finally:
        mount.close()
