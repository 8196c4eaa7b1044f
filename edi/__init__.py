"""edi: a pure, streaming ANSI X12 library.

Reads, validates, writes and acknowledges X12 without asyncio, network or
gateway code, so it can be used (and published) on its own.
"""

from edi.delimiters import Delimiters
from edi.errors import AckParseError, SchemaNotFound, UnreadableInput, WriteError, X12Error
from edi.findings import Code, Finding, Level, Location, Severity
from edi.lexer import Lexer
from edi.model import FunctionalGroup, Interchange, Segment, TransactionSet
from edi.reader import ParseResult, Reader, iter_interchanges, parse, read_summary
from edi.summary import GroupSummary, InterchangeSummary, TransactionSummary

__all__ = [
    "AckParseError",
    "Code",
    "Delimiters",
    "Finding",
    "FunctionalGroup",
    "GroupSummary",
    "Interchange",
    "InterchangeSummary",
    "Level",
    "Lexer",
    "Location",
    "ParseResult",
    "Reader",
    "SchemaNotFound",
    "Segment",
    "Severity",
    "TransactionSet",
    "TransactionSummary",
    "UnreadableInput",
    "WriteError",
    "X12Error",
    "iter_interchanges",
    "parse",
    "read_summary",
]
