"""``edigate partners``: check partner profiles and show one as the gateway resolved it.

    edigate partners validate [DIR] [--mappings DIR]   exit 0 valid, 1 problems, 2 no such directory
    edigate partners show ID [--dir DIR] [--format yaml|json]

``validate`` prints every problem as ``file: field.path: reason``, one per line, and
warnings (e.g. a certificate about to expire, a deviation with no effect) prefixed with
``warning:``. Besides the profiles themselves it checks each document rule's deviations
against the mapping engine (code lists, party roles, fields, JSON names, defaults) and, with
the mapping variants of ``--mappings`` (default: ``./mappings``, else ``DIR/../mappings``),
that each named variant exists and is sound. ``show`` prints
the resolved profile with defaults filled in, paths made absolute and secrets shown only
as their references.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from gateway.domain.profiles import check_profiles

__all__ = ["register"]

DEFAULT_DIR = Path("partners")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("partners", help="check and inspect partner profiles")
    commands = parser.add_subparsers(dest="partners_command", required=True, metavar="SUBCOMMAND")

    validate = commands.add_parser("validate", help="validate every profile in a directory")
    validate.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR, help="default: ./partners")
    validate.add_argument(
        "--mappings",
        type=Path,
        help="mapping variants to check against (default: ./mappings, else DIR/../mappings)",
    )
    validate.set_defaults(handler=_validate)

    show = commands.add_parser("show", help="print one resolved profile, secrets redacted")
    show.add_argument("partner_id")
    show.add_argument("--dir", dest="directory", type=Path, default=DEFAULT_DIR, help="default: ./partners")
    show.add_argument("--format", choices=("yaml", "json"), default="yaml")
    show.set_defaults(handler=_show)


def _validate(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if not directory.is_dir():
        print(f"{directory}: not a directory", file=sys.stderr)
        return 2
    mappings: Path | None = args.mappings
    if mappings is None:
        mappings = next((d for d in (Path("mappings"), directory.parent / "mappings") if d.is_dir()), None)
        if mappings is None:
            print("note: no mappings directory found; named variants are not checked", file=sys.stderr)
    elif not mappings.is_dir():
        print(f"{mappings}: not a directory of mapping variants", file=sys.stderr)
        return 2
    result = check_profiles(directory, mappings_dir=mappings)
    for problem in result.problems:
        print(problem)
    for warning in result.warnings:
        print(f"warning: {warning}")
    if result.problems:
        files = len({problem.file for problem in result.problems})
        print(f"{len(result.problems)} problem(s) in {files} file(s)", file=sys.stderr)
        return 1
    print(f"{len(result.entries)} partner profile(s) valid in {directory}", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if not directory.is_dir():
        print(f"{directory}: not a directory", file=sys.stderr)
        return 2
    result = check_profiles(directory)
    found = [(profile, file) for profile, file in result.entries if profile.partner_id == args.partner_id]
    if not found:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        known = ", ".join(sorted(profile.partner_id for profile, _ in result.entries)) or "none"
        print(f"no valid profile '{args.partner_id}' in {directory} (valid: {known})", file=sys.stderr)
        return 1
    profile, file = found[0]
    data = profile.redacted()
    if args.format == "json":
        print(json.dumps(data, indent=2))
    else:
        print(f"# source: {file}")
        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    if result.problems:
        print(
            f"warning: {len(result.problems)} problem(s) elsewhere in {directory}; see: partners validate",
            file=sys.stderr,
        )
    return 0
