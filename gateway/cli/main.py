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
COMMAND_MODULES: tuple[str, ...] = ("x12", "partners", "schema", "runtime", "support", "translate")

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edigate", description="EDI partner gateway")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"gateway.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
