"""pyas2lib as an independent AS2 partner for the AS2 channel's interoperability tests.

pyas2lib depends on oscrypto, whose libcrypto version check (``\\d\\.\\d\\.\\d``) cannot
read a two-digit patch release such as ``OpenSSL 3.0.19`` and refuses to load. Importing
this module applies a narrow shim first: while oscrypto's loader runs, that one regular
expression is swapped for one that accepts multi-digit components. Nothing else changes.

Only tests import this module; product code never imports pyas2lib or oscrypto.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_ORIGINAL_SEARCH = re.search
_OSCRYPTO_PATTERN = "\\b(\\d\\.\\d\\.\\d[a-z]*)\\b"
_FIXED_PATTERN = "\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b"


def _search(pattern: Any, string: Any, flags: int = 0) -> Any:
    if pattern == _OSCRYPTO_PATTERN:
        pattern = _FIXED_PATTERN
    return _ORIGINAL_SEARCH(pattern, string, flags)


def _import_oscrypto() -> None:
    re.search = _search
    try:
        import oscrypto.asymmetric  # noqa: F401
    finally:
        re.search = _ORIGINAL_SEARCH


_import_oscrypto()

from pyas2lib import as2  # noqa: E402
from pyas2lib.cms import compress_message, decompress_message, decrypt_message  # noqa: E402

__all__ = [
    "as2",
    "build",
    "compress_message",
    "decompress_message",
    "decrypt_message",
    "organization",
    "parse_message",
    "partner",
    "raw_http",
]


def organization(name: str, key_pem: bytes, cert_pem: bytes, mdn_url: str | None = None) -> as2.Organization:
    """A pyas2lib organisation (the peer's own identity) from an unencrypted PEM key and certificate."""
    bundle = key_pem + cert_pem
    return as2.Organization(
        as2_name=name,
        sign_key=bundle,
        sign_key_pass="",
        decrypt_key=bundle,
        decrypt_key_pass="",
        mdn_url=mdn_url,
    )


def partner(name: str, cert_pem: bytes, **options: Any) -> as2.Partner:
    """A pyas2lib partner (how the peer sees edigate): our certificate plus sending options."""
    return as2.Partner(
        as2_name=name, verify_cert=cert_pem, encrypt_cert=cert_pem, validate_certs=False, **options
    )


def build(
    org: as2.Organization, receiver: as2.Partner, data: bytes, **kwargs: Any
) -> tuple[dict[str, str], bytes, as2.Message]:
    """An AS2 message built by pyas2lib: (HTTP headers, body, the pyas2lib message)."""
    message = as2.Message(org, receiver)
    message.build(data, **kwargs)
    return {k: str(v) for k, v in message.headers.items()}, message.content, message


def raw_http(headers: dict[str, str] | Any, body: bytes) -> bytes:
    """Headers and body as the single byte string pyas2lib's parsers expect."""
    lines = "".join(f"{k}: {v}\r\n" for k, v in dict(headers).items())
    return lines.encode("utf-8") + b"\r\n" + body


def parse_message(
    raw: bytes,
    org: as2.Organization,
    sender: as2.Partner,
    find_message: Callable[[str, str], bool] | None = None,
) -> tuple[as2.Message, str, Any, as2.Mdn | None]:
    """Parse an inbound message with pyas2lib: (message, status, exception, mdn)."""
    message = as2.Message()
    status, exception, mdn = message.parse(
        raw,
        find_org_cb=lambda _name: org,
        find_partner_cb=lambda _name: sender,
        find_message_cb=find_message,
    )
    return message, status, exception, mdn


class Pyas2Receiver:
    """An AS2 server made of pyas2lib and aiohttp: parses what it is sent and answers with
    pyas2lib's own MDN (sync in the response, async by a POST to the requested URL).

    Knobs a test may turn, each making the MDN what a broken or unusual partner would send:

    * ``answers``: HTTP statuses to answer first, before parsing (e.g. ``[503]``);
    * ``tamper_mic``: the MDN carries a wrong Received-Content-MIC;
    * ``negative``: a disposition modifier, e.g. ``"authentication-failed"`` (processed/error);
    * ``mdn_signer``: an organisation whose key signs the MDN instead of the receiver's own;
    * ``unsigned_mdn``: the MDN is not signed although a signed one was asked for;
    * ``garbage_mdn``: the MDN body is cut in half (malformed);
    * ``chunk_delay``: a sync MDN is written in several pieces with this pause between them
      (``chunked``: with chunked transfer encoding, else with a Content-Length);
    * ``drop_async``: an async MDN is never sent;
    * ``mdn_ssl``: the ``ssl`` argument for the async MDN POST (an HTTPS MDN URL).

    ``wire`` keeps every request as it came (headers, body), for tests that read the CMS.
    """

    def __init__(self, org: as2.Organization, sender: as2.Partner) -> None:
        self.org = org
        self.sender = sender
        self.answers: list[int] = []
        self.tamper_mic = False
        self.negative: str | None = None
        self.mdn_signer: as2.Organization | None = None
        self.unsigned_mdn = False
        self.garbage_mdn = False
        self.chunk_delay: float | None = None
        self.chunked = True
        self.drop_async = False
        self.mdn_ssl: Any = None
        self.received: list[tuple[as2.Message, str, Any]] = []
        self.wire: list[tuple[dict[str, str], bytes]] = []  # each request's headers and body, as sent
        self.async_posts: list[int] = []
        self._tasks: set[Any] = set()

    def _rebuild(self, message: as2.Message, mdn: as2.Mdn) -> as2.Mdn:
        if not (self.tamper_mic or self.negative or self.mdn_signer or self.unsigned_mdn):
            return mdn
        if self.tamper_mic and message.mic:
            message.mic = b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        if self.unsigned_mdn:
            del message.payload["disposition-notification-options"]
        if self.mdn_signer is not None:
            message.receiver = self.mdn_signer
        rebuilt = as2.Mdn(mdn_mode=mdn.mdn_mode, digest_alg=mdn.digest_alg, mdn_url=mdn.mdn_url)
        if self.negative:
            rebuilt.build(message=message, status="processed/Error", detailed_status=self.negative)
        else:
            rebuilt.build(message=message, status="processed")
        return rebuilt

    def _wire(self, mdn: as2.Mdn) -> tuple[dict[str, str], bytes]:
        headers = {k: str(v) for k, v in mdn.headers.items()}
        body = mdn.content
        if self.garbage_mdn:
            body = body[: len(body) // 2]
        return headers, body

    async def handle(self, request: Any) -> Any:
        import asyncio

        from aiohttp import web

        body = await request.read()
        self.wire.append((dict(request.headers), body))
        if self.answers:
            return web.Response(status=self.answers.pop(0), text="try again later")
        message, status, exception, mdn = parse_message(
            raw_http(request.headers, body), self.org, self.sender
        )
        self.received.append((message, status, exception))
        if mdn is None:
            return web.Response(text="received")
        mdn = self._rebuild(message, mdn)
        if mdn.mdn_mode == "ASYNC":
            if not self.drop_async:
                task = asyncio.get_running_loop().create_task(self._post_async(mdn))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return web.Response(text="received; MDN follows")
        headers, content = self._wire(mdn)
        if self.chunk_delay is None:
            return web.Response(headers=headers, body=content)
        response = web.StreamResponse(headers=headers)
        if not self.chunked:
            response.content_length = len(content)
        await response.prepare(request)
        step = max(1, len(content) // 4)
        for i in range(0, len(content), step):
            await response.write(content[i : i + step])
            await asyncio.sleep(self.chunk_delay)
        await response.write_eof()
        return response

    async def _post_async(self, mdn: as2.Mdn) -> None:
        import aiohttp

        headers, content = self._wire(mdn)
        async with (
            aiohttp.ClientSession() as session,
            session.post(mdn.mdn_url, headers=headers, data=content, ssl=self.mdn_ssl or True) as r,
        ):
            self.async_posts.append(r.status)

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every async MDN POST has finished."""
        import asyncio

        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*self._tasks), timeout)
