"""The HTTP client of the AS2 channels: one shared aiohttp session, per-partner TLS trust, errors translated.

A transport failure (refused connection, TLS error, timeout, reset) becomes
:class:`TransientFailure`; a response of any status is returned as is, its body read in
full (however many network reads it takes) up to ``max_response_bytes``. Redirects are
never followed (a 3xx is returned like any other status, and :func:`redirect_refusal` words
the failure): a partner's endpoint, or a URL named in a message, must not be able to send
our POST somewhere else.

HTTPS server certificates are verified against the system trust store, unless the
partner's profile says otherwise (:class:`gateway.domain.profiles.As2Tls`): with a
``ca_bundle`` only those CAs are trusted (hostname checked as usual); with a
``pinned_certificate`` the server must present exactly that certificate (matched by its
SHA-256 fingerprint, the usual way to reach a partner with a self-signed server).
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from gateway.domain.profiles.as2 import As2Tls
from gateway.domain.runtime.errors import TransientFailure

__all__ = ["HttpClient", "HttpResponse", "TlsTrust", "redirect_refusal"]


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


SslArg = ssl.SSLContext | aiohttp.Fingerprint | bool


def redirect_refusal(url: str, response: HttpResponse) -> str | None:
    """The failure reason for a redirect answer (3xx), ``None`` for any other status."""
    if not 300 <= response.status < 400:
        return None
    location = next((v for k, v in response.headers if k.lower() == "location"), None)
    where = f" to {location[:200]!r}" if location else ""
    return f"{url} answered HTTP {response.status} (a redirect{where}); redirects are not followed"


class TlsTrust:
    """The ``ssl`` argument for a POST to a partner: system store, the partner's CAs, or a pin.

    CA-bundle contexts are cached per file and modification time.
    """

    def __init__(self) -> None:
        self._contexts: dict[tuple[Path, float], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def for_partner(self, tls: As2Tls | None) -> SslArg:
        if tls is None:
            return True
        if tls.pin_sha256 is not None:
            return aiohttp.Fingerprint(tls.pin_sha256)
        if tls.ca_bundle is not None:
            return self._context(tls.ca_bundle)
        return True

    def _context(self, bundle: Path) -> ssl.SSLContext:
        try:
            stamp = os.stat(bundle).st_mtime
        except OSError as exc:
            raise TransientFailure(f"the partner's CA bundle {bundle} is unreadable: {exc.strerror}") from exc
        with self._lock:
            ctx = self._contexts.get((bundle, stamp))
        if ctx is None:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(bundle))
            with self._lock:
                self._contexts[(bundle, stamp)] = ctx
        return ctx


class HttpClient:
    def __init__(self, timeout_seconds: float = 120.0, max_response_bytes: int = 16 * 1024 * 1024) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max = max_response_bytes
        self._session: aiohttp.ClientSession | None = None
        self.trust = TlsTrust()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, auto_decompress=False)
        return self._session

    async def post(
        self, url: str, headers: Sequence[tuple[str, str]], body: bytes, *, tls: As2Tls | None = None
    ) -> HttpResponse:
        """POST ``body`` and return the whole response (``tls``: the partner's HTTPS trust)."""
        ssl_arg = self.trust.for_partner(tls) if url.startswith("https:") else True
        try:
            async with self._client().post(
                url, data=body, headers=list(headers), ssl=ssl_arg, allow_redirects=False
            ) as response:
                declared = response.content_length
                if declared is not None and declared > self._max:
                    raise TransientFailure(
                        f"the response from {url} declares {declared} bytes, over the limit of {self._max}"
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > self._max:
                        raise TransientFailure(f"the response from {url} is larger than {self._max} bytes")
                    chunks.append(chunk)
                return HttpResponse(response.status, list(response.headers.items()), b"".join(chunks))
        except (TimeoutError, aiohttp.ClientError, OSError, ssl.SSLError) as exc:
            raise TransientFailure(f"POST {url} failed: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
