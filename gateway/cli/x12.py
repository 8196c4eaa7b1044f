"""``edigate x12``: inspect and validate X12 files; ``ack`` comes from :mod:`gateway.cli.x12_ack`.

Scripts and support rely on this contract:

* ``edigate x12 inspect FILE [--format json|text] [--envelope-only]`` prints the
  structure (interchanges, groups, sets with their segment counts and validity)
  and every finding. JSON shape::

      {"interchanges": [{"sender_qualifier", "sender", "receiver_qualifier", "receiver",
                         "control_number", "version", "usage", "ack_requested",
                         "delimiters": {"element", "component", "segment", "repetition"},
                         "groups": [{"functional_id", "sender", "receiver", "control_number", "version",
                                     "transactions": [{"set_id", "control_number", "segments", "valid"}]}]}],
       "findings": [{"severity", "code", "message", "location": {...}}]}

  Exit 0 whenever the file could be read (findings are part of the output).
* ``edigate x12 validate FILE [--envelope-only] [--errors-only]`` prints the
  findings one per line and exits 0 when the file is valid, 1 when it has
  findings: an error or a warning. Info notes (say "no schema for this set:
  envelope checked only") are printed but are not problems, so they do not
  count. ``--errors-only`` prints and counts errors only (warnings such as a
  missing final terminator then exit 0).
* Unreadable input (missing file, directory, not X12, empty) gives a one-line
  reason on stderr and exit 2, never a traceback.

Sets that have a schema are validated against it unless ``--envelope-only``
asks for envelope and count checks only. Input is streamed
(:func:`edi.reader.read_summary`), and so is the output, so memory stays
bounded by the summaries, not by the file size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable
from typing import TextIO, TypeVar

from edi.errors import UnreadableInput
from edi.findings import Finding, Location, Severity
from edi.reader import SetValidator, read_summary
from edi.summary import GroupSummary, InterchangeSummary
from edi.validator import schema_validator
from gateway.cli.x12_ack import add_ack_command

__all__ = ["format_finding", "format_location", "register"]

Write = Callable[[str], object]
_T = TypeVar("_T")

#: Validates every set that has a schema (``None``: envelope checks only).
SCHEMA_VALIDATOR: SetValidator | None = schema_validator


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("x12", help="inspect, validate and acknowledge X12 files")
    sub = parser.add_subparsers(dest="x12_command", required=True, metavar="ACTION")

    inspect = sub.add_parser("inspect", help="print the envelope structure, counts and findings")
    inspect.add_argument("file", metavar="FILE", help="X12 file to read")
    inspect.add_argument(
        "--format", choices=("json", "text"), default="json", help="output format (default: %(default)s)"
    )
    _envelope_only_option(inspect)
    inspect.set_defaults(handler=_inspect)

    validate = sub.add_parser(
        "validate",
        help="print findings one per line; exit 0 valid, 1 findings (errors or warnings), 2 unreadable",
        description="Exit 0 when FILE has no error or warning finding, 1 when it has one, 2 when it "
        "cannot be read. Info notes (such as 'no schema for this set') are printed but do not count.",
    )
    validate.add_argument("file", metavar="FILE", help="X12 file to read")
    _envelope_only_option(validate)
    validate.add_argument(
        "--errors-only",
        action="store_true",
        help="print and count error findings only: warnings alone exit 0",
    )
    validate.set_defaults(handler=_validate)

    add_ack_command(sub)


def _envelope_only_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--envelope-only",
        action="store_true",
        help="check envelopes, control numbers and counts only (no transaction-set schema validation)",
    )


# --- reading -------------------------------------------------------------------------------------------


def _read(args: argparse.Namespace) -> tuple[list[InterchangeSummary], list[Finding]] | None:
    """Summaries and findings of ``args.file``, or ``None`` after reporting why it cannot be read."""
    validator = None if args.envelope_only else SCHEMA_VALIDATOR
    try:
        return read_summary(args.file, validator=validator)
    except UnreadableInput as exc:
        cause = exc.__cause__
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc)
    except OSError as exc:  # a read failing half-way (I/O error, file removed on some filesystems)
        reason = exc.strerror or str(exc)
    print(f"edigate x12 {args.x12_command}: {_one_line(args.file)}: {_one_line(reason)}", file=sys.stderr)
    return None


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _printable(text: str, stream: TextIO) -> str:
    """``text`` as ``stream`` can encode it: undecodable input bytes become ``\\udcXX`` escapes."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)


# --- inspect -------------------------------------------------------------------------------------------


def _inspect(args: argparse.Namespace) -> int:
    result = _read(args)
    if result is None:
        return 2
    summaries, findings = result
    out = sys.stdout
    if args.format == "json":
        _write_json(out.write, summaries, findings)
    else:
        _write_text(lambda line: out.write(_printable(line, out) + "\n"), args.file, summaries, findings)
    return 0


