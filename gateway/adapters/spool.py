"""The file spool: Destination and OutboundSource for the embedded mode, without a broker.

Layout under the spool root::

    <root>/<destination>/<routing_key>.<document_id>.json   one routed document (envelope below)
    <root>/outbound/*.json                                    requests dropped by ERP/WMS
    <root>/outbound/done/<name>                               handled (``ack``)
    <root>/outbound/rejected/<name>, <name>.error.txt         ``reject``, or retries used up, with the reason

Each routed document is one UTF-8 JSON envelope, keys in this order::

    {"message_id": <document_id>, "correlation_id": ..., "routing_key": ...,
     "content_type": "application/json", "headers": {...outbox headers...},
     "body": <the canonical JSON document, embedded as JSON>}

Writes are atomic: a hidden temp file in the same directory is written and
fsynced, then renamed over the final name, and the directory is fsynced after
the batch; a reader never sees a partial ``*.json``. The same document written
twice yields byte-identical content (the envelope has no timestamps), so a
replay overwrites idempotently.

The outbound source polls ``outbound/`` for ``*.json`` files (names starting
with ``.`` are ignored: writers should write a dot-file or ``*.tmp`` and rename
it, so a half-written request is never picked up). Each request's message ID is
``<file name>:<sha256 of the content>``: the same file handled again (a crash
before it was moved to ``done/``) is recognised as a repeat, while a later file
that reuses a name with other content is a new request. One source per spool. The
handler's :class:`BrokerAction` moves the file to ``done/`` or ``rejected/``;
``requeue`` (or an unexpected handler error) leaves it in place and retries
after ``retry_delays``, up to ``max_retries``, then rejects it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gateway.domain.runtime.errors import BrokerAction, GatewayError, TransientFailure
from gateway.domain.runtime.ports import DestinationHealth, OutboundHandler, OutboundRequest
from gateway.domain.runtime.records import OutboxMessage, PublishResult

__all__ = ["SpoolDestination", "SpoolOutboundSource", "envelope_bytes", "spool_file_name", "spool_message_id"]

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def spool_file_name(message: OutboxMessage) -> str:
    """``<routing_key>.<document_id>.json``, with characters unsafe in file names replaced by ``_``."""
    return _UNSAFE.sub("_", f"{message.routing_key}.{message.document_id}").lstrip(".") + ".json"


def spool_message_id(name: str, content: bytes) -> str:
    """The message ID of a dropped request: its file name and what it holds."""
    return f"{name[:150]}:{hashlib.sha256(content).hexdigest()}"


def envelope_bytes(message: OutboxMessage) -> bytes:
    """The file content for ``message``; raises ValueError when the body is not JSON."""
    body = json.loads(message.body)
    envelope = {
        "message_id": message.document_id,
        "correlation_id": message.correlation_id,
        "routing_key": message.routing_key,
        "content_type": "application/json",
        "headers": dict(message.headers),
        "body": body,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _write_atomic(directory: Path, name: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, directory / name)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _probe(directory: Path) -> str:
    """ "" when ``directory`` takes a new file, else the reason it does not."""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return f"{directory} is not writable: {exc.strerror or exc}"
    return ""


class SpoolDestination:
    """Routed documents as files, one directory per destination (the ``Destination`` port)."""

    def __init__(self, root: Path | str, destinations: Sequence[str] = ("erp", "wms")) -> None:
        self._root = Path(root)
        for name in destinations:
            if not name or _UNSAFE.search(name) or name.startswith(".") or name == "outbound":
                raise ValueError(f"unusable spool destination name {name!r}")
        self._dirs = {name: self._root / name for name in destinations}

    def directory(self, destination: str) -> Path:
        return self._dirs[destination]

    async def start(self) -> None:
        try:
            for path in self._dirs.values():
                await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise TransientFailure(f"creating spool directories under {self._root}: {exc}") from exc

    async def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishResult]:
        if not messages:
            return []
        try:
            return await asyncio.to_thread(self._write_batch, list(messages))
        except OSError as exc:
            raise TransientFailure(f"writing to the spool under {self._root}: {exc}") from exc

    def _write_batch(self, messages: list[OutboxMessage]) -> list[PublishResult]:
        results: list[PublishResult] = []
        touched: set[Path] = set()
        for message in messages:
            directory = self._dirs.get(message.destination)
            if directory is None:
                reason = f"unroutable: no spool directory for destination {message.destination!r}"
                results.append(PublishResult(message.id, ok=False, reason=reason))
                continue
            try:
                data = envelope_bytes(message)
            except ValueError as exc:
                results.append(PublishResult(message.id, ok=False, reason=f"body is not JSON: {exc}"))
                continue
            _write_atomic(directory, spool_file_name(message), data)
            touched.add(directory)
            results.append(PublishResult(message.id, ok=True))
        for directory in touched:
            _fsync_dir(directory)
        return results

    async def health(self) -> DestinationHealth:
        problems = [p for p in [await asyncio.to_thread(_probe, d) for d in self._dirs.values()] if p]
        if problems:
            return DestinationHealth(False, "; ".join(problems))
        return DestinationHealth(True, f"spool at {self._root}")

    async def close(self) -> None:
        return None


class SpoolOutboundSource:
    """Feeds files dropped in ``<root>/outbound/`` to a handler (the ``OutboundSource`` port)."""

    def __init__(
        self,
        root: Path | str,
        *,
        poll_interval: float = 0.5,
        max_retries: int = 5,
        retry_delays: Sequence[float] = (1.0, 10.0, 60.0),
    ) -> None:
        if poll_interval <= 0 or not retry_delays:
            raise ValueError("poll_interval must be positive and retry_delays non-empty")
        self.inbox = Path(root) / "outbound"
        self.done = self.inbox / "done"
        self.rejected = self.inbox / "rejected"
        self._poll = poll_interval
        self._max_retries = max_retries
        self._delays = tuple(retry_delays)
        self._retries: dict[str, int] = {}  # file name -> retries so far
        self._not_before: dict[str, float] = {}  # file name -> loop time of the next attempt
        self._stop = asyncio.Event()

    async def run(self, handler: OutboundHandler) -> None:
        """Poll until :meth:`close`; each file is handled once per poll, in name order."""
        for path in (self.inbox, self.done, self.rejected):
            await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        self._stop.clear()
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            for path in await asyncio.to_thread(self._pending):
                if self._stop.is_set():
                    break
                if self._not_before.get(path.name, 0.0) <= loop.time():
                    await self._handle(path, handler)
            try:
                await asyncio.wait_for(self._stop.wait(), self._poll)
            except TimeoutError:
                pass

    async def health(self) -> DestinationHealth:
        problem = await asyncio.to_thread(_probe, self.inbox)
        return DestinationHealth(not problem, problem or f"watching {self.inbox}")

    async def close(self) -> None:
        self._stop.set()

    def _pending(self) -> list[Path]:
        try:
            names = sorted(p for p in self.inbox.glob("*.json") if p.is_file() and not p.name.startswith("."))
        except OSError as exc:
            log.warning("listing %s: %s", self.inbox, exc)
            return []
        return names

    async def _handle(self, path: Path, handler: OutboundHandler) -> None:
        try:
            body = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return
        request = OutboundRequest(
            body=body, headers={"x-spool-file": path.name}, message_id=spool_message_id(path.name, body)
        )
        try:
            action = BrokerAction(await handler(request))
            reason = f"handler returned {action.value}"
        except GatewayError as exc:
            action, reason = exc.broker_action, json.dumps(exc.as_problem(), sort_keys=True, default=str)
        except Exception as exc:  # a handler bug must not stop the source: retry, then reject
            log.exception("outbound handler failed on %s", path)
            action, reason = BrokerAction.REQUEUE, f"{type(exc).__name__}: {exc}"
        if action is BrokerAction.REQUEUE:
            retries = self._retries.get(path.name, 0)
            if retries < self._max_retries:
                self._retries[path.name] = retries + 1
                delay = self._delays[min(retries, len(self._delays) - 1)]
                self._not_before[path.name] = asyncio.get_running_loop().time() + delay
                return
            action, reason = BrokerAction.REJECT, f"gave up after {retries} retries: {reason}"
        self._retries.pop(path.name, None)
        self._not_before.pop(path.name, None)
        try:
            await asyncio.to_thread(self._settle, path, action, reason)
        except OSError as exc:
            log.error("moving %s after %s: %s; it will be handled again", path, action.value, exc)

    def _settle(self, path: Path, action: BrokerAction, reason: str) -> None:
        if action is BrokerAction.ACK:
            os.replace(path, self.done / path.name)
            _fsync_dir(self.done)
            return
        # The reason is written first, so a file in rejected/ always has its .error.txt beside it.
        _write_atomic(self.rejected, f"{path.name}.error.txt", (reason + "\n").encode())
        os.replace(path, self.rejected / path.name)
        _fsync_dir(self.rejected)
