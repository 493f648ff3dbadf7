"""A print on a database without a city says how to set one up: the one NO_CITY message (NO_CITY_ZH in Chinese)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from api.cli.main import main
from data.catalog import NO_CITY, NO_CITY_ZH
from data.db import connect
from data.migrate import migrate
from data.vocab import set_city_tz


@pytest.fixture(autouse=True)
def _default_zone():
    """`city init` sets the process's city zone: leave it the default for the tests that follow."""
    yield
    set_city_tz(None)


def test_print_grid_without_a_city_says_how_to_set_one_up(fresh_db, env_for, tmp_path):
    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    env_for(fresh_db)
    out = tmp_path / "g.pdf"
    run = CliRunner().invoke(main, ["print", "grid", "X", "--out", str(out)])  # in Chinese by default
    assert run.exit_code != 0 and "Traceback" not in run.output
    assert f"hygiene-map：错误：{NO_CITY_ZH}\n" in run.output and "hygiene-map city init" in run.output, run.output
    run = CliRunner().invoke(main, ["print", "grid", "X", "--out", str(out), "--lang", "en"])
    assert run.exit_code != 0 and f"hygiene-map: error: {NO_CITY}\n" in run.output, run.output
    assert not out.exists()


def test_print_grid_in_a_city_without_a_metric_crs_says_how_to_choose_one(fresh_db, env_for, tmp_path):
    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    env_for(fresh_db)
    init = CliRunner().invoke(main, ["city", "init", "--name", "烟台市", "--code", "370600"])
    assert init.exit_code == 0, init.output
    run = CliRunner().invoke(main, ["print", "grid", "X", "--out", str(tmp_path / "g.pdf")])
    assert run.exit_code != 0 and "Traceback" not in run.output
    assert "本市尚无度量坐标系" in run.output and "city set --crs" in run.output
