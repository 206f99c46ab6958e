"""Every command has help and a section in the README with an example."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from relnews.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert cli.commands[name].help and "Example:" in cli.commands[name].help


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented(name):
    assert f"### `relnews {name}`" in README


def test_readme_gives_the_two_setup_commands():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text("utf-8")
    test_command = "python -m pip install -c requirements.lock -e '.[test]' && python -m pytest"
    assert test_command in README and test_command in ci
    assert "python -m pip install -c requirements.lock -e . && relnews demo" in README
