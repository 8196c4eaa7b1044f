"""Field-level rules of the profile models, checked through the YAML loader so paths are the user's."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from gateway.domain.profiles import (
    Certificate,
    ControlNumbers,
    CronExpression,
    Environment,
    RetryPolicy,
    SecretRef,
    SecretUnavailable,
    Sequence,
    load_profile_file,
)

CERTS = Path(__file__).resolve().parents[2] / "fixtures_profiles" / "certs"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILztyI1GrsvqS3UtEWdZhDWNHXGdlK9gYnkZZfwqZNZl"

BASE: dict[str, Any] = {
    "partner_id": "model-test",
    "name": "Model Test",
    "environment": "test",
    "identity": {"isa_qualifier": "ZZ", "isa_id": "MODELTEST", "as2_name": "MODEL-TEST"},
    "channels": {
        "as2": {
            "url": "https://as2.example.com/in",
            "our_as2_id": "EDIGATE",
            "our_key": "env:OUR_KEY",
            "our_certificate": {"path": str(CERTS / "partner.pem")},
            "partner_certificates": [{"path": str(CERTS / "partner.pem")}],
        },
        "sftp": {
            "mode": "push",
            "account": {"username": "modeltest", "authorized_keys": [ED25519]},
            "paths": {"inbox": "/in", "outbox": "/out"},
        },
        "webhook": {"inbound": {"secret": "env:HOOK"}},
    },
    "documents": [{"direction": "inbound", "type": "850", "format": "x12", "version": "004010"}],
}


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value


_DELETE = object()


def check(
    tmp_path: Path, changes: dict[str, Any] | None = None, raw: str | None = None
) -> list[tuple[str, str]]:
    """Write BASE with ``changes`` applied (or ``raw`` YAML) and return (path, reason) problems."""
    data = copy.deepcopy(BASE)
    for dotted, value in (changes or {}).items():
        _set(data, dotted, value)
    file = tmp_path / "partner.yaml"
    file.write_text(raw if raw is not None else yaml.safe_dump(data))
    _, problems = load_profile_file(file)
    return [(p.path, p.reason) for p in problems]


def _cert(
    tmp_path: Path, name: str, key: Any = None, issuer: tuple[x509.Name, Any] | None = None, ca: bool = False
) -> tuple[x509.Certificate, Any]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, signer = issuer or (subject, key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2027, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    return cert, key


def test_base_profile_is_valid(tmp_path: Path) -> None:
    assert check(tmp_path) == []


# --- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("plain-password", "looks like an inline secret"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----",
            "inline key or certificate material",
        ),
        ("env:not valid", "env: reference needs a variable name"),
        ("file:", "file: reference needs a path"),
        ("vault:secret/x", "looks like an inline secret"),
        (12345, "secrets are given by reference"),
    ],
)
def test_secret_must_be_a_reference(tmp_path: Path, value: object, reason: str) -> None:
    problems = check(tmp_path, {"channels.as2.our_key": value})
    assert len(problems) == 1
    path, message = problems[0]
    assert path == "channels.as2.our_key"
    assert reason in message
    assert "MIIE" not in message
    assert "plain-password" not in message


def test_secret_reference_resolution_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "hook.secret").write_text("file-secret-value\n")
    data = copy.deepcopy(BASE)
    data["channels"]["webhook"]["inbound"]["secret"] = "file:keys/hook.secret"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    profile, problems = load_profile_file(tmp_path / "p.yaml")
    assert problems == []
    assert profile is not None
    assert profile.channels.webhook is not None
    assert profile.channels.webhook.inbound is not None
    secret = profile.channels.webhook.inbound.secret
    assert secret.reference == f"file:{tmp_path / 'keys' / 'hook.secret'}"
    assert secret.read_text() == "file-secret-value"
    assert "file-secret-value" not in repr(secret)
    assert "file-secret-value" not in str(profile.redacted())

    monkeypatch.setenv("OUR_KEY", "env-secret-value")
    env = SecretRef.parse("env:OUR_KEY")
    assert env.read() == b"env-secret-value"
    monkeypatch.delenv("OUR_KEY")
    with pytest.raises(SecretUnavailable, match="OUR_KEY is not set"):
        env.read()
    with pytest.raises(SecretUnavailable, match="cannot read secret file"):
        SecretRef.parse(f"file:{tmp_path / 'missing'}").read()


def test_validation_error_text_never_shows_rejected_input() -> None:
    from gateway.domain.profiles import WebhookInbound

    with pytest.raises(ValidationError) as info:
        WebhookInbound.model_validate({"secret": "sup3r-s3cret"})
    assert "sup3r-s3cret" not in str(info.value)


# --- certificates -------------------------------------------------------------------------


def test_der_and_pkcs7_chain_load_and_leaf_is_found(tmp_path: Path) -> None:
    ca, ca_key = _cert(tmp_path, "Test CA", ca=True)
    leaf, _ = _cert(tmp_path, "Partner leaf", issuer=(ca.subject, ca_key))
    bundle = tmp_path / "chain.p7b"
    bundle.write_bytes(pkcs7.serialize_certificates([ca, leaf], serialization.Encoding.DER))
    cert = Certificate.model_validate({"path": str(bundle)})
    assert cert.certificate.subject == leaf.subject
    assert len(cert.chain) == 2
    der = Certificate.model_validate({"path": "partner.der"}, context={"base_dir": CERTS})
    assert der.path == CERTS / "partner.der"
    assert der.not_before == datetime(2026, 1, 1, tzinfo=UTC)
    assert der.not_after == datetime(2036, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "path", "reason"),
    [
        ({"not_after": "2040-01-01T00:00:00Z"}, "not_after", "is after the certificate's own expiry"),
        ({"not_before": "2025-06-01"}, "not_before", "is before the certificate's own start"),
        (
            {"not_before": "2030-01-01", "not_after": "2029-01-01"},
            "not_after",
            "the validity window is empty",
        ),
    ],
)
def test_certificate_window_overrides(tmp_path: Path, window: dict[str, str], path: str, reason: str) -> None:
    entry = {"path": str(CERTS / "partner.pem"), **window}
    problems = check(tmp_path, {"channels.as2.partner_certificates": [entry]})
    assert len(problems) == 1
    assert problems[0][0] == f"channels.as2.partner_certificates[0].{path}"
    assert reason in problems[0][1]


def test_certificate_window_narrowed(tmp_path: Path) -> None:
    cert = Certificate.model_validate(
        {
            "path": str(CERTS / "partner.pem"),
            "not_before": "2027-01-01",
            "not_after": "2028-01-01T12:00:00+02:00",
        }
    )
    assert cert.not_before == datetime(2027, 1, 1, tzinfo=UTC)  # naive times are UTC
    assert cert.valid_at(datetime(2027, 6, 1, tzinfo=UTC))
    assert not cert.valid_at(datetime(2028, 1, 1, 11, tzinfo=UTC))


def test_private_key_or_missing_file_is_not_a_certificate(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    problems = check(tmp_path, {"channels.as2.our_certificate": {"path": str(key_file)}})
    assert problems[0][0] == "channels.as2.our_certificate.path"
    assert "PRIVATE KEY" in problems[0][1]
    problems = check(tmp_path, {"channels.as2.our_certificate": {"path": "nope.pem"}})
    assert problems == [
        ("channels.as2.our_certificate.path", f"certificate file not found: {tmp_path / 'nope.pem'}")
    ]


# --- AS2 ----------------------------------------------------------------------------------


def test_as2_security_needs_keys_and_certificates(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "channels.as2.partner_certificates": [],
            "channels.as2.our_key": _DELETE,
            "channels.as2.our_certificate": _DELETE,
        },
    )
    assert set(problems) == {
        (
            "channels.as2.partner_certificates",
            "at least one partner certificate is needed for encrypt and require_signed",
        ),
        (
            "channels.as2.our_key",
            "our private key reference is needed for sign and require_encrypted and mdn.signed",
        ),
    }  # our certificate may come bundled with the key (PKCS#12): checked when the key loads
    plain = {"encrypt": False, "sign": False, "require_signed": False, "require_encrypted": False}
    changes: dict[str, Any] = {f"channels.as2.{k}": v for k, v in plain.items()}
    changes |= {"channels.as2.mdn": {"signed": False}, "channels.as2.partner_certificates": []}
    changes |= {"channels.as2.our_key": _DELETE, "channels.as2.our_certificate": _DELETE}
    assert check(tmp_path, changes) == []


def test_as2_encryption_needs_an_rsa_certificate(tmp_path: Path) -> None:
    cert, _ = _cert(tmp_path, "EC partner")
    (tmp_path / "ec.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    entry = [{"path": str(CERTS / "partner.pem")}, {"path": "ec.pem"}]
    problems = check(tmp_path, {"channels.as2.partner_certificates": entry})
    assert problems == [
        ("channels.as2.partner_certificates[1].path", "encryption needs an RSA certificate for key transport")
    ]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"channels.as2.mdn": {"mode": "async"}}, "channels.as2.mdn.async_url"),
        ({"channels.as2.encryption": "des"}, "channels.as2.encryption"),
        ({"channels.as2.key_transport": "rsa_oaep_md5"}, "channels.as2.key_transport"),
        ({"channels.as2.url": "as2.example.com/in"}, "channels.as2.url"),
        ({"channels.as2.url": "https://user:pw@as2.example.com/"}, "channels.as2.url"),
        ({"identity.as2_name": "HAS SPACE"}, "identity.as2_name"),
        ({"identity.as2_name": "x" * 129}, "identity.as2_name"),
        ({"identity.as2_name": _DELETE}, "identity.as2_name"),
        (
            {"channels.as2.retry": {"backoff_seconds": 60, "max_backoff_seconds": 10}},
            "channels.as2.retry.max_backoff_seconds",
        ),
    ],
)
def test_as2_field_rules(tmp_path: Path, changes: dict[str, Any], path: str) -> None:
    assert [p for p, _ in check(tmp_path, changes)] == [path]


def test_our_as2_id_differs_from_partners(tmp_path: Path) -> None:
    assert check(tmp_path, {"channels.as2.our_as2_id": '"MODEL-TEST"'}) == [
        ("channels.as2.our_as2_id", "our AS2 id must differ from the partner's as2_name")
    ]


def test_quoted_as2_name_may_contain_spaces(tmp_path: Path) -> None:
    assert check(tmp_path, {"identity.as2_name": '"Model Test AS2"'}) == []


# --- SFTP ---------------------------------------------------------------------------------


def _openssh(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def test_sftp_push_accepts_ed25519_ecdsa_rsa(tmp_path: Path) -> None:
    keys = [
        _openssh(ed25519.Ed25519PrivateKey.generate()) + " alice@laptop",
        _openssh(ec.generate_private_key(ec.SECP384R1())),
        _openssh(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ]
    assert check(tmp_path, {"channels.sftp.account.authorized_keys": keys}) == []


def test_sftp_rejects_weak_unknown_or_broken_keys(tmp_path: Path) -> None:
    keys = [
        ED25519,
        _openssh(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP= old-dsa-key",
        "ssh-ed25519 AAAAnotbase64!!",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    ]
    problems = dict(check(tmp_path, {"channels.sftp.account.authorized_keys": keys}))
    base = "channels.sftp.account.authorized_keys"
    assert set(problems) == {f"{base}[1]", f"{base}[2]", f"{base}[3]", f"{base}[4]"}
    assert "RSA key is 1024 bits" in problems[f"{base}[1]"]
    assert "expected an OpenSSH public key" in problems[f"{base}[2]"]
    assert "does not parse" in problems[f"{base}[3]"]
    assert "private key" in problems[f"{base}[4]"]


POLL = {
    "mode": "poll",
    "host": "sftp.partner.example.com",
    "username": "edigate",
    "key": "file:/run/secrets/sftp_key",
    "known_host_key": f"sftp.partner.example.com {ED25519}",
    "paths": {"inbox": "/out", "outbox": "/in"},
    "schedule": {"interval_seconds": 300},
}


def test_sftp_poll(tmp_path: Path) -> None:
    assert check(tmp_path, {"channels.sftp": POLL}) == []
    problems = check(
        tmp_path, {"channels.sftp": {**POLL, "after_pickup": "archive", "filename_pattern": "a/*"}}
    )
    assert set(problems) == {
        (
            "channels.sftp.filename_pattern",
            "filename_pattern matches names inside the inbox; it must not contain '/'",
        ),
    }
    problems = check(tmp_path, {"channels.sftp": {**POLL, "after_pickup": "archive"}})
    assert problems == [("channels.sftp.paths.archive", "after_pickup: archive needs paths.archive")]
    problems = check(
        tmp_path, {"channels.sftp": {**POLL, "paths": {"inbox": "/a/../b", "outbox": "/in"}, "port": 0}}
    )
    assert {p for p, _ in problems} == {"channels.sftp.paths.inbox", "channels.sftp.port"}


def test_sftp_poll_needs_a_pinned_host_key(tmp_path: Path) -> None:
    """We never poll a server whose host key we have not pinned (no trust on first use)."""
    unpinned = {k: v for k, v in POLL.items() if k != "known_host_key"}
    problems = check(tmp_path, {"channels.sftp": unpinned})
    assert [p for p, _ in problems] == ["channels.sftp.known_host_key"]
    problems = check(tmp_path, {"channels.sftp": {**POLL, "known_host_key": "not a key"}})
    assert [p for p, _ in problems] == ["channels.sftp.known_host_key"]


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ({"interval_seconds": 60, "cron": "* * * * *"}, "give exactly one of interval_seconds or cron"),
        ({}, "give exactly one of interval_seconds or cron"),
        ({"cron": "*/5 * * *"}, "cron needs 5 fields"),
        ({"cron": "61 * * * *"}, "cron minute: '61' is outside 0-59"),
        ({"cron": "0 9-5 * * *"}, "cron hour: '9-5' is outside 0-23 or reversed"),
        ({"cron": "0 9 * * MON"}, "cron day of week: 'MON' is not a number"),
    ],
)
def test_sftp_schedule_rules(tmp_path: Path, schedule: dict[str, Any], reason: str) -> None:
    problems = check(tmp_path, {"channels.sftp": {**POLL, "schedule": schedule}})
    assert len(problems) == 1
    assert problems[0][0].startswith("channels.sftp.schedule")
    assert reason in problems[0][1]


def test_sftp_mode_must_be_push_or_poll(tmp_path: Path) -> None:
    problems = check(tmp_path, {"channels.sftp.mode": "pull"})
    assert problems == [
        ("channels.sftp", "mode must be 'push' (partner pushes to us) or 'poll' (we poll them)")
    ]


def test_cron_matching() -> None:
    every_quarter_weekdays = CronExpression.parse("0,15,30,45 8-17 * * 1-5")
    assert every_quarter_weekdays.matches(datetime(2026, 11, 23, 8, 45))  # Monday
    assert not every_quarter_weekdays.matches(datetime(2026, 11, 23, 8, 46))
    assert not every_quarter_weekdays.matches(datetime(2026, 11, 28, 8, 45))  # Saturday
    first_or_sunday = CronExpression.parse("0 0 1 * 7")  # classic cron: either day field matches
    assert first_or_sunday.matches(datetime(2026, 12, 1))  # Tuesday the 1st
    assert first_or_sunday.matches(datetime(2026, 11, 29))  # Sunday
    assert not first_or_sunday.matches(datetime(2026, 11, 30))
    assert CronExpression.parse("*/20 * * * *").minutes == frozenset({0, 20, 40})
    assert CronExpression.parse("5/20 * * * *").minutes == frozenset({5, 25, 45})


# --- webhook, documents, identity, sequences ----------------------------------------------


def test_webhook_needs_a_direction(tmp_path: Path) -> None:
    assert check(tmp_path, {"channels.webhook": {}}) == [
        ("channels.webhook", "a webhook channel needs inbound, outbound or both")
    ]


def test_profile_needs_a_channel(tmp_path: Path) -> None:
    assert check(tmp_path, {"channels": {}}) == [
        ("channels", "configure at least one channel: as2, sftp or webhook")
    ]


@pytest.mark.parametrize(
    ("document", "path", "reason"),
    [
        (
            {"type": "850", "format": "x12", "version": "004010", "ack": {"type": "999"}},
            "ack.type",
            "999 acknowledgements need version 005010",
        ),
        (
            {"type": "997", "format": "x12", "version": "004010", "ack": {"type": "997"}},
            "ack.type",
            "is not itself acknowledged",
        ),
        (
            {"type": "po_json", "format": "json", "ack": {"type": "997"}},
            "ack.type",
            "JSON documents have no X12",
        ),
        (
            {"type": "po_json", "format": "json", "version": "004010"},
            "version",
            "version applies to X12 documents only",
        ),
        ({"type": "850", "format": "x12"}, "version", "X12 documents need a version"),
        ({"type": "85", "format": "x12", "version": "004010"}, "type", "'85' is not a document type"),
        ({"type": "850", "format": "x12", "version": "4010"}, "version", "'4010' is not an X12 version"),
        (
            {"type": "850", "format": "edifact", "version": "004010"},
            "format",
            "Input should be 'x12' or 'json'",
        ),
        (
            {"type": "850", "format": "x12", "version": "004010", "ack": {"type": "997", "overdue_hours": 0}},
            "ack.overdue_hours",
            "greater than 0",
        ),
        (
            {
                "type": "850",
                "format": "x12",
                "version": "004010",
                "mapping": {"deviations": {"json_fields": {"a": "b"}}},
            },
            "mapping.deviations.json_fields",
            "json_fields apply to JSON documents only",
        ),
        (
            {"type": "po_json", "format": "json", "mapping": {"variant": "../etc/passwd"}},
            "mapping.variant",
            "not a file name",
        ),
    ],
)
def test_document_rules(tmp_path: Path, document: dict[str, Any], path: str, reason: str) -> None:
    problems = check(tmp_path, {"documents": [{"direction": "inbound", **document}]})
    assert len(problems) == 1, problems
    assert problems[0][0] == f"documents[0].{path}"
    assert reason in problems[0][1]


def test_unquoted_yaml_numbers_are_codes(tmp_path: Path) -> None:
    raw = yaml.safe_dump(BASE).replace("isa_qualifier: ZZ", "isa_qualifier: 01").replace("'850'", "850")
    raw = raw.replace("version: '004010'", "version: 004010")
    assert "isa_qualifier: 01\n" in raw
    assert "version: 004010\n" in raw
    assert check(tmp_path, raw=raw) == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"identity.isa_id": "A" * 16}, "identity.isa_id"),
        ({"identity.isa_id": " LEADING"}, "identity.isa_id"),
        ({"identity.isa_qualifier": "05"}, "identity.isa_qualifier"),
        ({"identity.isa_qualifier": _DELETE}, "identity.isa_qualifier"),
        ({"identity.gs_application_ids": ["X"]}, "identity.gs_application_ids[0]"),
        ({"identity.gs_application_ids": ["AB", "AB"]}, "identity.gs_application_ids"),
        ({"partner_id": "Model_Test"}, "partner_id"),
        ({"routing": {"850": ["ERP"]}}, "routing.850[0]"),
        ({"routing": {"850": []}}, "routing.850"),
        ({"contacts": [{"name": "X", "email": "x@example.com", "phone": "call me"}]}, "contacts[0].phone"),
        ({"contacts": [{"name": "X", "email": "x@example.com", "role": "ceo"}]}, "contacts[0].role"),
        (
            {"control_numbers": {"interchange": {"width": 8, "max": 99999999}}},
            "control_numbers.interchange.width",
        ),
        ({"control_numbers": {"transaction": {"width": 4, "max": 99999}}}, "control_numbers.transaction.max"),
        ({"control_numbers": {"group": {"start": 10, "max": 5}}}, "control_numbers.group.max"),
    ],
)
def test_identity_routing_contacts_sequences(tmp_path: Path, changes: dict[str, Any], path: str) -> None:
    assert [p for p, _ in check(tmp_path, changes)] == [path]


def test_environment_check_usage() -> None:
    assert Environment.PRODUCTION.check_usage("P") is None
    assert Environment.TEST.check_usage("T") is None
    assert Environment.PRODUCTION.check_usage("T") == (
        "ISA15 is 'T' (test) but the partner profile is set up for production"
    )
    assert (
        Environment.TEST.check_usage("P")
        == "ISA15 is 'P' (production) but the partner profile is set up for test"
    )
    assert "is not T (test), P (production) or I (information)" in (Environment.TEST.check_usage("X") or "")


def test_sequences_and_retry() -> None:
    numbers = ControlNumbers()
    assert numbers.interchange.format(42) == "000000042"
    assert numbers.transaction.format(7) == "0007"
    assert numbers.transaction.after(9999) == 1
    with pytest.raises(ValueError, match=r"outside 1\.\.9999"):
        numbers.transaction.format(10000)
    strict = Sequence(start=100, max=999, width=4, wrap=False)
    assert strict.after(998) == 999
    assert strict.after(999) is None
    assert strict.after(5) == 100
    retry = RetryPolicy(backoff_seconds=10, multiplier=3, max_backoff_seconds=100)
    assert [retry.delay(n) for n in (1, 2, 3, 4)] == [10, 30, 90, 100]


def test_public_api_is_pinned() -> None:
    import gateway.domain.profiles as profiles

    assert set(profiles.__all__) == {
        "ISA_QUALIFIERS", "AckPolicy", "AckType", "As2Channel", "As2Mdn", "Certificate", "Channels",
        "Contact", "ContactRole", "ControlNumbers", "CronExpression", "Direction", "DocumentFormat",
        "DocumentPolicy",
        "EncryptionAlgorithm", "Environment", "Identity", "KeyTransport", "LoadResult", "MappingDeviations",
        "MappingRef", "PartnerProfile", "Problem", "ProfileError", "ProfileSet", "RetryPolicy", "Schedule",
        "SecretRef", "SecretUnavailable", "Sequence", "SftpAccount", "SftpChannel", "SftpPaths", "SftpPoll",
        "SftpPush", "SignatureDigest", "SignatureScheme", "WebhookChannel", "WebhookInbound",
        "WebhookOutbound", "check_profiles", "load_profile_file", "load_profiles", "merge",
    }  # fmt: skip
    assert all(hasattr(profiles, name) for name in profiles.__all__)


def test_usage_mismatch_is_a_reason_to_refuse_the_interchange(tmp_path: Path) -> None:
    """ISA15 must fit the environment: a non-None ``check_usage`` is why the pipeline fails it."""
    data = copy.deepcopy(BASE)
    file = tmp_path / "partner.yaml"
    file.write_text(yaml.safe_dump(data))
    test_partner, _ = load_profile_file(file)
    assert test_partner is not None
    assert test_partner.check_usage("T") is None
    assert test_partner.check_usage("P") == (
        "ISA15 is 'P' (production) but the partner profile is set up for test"
    )
    data["environment"] = "production"
    file.write_text(yaml.safe_dump(data))
    production, _ = load_profile_file(file)
    assert production is not None
    assert production.check_usage("P") is None
    assert production.check_usage("T") == (
        "ISA15 is 'T' (test) but the partner profile is set up for production "
        "(set accept_test_interchanges to process its test interchanges)"
    )
    data["accept_test_interchanges"] = True
    file.write_text(yaml.safe_dump(data))
    lenient, _ = load_profile_file(file)
    assert lenient is not None
    assert lenient.check_usage("T") is None
    assert lenient.check_usage("I") is not None
    assert check(tmp_path, {"accept_test_interchanges": True}) == [
        ("accept_test_interchanges", "applies to production partners; a test partner takes test data")
    ]


def test_mdn_return_url_hosts_must_be_bare_hosts(tmp_path: Path) -> None:
    problems = dict(
        check(
            tmp_path,
            {
                "channels.as2.mdn": {
                    "return_url_hosts": [
                        "mdn.example.com",
                        "https://x.example/mdn",
                        "x.example:8443",
                        "",
                        "::1",
                    ]
                }
            },
        )
    )
    base = "channels.as2.mdn.return_url_hosts"
    assert set(problems) == {f"{base}[1]", f"{base}[2]", f"{base}[3]"}
    assert "without scheme, port, path" in problems[f"{base}[1]"]
    assert "without scheme, port, path" in problems[f"{base}[2]"]
    assert problems[f"{base}[3]"] == "is empty"


def test_async_mdn_urls_default_to_the_host_of_the_partners_url(tmp_path: Path) -> None:
    from gateway.domain.profiles import PartnerProfile

    def channel(changes: dict[str, Any]) -> Any:
        data = copy.deepcopy(BASE)
        for dotted, value in changes.items():
            _set(data, dotted, value)
        profile = PartnerProfile.model_validate(data)
        assert profile.channels.as2 is not None
        return profile.channels.as2

    default = channel({})
    assert default.mdn_return_hosts() == ["as2.example.com"]
    assert default.mdn_url_problem("https://AS2.example.com:8443/mdn") is None  # any port, any path
    assert default.mdn_url_problem("http://as2.example.com/mdn") is None
    assert "not one the partner's profile allows" in (default.mdn_url_problem("http://127.0.0.1/x") or "")
    assert "http:// and https://" in (default.mdn_url_problem("mailto:edi@as2.example.com") or "")
    assert "credentials" in (default.mdn_url_problem("http://u:p@as2.example.com/") or "")
    assert "whitespace" in (default.mdn_url_problem("http://as2.example.com/\r\nX: y") or "")
    listed = channel({"channels.as2.mdn": {"return_url_hosts": ["mdn.example.net", "[::1]"]}})
    assert listed.mdn_url_problem("https://mdn.example.net/r") is None
    assert listed.mdn_url_problem("http://[::1]:8080/r") is None
    assert listed.mdn_url_problem("https://as2.example.com/r") is not None  # the list replaces the default
    assert (
        channel({"channels.as2.mdn": {"return_url_hosts": []}}).mdn_url_problem("https://as2.example.com/r")
        is not None
    )  # an empty list: every MDN is sync
