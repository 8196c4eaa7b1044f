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

__all__ = ["as2", "build", "organization", "parse_message", "partner", "raw_http"]


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

    ``answers`` lets a test script HTTP failures first (e.g. ``[503]``); ``tamper_mic``
    makes the MDN carry a wrong MIC, as a broken partner would.
    """

    def __init__(self, org: as2.Organization, sender: as2.Partner) -> None:
        self.org = org
        self.sender = sender
        self.answers: list[int] = []
        self.tamper_mic = False
        self.received: list[tuple[as2.Message, str, Any]] = []
        self.async_posts: list[int] = []
        self._tasks: set[Any] = set()

    async def handle(self, request: Any) -> Any:
        import asyncio

        from aiohttp import web

        body = await request.read()
        if self.answers:
            return web.Response(status=self.answers.pop(0), text="try again later")
        message, status, exception, mdn = parse_message(
            raw_http(request.headers, body), self.org, self.sender
        )
        self.received.append((message, status, exception))
        if mdn is not None and self.tamper_mic and message.mic:
            message.mic = b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
            mdn = as2.Mdn(mdn_mode=mdn.mdn_mode, digest_alg=mdn.digest_alg, mdn_url=mdn.mdn_url)
            mdn.build(message=message, status="processed")
        if mdn is None:
            return web.Response(text="received")
        if mdn.mdn_mode == "ASYNC":
            task = asyncio.get_running_loop().create_task(self._post_async(mdn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return web.Response(text="received; MDN follows")
        return web.Response(headers={k: str(v) for k, v in mdn.headers.items()}, body=mdn.content)

    async def _post_async(self, mdn: as2.Mdn) -> None:
        import aiohttp

        headers = {k: str(v) for k, v in mdn.headers.items()}
        async with (
            aiohttp.ClientSession() as session,
            session.post(mdn.mdn_url, headers=headers, data=mdn.content) as r,
        ):
            self.async_posts.append(r.status)
