"""The command table: every command is found by its module, and only that module is imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway.cli.main import COMMAND_MODULES, COMMANDS, build_parser, main


def _commands(parser: object) -> set[str]:
    sub = next(a for a in parser._actions if a.dest == "command")  # type: ignore[attr-defined]
    return set(sub.choices)


def test_every_registered_command_is_in_the_table() -> None:
    assert _commands(build_parser()) == set(COMMANDS)
    assert set(COMMANDS.values()) == set(COMMAND_MODULES)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_parses_with_only_its_module(command: str) -> None:
    assert command in _commands(build_parser(command))


def test_x12_commands_do_not_import_the_gateway_runtime() -> None:
    code = (
        "import sys; from gateway.cli.main import build_parser; build_parser('x12'); "
        "print(any(m.startswith(('sqlalchemy', 'aiohttp', 'aio_pika', 'paramiko')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
