"""Every command explains itself, with an example (sqlite-utils' test_docs idea)."""

import click
import pytest

from stager.cli import COMMANDS, cli


def _all_commands():
    ctx = click.Context(cli)
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        yield [name], cmd
        if isinstance(cmd, click.Group):
            for sub in cmd.list_commands(ctx):
                yield [name, sub], cmd.get_command(ctx, sub)


def test_top_level_help(run_stager):
    r = run_stager("--help")
    assert r.code == 0
    for name in COMMANDS:
        assert name in r.out
    assert "Example" in r.out


@pytest.mark.parametrize("path", [p for p, _ in _all_commands()], ids=" ".join)
def test_each_command_help_has_an_example(run_stager, path):
    r = run_stager(*path, "--help")
    assert r.code == 0, r
    assert "Example" in r.out, f"'stager {' '.join(path)} --help' has no example"
