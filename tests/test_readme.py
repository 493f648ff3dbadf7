"""The README's shell examples run as written on the small demo (issue 14, item 9).

Every line of every fenced ``sh`` block of README.md is an example (a comment
line is not; a line ending in ``\\`` continues on the next). Each is run with
bash, in README order, in one scratch folder (so the files the examples write,
``grid.pdf``, ``toilets.xlsx`` …, land there and later examples can read them),
against a new database loaded with the small demo (``hygiene-map demo --scale
small``) and the app served by uvicorn. An example that exits non-zero, or
names an ``--out``/``-o`` file it does not write, fails with its text.

What the test changes, and nothing else:

* ``.venv/bin/hygiene-map`` is, in the scratch folder, a two-line script that
  runs ``python -m api.cli`` with the interpreter running the tests and this
  checkout's code (in a clone, ``./scripts/setup.sh`` installs the same entry
  point there);
* ``127.0.0.1:8000`` (the README's server) becomes the test server's
  host:port, and ``postgresql://…/empty_db`` (the README's placeholder for an
  empty database) the URL of a new empty database;
* ``DATABASE_URL`` points at the demo database, so ``db up`` only checks and
  migrates it and ``db down`` stops nothing, as the README says for a
  ``DATABASE_URL``.

The lines it does not run are listed in :data:`NOT_RUN`, each with the reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO, create_database, drop_database

README = REPO / "README.md"

#: README lines (by their start) not run here, and why.
NOT_RUN = {
    "./scripts/demo.sh": "sets up the machine (system packages) and then serves until stopped",
    "./scripts/test.sh": "runs the whole test suite, this test included",
    ".venv/bin/hygiene-map serve": "serves until stopped; the test serves the same app with uvicorn on a free port",
    "docker compose": "no Docker engine runs on the project's machines (tests/test_compose.py checks the file)",
    ".venv/bin/hygiene-map city init": "sets up a city in a database without one; the demo is a city already "
                                       "(tests/test_yantai_city.py runs it on Yantai's real outlines)",
    ".venv/bin/hygiene-map import admin_areas yantai_districts_gaode.geojson":
        "a file that lives beside the clone (shared/real-data), not in it; tests/test_yantai_city.py imports it",
}
#: Examples that need a program the machine may lack: skipped (not failed) where it is missing.
NEEDS = {"ogrinfo": "gdal-bin", "ogr2ogr": "gdal-bin", "curl": "curl"}


def readme_examples(text: str) -> list[tuple[int, str]]:
    """(line number, command) of every example in the README's ``sh`` blocks, continuation lines joined."""
    examples, block, pending, start = [], False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            block = stripped == "```sh" if not block else False
            continue
        if not block or (not pending and (not stripped or stripped.startswith("#"))):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        examples.append((start, pending + stripped))
        pending = ""
    return examples


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))


def _not_run(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


def test_every_line_not_run_is_still_in_the_readme():
    """A stale entry would hide nothing; the list must follow the README."""
    for start in NOT_RUN:
        assert any(command.startswith(start) for _, command in EXAMPLES), f"no README example starts with {start!r}"
    assert sum(_not_run(c) is None for _, c in EXAMPLES) >= 15  # the README shows commands, and they are run


@pytest.fixture(scope="module")
def readme_env(module_fresh_db, pg_server, tmp_path_factory):
    """The scratch folder, the environment and the substitutions the examples run with."""
    from tests.chromium import serve_app

    work = tmp_path_factory.mktemp("readme")
    entry = work / ".venv" / "bin" / "hygiene-map"
    entry.parent.mkdir(parents=True)
    entry.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m api.cli \"$@\"\n", encoding="utf-8")
    entry.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    env.update(DATABASE_URL=module_fresh_db, PYTHONPATH=str(REPO))
    loaded = subprocess.run([str(entry), "demo", "--scale", "small"], cwd=work, env=env, capture_output=True,
                            text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    empty = create_database(pg_server[0])
    try:
        with serve_app(module_fresh_db) as base:
            yield work, env, {"127.0.0.1:8000": urlsplit(base).netloc, "postgresql://…/empty_db": empty}
    finally:
        drop_database(empty)


def _written(command: str) -> list[str]:
    """The files an example says it writes (``--out FILE``, curl's ``-o FILE``, ogr2ogr's ``-f FORMAT FILE``)."""
    return re.findall(r"(?:--out|-o|ogr2ogr .*-f \S+)[ =]((?:\$\([^)]*\)|[^\s$])+)", command)


@pytest.mark.parametrize("line,command", EXAMPLES, ids=[f"README.md:{n}" for n, _ in EXAMPLES])
def test_readme_example_runs_as_written(readme_env, line, command):
    why = _not_run(command)
    if why:
        pytest.skip(f"not run by design: {why}")
    program = next((p for p in NEEDS if re.search(rf"(^|\s){p}\s", command)), None)
    if program and shutil.which(program) is None:
        pytest.skip(f"{program} is not installed ({NEEDS[program]})")
    work, env, substitutions = readme_env
    script = command
    for written, actual in substitutions.items():
        script = script.replace(written, actual)
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (f"README.md line {line} failed (exit {done.returncode}):\n  {command}\n"
                                  f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    for name in _written(command):
        path = work / subprocess.run(["bash", "-c", f"echo {name}"], capture_output=True, text=True).stdout.strip()
        assert path.is_file() and path.stat().st_size > 0, f"README.md line {line} wrote no {name}:\n  {command}"
