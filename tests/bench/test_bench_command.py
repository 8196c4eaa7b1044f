"""One command runs every benchmark suite (``scripts/bench SUITE``); the dispatcher is checked here,
the suites themselves by their own smoke tests."""

from __future__ import annotations

import pytest

import bench.__main__ as command


def test_every_suite_names_a_module_with_a_main() -> None:
    import importlib

    for module in command.SUITES.values():
        assert callable(importlib.import_module(module).main)


def test_an_unknown_suite_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.main(["nope"]) == 2
    assert "choose one of x12, mapping, pipeline, as2, sftp, webhook, all" in capsys.readouterr().err


def test_all_takes_no_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.main(["all", "--runs", "1"]) == 2
    assert "one suite at a time" in capsys.readouterr().err


@pytest.mark.parametrize("suite", ["mapping", "pipeline", "sftp"])
def test_options_after_a_suite_go_to_that_suite(suite: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.main([suite, "--help"]) == 0  # the suite's own argparse help, in a child interpreter
