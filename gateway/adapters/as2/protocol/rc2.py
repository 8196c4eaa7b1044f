"""RC2 (RFC 2268) in CBC mode, for legacy partners that still send RC2-40 or RC2-128.

:mod:`cryptography` only offers RC2 with 128-bit keys (and OpenSSL 3 hides RC2 in its legacy
provider), so the block cipher is implemented here from RFC 2268, with its effective key
bits parameter. It is slow (pure Python) and only ever used for RC2-encrypted messages.
"""

from __future__ import annotations

__all__ = ["rc2_cbc_decrypt", "rc2_cbc_encrypt", "rc2_effective_bits", "rc2_parameter_version"]

_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)


def _expand(key: bytes, effective_bits: int) -> list[int]:
    if not 1 <= len(key) <= 128:
        raise ValueError("RC2 keys are 1 to 128 bytes")
    t = len(key)
    t8 = (effective_bits + 7) // 8
    tm = 0xFF % (1 << (8 + effective_bits - 8 * t8))
    buf = bytearray(128)
    buf[:t] = key
    for i in range(t, 128):
        buf[i] = _PITABLE[(buf[i - 1] + buf[i - t]) & 0xFF]
    buf[128 - t8] = _PITABLE[buf[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        buf[i] = _PITABLE[buf[i + 1] ^ buf[i + t8]]
    return [buf[2 * i] | (buf[2 * i + 1] << 8) for i in range(64)]


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (16 - n))) & 0xFFFF


def _ror(x: int, n: int) -> int:
    return ((x >> n) | (x << (16 - n))) & 0xFFFF


def _encrypt_block(k: list[int], block: bytes) -> bytes:
    r = [
        block[0] | block[1] << 8,
        block[2] | block[3] << 8,
        block[4] | block[5] << 8,
        block[6] | block[7] << 8,
    ]
    j = 0
    for rnd in range(16):
        for i in range(4):
            r[i] = (r[i] + k[j] + (r[i - 1] & r[i - 2]) + (~r[i - 1] & r[i - 3])) & 0xFFFF
            r[i] = _rol(r[i], (1, 2, 3, 5)[i])
            j += 1
        if rnd in (4, 10):
            for i in range(4):
                r[i] = (r[i] + k[r[i - 1] & 63]) & 0xFFFF
    return b"".join(x.to_bytes(2, "little") for x in r)


def _decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [
        block[0] | block[1] << 8,
        block[2] | block[3] << 8,
        block[4] | block[5] << 8,
        block[6] | block[7] << 8,
    ]
    j = 63
    for rnd in range(15, -1, -1):
        for i in range(3, -1, -1):
            r[i] = _ror(r[i], (1, 2, 3, 5)[i])
            r[i] = (r[i] - k[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & 0xFFFF
            j -= 1
        if rnd in (5, 11):
            for i in range(3, -1, -1):
                r[i] = (r[i] - k[r[i - 1] & 63]) & 0xFFFF
    return b"".join(x.to_bytes(2, "little") for x in r)


def rc2_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes, effective_bits: int) -> bytes:
    """CBC encryption of already padded ``plaintext`` (a multiple of 8 bytes)."""
    if len(plaintext) % 8 or len(iv) != 8:
        raise ValueError("RC2-CBC needs an 8-byte IV and whole 8-byte blocks")
    k = _expand(key, effective_bits)
    out = bytearray()
    prev = iv
    for i in range(0, len(plaintext), 8):
        block = bytes(a ^ b for a, b in zip(plaintext[i : i + 8], prev, strict=True))
        prev = _encrypt_block(k, block)
        out += prev
    return bytes(out)


def rc2_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes, effective_bits: int) -> bytes:
    """CBC decryption; the caller removes the padding."""
    if len(ciphertext) % 8 or len(iv) != 8:
        raise ValueError("RC2-CBC needs an 8-byte IV and whole 8-byte blocks")
    k = _expand(key, effective_bits)
    out = bytearray()
    prev = iv
    for i in range(0, len(ciphertext), 8):
        block = ciphertext[i : i + 8]
        out += bytes(a ^ b for a, b in zip(_decrypt_block(k, block), prev, strict=True))
        prev = block
    return bytes(out)


# RFC 2268 section 6: the parameter version encodes the effective key bits.
_VERSION_TO_BITS = {160: 40, 120: 64, 58: 128}
_BITS_TO_VERSION = {bits: version for version, bits in _VERSION_TO_BITS.items()}


def rc2_effective_bits(version: int | None, key_length: int) -> int:
    """Effective key bits from the CMS ``rc2ParameterVersion`` (absent: the key's own length)."""
    if version is None:
        return key_length * 8
    if version in _VERSION_TO_BITS:
        return _VERSION_TO_BITS[version]
    if version >= 256:
        return version
    raise ValueError(f"unknown RC2 parameter version {version}")


def rc2_parameter_version(effective_bits: int) -> int:
    return _BITS_TO_VERSION.get(effective_bits, effective_bits)
