"""Entry point of the ``edigate`` console script.

Each command group lives in its own module under :mod:`gateway.cli` and
exposes ``register(subparsers)``; this module only assembles them.
Exit codes: 0 success, 1 findings or invalid input, 2 unreadable input or usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]

#: Command-group modules under ``gateway.cli``, each with ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = ("x12", "partners", "schema", "translate", "runtime", "support", "certs")

#: Which module registers each top-level command. Only the chosen command's module is
#: imported, so ``edigate x12 ...`` does not pay for the gateway's imports (start-up time, RSS).
COMMANDS: dict[str, str] = {
    "x12": "x12",
    "partners": "partners",
    "schema": "schema",
    "translate": "translate",
    "serve": "runtime",
    "ingest": "runtime",
    "db": "runtime",
    "messages": "support",
    "replay": "support",
    "sequences": "support",
    "certs": "certs",
}

Handler = Callable[[argparse.Namespace], int]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or only for ``command`` when given (lighter imports)."""
    parser = argparse.ArgumentParser(prog="edigate", description="EDI partner gateway")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = [COMMANDS[command]] if command in COMMANDS else list(COMMAND_MODULES)
    for name in dict.fromkeys(wanted):
        importlib.import_module(f"gateway.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(first)
    args = parser.parse_args(args_list)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
