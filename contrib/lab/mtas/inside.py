"""One MTA configuration, run inside its own throwaway namespace.

Started by :mod:`mtas.run` as ``unshare --mount --uts --net --pid --fork --kill-child
--mount-proc python3 inside.py SPEC.json`` (root).  It gives the namespace the
host name of the case, lays the MTA's unpacked package over ``/etc``, ``/usr`` and
``/var`` (overlays whose writes go to a tmpfs, so the host's files never change),
writes the configuration files of the case, starts the capture sink, submits one
message as ``www-data`` through the MTA's own ``/usr/sbin/sendmail`` with a clean
environment, waits for the ``MAIL FROM`` the MTA really sends, then runs the
plugin's local audit in the same namespace.  It prints one JSON object.

A queue case (``spec["queue"]``, see :mod:`mtas.queues`) has the sink defer every
recipient with a callout's 451; once the MTA has recorded the deferral, the MTA's own
queue tools and the plugin run (as root, and as the monitoring user, with ``--sudo``
where the case asks) while the MTA's daemons still run.

Every wait is bounded; everything started here dies with the PID namespace.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
STEP_TIMEOUT = 20.0
MESSAGE = "To: someone@dest.test\nSubject: origin test\n\nhello\n"
# The namespace's one link to the "world": a veth whose other end lives in a second
# network namespace, where the recipients' MX (the sink, 198.51.100.25) answers.
# Mail delivered straight to dest.test leaves by the default route, from HOST_ADDRESS,
# as on a real host; the smarthost stays on loopback (127.0.0.2).
HOST_ADDRESS = "192.0.2.30"
GATEWAY = "192.0.2.1"
MX_ADDRESS = "198.51.100.25"


def sh(
    argv: list[str], *, timeout: float = STEP_TIMEOUT, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]


def mount(*args: str) -> None:
    done = sh(["mount", *args])
    if done.returncode:
        raise RuntimeError(f"mount {' '.join(args)}: {done.stderr.strip()}")


def overlay(target: str, layers: list[str], scratch: Path) -> None:
    """``target`` = layers over itself; writes go to ``scratch`` (a tmpfs)."""
    upper, work = scratch / (target.strip("/") + ".u"), scratch / (target.strip("/") + ".w")
    upper.mkdir(parents=True)
    work.mkdir(parents=True)
    lower = ":".join([*[layer for layer in layers if os.path.isdir(layer)], target])
    mount("-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={work}", target)


def add_users(users: list[list[str]]) -> None:
    """System users the MTA's postinst would create (only in this namespace's /etc)."""
    for name, uid, group in users:
        if sh(["getent", "passwd", name]).returncode == 0:
            continue
        if sh(["getent", "group", group]).returncode != 0:
            with open("/etc/group", "a") as out:
                out.write(f"{group}:x:{uid}:\n")
        gid = sh(["getent", "group", group]).stdout.split(":")[2]
        with open("/etc/passwd", "a") as out:
            out.write(f"{name}:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")


def lay_files(files: dict[str, str | None], modes: dict[str, list[str]]) -> None:
    for path, text in files.items():
        target = Path(path)
        if text is None:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text)
    for path, (mode, owner) in modes.items():
        if os.path.lexists(path):
            shutil.chown(path, *owner.split(":"))
            os.chmod(path, int(mode, 8))


def make_world() -> None:
    """The veth to the world namespace and the default route (see HOST_ADDRESS)."""
    steps = [
        ["ip", "netns", "add", "world"],
        ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", "world"],
        ["ip", "addr", "add", f"{HOST_ADDRESS}/24", "dev", "eth0"],
        ["ip", "link", "set", "eth0", "up"],
        ["ip", "route", "add", "default", "via", GATEWAY],
        ["ip", "-n", "world", "addr", "add", f"{GATEWAY}/24", "dev", "peer0"],
        ["ip", "-n", "world", "addr", "add", f"{MX_ADDRESS}/32", "dev", "peer0"],
        ["ip", "-n", "world", "link", "set", "peer0", "up"],
        ["ip", "-n", "world", "link", "set", "lo", "up"],
    ]
    for argv in steps:
        done = sh(argv)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")


def run_steps(steps: list[list[str]], log: list[str]) -> None:
    for argv in steps:
        try:
            done = sh(argv)
            out = (done.stdout + done.stderr).strip()
            log.append(f"$ {' '.join(argv)} -> {done.returncode}" + (f": {out[-600:]}" if out else ""))
        except subprocess.TimeoutExpired:
            log.append(f"$ {' '.join(argv)} -> timeout")


def as_user(user: str, argv: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
            "env", "-i", f"PATH={CLEAN_PATH}", "HOME=/", *argv]  # fmt: skip


def wait_for(path: Path, seconds: float) -> list[dict[str, str]]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            time.sleep(0.1)
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        time.sleep(0.05)
    return []


def plugin(
    python: str, repo: str, mta: str, user: str = "root", extra: tuple[str, ...] = ()
) -> dict[str, object]:
    argv = [python, "-m", "check_nullmailer.plugin", "--local", "--mta", mta,
            "-t", "5", "--nameserver", "127.0.0.1", "-v", *extra]  # fmt: skip
    env = {"PATH": CLEAN_PATH, "LC_ALL": "C.UTF-8", "HOME": "/root" if user == "root" else "/"}
    if user != "root":
        gid = pwd.getpwnam(user).pw_gid  # its primary group (eximadm's is Debian-exim)
        argv = ["setpriv", f"--reuid={user}", f"--regid={gid}", "--init-groups", *argv]
    try:
        done = sh(argv, cwd=repo, env=env, timeout=20)
        return {"rc": done.returncode, "out": done.stdout, "err": done.stderr[-2000:]}
    except subprocess.TimeoutExpired:
        return {"rc": -1, "out": "", "err": "timeout"}


def reachable(paths: list[str], scratch: Path) -> None:
    """Let an unprivileged user reach ``paths`` (the plugin's Python, the project) in
    this mount namespace only: a directory on the way that others may not enter (a 0700
    ``/root``) is covered with a tmpfs into which only the needed entries are bound back."""
    blocked: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).parts
        for depth in range(1, len(parts)):
            directory = os.path.join(*parts[:depth])
            if not os.stat(directory).st_mode & 0o001:
                blocked.setdefault(directory, set()).add(parts[depth])
    for index, directory in enumerate(sorted(blocked, key=len)):
        stage = scratch / f"view-{index}"
        for child in sorted(blocked[directory]):
            (stage / child).mkdir(parents=True)
            mount("--bind", os.path.join(directory, child), str(stage / child))
        mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", directory)
        for child in sorted(blocked[directory]):
            os.mkdir(os.path.join(directory, child))
            mount("--bind", str(stage / child), os.path.join(directory, child))


def python_paths(python: str) -> list[str]:
    done = sh([python, "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"])
    return [os.path.realpath(python), *done.stdout.split()]


def settle(condition: list[object], runner_log: Path) -> str:
    """Wait (bounded) until the MTA has recorded the deferral: the condition's command
    prints something matching its pattern.  Returns the last output."""
    argv, pattern, seconds = condition
    argv = [str(word).replace("{runner_log}", str(runner_log)) for word in argv]  # type: ignore[union-attr]
    end, out = time.monotonic() + float(seconds), ""  # type: ignore[arg-type]
    while time.monotonic() < end:
        try:
            done = sh(argv, timeout=5)
            out = done.stdout + done.stderr
        except subprocess.TimeoutExpired:
            out = "timeout"
        if re.search(str(pattern), out):
            return out
        time.sleep(0.2)
    return out


def backdate(directories: list[str], seconds: float) -> None:
    """Age the queue files: the plugin counts a spool file as deferred only after a
    minute.  The deferral itself is real; only the clock is moved, not the content:
    the file's mtime, and a nullmailer file's name, which is its queue time
    (``EPOCH.PID``, what nullmailer's mailq shows)."""
    when = time.time() - seconds
    for directory in directories:
        for entry in list(os.scandir(directory)):
            if not entry.is_file():
                continue
            os.utime(entry.path, (when, when))
            epoch, dot, rest = entry.name.partition(".")
            if epoch.isdigit() and dot and rest.isdigit():
                os.rename(entry.path, os.path.join(directory, f"{int(epoch) - int(seconds)}.{rest}"))


def queue_phase(spec: dict, runner_log: Path, scratch: Path) -> dict[str, object]:  # type: ignore[type-arg]
    queue = spec["queue"]
    result: dict[str, object] = {"settled": settle(queue["settle"], runner_log)[-1500:]}
    backdate(queue["backdate"], 120.0)
    own = {}
    for label, user, argv in queue["own"]:
        argv = as_user(user, argv) if user != "root" else argv
        try:
            done = sh(argv)
            own[label] = {"rc": done.returncode, "out": (done.stdout + done.stderr)[-4000:]}
        except subprocess.TimeoutExpired:
            own[label] = {"rc": -1, "out": "timeout"}
    result["own"] = own
    result["runner"] = runner_log.read_text()[-1500:] if runner_log.exists() else ""
    if any(user != "root" for _, user, _ in queue["runs"]):
        reachable([*python_paths(spec["python"]), spec["repo"]], scratch)
    result["plugin"] = {
        key: plugin(spec["python"], spec["repo"], spec["mta"], user, tuple(extra))
        for key, user, extra in queue["runs"]
    }
    return result


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    t0 = time.monotonic()
    log: list[str] = []
    scratch = Path(spec["scratch"])
    scratch.mkdir(parents=True, exist_ok=True)
    mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(scratch))
    mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run")
    sh(["hostname", spec["hostname"]])
    sh(["ip", "link", "set", "lo", "up"])
    package = spec["package"]
    for part in ("etc", "usr", "var"):
        overlay(f"/{part}", [f"{package}/{part}"] if package else [], scratch)
    for path in spec["tmpfs"]:
        Path(path).mkdir(parents=True, exist_ok=True)
        mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", path)
    add_users(spec["users"])
    lay_files(spec["files"], spec["modes"])
    sinklog = scratch / "sink.jsonl"
    defer = ["defer"] if spec.get("queue") else []
    make_world()
    world = ["ip", "netns", "exec", "world"]
    for prefix, mode in (([], []), (world, ["world"])):
        sink = subprocess.Popen([*prefix, sys.executable, str(HERE / "sink.py"), str(sinklog), *defer, *mode],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert sink.stdout is not None
        sink.stdout.readline()  # "ready"
    run_steps(spec["prepare"], log)
    runner_log = scratch / "runner.log"
    runners = []
    for argv in spec["daemons"]:
        with open(runner_log, "a") as out:
            runners.append(subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL))
    end = time.monotonic() + 5
    while spec["ready"] and not any(os.path.exists(p) for p in spec["ready"]) and time.monotonic() < end:
        time.sleep(0.05)
    submit: dict[str, object] = {}
    try:
        done = sh(as_user("www-data", ["/usr/sbin/sendmail", "-t"]), input=MESSAGE)
        submit = {"rc": done.returncode, "out": (done.stdout + done.stderr).strip()[-1000:]}
    except subprocess.TimeoutExpired:
        submit = {"rc": -1, "out": "sendmail -t: timeout"}
    for argv in spec["runners"]:
        with open(runner_log, "a") as out:
            runners.append(subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL))
    wait = spec["wait"] if submit["rc"] == 0 else 0.5
    sent = wait_for(sinklog, wait)
    if spec.get("queue"):
        result = {"sent": sent, "submit": submit, **queue_phase(spec, runner_log, scratch)}
        run_steps(spec["after"], log)
        for proc in runners:
            proc.kill()
        print(json.dumps({**result, "log": log, "seconds": round(time.monotonic() - t0, 2)}))
        return
    run_steps(spec["after"], log)
    for proc in runners:
        proc.kill()
    result = {
        "sent": sent,
        "submit": submit,
        "log": log,
        "runner": runner_log.read_text()[-1500:] if runner_log.exists() else "",
        "mta_log": "".join(Path(p).read_text()[-1500:] for p in spec["logs"] if Path(p).exists()),
        "plugin": {name: plugin(spec["python"], spec["repo"], name) for name in (spec["mta"], "auto")},
        "seconds": round(time.monotonic() - t0, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
