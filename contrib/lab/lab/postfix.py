"""Postfix instances of the lab (``postfix -c DIR``): their directories, main.cf and
master.cf, and the commands run on them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .base import NETNS_ETC, nsrun, write
from .nodes import NODES

#: the nodes that run a Postfix instance
POSTFIX_NODES = ("mx", "prx", "web1", "open", "closed", "psx", "snd")


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

#: files of the package's meta directory that every namespace's /etc/postfix needs
POSTFIX_META = [
    ("/etc/postfix/postfix-files", "postfix-files"),
    ("/etc/postfix/post-install", "post-install"),
    ("/etc/postfix/postfix-script", "postfix-script"),
    ("/usr/share/postfix/dynamicmaps.cf", "dynamicmaps.cf"),
    ("/usr/share/postfix/makedefs.out", "makedefs.out"),
]


def postfix_dir(name: str) -> Path:
    return NODES[name].dir / "postfix"


def setup_postfix(
    name: str, main: dict[str, str], listeners: list[str], extra_files: dict[str, str] | None = None
) -> Path:
    node = NODES[name]
    conf = postfix_dir(name)
    conf.mkdir(parents=True, exist_ok=True)
    (node.dir / "spool").mkdir(exist_ok=True)
    data = node.dir / "data"
    data.mkdir(exist_ok=True)
    shutil.chown(data, "postfix", "postfix")
    base = {
        "compatibility_level": "3.6",
        "queue_directory": str(node.dir / "spool"),
        "data_directory": str(data),
        "maillog_file": str(node.dir / "maillog"),
        "myhostname": node.fqdn,
        "inet_protocols": "all",
        "alias_maps": "",
        "alias_database": "",
        "biff": "no",
        "smtpd_banner": "$myhostname ESMTP $mail_name",
        "mynetworks": "127.0.0.0/8 [::1]/128",
    }
    base.update(main)
    write(conf / "main.cf", "".join(f"{k} = {v}\n" for k, v in base.items()))
    write(conf / "master.cf", MASTER_CF + "".join(line + "\n" for line in listeners))
    for fname, text in (extra_files or {}).items():
        write(conf / fname, text)
    # the namespace's own default instance: only names the lab's instance
    etc = NETNS_ETC / node.ns / "postfix"
    etc.mkdir(parents=True, exist_ok=True)
    for src, dst in POSTFIX_META:
        if os.path.exists(src):
            shutil.copy2(src, etc / dst)
    for sub in ("postfix-files.d", "dynamicmaps.cf.d"):
        (etc / sub).mkdir(exist_ok=True)
    write(
        etc / "main.cf",
        "# default instance of this lab namespace: not run, it only allows the other\n"
        f"compatibility_level = 3.6\nalternate_config_directories = {conf}\n",
    )
    write(etc / "master.cf", MASTER_CF)
    return conf


def smtpd_line(addr: str, *opts: str) -> str:
    listen = f"[{addr}]:smtp" if ":" in addr else f"{addr}:smtp"
    line = f"{listen} inet n - n - - smtpd"
    for o in opts:
        line += f"\n  -o {o}"
    return line


def start_postfix(name: str) -> None:
    nsrun(name, "postfix", "-c", str(postfix_dir(name)), "start", timeout=60)


def postfix_queue(name: str) -> list[dict]:
    cp = nsrun(name, "postqueue", "-c", str(postfix_dir(name)), "-j")
    return [json.loads(line) for line in cp.stdout.splitlines() if line.strip()]


def postconf_set(name: str, *settings: str) -> None:
    nsrun(name, "postconf", "-c", str(postfix_dir(name)), "-e", *settings)