def _write_json(write: Write, summaries: list[InterchangeSummary], findings: list[Finding]) -> None:
    """Stream the JSON document one set at a time, so no whole-file structure is built."""
    write('{"interchanges": ')
    _write_items(write, summaries, _write_interchange)
    write(', "findings": ')
    _write_items(write, findings, lambda w, finding: w(json.dumps(finding.as_dict())))
    write("}\n")


def _write_interchange(write: Write, ix: InterchangeSummary) -> None:
    _write_object(
        write,
        dataclasses.replace(ix, groups=[]).as_dict(),
        "groups",
        lambda w: _write_items(w, ix.groups, _write_group),
    )


def _write_group(write: Write, group: GroupSummary) -> None:
    _write_object(
        write,
        dataclasses.replace(group, transactions=[]).as_dict(),
        "transactions",
        lambda w: _write_items(w, group.transactions, lambda w2, t: w2(json.dumps(t.as_dict()))),
    )


def _write_object(write: Write, head: dict[str, object], key: str, body: Callable[[Write], object]) -> None:
    """Write ``head`` as a JSON object, streaming ``body`` as the value of ``key``."""
    write("{")
    for n, (name, value) in enumerate(head.items()):
        write((", " if n else "") + json.dumps(name) + ": ")
        if name == key:
            body(write)
        else:
            write(json.dumps(value))
    write("}")


def _write_items(write: Write, items: Iterable[_T], item: Callable[[Write, _T], object]) -> None:
    write("[")
    for n, value in enumerate(items):
        write(", " if n else "")
        item(write, value)
    write("]")


def _write_text(
    line: Callable[[str], object], path: str, summaries: list[InterchangeSummary], findings: list[Finding]
) -> None:
    line(path)
    for ix in summaries:
        d = ix.delimiters
        ack = "yes" if ix.ack_requested else "no"
        line(
            f"ISA {ix.control_number}  {ix.sender_qualifier}:{ix.sender} -> "
            f"{ix.receiver_qualifier}:{ix.receiver}  version {ix.version}  usage {ix.usage}  "
            f"ack requested {ack}"
        )
        line(
            f"  delimiters  element {d.element!r}  component {d.component!r}  segment {d.segment!r}  "
            f"repetition {d.repetition!r}"
        )
        if not ix.groups:
            line("  (no functional groups)")
        for group in ix.groups:
            line(
                f"  GS {group.control_number}  {group.functional_id}  {group.sender} -> {group.receiver}  "
                f"version {group.version}"
            )
            for ts in group.transactions:
                state = "valid" if ts.valid else "INVALID"
                line(f"    ST {ts.set_id} {ts.control_number}  {ts.segments} segments  {state}")
    counts = {s: sum(f.severity is s for f in findings) for s in Severity}
    line(
        f"findings: {counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
        f"{counts[Severity.INFO]} info"
    )
    for finding in findings:
        line("  " + format_finding(finding))


# --- validate ------------------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    result = _read(args)
    if result is None:
        return 2
    summaries, findings = result
    if args.errors_only:
        findings = [f for f in findings if f.is_error]
    out = sys.stdout
    for finding in findings:
        out.write(_printable(f"{args.file}: {format_finding(finding)}", out) + "\n")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    sets = sum(len(g.transactions) for ix in summaries for g in ix.groups)
    verdict = "valid" if not (errors or warnings) else f"{errors} error(s), {warnings} warning(s)"
    print(
        _printable(f"{args.file}: {verdict}; {len(summaries)} interchange(s), {sets} set(s)", sys.stderr),
        file=sys.stderr,
    )
    return 1 if errors or warnings else 0


# --- shared formatting ---------------------------------------------------------------------------------


def format_finding(finding: Finding) -> str:
    """One line: ``severity code: message (location)``."""
    where = format_location(finding.location)
    text = f"{finding.severity.value} {finding.code.value}: {finding.message}"
    return _one_line(f"{text} ({where})" if where else text)


def format_location(loc: Location) -> str:
    """Human-readable location; interchange, group and set are numbered from 1."""
    parts: list[str] = []
    for label, index in (("interchange", loc.interchange), ("group", loc.group), ("set", loc.transaction)):
        if index is not None:
            parts.append(f"{label} {index + 1}")
    if loc.segment_position is not None or loc.segment_id:
        segment = "segment"
        if loc.segment_position is not None:
            segment += f" {loc.segment_position}"
        if loc.segment_id:
            ref = loc.segment_id + (f"{loc.element:02d}" if loc.element is not None else "")
            if loc.component is not None:
                ref += f"-{loc.component}"
            segment += f" {ref}"
        parts.append(segment)
    elif loc.element is not None:
        parts.append(f"element {loc.element}")
    if loc.repetition is not None:
        parts.append(f"repetition {loc.repetition}")
    if loc.loop_id:
        parts.append(f"loop {loc.loop_id}")
    if loc.byte_offset is not None:
        parts.append(f"byte {loc.byte_offset}")
    return ", ".join(parts)
