"""A multi-line reply whose lines carry different codes (``550-...`` then ``250 ...``):
what does a real callout make of it?  The authority is the real program: Exim 4.96
(the lab's, unpacked from Debian's packages) with ``verify = sender/callout`` meets a
scripted server in a ``cchn-*`` namespace, and check_callout must predict what it did.

Exim reads a multi-line reply by its first line's code (seen: ``550-`` then ``250``
rejects, ``250-`` then ``550`` accepts, ``450-`` then ``250`` defers).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.ci import require
from tests.support.hostile import assert_well_formed
from tests.support.sandbox import Sandbox, sandbox_available

EXIM = Path(os.environ.get("LAB_EXIM_PREFIX", "/opt/cclab/exim4")) / "usr/sbin/exim4"
MX = "192.0.2.25"
CASES = ["mixed550", "mixed250", "mixed450", "mixed250_450"]
# what the plugin must say for each reply code of Exim to its client
EXPECTED = {550: (2, "would reject"), 250: (0, "would accept"), 451: (2, "would defer")}

CONFIG = """\
primary_hostname = rx.test
exim_path = {exim}
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
keep_environment =
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  require verify = sender/callout=5s,no_cache
  accept
begin routers
to_the_mx:
  driver = manualroute
  route_list = * {mx}
  transport = remote_smtp
  # the MX address is on this namespace's lo: send to it all the same
  self = send
begin transports
remote_smtp:
  driver = smtp
"""


@pytest.fixture(scope="module")
def exim_config():
    require(sandbox_available(), "network namespaces need root and iproute2")
    require(EXIM.exists(), f"the lab's Exim ({EXIM}; contrib/lab/install-packages.sh)")
    directory = Path(tempfile.mkdtemp(prefix="cchn-exim-"))
    directory.chmod(0o755)  # Exim works as Debian-exim below it
    try:
        for sub in ("spool", "log"):
            (directory / sub).mkdir()
            shutil.chown(directory / sub, "Debian-exim", "Debian-exim")
        config = directory / "exim.conf"
        config.write_text(CONFIG.format(exim=EXIM, d=directory, mx=MX))
        yield config
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def box():
    require(sandbox_available(), "network namespaces need root and iproute2")
    with Sandbox("mixed", setup=[["ip", "addr", "add", f"{MX}/32", "dev", "lo"]]) as sandbox:
        yield sandbox


def assert_judged_as_exim(box: Sandbox, exim_config: Path, kind: str) -> None:
    """The real Exim's callout meets the scripted server KIND in BOX, then check_callout
    meets it: the plugin must judge as Exim did."""
    done = box.exec(
        [sys.executable, "-m", "tests.support.scenes", "exim-callout", str(EXIM), str(exim_config), MX, kind]
    )
    assert done.returncode == 0, done.stderr
    exim = json.loads(done.stdout.splitlines()[-1])
    assert exim["code"] in EXPECTED, exim
    run = box.scene(
        "serve", "--smtp", f"{MX},25,{kind}", "--",
        "check_callout.plugin", "-s", "alice@sender.test", "-H", MX, "-t", "4", "--helo", "monitor.test",
    )  # fmt: skip
    match = assert_well_formed(run)
    code, words = EXPECTED[exim["code"]]
    assert (run.code, words in match.group("text")) == (code, True), (exim, run)


@pytest.mark.parametrize("kind", CASES)
def test_mixed_code_reply_judged_as_exim_judges_it(box, exim_config, kind):
    assert_judged_as_exim(box, exim_config, kind)
