"""A command typed wrong (an unknown option, a missing one, a value not among its choices), said in Chinese.

click says these in English (``Error: Invalid value for '--kind': …``); an office clerk reads them in Chinese,
the same facts — the option as typed, the value, the choices — unless ``--lang en`` was typed, when click's own
words stand.
"""

from __future__ import annotations

import re

import click
from click import exceptions

#: click's Choice refusal, for the value it names ("'周查' is not one of '周检查', '月度暗访'.").
_NOT_ONE_OF = re.compile(r"^(?P<value>'.*'|\".*\") is not(?: one of)? ")


def usage_zh(exc: click.UsageError) -> str:
    """The refusal in Chinese: one line saying what was typed wrong, then where the command's help is."""
    line = _said(exc)
    ctx = exc.ctx
    helped = f"\n运行 '{ctx.command_path} --help' 查看用法" if ctx is not None else ""
    return f"hygiene-map：错误：{line}{helped}"


def _said(exc: click.UsageError) -> str:
    if isinstance(exc, exceptions.NoSuchOption):
        maybe = f"（是否想用 {'、'.join(sorted(exc.possibilities))}？）" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{maybe}"
    if isinstance(exc, exceptions.MissingParameter):
        return f"缺少{_kind(exc.param)} {_hint(exc)}"
    if isinstance(exc, exceptions.BadParameter):
        choices = getattr(getattr(exc.param, "type", None), "choices", None)
        if choices:
            typed = _NOT_ONE_OF.match(exc.message)
            value = f"{typed['value']} " if typed else ""
            return f"{_hint(exc)}：{value}不是可选值；只能是 {'、'.join(map(str, choices))} 之一"
        return f"{_hint(exc)}：取值无效（{exc.message}）"
    if exc.message.startswith("No such command"):
        name = exc.message.split("'")[1] if "'" in exc.message else exc.message
        return f"没有命令 {name}"
    return f"用法有误（{exc.message}）"


def _hint(exc: exceptions.BadParameter) -> str:
    """The option or argument as the user typed it (--kind, FILE)."""
    if exc.param_hint is not None:
        hints = [exc.param_hint] if isinstance(exc.param_hint, str) else list(exc.param_hint)
        return " / ".join(hints)
    if exc.param is not None:
        return exc.param.get_error_hint(exc.ctx).replace("'", "")
    return "参数"


def _kind(param) -> str:
    return "参数" if isinstance(param, click.Argument) else "选项"
