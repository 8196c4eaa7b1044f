"""MIME entities as bytes: header parsing, Content-Type parameters, transfer decoding, multipart split.

Written against the RFCs (2045, 2046) instead of :mod:`email`, because AS2 signatures and
MICs cover exact bytes: an entity is kept as received (``raw``) and every split keeps the
parts byte-for-byte. Per RFC 2046 the line break before a boundary delimiter belongs to
the delimiter, not to the part before it.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.adapters.as2.protocol.errors import MalformedMessage

__all__ = [
    "MimePart",
    "build_entity",
    "canonical_crlf",
    "header_value",
    "parse_content_type",
    "parse_entity",
    "split_multipart",
]

_TOKEN_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``'Multipart/Signed; Boundary="b"'`` -> ``('multipart/signed', {'boundary': 'b'})``."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _TOKEN_PARAM.finditer(";" + rest):
        raw = match.group(2)
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return main.strip().lower(), params


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first header called ``name`` (case-insensitive), or ``None``."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class MimePart:
    """One MIME entity: its headers in order, its (still transfer-encoded) body and its exact bytes."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    @property
    def content_type(self) -> str:
        return parse_content_type(self.header("content-type") or "text/plain")[0]

    def param(self, name: str) -> str | None:
        return parse_content_type(self.header("content-type") or "")[1].get(name.lower())

    @property
    def filename(self) -> str | None:
        disposition = self.header("content-disposition")
        if disposition is None:
            return self.param("name")
        return parse_content_type(disposition)[1].get("filename") or self.param("name")

    def decoded(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone (base64, quoted-printable, or as is)."""
        encoding = (self.header("content-transfer-encoding") or "binary").strip().lower()
        if encoding == "base64":
            try:
                return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", self.body), validate=True)
            except binascii.Error as exc:
                raise MalformedMessage(f"the base64 body does not decode: {exc}") from exc
        if encoding == "quoted-printable":
            return quopri.decodestring(self.body)
        return self.body


def _header_end(data: bytes) -> tuple[int, int]:
    """(end of the header block, start of the body); an entity may use CRLF or bare LF."""
    if data.startswith(b"\r\n"):
        return 0, 2
    if data.startswith(b"\n"):
        return 0, 1
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return crlf, crlf + 4
    if lf >= 0:
        return lf, lf + 2
    raise MalformedMessage("the MIME entity has no blank line after its headers")


def _parse_headers(block: bytes) -> tuple[tuple[str, str], ...]:
    text = block.decode("latin-1")
    out: list[tuple[str, str]] = []
    for line in re.split(r"\r?\n", text):
        if not line:
            continue
        if line[0] in " \t":
            if not out:
                raise MalformedMessage("the MIME headers start with a continuation line")
            name, value = out[-1]
            out[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or any(ch in name for ch in " \t"):
            raise MalformedMessage(f"not a MIME header line: {line[:60]!r}")
        out.append((name.strip(), value.strip()))
    return tuple(out)


def parse_entity(data: bytes) -> MimePart:
    """Split an entity (headers, blank line, body) into a :class:`MimePart`."""
    end, body_start = _header_end(data)
    return MimePart(_parse_headers(data[:end]), data[body_start:], data)


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The body parts of a multipart body, exactly as sent (RFC 2046 section 5.1.1).

    The preamble and epilogue are dropped; a body without a closing delimiter is an error
    (a truncated transmission), as is one without any part.
    """
    if not boundary or len(boundary) > 200:
        raise MalformedMessage("the multipart boundary is missing or too long")
    delimiter = b"--" + boundary.encode("latin-1")
    parts: list[bytes] = []
    start: int | None = None
    pos = 0
    while True:
        at = body.find(delimiter, pos)
        if at < 0:
            raise MalformedMessage("the multipart body ends without its closing boundary (truncated?)")
        if at > 0 and body[at - 1 : at] != b"\n":
            pos = at + len(delimiter)
            continue
        after = at + len(delimiter)
        closing = body[after : after + 2] == b"--"
        line_end = body.find(b"\n", after)
        if not closing and (line_end < 0 or body[after:line_end].strip(b" \t\r")):
            pos = after  # the boundary text continues: not a delimiter line
            continue
        if start is not None:
            end = at - 2 if body[at - 2 : at] == b"\r\n" else at - 1
            parts.append(body[start:end])
        if closing:
            break
        start = line_end + 1
        pos = start
    if not parts:
        raise MalformedMessage("the multipart body has no parts")
    return parts


def build_entity(headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    """Headers (one per line, CRLF) + blank line + body."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("latin-1") + b"\r\n" + body


def canonical_crlf(data: bytes) -> bytes:
    """Bare LF line ends as CRLF (the canonical form for text that some signers hash)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)
