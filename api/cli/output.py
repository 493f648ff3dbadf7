"""What the commands print: the ``--lang`` option, a report printed after its commit, and output a reader may leave.

Commands print in Chinese by default and in English with ``--lang en``, the
same lines with the same numbers and codes (each command's table of (zh, en)
lines, :func:`data.said.say`). A command that writes prints its report once
the write is committed, and a reader that closes the pipe early (``| head -1``)
neither stops the work nor shows a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

#: ``--lang zh|en``: the language of what a command prints.
LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                    help="language of what the command prints")


@contextmanager
def reported(conn, *, dry_run: bool = False) -> Iterator[Callable[[str], None]]:
    """:func:`data.db.transaction` whose report is printed when it has ended: yields ``add(line)``.

    The lines are printed after the commit (or the rollback of a dry run or a
    refusal, which they then explain), never inside the transaction: an error
    writing them can no longer roll a write back.
    """
    from data.db import transaction

    lines: list[str] = []
    try:
        with transaction(conn, dry_run=dry_run):
            yield lines.append
    finally:
        for line in lines:
            click.echo(line)


class _Leavable:
    """A standard stream that, once its reader has closed the pipe, drops what is written instead of raising."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        # Python's own remedy for a closed pipe: the descriptor now leads to /dev/null, so what the stream
        # still holds, what comes later and the flush at exit all succeed, and the command goes on.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Run a command whose stdout and stderr readers may leave early: it finishes its work and exits as it would.

    Only the process's own streams are wrapped (a test's captured ones are left as they are).
    """
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None and sys.stdout is sys.__stdout__:
        sys.stdout = _Leavable(sys.stdout)
    if sys.stderr is not None and sys.stderr is sys.__stderr__:
        sys.stderr = _Leavable(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
