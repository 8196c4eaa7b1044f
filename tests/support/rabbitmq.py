"""Helpers for inspecting a real RabbitMQ from tests, independently of the adapter under test."""

from __future__ import annotations

import asyncio

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

__all__ = ["collect", "queue_depth"]


async def collect(
    channel: AbstractChannel, queue_name: str, count: int, timeout: float = 5.0
) -> list[AbstractIncomingMessage]:
    """Consume (and ack) until ``count`` messages arrived or ``timeout`` passed; returns what came."""
    queue = await channel.declare_queue(queue_name, passive=True)
    got: list[AbstractIncomingMessage] = []
    enough = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        await message.ack()
        got.append(message)
        if len(got) >= count:
            enough.set()

    tag = await queue.consume(on_message)
    try:
        if count:
            await asyncio.wait_for(enough.wait(), timeout)
    except TimeoutError:
        pass
    finally:
        await queue.cancel(tag)
    return got


async def queue_depth(channel: AbstractChannel, queue_name: str) -> int:
    queue = await channel.declare_queue(queue_name, passive=True)
    depth = queue.declaration_result.message_count
    return int(depth or 0)
