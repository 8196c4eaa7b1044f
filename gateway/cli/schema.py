"""``edigate schema``: export the canonical documents' JSON Schemas.

``edigate schema export [--out DIR] [--check]`` writes one ``<type>.schema.json``
per canonical document type plus ``index.json`` into DIR (default
``docs/schemas``), and removes ``*.schema.json`` files there that no longer
belong to a document type. With ``--check`` it writes nothing and exits 1 when
DIR differs from what would be written (for CI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.domain.canonical.schema import schema_files

__all__ = ["DEFAULT_OUT", "compare_schemas", "export_schemas", "register"]

DEFAULT_OUT = Path("docs/schemas")
_PATTERN = "*.schema.json"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schema", help="canonical document JSON Schemas")
    sub = parser.add_subparsers(dest="schema_command", required=True, metavar="SUBCOMMAND")
    export = sub.add_parser("export", help="write one <type>.schema.json per document type and index.json")
    export.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default: %(default)s)"
    )
    export.add_argument("--check", action="store_true", help="write nothing; exit 1 if DIR is out of date")
    export.set_defaults(handler=_export)


def export_schemas(out: Path) -> list[Path]:
    """Write every schema file into ``out`` (created if needed), drop stale ones; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    files = schema_files()
    written: list[Path] = []
    for name, text in files.items():
        path = out / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    for stale in sorted(out.glob(_PATTERN)):
        if stale.name not in files:
            stale.unlink()
    return written


def compare_schemas(out: Path) -> list[str]:
    """Problems that make ``out`` differ from freshly generated schemas (empty when up to date)."""
    files = schema_files()
    problems: list[str] = []
    for name, text in files.items():
        path = out / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{path}: differs from the models")
    if out.is_dir():
        problems.extend(
            f"{stale}: no such document type"
            for stale in sorted(out.glob(_PATTERN))
            if stale.name not in files
        )
    return problems


def _export(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.check:
        problems = compare_schemas(out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"regenerate with: edigate schema export --out {out}", file=sys.stderr)
            return 1
        print(f"{out}: up to date")
        return 0
    try:
        written = export_schemas(out)
    except OSError as exc:
        print(f"edigate schema export: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0
