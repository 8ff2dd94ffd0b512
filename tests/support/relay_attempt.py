"""One relay attempt, as an outsider would make it: ``python -m tests.support.relay_attempt
HOST PORT`` prints one JSON line with what the server answered.

EHLO, MAIL FROM:<probe@outside.test>, RCPT TO:<relaytest@example.net>, RSET, QUIT; never
DATA.  ``answer`` is ``refused`` (no connection), ``silent`` (connected, no greeting:
closed or timed out), ``relays`` (RCPT 250/251), ``denied`` (RCPT or MAIL 4xx/5xx) or
``broken`` (anything else).
"""

from __future__ import annotations

import json
import smtplib
import socket
import sys

TIMEOUT = 5.0
SENDER = "probe@outside.test"
RCPT = "relaytest@example.net"


def attempt(host: str, port: int) -> dict[str, object]:
    out: dict[str, object] = {"host": host, "port": port}
    client = smtplib.SMTP(timeout=TIMEOUT, local_hostname="client.outside.test")
    try:
        try:
            code, text = client.connect(host, port)
        except ConnectionRefusedError:
            return {**out, "answer": "refused"}
        except (smtplib.SMTPServerDisconnected, socket.timeout, OSError) as exc:
            return {**out, "answer": "silent", "error": type(exc).__name__}
        out["greeting"] = code
        if code != 220:
            return {**out, "answer": "broken"}
        client.ehlo()
        code, text = client.mail(SENDER)
        out["mail"] = [code, text.decode(errors="replace")]
        if code >= 400:
            return {**out, "answer": "denied"}
        code, text = client.rcpt(RCPT)
        out["rcpt"] = [code, text.decode(errors="replace")]
        try:
            client.rset()
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        return {**out, "answer": "relays" if code in (250, 251) else "denied" if code >= 400 else "broken"}
    except (smtplib.SMTPException, OSError) as exc:
        return {**out, "answer": "silent" if "greeting" not in out else "broken", "error": type(exc).__name__}
    finally:
        client.close()


if __name__ == "__main__":
    print(json.dumps(attempt(sys.argv[1], int(sys.argv[2]))))
