"""Shared helpers of the runtime commands: settings, opening the gateway, printing."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.config import Settings, load_settings
from gateway.domain.profiles import ProfileError
from gateway.domain.runtime.errors import GatewayError

__all__ = ["add_config_argument", "dump", "run_async", "settings_from"]


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML settings file (default: $EDIGATE_CONFIG or none)")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def dump(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, sort_keys=True, default=str))


def run_async(work: Callable[[], Awaitable[int]]) -> int:
    """Run a command; configuration and gateway errors become one line on stderr, never a traceback."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except ValidationError as exc:
        print(
            f"edigate: invalid settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", file=sys.stderr
        )
        return 2
    except ProfileError as exc:
        print(f"edigate: {exc}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"edigate: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"edigate: {exc}", file=sys.stderr)
        return 2
