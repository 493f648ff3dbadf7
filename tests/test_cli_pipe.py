"""A reader that closes the pipe early (`hygiene-map grids generate … | head -1`) loses no write.

The command runs as typed in a shell (``python -m api.cli``, a subprocess) on a copy of the small demo. Its
report is printed after the commit, and a closed standard output stops nothing: the grids are written, the
exit code is the usual 0 and nothing (no traceback) reaches stderr. Before, the report was printed inside the
transaction: the broken pipe rolled the new grids back and the command exited 1, silently.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, query

CLI = [sys.executable, "-m", "api.cli"]
STREET = "379901002"


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    return {**env, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}


def _into_a_closed_pipe(args: list[str], url: str) -> subprocess.CompletedProcess:
    """Run ``hygiene-map ARGS`` with stdout a pipe whose reader has already gone (the first line breaks it)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.Popen([*CLI, *args], stdout=write, stderr=subprocess.PIPE, env=_env(url), cwd=REPO,
                                text=True)
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", err)


def _through_head(args: list[str], url: str) -> subprocess.CompletedProcess:
    """``hygiene-map ARGS | head -1`` in bash with pipefail: the exit code is the command's."""
    line = " ".join([*CLI, *args]) + " | head -1"
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], capture_output=True, text=True, env=_env(url),
                          cwd=REPO, timeout=300)


def _grids(url: str) -> dict[float, int]:
    """The street's grids by their cell size (metres)."""
    return dict(query(url, "SELECT (attributes->>'cell_m')::float, count(*) FROM grids WHERE street_code = %s "
                           "GROUP BY 1", (STREET,)))


@pytest.mark.parametrize("run", [_into_a_closed_pipe, _through_head], ids=["closed-before-reading", "head-1"])
def test_a_closed_pipe_never_undoes_the_new_grids(writable_demo, run):
    before = _grids(writable_demo)
    assert 500.0 not in before, before
    done = run(["grids", "generate", "--street", STREET, "--size", "500", "--force"], writable_demo)
    after = _grids(writable_demo)
    assert list(after) == [500.0] and after[500.0] > 0, (after, done.returncode, done.stderr)
    assert query(writable_demo, "SELECT count(*) FROM audit_log WHERE action = 'grids.generate'")[0][0] == 1
    assert done.returncode == 0 and done.stderr == "", (done.returncode, done.stderr)
    if run is _through_head:  # the report's first line reached the reader
        assert done.stdout.startswith(f"街道 {STREET}：网格 ") and done.stdout.count("\n") == 1, done.stdout
    # A dry run right after finds nothing left to change.
    again = subprocess.run([*CLI, "grids", "generate", "--street", STREET, "--size", "500", "--dry-run"],
                           capture_output=True, text=True, env=_env(writable_demo), cwd=REPO, timeout=300)
    assert again.returncode == 0 and f"未变 {after[500.0]} 个，" in again.stdout, again.stdout + again.stderr


def test_a_token_printed_into_a_closed_pipe_still_adds_the_user(writable_demo):
    """`users add` prints its token after the commit: the user is there, and the command says so on stderr."""
    done = _into_a_closed_pipe(["users", "add", "管道用户", "--role", "planner"], writable_demo)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == "已添加用户 管道用户（planner，只读）；令牌如下（只显示这一次，请妥善保管）：\n", done.stderr
    assert query(writable_demo, "SELECT role FROM users WHERE name = '管道用户'") == [("planner",)]
