"""The AS2 HTTP client reads whole responses, however the server frames and paces them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.adapters.as2 import HttpClient
from gateway.domain.runtime.errors import TransientFailure

BODY = bytes(range(256)) * 160  # 40,960 bytes


async def _slow_server(body: bytes, chunked: bool) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
        )
        await reader.readexactly(length)
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framing + b"\r\n\r\n")
        for i in range(0, len(body), 4096):  # ten writes, 50 ms apart: ten or more TCP segments
            piece = body[i : i + 4096]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            await asyncio.sleep(0.05)
        if chunked:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/as2"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_a_response_written_in_many_pieces_is_read_whole(chunked: bool) -> None:
    client = HttpClient()
    try:
        async for url in _slow_server(BODY, chunked):
            response = await client.post(url, [("Content-Type", "text/plain")], b"ping")
            assert response.status == 200
            assert response.body == BODY
    finally:
        await client.close()


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_a_response_over_the_limit_is_a_transient_failure(chunked: bool) -> None:
    client = HttpClient(max_response_bytes=10_000)
    try:
        async for url in _slow_server(BODY, chunked):
            with pytest.raises(TransientFailure, match="10000"):
                await client.post(url, [], b"ping")
    finally:
        await client.close()


async def test_a_redirect_is_returned_not_followed() -> None:
    from aiohttp import web

    from gateway.adapters.as2.client import redirect_refusal
    from tests.gateway.adapters.as2.harness import serve

    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path == "/as2":
            raise web.HTTPPermanentRedirect("/elsewhere")
        return web.Response(text="followed")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    client = HttpClient()
    try:
        async with serve(app) as base:
            response = await client.post(f"{base}/as2", [("Content-Type", "text/plain")], b"ping")
    finally:
        await client.close()
    assert hits == ["/as2"]
    assert response.status == 308
    reason = redirect_refusal(f"{base}/as2", response)
    assert reason is not None
    assert "HTTP 308" in reason
    assert "'/elsewhere'" in reason
    assert "not followed" in reason
