"""The v1 signing scheme (pure): known answers, rotation, the time window, Retry-After parsing."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

import gateway.adapters.webhook as webhook
from gateway.adapters.webhook import SignatureRejected, parse_retry_after, sign, signed_headers, verify
from gateway.adapters.webhook.signing import MAX_SIGNATURES, canonical_string, split_secrets

# The example in docs/webhooks.md; the expected value was computed with
# `printf '%s' '<timestamp>.<body>' | openssl dgst -sha256 -hmac '<secret>'`.
SECRET = b"whsec_example_do_not_use"
STAMP = "1732312800"
BODY = b'{"event":"shipment.confirmed","data":{"shipmentId":"SWL-1"}}'
EXPECTED = "9a4461669193ef2aea20e00eaaeae71767a4792339d18ccbdc669ac6a86de93b"


def _verify(
    signature: str, *, stamp: str = STAMP, now: float = 1732312800.0, secrets: list[bytes] | None = None
) -> None:
    verify(
        [SECRET] if secrets is None else secrets,
        stamp,
        signature,
        BODY,
        now=now,
        tolerance_seconds=300,
    )


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    assert canonical_string(STAMP, BODY) == STAMP.encode() + b"." + BODY
    assert sign(SECRET, STAMP, BODY) == EXPECTED
    headers = signed_headers([SECRET], BODY, 1732312800.9)
    assert headers == {"X-Edigate-Timestamp": STAMP, "X-Edigate-Signature": f"v1={EXPECTED}"}


def test_a_matching_signature_verifies_whatever_its_case_and_spacing() -> None:
    _verify(f"v1={EXPECTED}")
    _verify(f"  v1={EXPECTED.upper()} ")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (f"v1={EXPECTED[:-1]}0", "bad-signature"),
        (f"v0={EXPECTED}", "no-v1-signature"),
        ("", "missing-signature"),
        ("v1=", "no-v1-signature"),
    ],
)
def test_wrong_or_missing_signatures_are_refused(header: str, reason: str) -> None:
    with pytest.raises(SignatureRejected) as caught:
        _verify(header)
    assert caught.value.reason == reason
    assert caught.value.http_status == 401
    assert EXPECTED not in caught.value.message
    assert SECRET.decode() not in caught.value.message


def test_the_body_and_timestamp_are_both_covered() -> None:
    with pytest.raises(SignatureRejected, match="no signature matches"):
        verify([SECRET], STAMP, f"v1={EXPECTED}", BODY + b" ", now=1732312800, tolerance_seconds=300)
    with pytest.raises(SignatureRejected, match="no signature matches"):
        _verify(f"v1={EXPECTED}", stamp="1732312801", now=1732312801)


@pytest.mark.parametrize("stamp", ["", "17323128OO", "-1732312800", "1.5", "9" * 13])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(stamp: str) -> None:
    with pytest.raises(SignatureRejected) as caught:
        _verify(f"v1={EXPECTED}", stamp=stamp)
    assert caught.value.reason in ("missing-timestamp", "bad-timestamp")


def test_the_time_window_is_inclusive_both_ways() -> None:
    _verify(f"v1={EXPECTED}", now=1732312800 + 300)
    _verify(f"v1={EXPECTED}", now=1732312800 - 300)
    with pytest.raises(SignatureRejected, match="301 s in the past") as old:
        _verify(f"v1={EXPECTED}", now=1732312800 + 301)
    assert old.value.reason == "stale-timestamp"
    with pytest.raises(SignatureRejected, match="301 s in the future"):
        _verify(f"v1={EXPECTED}", now=1732312800 - 301)


def test_rotation_any_of_several_signatures_against_any_of_several_secrets() -> None:
    other = sign(b"the-next-secret", STAMP, BODY)
    _verify(f"v1={'0' * 64}, v1={EXPECTED}")
    _verify(f"v1={other}", secrets=split_secrets(b"whsec_example_do_not_use\r\nthe-next-secret\n"))
    header = signed_headers([SECRET, b"the-next-secret"], BODY, 1732312800)["X-Edigate-Signature"]
    assert header == f"v1={EXPECTED}, v1={other}"


def test_only_the_first_signatures_are_checked() -> None:
    decoys = ", ".join([f"v1={'0' * 64}"] * MAX_SIGNATURES)
    with pytest.raises(SignatureRejected, match="no signature matches"):
        _verify(f"{decoys}, v1={EXPECTED}")


def test_secrets_file_lines() -> None:
    assert split_secrets(b"one\n\ntwo\r\n") == [b"one", b"two"]
    assert split_secrets(b"\n") == []
    with pytest.raises(SignatureRejected, match="no secret is configured"):
        _verify(f"v1={EXPECTED}", secrets=[])


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = time.time()
    assert parse_retry_after("1", now) == 1.0
    assert parse_retry_after(" 120 ", now) == 120.0
    later = parse_retry_after(formatdate(now + 30, usegmt=True), now)
    assert later is not None
    assert 28 <= later <= 31
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now) == 0.0
    assert parse_retry_after("9999999999", now) == 86_400.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None


def test_public_api() -> None:
    assert sorted(webhook.__all__) == sorted(
        [
            "IDEMPOTENCY_HEADER",
            "KEPT_HEADERS",
            "RETRYABLE_STATUSES",
            "ROUTE",
            "SIGNATURE_HEADER",
            "TIMESTAMP_HEADER",
            "FieldError",
            "SignatureRejected",
            "Verdict",
            "WebhookInstall",
            "WebhookPartnerChannel",
            "WebhookReceiver",
            "check_body",
            "install_webhook",
            "parse_retry_after",
            "sign",
            "signed_headers",
            "verify",
        ]
    )
    for name in webhook.__all__:
        assert getattr(webhook, name) is not None
