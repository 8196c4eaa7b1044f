"""The public API of :mod:`edi` is pinned: adding or removing a name must be deliberate."""

from __future__ import annotations

import importlib

import pytest

import edi

PUBLIC = [
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

#: The X12 core modules this suite covers, with the names each one exports.
CORE_MODULES = {
    "edi.delimiters": ["ISA_LENGTH", "Delimiters"],
    "edi.errors": ["AckParseError", "SchemaNotFound", "UnreadableInput", "WriteError", "X12Error"],
    "edi.isa": ["IsaHeader", "IsaUnreadable", "detect_isa", "salvage_isa"],
    "edi.lexer": ["DEFAULT_CHUNK_SIZE", "Lexer", "Source"],
    "edi.reader": ["ParseResult", "Reader", "SetValidator", "iter_interchanges", "parse", "read_summary"],
    "edi.writer": [
        "EnvelopeParties",
        "build_group",
        "build_interchange",
        "build_transaction",
        "segment_text",
        "write",
        "write_segments",
    ],
}


def test_edi_all_is_pinned_and_sorted() -> None:
    assert sorted(edi.__all__) == PUBLIC


def test_every_public_name_resolves_to_its_defining_object() -> None:
    for name in edi.__all__:
        obj = getattr(edi, name)
        assert obj is not None
        module = getattr(obj, "__module__", None)
        assert isinstance(module, str), name
        assert module.startswith("edi."), name


@pytest.mark.parametrize("module_name", sorted(CORE_MODULES))
def test_core_module_exports_are_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = module.__all__
    assert sorted(exported) == sorted(CORE_MODULES[module_name])
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"


def test_the_public_exceptions_form_one_tree() -> None:
    for error in (edi.UnreadableInput, edi.WriteError, edi.SchemaNotFound, edi.AckParseError):
        assert issubclass(error, edi.X12Error)
    assert issubclass(edi.X12Error, Exception)
