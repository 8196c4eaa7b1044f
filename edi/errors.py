"""Exceptions raised by :mod:`edi`.

Almost everything that is wrong with an X12 file is reported as a
:class:`edi.findings.Finding` (data), never raised. Only input that cannot be
read at all raises::

    X12Error
    +-- UnreadableInput        no ISA header, or delimiters that cannot be recovered
    +-- SchemaNotFound         no transaction-set schema for a set/version pair
    +-- WriteError             a model that cannot be serialised with its delimiters
    +-- AckParseError          an inbound 997/999/TA1 that is not an acknowledgement
"""

from __future__ import annotations

__all__ = ["AckParseError", "SchemaNotFound", "UnreadableInput", "WriteError", "X12Error"]


class X12Error(Exception):
    """Base class of every exception :mod:`edi` raises."""


class UnreadableInput(X12Error):
    """The input cannot be tokenised: there is no interchange to report on."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at byte {offset})")


class SchemaNotFound(X12Error):
    """No schema is shipped for the requested transaction set and version."""


class WriteError(X12Error):
    """A value contains a delimiter or does not fit its envelope field."""


class AckParseError(X12Error):
    """The transaction set is not a well-formed 997, 999 or TA1."""
