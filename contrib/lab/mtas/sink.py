"""The smarthost of the MTA origin lab: records what each MTA really sends.

Run inside an MTA's namespace as ``python3 sink.py LOG``.  It answers SMTP on
127.0.0.1 and 127.0.0.2 port 2525 (Exim refuses a smarthost on the address it
counts as its own host, so both are offered) and appends one JSON line per
``MAIL FROM`` to LOG: the sender, the HELO name, the client's source address, and the
address and port it connected to.  It also answers every DNS query on 127.0.0.1:53
with NXDOMAIN, so resolver lookups inside the namespace end at once and never leave
it, except the recipients' domain ``dest.test`` (MX ``dest.test``, A 198.51.100.25).

``python3 sink.py LOG world`` is the recipients' MX: run in the namespace's "world"
(a second network namespace behind the MTA's only link, see ``inside.py``), it
answers on 198.51.100.25 port 25, so an MTA that delivers straight to the recipient
goes out by its default route, from the address a real host would use.

With ``python3 sink.py LOG defer`` it answers every ``RCPT`` with
``451 Could not complete sender verify callout``, as an Exim receiver that could not
verify the sender does: the MTA keeps the message and defers it (the queue lab).

This is a sink, not a probe: it accepts DATA and throws the message away.  It
lives only as long as the namespace's PID namespace.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading

SMTP_ADDRESSES = ("127.0.0.1", "127.0.0.2")
SMTP_PORT = 2525
DIRECT = ("198.51.100.25", 25)  # dest.test's MX, in the world namespace
RECIPIENT_DOMAIN = b"\x04dest\x04test"
DNS_ADDRESS = ("127.0.0.1", 53)
MAX_LINE = 4096
MAX_COMMANDS = 200
DEFER_REPLY = "451 Could not complete sender verify callout"


class SMTPHandler(socketserver.StreamRequestHandler):
    timeout = 20

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def record(self, sender: str, helo: str) -> dict[str, object]:
        """What the MTA sent and from where: the client's source address, and the address
        and port it connected to (the smarthost's 2525, or port 25 for direct delivery)."""
        here = self.connection.getsockname()
        return {"mail_from": sender, "helo": helo, "peer": self.client_address[0],
                "server": here[0], "port": here[1]}  # fmt: skip

    def handle(self) -> None:
        log: str = self.server.log  # type: ignore[attr-defined]
        helo = ""
        self.reply("220 sink.test ESMTP")
        for _ in range(MAX_COMMANDS):
            raw = self.rfile.readline(MAX_LINE)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                helo = line[5:].strip()
                self.reply("250-sink.test\r\n250 8BITMIME" if verb == "EHLO" else "250 sink.test")
            elif verb == "MAIL":
                sender = line[10:].strip() if line.upper().startswith("MAIL FROM:") else line
                sender = sender.split(">", 1)[0].lstrip("<") if sender.startswith("<") else sender.split()[0]
                with self.server.lock, open(log, "a") as out:  # type: ignore[attr-defined]
                    out.write(json.dumps(self.record(sender, helo)) + "\n")
                self.reply("250 ok")
            elif verb == "RCPT" and self.server.defer:  # type: ignore[attr-defined]
                self.reply(DEFER_REPLY)
            elif verb == "DATA":
                self.reply("354 go on")
                for _ in range(10000):
                    data = self.rfile.readline(MAX_LINE)
                    if not data or data.rstrip(b"\r\n") == b".":
                        break
                self.reply("250 ok: thrown away")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def answer(query: bytes) -> bytes:
    """NXDOMAIN for every name but the recipients' domain, whose MX and A record are the
    world's sink (so an MTA that delivers straight to the recipient's domain is seen too)."""
    if len(query) < 12:
        return b""
    end = 12
    while end < len(query) and query[end] and end < 268:  # the question's name, label by label
        end += 1 + query[end]
    question = query[12 : end + 5]
    name, qtype = question[:-5].lower(), question[-4:-2]
    head = query[:2] + (0x8000 | (query[2] & 0x79) << 8 | 0x80).to_bytes(2, "big")
    if name == RECIPIENT_DOMAIN and qtype == b"\0\1":
        record = b"\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4" + socket.inet_aton(DIRECT[0])
        return head + b"\0\1\0\1\0\0\0\0" + question + record
    if name == RECIPIENT_DOMAIN and qtype == b"\0\x0f":  # MX 10 dest.test (OpenSMTPD wants one)
        record = b"\xc0\x0c\0\x0f\0\1\0\0\0\x3c\0\4\0\x0a\xc0\x0c"
        return head + b"\0\1\0\1\0\0\0\0" + question + record
    if name == RECIPIENT_DOMAIN:
        return head + b"\0\1\0\0\0\0\0\0" + question  # the name exists, no such record
    head = head[:3] + bytes([head[3] | 3])
    return head + b"\0\1\0\0\0\0\0\0" + question


def serve_dns() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(DNS_ADDRESS)
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply:
            sock.sendto(reply, peer)


def main(log: str, defer: bool = False, world: bool = False) -> None:
    servers = []
    addresses = [DIRECT] if world else [(a, SMTP_PORT) for a in SMTP_ADDRESSES]
    for address in addresses:
        server = SMTPServer(address, SMTPHandler)
        server.log = log  # type: ignore[attr-defined]
        server.lock = threading.Lock()  # type: ignore[attr-defined]
        server.defer = defer  # type: ignore[attr-defined]
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    if not world:
        threading.Thread(target=serve_dns, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], "defer" in sys.argv[2:], "world" in sys.argv[2:])
