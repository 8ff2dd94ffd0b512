"""No code path needs a writable file system (issue 13, item 4): with /tmp and /var/tmp
read-only and the plugin running as an unprivileged user (a private mount namespace),
STARTTLS dialogues still describe the certificate, check_callout still judges the
callout, and check_nullmailer still reports the open relay it finds.  The certificate
reader is checked against OpenSSL's own decoder."""

from __future__ import annotations

import os
import ssl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from check_callout.net.x509 import CertificateError, parse
from tests.support.ci import require
from tests.support.hostile import FIRST_LINE
from tests.support.processes import run_readonly_tmp, unprivileged_python
from tests.support.relay_servers import open_relay
from tests.support.servers import SMTPTestServer, free_port, make_certificate

HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("cchl-tls"), "mx.test")


@pytest.fixture(scope="module")
def nobody_python():
    import shutil
    import tempfile
    from pathlib import Path

    # under /run: readable by nobody, not writable by it, and not hidden with /tmp
    base = Path(tempfile.mkdtemp(prefix="cchl-nobody-", dir="/run" if os.path.isdir("/run") else None))
    try:
        found = unprivileged_python(base)
        require(found is not None, "needs root, unshare, setpriv and an interpreter user nobody can run")
        yield found
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_callout_over_starttls_with_a_read_only_tmp(certificate, nobody_python):
    port = free_port()
    with SMTPTestServer(HOST, port, tls=certificate):
        done = run_readonly_tmp(
            nobody_python,
            "check_callout.plugin",
            ["-s", "a@example.test", "-H", HOST, "-p", str(port), "-t", "5", "--helo", "monitor.test"],
        )
    out = done.stdout.decode()
    assert done.returncode == 0, (out, done.stderr)
    assert FIRST_LINE.match(out.splitlines()[0]), out
    assert "no answer in time" not in out and "temporary directory" not in out, out
    assert "certificate expires in" in out, out  # described without a file


def test_nullmailer_keeps_the_open_relay_with_a_read_only_tmp(certificate, nobody_python):
    port = free_port()
    with SMTPTestServer(HOST, port, open_relay, tls=certificate):
        done = run_readonly_tmp(
            nobody_python,
            "check_nullmailer.plugin",
            ["-H", HOST, "--ports", str(port), "-t", "8", "--helo", "monitor.test"],
        )
    out = done.stdout.decode()
    assert done.returncode == 2, (out, done.stderr)
    assert out.startswith(f"NULLMAILER CRITICAL - open relay on port {port}"), out
    assert "temporary directory" not in out and "(STARTTLS)" in out, out


def test_certificate_facts_match_openssl(certificate):
    cert_path, _ = certificate
    der = ssl.PEM_cert_to_DER_cert(cert_path.read_text())
    reference = ssl._ssl._test_decode_cert(str(cert_path))  # OpenSSL, through a file: tests may write
    facts = parse(der)
    assert facts.not_after_text == reference["notAfter"]
    assert facts.dns_names == [v for k, v in reference["subjectAltName"] if k == "DNS"] == ["mx.test"]
    assert facts.common_name == "mx.test"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_a_certificate_or_a_certificate_error(data):
    try:
        parse(b"\x30\x82" + len(data).to_bytes(2, "big") + data)
        parse(data)
    except CertificateError:
        pass
