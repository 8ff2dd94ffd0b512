"""Reading what configuration and queues hold: "could not read" is never "nothing there".

:class:`CouldNotRead` is the one result of every reader that did not get its input whole:
the file is missing where it must exist, unreadable, not a regular file, larger than the
reader's bound, slower than the run's deadline, or a listing that did not parse.  A
reader raises it (or hands it over in place of a value); a context that receives it
judges WARNING or UNKNOWN and names ``what`` and ``why`` in the long output, never OK.

:func:`read_bytes` and :func:`read_text` are the one way the plugins read a file named
by configuration or by an argument:

- the open is non-blocking (``O_NONBLOCK|O_NOCTTY``): a FIFO or a terminal never holds
  the run in ``open()``;
- only a regular file is read, unless the caller passes ``special=True`` for a file its
  documentation allows to be something else;
- a file larger than ``limit`` is refused ("larger than N bytes"), never used cut, unless
  the caller passes ``prefix=True`` because it only needs the start (a spool header);
- the open and the reads run in a daemon thread that is abandoned at the deadline (at
  most :data:`MAX_WAIT` seconds): a file on a hung mount costs its reader that share of
  time, not the run.  The result is printed on time; the process itself ends only
  when the mount answers or goes away: Linux does not let a process exit while one of
  its threads waits in a FUSE (or hard NFS) read the server has already taken, and
  that wait ignores even SIGKILL (tests/test_hostile_files.py, a real FUSE mount).

:class:`CouldNotRead` is an :class:`OSError`, so a caller that already turned an
``OSError`` into "cannot read PATH" keeps doing so; ``.denied`` and ``.missing`` say
which kind it was (what to grant, or whether the file is simply absent).
"""

from __future__ import annotations

import errno as _errno
import os
import stat
import threading
import time

MAX_WAIT = 2.0  # seconds one file may take, whatever the run's deadline
DEFAULT_LIMIT = 1024 * 1024  # configuration files larger than this are refused
_CHUNK = 65536
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class CouldNotRead(OSError):
    """``what`` (a path or a command) could not be read whole, ``why`` in plain words;
    ``errno`` is the system's error number when there was one."""

    def __init__(self, what: str, why: str, code: int | None = None) -> None:
        super().__init__(code or 0, why)
        self.what = what
        self.why = why
        self.filename = what

    def __str__(self) -> str:
        return f"{self.what}: {self.why}"

    @property
    def denied(self) -> bool:
        """Closed to this user (EACCES, EPERM): the fix is a grant, not the file."""
        return self.errno in (_errno.EACCES, _errno.EPERM)

    @property
    def missing(self) -> bool:
        """The file (or a directory above it) does not exist."""
        return self.errno in (_errno.ENOENT, _errno.ENOTDIR)


def _read(path: str, limit: int, special: bool, prefix: bool) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise CouldNotRead(path, exc.strerror or type(exc).__name__, exc.errno) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            if not special:
                raise CouldNotRead(path, f"{kind}, not a regular file: not read")
            os.set_blocking(fd, True)  # a device or FIFO allowed here waits, within the deadline
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except BlockingIOError:
        raise CouldNotRead(path, "nothing to read without waiting (a FIFO with no writer?)") from None
    except CouldNotRead:
        raise
    except OSError as exc:
        raise CouldNotRead(path, exc.strerror or type(exc).__name__, exc.errno) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        if not prefix:
            raise CouldNotRead(path, f"larger than {limit} bytes: not read in part")
        data = data[:limit]
    return data


def read_bytes(
    path: str,
    *,
    what: str = "",
    limit: int = DEFAULT_LIMIT,
    deadline: float | None = None,
    special: bool = False,
    prefix: bool = False,
) -> bytes:
    """The bytes of ``path``, whole (or its first ``limit`` bytes with ``prefix``); raises
    :class:`CouldNotRead` naming ``what`` (default: the path) when it cannot.

    ``deadline`` is a ``time.monotonic()`` instant; the read gives up at it, and always
    after :data:`MAX_WAIT` seconds."""
    what = what or path
    wait = MAX_WAIT if deadline is None else min(MAX_WAIT, deadline - time.monotonic())
    if wait <= 0:
        raise CouldNotRead(what, "not read: the check's time ran out")
    box: list[bytes | BaseException] = []

    def job() -> None:
        try:
            box.append(_read(path, limit, special, prefix))
        except BaseException as exc:  # handed to the caller below
            box.append(exc)

    worker = threading.Thread(target=job, daemon=True, name="read")
    worker.start()
    worker.join(wait)
    if not box:  # left behind: a hung mount or device blocks it in the kernel
        raise CouldNotRead(what, f"no answer within {wait:.1f} s (a hung mount or device?)")
    found = box[0]
    if isinstance(found, CouldNotRead):
        if found.what != what:
            raise CouldNotRead(what, found.why, found.errno) from None
        raise found
    if isinstance(found, BaseException):
        raise CouldNotRead(what, f"{type(found).__name__}: {found}") from None
    return found


def read_text(
    path: str,
    *,
    what: str = "",
    limit: int = DEFAULT_LIMIT,
    deadline: float | None = None,
    special: bool = False,
    prefix: bool = False,
) -> str:
    """:func:`read_bytes` decoded as UTF-8 (undecodable bytes replaced)."""
    data = read_bytes(path, what=what, limit=limit, deadline=deadline, special=special, prefix=prefix)
    return data.decode("utf-8", errors="replace")
