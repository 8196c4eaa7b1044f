"""The HTTP client of the AS2 channels: one shared aiohttp session, errors translated.

A transport failure (refused connection, TLS error, timeout, reset) becomes
:class:`TransientFailure`; a response of any status is returned as is. HTTPS certificates
are verified against the system trust store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from gateway.domain.runtime.errors import TransientFailure

__all__ = ["HttpClient", "HttpResponse"]


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class HttpClient:
    def __init__(self, timeout_seconds: float = 120.0, max_response_bytes: int = 16 * 1024 * 1024) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max = max_response_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, auto_decompress=False)
        return self._session

    async def post(self, url: str, headers: Sequence[tuple[str, str]], body: bytes) -> HttpResponse:
        try:
            async with self._client().post(url, data=body, headers=list(headers)) as response:
                data = await response.content.read(self._max + 1)
                if len(data) > self._max:
                    raise TransientFailure(f"the response from {url} is larger than {self._max} bytes")
                return HttpResponse(response.status, list(response.headers.items()), data)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientFailure(f"POST {url} failed: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
