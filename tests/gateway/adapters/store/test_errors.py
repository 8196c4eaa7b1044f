"""How the store tells an outage from a mistake: driver errors become TransientFailure."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from gateway.adapters.store.errors import translating
from gateway.domain.runtime.errors import TransientFailure


@translating
class _Failing:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def read(self) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("orig", "words"),
    [
        (ConnectionResetError(), "InterfaceError"),  # a dropped connection: no text at all
        (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer"),
    ],
    ids=["no-text", "with-text"],
)
async def test_a_lost_connection_is_a_transient_failure_with_or_without_a_message(
    orig: BaseException, words: str
) -> None:
    error = sa_exc.InterfaceError("SELECT 1", None, orig)
    with pytest.raises(TransientFailure, match="database is unavailable") as raised:
        await _Failing(error).read()
    assert words in raised.value.message
    assert raised.value.__cause__ is error


async def test_a_wrong_statement_is_not_translated() -> None:
    error = sa_exc.ProgrammingError("SELEC 1", None, Exception("syntax error"))
    with pytest.raises(sa_exc.ProgrammingError):
        await _Failing(error).read()
