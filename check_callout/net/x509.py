"""The few certificate facts the long output shows, read from the DER bytes in memory.

Subject common name, DNS names of the subjectAltName extension and the end of validity,
from a bounded walk of the certificate's DER encoding (X.509, RFC 5280 section 4.1).
No file is written: the plugin must run on a read-only file system (systemd's
``ProtectSystem=strict``, an unprivileged user with a read-only /tmp).  Anything the
walk does not understand raises :class:`CertificateError`.
"""

from __future__ import annotations

import calendar

SEQUENCE, SET, OID, UTC_TIME, GENERALIZED_TIME = 0x30, 0x31, 0x06, 0x17, 0x18
CONTEXT_0, CONTEXT_3, DNS_NAME = 0xA0, 0xA3, 0x82
OID_COMMON_NAME = bytes([0x55, 0x04, 0x03])  # 2.5.4.3
OID_SUBJECT_ALT_NAME = bytes([0x55, 0x1D, 0x11])  # 2.5.29.17
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_ITEMS = 500  # elements looked at in one SEQUENCE or SET


class CertificateError(ValueError):
    """The bytes are not a certificate this reader understands."""


class Certificate:
    """What the long output shows about a peer certificate."""

    __slots__ = ("common_name", "dns_names", "not_after")

    def __init__(self, common_name: str, dns_names: list[str], not_after: float | None) -> None:
        self.common_name = common_name
        self.dns_names = dns_names
        self.not_after = not_after  # seconds since the epoch (UTC)

    @property
    def not_after_text(self) -> str:
        """As OpenSSL prints it: ``Mar  3 12:00:00 2027 GMT``."""
        if self.not_after is None:
            return ""
        import time

        t = time.gmtime(self.not_after)
        clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {clock} {t.tm_year} GMT"


def _element(data: bytes, pos: int) -> tuple[int, int, int]:
    """The tag, the start of the content and the end of the element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise CertificateError("truncated")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        if len(items) >= MAX_ITEMS:
            raise CertificateError("too many elements")
        tag, content, stop = _element(data, pos)
        if stop > end:
            raise CertificateError("element overruns its parent")
        items.append((tag, content, stop))
        pos = stop
    return items


def _time(data: bytes, tag: int, start: int, end: int) -> float:
    text = data[start:end].decode("ascii", "replace").rstrip("Z")
    if tag == UTC_TIME:
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"  # RFC 5280 4.1.2.5.1
    elif tag != GENERALIZED_TIME:
        raise CertificateError("not a time")
    try:
        fields = (int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]))
        seconds = int(text[12:14]) if len(text) >= 14 else 0
        return float(calendar.timegm((*fields, seconds, 0, 0, 0)))
    except (ValueError, OverflowError):
        raise CertificateError("bad time") from None


def _common_name(data: bytes, start: int, end: int) -> str:
    for tag, rdn_start, rdn_end in _children(data, start, end):
        if tag != SET:
            continue
        for _, at_start, at_end in _children(data, rdn_start, rdn_end):
            parts = _children(data, at_start, at_end)
            if len(parts) == 2 and parts[0][0] == OID and data[parts[0][1] : parts[0][2]] == OID_COMMON_NAME:
                value = data[parts[1][1] : parts[1][2]]
                codec = "utf-16-be" if parts[1][0] == 0x1E else "utf-8"  # BMPString, else UTF-8/ASCII
                return value.decode(codec, "replace")
    return ""


def _dns_names(data: bytes, start: int, end: int) -> list[str]:
    names: list[str] = []
    for _, ext_start, ext_end in _children(data, start, end):
        parts = _children(data, ext_start, ext_end)
        if not parts or parts[0][0] != OID or data[parts[0][1] : parts[0][2]] != OID_SUBJECT_ALT_NAME:
            continue
        _, value_start, value_end = parts[-1]  # the OCTET STRING (after an optional critical flag)
        tag, seq_start, seq_end = _element(data, value_start)
        if tag != SEQUENCE or seq_end > value_end:
            raise CertificateError("bad subjectAltName")
        for name_tag, name_start, name_end in _children(data, seq_start, seq_end):
            if name_tag == DNS_NAME:
                names.append(data[name_start:name_end].decode("ascii", "replace"))
    return names


def parse(der: bytes) -> Certificate:
    """The facts of a DER certificate; raises :class:`CertificateError`."""
    tag, start, end = _element(der, 0)
    if tag != SEQUENCE:
        raise CertificateError("not a SEQUENCE")
    tbs = _children(der, start, end)
    if not tbs or tbs[0][0] != SEQUENCE:
        raise CertificateError("no tbsCertificate")
    fields = _children(der, tbs[0][1], tbs[0][2])
    if fields and fields[0][0] == CONTEXT_0:  # [0] version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... [3] extensions
    if len(fields) < 6:
        raise CertificateError("short tbsCertificate")
    validity = _children(der, fields[3][1], fields[3][2])
    if len(validity) != 2:
        raise CertificateError("bad validity")
    not_after = _time(der, *validity[1])
    common_name = _common_name(der, fields[4][1], fields[4][2])
    names: list[str] = []
    for field_tag, field_start, field_end in fields[6:]:
        if field_tag == CONTEXT_3:
            inner_tag, inner_start, inner_end = _element(der, field_start)
            if inner_end > field_end:
                raise CertificateError("extensions overrun")
            if inner_tag == SEQUENCE:
                names = _dns_names(der, inner_start, inner_end)
    return Certificate(common_name, names, not_after)
