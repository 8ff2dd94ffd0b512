"""Address and domain validation, IDNA, and the output sanitiser."""

from __future__ import annotations

import pytest

from check_callout.address import AddressError, domain_address, parse_address, to_ascii_domain
from check_callout.kit.text import perf_label, sanitize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("www-data@web1.example.com", "www-data@web1.example.com"),
        ("<a@b.test>", "a@b.test"),
        ("A.B+tag@Example.TEST", "A.B+tag@example.test"),
        ('"john doe"@b.test', '"john doe"@b.test'),
        ("x@bücher.test", "x@xn--bcher-kva.test"),
        ("x@b.test.", "x@b.test"),
    ],
)
def test_valid_addresses(text, expected):
    assert str(parse_address(text)) == expected


def test_display_keeps_unicode_domain():
    assert parse_address("x@bücher.test").display == "x@bücher.test"
    assert str(domain_address("Example.TEST")) == "postmaster@example.test"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("plain", "no @"),
        ("@b.test", "empty local part"),
        ("a b@b.test", "not a valid local part"),
        ("a..b@b.test", "not a valid local part"),
        ("a@b.test\r\nDATA", "control character"),
        ("a\x00@b.test", "control character"),
        ("é@b.test", "SMTPUTF8"),
        ("a@[192.0.2.1]", "address literals"),
        ("a@192.0.2.1", "address literals"),
        ("a@-bad-.test", "not a valid domain"),
        ("a@" + "l" * 64 + ".test", "not a valid domain"),
        ("a@" + ".".join(["abcdefghi"] * 26), "longer than 253"),
        ("a" * 65 + "@b.test", "longer than 64"),
        ("a@b c.test", "space"),
    ],
)
def test_invalid_addresses(text, reason):
    with pytest.raises(AddressError, match=reason):
        parse_address(text)


def test_bad_idn_is_refused():
    with pytest.raises(AddressError):
        to_ascii_domain("a\u200db.test")


def test_sanitize():
    assert sanitize("550 no|such\r\nuser\x1b[31m!\x00") == "550 no/such user!"
    assert sanitize(b"\xff\xfe 250 ok") == "\ufffd\ufffd 250 ok"
    assert sanitize("x" * 500, 20) == "x" * 17 + "..."
    assert perf_label("time_mx'1=x") == "time_mx_1_x"


def test_fit_keeps_whole_parts_within_the_limit():
    from check_callout.kit.output import fit

    parts = ["a" * 10, "b" * 10, "c" * 10]
    assert fit(parts, 40) == "; ".join(parts)
    assert fit(parts, 30) == "a" * 10 + " (+2 more below)"
    assert fit(["one two three four five six", "x"], 27) == "one two three four five six"
    assert fit(["one two three four five six seven", "x"], 30) == "one two... (+1 more below)"
    assert fit(["x|y\nz"], 10) == "x/y z"
