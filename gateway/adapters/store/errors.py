"""Translation of database errors into gateway errors, at the store's edge.

::

    connection lost / refused / reset, server shutting down   -> TransientFailure
    (asyncpg SQLSTATE classes 08, 57, 53, 58; invalidated connections; OSError; timeouts)
    SQLite "database is locked" and other OperationalErrors    -> TransientFailure
    serialization failure or deadlock (SQLSTATE 40001, 40P01)  -> TransientFailure
    constraint violations, SQL errors, anything else           -> unchanged (a bug, not an outage)

:func:`translating` wraps every public coroutine method of a store class, so callers (the
workers, the channels, the admin API) see a :class:`TransientFailure` with the reason when the
database is unreachable, chained to the original with ``raise ... from exc``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

from gateway.domain.runtime.errors import TransientFailure

__all__ = ["is_transient", "translating"]

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)

_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_TRANSIENT_SQLSTATES = ("40001", "40P01")


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` means the database is (for now) unreachable or busy, not that the call is wrong."""
    if isinstance(exc, sa_exc.IntegrityError | sa_exc.ProgrammingError | sa_exc.DataError):
        return False
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        state = str(getattr(exc.orig, "sqlstate", None) or "")
        return state.startswith(_TRANSIENT_SQLSTATE_CLASSES) or state in _TRANSIENT_SQLSTATES
    return isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError | OSError | TimeoutError)


def _describe(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).splitlines()  # a driver error may have no text
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text}".rstrip(": ")[:300]


def _translated(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except TransientFailure:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise TransientFailure(f"the database is unavailable ({_describe(exc)})") from exc
            raise

    return call


def translating(cls: C) -> C:
    """Wrap each public coroutine method of ``cls`` (including inherited ones) with the translation."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        method = getattr(cls, name)
        if inspect.iscoroutinefunction(method):
            setattr(cls, name, _translated(method))
    return cls
