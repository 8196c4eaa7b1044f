"""Random (version 4) UUIDs for the hot paths, drawn from the OS's CSPRNG in blocks.

:func:`uuid.uuid4` asks the kernel for 16 bytes on every call, and the call releases the GIL:
on a busy event-loop thread (several IDs per received message) each release is a chance for
another thread to take the GIL and keep it for a while. Here one ``os.urandom`` call serves
256 IDs; the bytes are the same CSPRNG output ``uuid4`` would use, and a forked child starts
with a fresh block (it never reuses its parent's bytes).
"""

from __future__ import annotations

import os
import threading
import uuid

__all__ = ["new_uuid"]

_BLOCK = 16 * 256
_lock = threading.Lock()
_pool = b""
_at = 0


def new_uuid() -> uuid.UUID:
    """A random UUID, as :func:`uuid.uuid4` makes it."""
    global _pool, _at
    with _lock:
        if _at + 16 > len(_pool):
            _pool, _at = os.urandom(_BLOCK), 0
        raw = _pool[_at : _at + 16]
        _at += 16
    return uuid.UUID(bytes=raw, version=4)


def _forget() -> None:
    global _lock, _pool, _at
    _lock = threading.Lock()  # a thread of the parent may have held it at the fork
    _pool, _at = b"", 0


os.register_at_fork(after_in_child=_forget)
