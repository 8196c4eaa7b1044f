"""``edigate x12 ack``: write the 997 / 999 / TA1 acknowledgement(s) of an X12 file.

Contract for scripts::

    edigate x12 ack FILE [--type auto|997|999|ta1] [--control-number N]
                         [--timestamp ISO] [--no-newline] [--envelope-only]

* The acks go to stdout as X12 bytes, in the inbound interchange's delimiters,
  one segment per line (``--no-newline`` for a single line; never added when
  the segment terminator is itself CR or LF).
* ``--type auto`` (default): 997 for groups before 005010, 999 from 005010 on,
  and a TA1 when ISA14 asks for one or the envelope is in error.
* ``--control-number N`` (default 1) is used for the first ISA13, GS06 and
  ST02; further acks count up from there.
* Exit 0 whenever the file could be read (rejections are part of the output,
  as with ``inspect``); when nothing needs acknowledging stdout stays empty
  and stderr says so. Unreadable input: a one-line reason on stderr, exit 2,
  and nothing on stdout. An interchange whose ISA is damaged or cannot be read
  at all still gets its TA1 (rejecting it), as long as the file has one
  readable interchange.
* The input is streamed (:func:`edi.acks.acknowledge_stream`): memory is
  bounded like ``inspect``'s, whatever the file size. The acks are spooled
  (to a temporary file past a few MB) and written once the whole input has
  been read, so a failure never leaves half an answer on stdout.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import get_args

from edi.acks import AckControlNumbers, AckKind, acknowledge_stream
from edi.errors import UnreadableInput, WriteError
from edi.reader import SetValidator
from edi.validator import schema_validator
from edi.writer import write

__all__ = ["add_ack_command"]

#: Validates every set that has a schema before acknowledging (``--envelope-only`` skips it).
SCHEMA_VALIDATOR: SetValidator = schema_validator

_MAX_CONTROL_NUMBER = 999_999_999
#: Acks are held in memory up to this size, then in a temporary file, until the input is read.
_SPOOL_BYTES = 8 << 20


def add_ack_command(x12_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ack`` to the ``x12`` command group."""
    ack = x12_subparsers.add_parser("ack", help="write the 997/999/TA1 acknowledgement(s) of FILE to stdout")
    ack.add_argument("file", metavar="FILE", help="X12 file to acknowledge")
    ack.add_argument(
        "--type",
        dest="ack_type",
        choices=get_args(AckKind),
        default="auto",
        help="acknowledgement to write (default: %(default)s: 997 before 005010, 999 after, TA1 as needed)",
    )
    ack.add_argument(
        "--control-number",
        type=_control_number,
        default=1,
        metavar="N",
        help="first ISA13/GS06/ST02 of the acks, counting up (default: %(default)s)",
    )
    ack.add_argument(
        "--timestamp",
        type=_timestamp,
        default=None,
        metavar="ISO",
        help="date and time for ISA09/10 and GS04/05, e.g. 2024-01-31T14:05 (default: now)",
    )
    ack.add_argument("--no-newline", action="store_true", help="do not put each segment on its own line")
    ack.add_argument(
        "--envelope-only",
        action="store_true",
        help="acknowledge envelope, control number and count checks only (no schema validation)",
    )
    ack.set_defaults(handler=_ack)


def _control_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= _MAX_CONTROL_NUMBER:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and {_MAX_CONTROL_NUMBER}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date and time") from None


def _fail(args: argparse.Namespace, reason: str) -> int:
    one_line = f"{args.file}: {reason}".replace("\r", "\\r").replace("\n", "\\n")
    print(f"edigate x12 ack: {one_line}", file=sys.stderr)
    return 2


def _ack(args: argparse.Namespace) -> int:
    validator = None if args.envelope_only else SCHEMA_VALIDATOR
    numbers = AckControlNumbers(args.control_number, args.control_number, args.control_number)
    acks = 0
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        try:
            for ix in acknowledge_stream(
                Path(args.file),
                validator=validator,
                kind=args.ack_type,
                control_numbers=numbers,
                when=args.timestamp,
            ):
                spool.write(write(ix, newline=not args.no_newline and ix.delimiters.segment not in "\r\n"))
                acks += 1
        except UnreadableInput as exc:
            cause = exc.__cause__
            return _fail(args, cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc))
        except WriteError as exc:
            return _fail(args, f"cannot write the acknowledgement: {exc}")
        except OSError as exc:
            return _fail(args, exc.strerror or str(exc))
        if not acks:
            print(f"edigate x12 ack: {args.file}: nothing to acknowledge", file=sys.stderr)
            return 0
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0
