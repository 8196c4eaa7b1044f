"""``edigate certs generate``: files, permissions, and a pair the AS2 channel can use."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509

from gateway.adapters.as2.keys import load_private_key
from gateway.adapters.as2.protocol import PackOptions, SigningKey, Trust, pack, unpack
from gateway.cli.main import main
from gateway.domain.profiles import As2Channel, SecretRef


def test_generate_writes_a_usable_pair_with_a_private_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["certs", "generate", "--name", "acme-test", "--out", str(tmp_path / "keys"), "--days", "30"])
        == 0
    )
    key_path, cert_path = tmp_path / "keys/acme-test.key", tmp_path / "keys/acme-test.crt"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert 29 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 31
    key, _ = load_private_key(SecretRef("file", str(key_path)))
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    out = capsys.readouterr().out
    assert "sha256" in out
    assert str(key_path.resolve()) in out
    # the pair is accepted by a profile and round-trips a signed, encrypted message
    channel = As2Channel.model_validate(
        {
            "url": "https://peer.example.com/as2",
            "our_as2_id": "EDIGATE",
            "our_key": f"file:{key_path}",
            "our_certificate": {"path": str(cert_path)},
            "partner_certificates": [{"path": str(cert_path)}],
        }
    )
    signing = SigningKey(key, channel.partner_certificates[0].certificate)
    packed = pack(
        b"ISA*00~",
        "application/edi-x12",
        None,
        PackOptions(sign_with=signing, encrypt_for=signing.certificate),
    )
    assert (
        unpack(packed.headers, packed.body, Trust([signing], [signing.certificate], True, True)).payload
        == b"ISA*00~"
    )


def test_generate_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["certs", "generate", "--name", "x", "--out", str(tmp_path)]
    assert main(args) == 0
    before = (tmp_path / "x.key").read_bytes()
    assert main(args) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (tmp_path / "x.key").read_bytes() == before
    assert main([*args, "--force"]) == 0
    assert (tmp_path / "x.key").read_bytes() != before
    assert stat.S_IMODE((tmp_path / "x.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["../escape", "", "a b"])
def test_generate_rejects_unsafe_names(tmp_path: Path, name: str) -> None:
    assert main(["certs", "generate", "--name", name, "--out", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []
