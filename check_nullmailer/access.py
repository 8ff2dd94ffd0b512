"""What the monitoring user may read, and what to grant it when it may not.

The check runs as the monitoring user (``nagios``), not as root: a configuration file
or a queue that is root's is named with its mode and owner and the grant that opens
it, never guessed around.  Queues that only root may list are read through
``sudo -n`` (``--sudo``, contrib/sudoers.d/check_nullmailer).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat

SUDOERS = "contrib/sudoers.d/check_nullmailer"
_SUDO_REFUSED = re.compile(
    r"^sudo: .*(?:password is required|not allowed|may not run|a terminal)", re.M | re.I
)


def user_name() -> str:
    """The user this check runs as."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def sudo_refusal(err: str) -> str:
    """sudo's own refusal in ``err`` (``sudo: a password is required``), or ""."""
    m = _SUDO_REFUSED.search(err)
    return err[m.start() :].splitlines()[0].strip() if m else ""


def _name(number: int, group: bool) -> str:
    try:
        return grp.getgrgid(number).gr_name if group else pwd.getpwuid(number).pw_name
    except KeyError:
        return str(number)


def grant_hint(path: str) -> str:
    """Why the current user cannot read ``path`` and what to grant: the file's (or the
    closed directory's) mode and owner, and the ACL that would open it."""
    user = user_name()
    target, need = path, "r"
    parent = os.path.dirname(path)
    while parent and parent != os.path.dirname(parent):  # the outermost closed directory
        if not os.access(parent, os.X_OK):
            target, need = parent, "rx"
        parent = os.path.dirname(parent)
    if target == path and os.path.isdir(path):
        need = "rx"
    try:
        st = os.stat(target)
    except OSError:
        return f"{target} is closed to {user}: grant it read access"
    group = _name(st.st_gid, True)
    shown = f"{stat.S_IMODE(st.st_mode):04o} {_name(st.st_uid, False)}:{group}"
    grant = f"setfacl -m u:{user}:{need} {target}"
    if target != path:
        grant += f" and read access to {path}"
    also = f", or add {user} to group {group}" if group != "root" and st.st_mode & stat.S_IRGRP else ""
    return f"{target} ({shown}) is closed to {user}: grant {grant}{also}"


def unreadable(path: str, exc: OSError) -> str:
    """The note for a file the check could not read: the reason, and the grant when it
    is a permission problem."""
    if isinstance(exc, PermissionError) or getattr(exc, "denied", False):
        return f"cannot read {path}: {exc.strerror}; {grant_hint(path)}"
    return f"cannot read {path}: {exc.strerror or type(exc).__name__}"


def needs_sudo(command: str, err: str, sudo: bool) -> str:
    """The reason for a queue listing that failed for want of privileges: with ``--sudo``
    sudo's own refusal and the sudoers file to install, else the option to use."""
    refusal = sudo_refusal(err) if sudo else ""
    if refusal:
        return f"{command}: {refusal} (install {SUDOERS} for {user_name()})"
    last = err.strip().splitlines()[-1] if err.strip() else "permission denied"
    return f"{command} as {user_name()}: {last}; run with --sudo (and {SUDOERS})"
