"""The command line's help reads Chinese first: each list of commands in Chinese, each command's help
headed by its Chinese line, the English after it."""

from __future__ import annotations

import click
from click.testing import CliRunner

from api.cli.help_zh import SAID_ZH
from api.cli.main import main


def _every_command(group: click.Group, words: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*words, name), command
        if isinstance(command, click.Group):
            yield from _every_command(command, (*words, name))


def test_every_command_is_listed_in_chinese_and_its_help_says_chinese_then_english():
    runner = CliRunner()
    commands = list(_every_command(main))
    assert len(commands) == len(SAID_ZH) - 1  # every command has its line, and no line is left for a gone one
    lists = {(): runner.invoke(main, ["--help"]).output}
    for words, command in commands:
        said = runner.invoke(main, [*words, "--help"])
        assert said.exit_code == 0, said.output
        zh = SAID_ZH[" ".join(words)]
        listed = lists.setdefault(words[:-1], runner.invoke(main, [*words[:-1], "--help"]).output)
        assert f"{words[-1]}  " in listed and zh in " ".join(listed.split()), (words, listed)
        english = command.help.split("\n\n", 1)[1].split()[:3]  # the docstring's own first words
        body = " ".join(said.output.split())
        assert body.index(zh) < body.index(" ".join(english)), said.output


def test_the_top_help_names_the_tool_in_chinese_first():
    said = CliRunner().invoke(main, ["--help"]).output
    assert said.index("hygiene-map：创卫") < said.index("hygiene-map: coverage gaps"), said
