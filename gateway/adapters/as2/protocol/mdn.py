"""Message Disposition Notifications (RFC 3798 as profiled by RFC 4130 section 7).

:func:`build_mdn` writes a ``multipart/report`` (signed as ``multipart/signed`` when asked)
and returns its headers and body; :func:`parse_mdn` reads one, verifies its signature
against the partner certificates valid now and returns a typed :class:`MdnResult`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate

from cryptography import x509

from gateway.adapters.as2.protocol.algorithms import parse_micalg_list
from gateway.adapters.as2.protocol.errors import InsufficientSecurity, MalformedMessage
from gateway.adapters.as2.protocol.mic import Mic, parse_mic
from gateway.adapters.as2.protocol.mime import (
    MimePart,
    build_entity,
    header_value,
    parse_entity,
    split_multipart,
)
from gateway.adapters.as2.protocol.pack import new_boundary, signed_multipart
from gateway.adapters.as2.protocol.signing import SigningKey, verify_signature

__all__ = [
    "MdnRequest",
    "MdnResult",
    "build_mdn",
    "disposition_text",
    "parse_mdn",
    "parse_mdn_request",
    "peek_original_message_id",
]

REPORTING_UA = "edigate AS2"
_MODE = "automatic-action/MDN-sent-automatically"


@dataclass(frozen=True, slots=True)
class MdnRequest:
    """What the sender asked for (Disposition-Notification-To/-Options, Receipt-Delivery-Option)."""

    requested: bool
    signed: bool
    micalgs: tuple[str, ...]  # as spelled by the sender, supported ones only
    async_url: str | None


def parse_mdn_request(headers: Sequence[tuple[str, str]]) -> MdnRequest:
    to = header_value(headers, "disposition-notification-to")
    options = header_value(headers, "disposition-notification-options") or ""
    url = (header_value(headers, "receipt-delivery-option") or "").strip() or None
    signed = False
    micalgs: tuple[str, ...] = ()
    for clause in options.split(";"):
        name, _, value = clause.partition("=")
        name = name.strip().lower()
        if name == "signed-receipt-protocol":
            signed = "pkcs7-signature" in value.lower()
        elif name == "signed-receipt-micalg":
            micalgs = tuple(parse_micalg_list(value))
    return MdnRequest(to is not None or url is not None, signed, micalgs, url)


def disposition_text(modifier: str | None) -> str:
    """``processed`` or ``processed/error: <modifier>``."""
    return "processed" if modifier is None else f"processed/error: {modifier}"


def build_mdn(
    *,
    original_message_id: str,
    our_as2_id: str,
    partner_as2_id: str,
    message_id: str,
    error: str | None,
    mic: Mic | None,
    text: str,
    sign_with: SigningKey | None = None,
    digest: str = "sha256",
    scheme: str = "pkcs1v15",
) -> tuple[list[tuple[str, str]], bytes]:
    """Headers (AS2 and content) and body of an MDN. ``error`` is the disposition modifier or None."""
    original = original_message_id if original_message_id.startswith("<") else f"<{original_message_id}>"
    fields = [
        f"Reporting-UA: {REPORTING_UA}",
        f"Original-Recipient: rfc822; {our_as2_id}",
        f"Final-Recipient: rfc822; {our_as2_id}",
        f"Original-Message-ID: {original}",
        f"Disposition: {_MODE}; {disposition_text(error)}",
    ]
    if mic is not None and error is None:
        fields.append(f"Received-Content-MIC: {mic.header_value}")
    report_boundary = new_boundary()
    delimiter = f"--{report_boundary}".encode("ascii")
    text_part = build_entity(
        [("Content-Type", "text/plain; charset=us-ascii"), ("Content-Transfer-Encoding", "7bit")],
        text.encode("ascii", "replace") + b"\r\n",
    )
    notification = build_entity(
        [("Content-Type", "message/disposition-notification"), ("Content-Transfer-Encoding", "7bit")],
        ("\r\n".join(fields) + "\r\n").encode("latin-1"),
    )
    report_body = (
        delimiter + b"\r\n" + text_part + b"\r\n" + delimiter + b"\r\n" + notification
        + b"\r\n" + delimiter + b"--\r\n"
    )  # fmt: skip
    report_type = f'multipart/report; report-type=disposition-notification; boundary="{report_boundary}"'
    if sign_with is not None:
        entity = build_entity([("Content-Type", report_type)], report_body)
        content_type, body = signed_multipart(entity, sign_with, digest, scheme)
    else:
        content_type, body = report_type, report_body
    headers = [
        ("AS2-Version", "1.2"),
        ("AS2-From", _quote(our_as2_id)),
        ("AS2-To", _quote(partner_as2_id)),
        ("Message-ID", message_id if message_id.startswith("<") else f"<{message_id}>"),
        ("Date", formatdate(usegmt=True)),
        ("MIME-Version", "1.0"),
        ("EDIINT-Features", "CMS"),
        ("Content-Type", content_type),
    ]
    return headers, body


def _quote(name: str) -> str:
    return f'"{name}"' if re.search(r'[\s"\\]', name) else name


@dataclass(frozen=True, slots=True)
class MdnResult:
    original_message_id: str  # without angle brackets
    disposition: str  # the whole Disposition field
    status: str  # processed | failed | ...
    modifier: str | None  # e.g. "error: authentication-failed" or "warning: ..."
    mic: Mic | None
    signed: bool
    text: str = ""
    signer: x509.Certificate | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """Processed without an error or failure modifier (warnings are still processed)."""
        if self.status != "processed":
            return False
        return self.modifier is None or not self.modifier.lower().startswith(("error", "failure"))


def _fields(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in parse_entity(block.rstrip(b"\r\n") + b"\r\n\r\n").headers:
        out.setdefault(name.lower(), value)
    return out


def _report_parts(report: MimePart) -> tuple[str, dict[str, str]]:
    parts = [parse_entity(p) for p in split_multipart(report.body, report.param("boundary") or "")]
    text = ""
    for part in parts:
        kind = part.content_type
        if kind == "message/disposition-notification":
            return text, _fields(part.decoded())
        if kind.startswith("text/") and not text:
            text = part.decoded().decode("utf-8", "replace").strip()
    raise MalformedMessage("the report has no message/disposition-notification part")


def parse_mdn(
    headers: Sequence[tuple[str, str]],
    body: bytes,
    certificates: Sequence[x509.Certificate],
    *,
    require_signed: bool,
) -> MdnResult:
    """Read an MDN from HTTP headers and body; verify its signature when signed."""
    top = MimePart(tuple((k, v) for k, v in headers if k.lower().startswith("content-")), body, b"")
    signer = None
    signed = top.content_type == "multipart/signed"
    if signed:
        pieces = split_multipart(top.body, top.param("boundary") or "")
        if len(pieces) != 2:
            raise MalformedMessage(f"a signed MDN needs 2 parts, found {len(pieces)}")
        signature = parse_entity(pieces[1]).decoded()
        signer = verify_signature(signature, pieces[0], certificates).certificate
        report = parse_entity(pieces[0])
    elif require_signed:
        raise InsufficientSecurity("a signed MDN was requested but the MDN is not signed")
    else:
        report = top
    if report.content_type != "multipart/report":
        raise MalformedMessage(f"not an MDN: content type {report.content_type}")
    text, fields = _report_parts(report)
    disposition = fields.get("disposition", "")
    _, _, outcome = disposition.partition(";")
    status, _, modifier = outcome.strip().partition("/")
    original = fields.get("original-message-id", "").strip().strip("<>")
    if not disposition or not original:
        raise MalformedMessage("the MDN lacks Disposition or Original-Message-ID")
    mic_field = fields.get("received-content-mic")
    return MdnResult(
        original_message_id=original,
        disposition=disposition,
        status=status.strip().lower(),
        modifier=modifier.strip() or None,
        mic=parse_mic(mic_field) if mic_field else None,
        signed=signed,
        text=text,
        signer=signer,
    )


def peek_original_message_id(headers: Sequence[tuple[str, str]], body: bytes) -> str | None:
    """The Original-Message-ID of an MDN, read WITHOUT verifying anything (``None`` if unreadable).

    Only for bookkeeping after :func:`parse_mdn` refused the MDN: it tells which of our
    messages the refused receipt claims to answer, so that message can be flagged.
    """
    try:
        top = MimePart(tuple((k, v) for k, v in headers if k.lower().startswith("content-")), body, b"")
        if top.content_type == "multipart/signed":
            top = parse_entity(split_multipart(top.body, top.param("boundary") or "")[0])
        if top.content_type != "multipart/report":
            return None
        _, fields = _report_parts(top)
        original = fields.get("original-message-id", "").strip().strip("<>")
    except MalformedMessage:  # truncated or garbled: look for the field line itself
        found = _ORIGINAL_ID.search(body)
        original = found.group(1).decode("latin-1").strip() if found else ""
    return original or None


_ORIGINAL_ID = re.compile(rb"(?im)^original-message-id:[ \t]*<?([^<>\r\n]+?)>?[ \t]*\r?$")
