"""The `hygiene-map` command: db lifecycle, and one-line errors for bad set-ups."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "api.cli"]
REPO = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    return subprocess.run([*CLI, *args], env={**base, **env}, capture_output=True, text=True, cwd=REPO, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def home():
    path = Path(tempfile.mkdtemp(prefix="hm-cli-"))
    os.chmod(path, 0o755)
    yield path
    subprocess.run([*CLI, "db", "down"], env={**os.environ, "HYGIENE_MAP_HOME": str(path)}, capture_output=True,
                   cwd=REPO)
    shutil.rmtree(path, ignore_errors=True)


def test_db_up_twice_is_harmless_and_status_prints_the_url(home):
    env = {"HYGIENE_MAP_HOME": str(home)}
    first = run(["db", "up"], env)
    assert first.returncode == 0, first.stderr
    assert "已应用迁移：0001_foundation" in first.stdout
    second = run(["db", "up", "--lang", "en"], env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout and "up to date" in second.stdout
    status = run(["db", "status", "--lang", "en"], env)
    assert status.returncode == 0
    assert "postgresql://hygiene_map@127.0.0.1:" in status.stdout
    assert "running, PostGIS 3." in status.stdout and "0 pending" in status.stdout
    status_zh = run(["db", "status"], env)
    assert "状态：运行中，PostGIS 3." in status_zh.stdout and "0 个待应用" in status_zh.stdout, status_zh.stdout
    assert "数据库地址：postgresql://hygiene_map@127.0.0.1:" in status_zh.stdout
    down = run(["db", "down"], env)
    assert down.returncode == 0 and "已停止" in down.stdout
    stopped = run(["db", "status", "--lang", "en"], env)
    assert stopped.returncode != 0 and "unreachable" in stopped.stdout
    assert "状态：无法连接" in run(["db", "status"], env).stdout


def test_db_up_after_down_keeps_the_url_a_running_server_uses(home):
    import psycopg2

    env = {"HYGIENE_MAP_HOME": str(home)}
    assert run(["db", "up"], env).returncode == 0
    url = next(line[5:] for line in run(["db", "status", "--lang", "en"], env).stdout.splitlines()
               if line.startswith("url: "))
    # A running server's idle pooled connections: when the database stops, their server ends linger
    # in FIN-WAIT-2 on the old port (up to a minute) until the pool touches them.
    idle_pool = [psycopg2.connect(url) for _ in range(3)]
    for conn in idle_pool:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    assert run(["db", "down"], env).returncode == 0
    assert run(["db", "up"], env).returncode == 0
    again = next(line[5:] for line in run(["db", "status", "--lang", "en"], env).stdout.splitlines()
               if line.startswith("url: "))
    assert again == url
    psycopg2.connect(url).close()
    for conn in idle_pool:
        conn.close()


def test_db_up_without_postgresql_installed_says_how_to_install_it(home):
    result = run(["db", "up"], {"HYGIENE_MAP_HOME": str(home), "HYGIENE_MAP_PG_BINDIR": str(home / "no-server")})
    assert_one_line_error(result, "hygiene-map：错误：未安装 PostgreSQL 服务器", "apt-get install")


def test_db_up_with_an_unwritable_data_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run(["db", "up"], {"HYGIENE_MAP_HOME": str(blocker / "pg")})
    assert_one_line_error(result, "hygiene-map：错误：无法创建数据目录", "HYGIENE_MAP_HOME")


def test_db_up_on_a_busy_port(home):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["db", "up"], {"HYGIENE_MAP_HOME": str(home), "HYGIENE_MAP_DB_PORT": str(port)})
    assert_one_line_error(result, f"端口 {port}", "已被占用")


def test_database_url_pointing_nowhere():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = run(["db", "up"], {"DATABASE_URL": f"postgresql://someone:secret@127.0.0.1:{port}/nothing"})
    assert_one_line_error(result, "hygiene-map：错误：无法连接数据库", f"127.0.0.1:{port}")
    assert "secret" not in result.stderr


def test_commands_before_any_database_exists_explain_what_to_do(home):
    result = run(["demo"], {"HYGIENE_MAP_HOME": str(home)})
    assert_one_line_error(result, "hygiene-map db up")


@pytest.mark.parametrize("english", [["--lang", "en"], ["--lang=en"]])
def test_a_refusal_is_said_in_chinese_unless_lang_en_is_typed(tmp_path, english):
    """An office clerk reads the refusal in Chinese; typed --lang en, the same refusal in English (unchanged)."""
    bulletin = ["report", "bulletin", "--period", "month", "--date", "2026-10", "--out", str(tmp_path / "b.docx")]
    said = run(bulletin, {})
    assert said.returncode == 2 and said.stdout == "", said.stdout
    assert said.stderr == "hygiene-map：错误：--out：'b.docx'：通报只能写成 文件.pdf 或 文件.xlsx\n", said.stderr
    said = run([*bulletin, *english], {})
    assert said.returncode == 2 and said.stdout == "", said.stdout
    assert said.stderr == "hygiene-map: error: --out: 'b.docx': the bulletin is written as FILE.pdf or FILE.xlsx\n", said.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_help_lists_the_contract_commands():
    result = run(["--help"], {})
    assert result.returncode == 0
    for command in ("db", "demo", "serve"):
        assert command in result.stdout


def test_serve_with_workers_turns_nagle_off_on_the_socket_its_workers_accept_on(monkeypatch):
    # With several workers uvicorn's accepted connections never get TCP_NODELAY from asyncio, and every
    # kept-alive answer waited ~40 ms for the peer's delayed ACK (measured: /healthz 44 ms -> 1.3 ms).
    import uvicorn.supervisors
    from click.testing import CliRunner

    from api.cli.main import main

    handed: list[socket.socket] = []

    class Supervisor:
        def __init__(self, config, sockets):
            handed.extend(sockets)

        def run(self):
            return None

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Supervisor)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert len(handed) == 1
    try:
        assert handed[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        handed[0].close()


def test_db_up_when_the_port_is_taken_as_the_server_starts(home, monkeypatch):
    """Another server takes the port between the check and PostgreSQL's start (two set-ups at once): the error
    says the port is busy, not the log's last line ("database system is shut down")."""
    from data import cluster
    from data.errors import SetupError
    from data.settings import DatabaseSettings

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setattr(cluster, "_port_is_free", lambda p: True)  # free when checked, taken just after
        embedded = cluster.EmbeddedCluster(DatabaseSettings.from_env(
            {"HYGIENE_MAP_HOME": str(home), "HYGIENE_MAP_DB_PORT": str(port)}))
        embedded.init()
        with pytest.raises(SetupError) as raised:
            embedded.start(timeout_s=30)
    assert f"port {port} is busy" in str(raised.value) and "shut down" not in str(raised.value), raised.value
    # The port is not remembered as the cluster's: later commands do not reach the server that holds it.
    status = run(["db", "status"], {"HYGIENE_MAP_HOME": str(home)})
    assert_one_line_error(status, "从未启动过", "hygiene-map db up")


def test_db_status_of_a_stopped_cluster_whose_port_another_server_took(home, pg_server):
    """A stopped cluster whose remembered port now belongs to another PostgreSQL (another user's cluster):
    `db status` says it is stopped, not "running" with the other server's migrations."""
    from data.cluster import EmbeddedCluster
    from data.settings import DatabaseSettings

    if pg_server[1] is None:
        pytest.skip("the tests' server is not an embedded cluster")
    mine = EmbeddedCluster(DatabaseSettings.from_env({"HYGIENE_MAP_HOME": str(home)}))
    mine.init()
    mine.port_file.write_text(f"{pg_server[1].port}\n")  # where it ran before it was stopped
    result = run(["db", "status", "--lang", "en"], {"HYGIENE_MAP_HOME": str(home)})
    assert result.returncode == 1 and "(stopped)" in result.stdout, result.stdout + result.stderr
    assert "status: stopped" in result.stdout and "status: running" not in result.stdout, result.stdout
    said = run(["db", "status"], {"HYGIENE_MAP_HOME": str(home)}).stdout
    assert "（已停止）" in said and "状态：已停止；占用其端口的是另一个服务器" in said and "运行中" not in said, said


@pytest.mark.parametrize("command", [[sys.executable, "-m", "api.cli"], [sys.executable, "-m", "api.cli.main"],
                                     [str(REPO / ".venv" / "bin" / "hygiene-map")]])
def test_each_way_of_running_the_command_says_its_usage_and_nothing_else(command):
    """`hygiene-map`, `python -m api.cli` and `python -m api.cli.main` all run the command, with nothing on
    standard error (runpy warned of a module imported twice when the package imported it first)."""
    if not Path(command[0]).exists():
        pytest.skip("no console script: the project is not installed in .venv")
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0 and "import" in done.stdout and "serve" in done.stdout
    assert done.stderr == "", done.stderr


def test_a_command_typed_wrong_is_said_in_chinese_unless_lang_en_is_typed():
    """A value not among an option's choices, an unknown option, a missing argument: said in Chinese naming what
    was typed and the help to read; with --lang en, click's own English stands."""
    kind = run(["inspections", "round", "--kind", "周查", "--name", "x"], {})
    assert kind.returncode == 2 and kind.stdout == ""
    error, helped = kind.stderr.splitlines()
    assert error == "hygiene-map：错误：--kind：'周查' 不是可选值；只能是 周检查、月度暗访、专项检查、复审模拟 之一", kind.stderr
    assert helped.startswith("运行 '") and helped.endswith(" inspections round --help' 查看用法"), helped
    typo = run(["inspections", "round", "--kindd", "x"], {})
    assert typo.returncode == 2 and typo.stderr.startswith("hygiene-map：错误：没有选项 --kindd（是否想用 "), typo.stderr
    missing = run(["import", "toilets"], {})
    assert missing.returncode == 2 and missing.stderr.startswith("hygiene-map：错误：缺少参数 FILE\n"), missing.stderr
    english = run(["inspections", "round", "--kind", "周查", "--name", "x", "--lang", "en"], {})
    assert english.returncode == 2 and "Error: Invalid value for '--kind': '周查' is not one of" in english.stderr
    assert "Traceback" not in kind.stderr + typo.stderr + missing.stderr + english.stderr


def test_a_schema_older_than_the_code_says_run_db_migrate(pg_server):
    """The code upgraded (a git pull), its newest migration not applied: a command reading the missing column said
    "database error: column … does not exist", and `serve` started and answered 500 to every request. Both now
    say to run `hygiene-map db migrate`; after it the command works."""
    import psycopg2

    from tests.conftest import create_database, drop_database

    url = create_database(pg_server[0])
    try:
        _older_schema_then_migrated(url, psycopg2)
    finally:
        drop_database(url)


def _older_schema_then_migrated(url: str, psycopg2) -> None:
    assert run(["db", "migrate"], {"DATABASE_URL": url}).returncode == 0
    with psycopg2.connect(url) as conn, conn.cursor() as cur:  # as before migration 0880
        cur.execute("ALTER TABLE inspection_rounds DROP COLUMN unannounced")
        cur.execute("DELETE FROM schema_migrations WHERE version = 880")
    rounds = run(["inspections", "rounds"], {"DATABASE_URL": url})
    assert_one_line_error(rounds, "hygiene-map：错误：数据库结构比当前 hygiene-map 旧", "hygiene-map db migrate")
    serve = run(["serve", "--port", "0"], {"DATABASE_URL": url})
    assert_one_line_error(serve, "数据库缺少当前 hygiene-map 的 1 个迁移（0880_round_unannounced）", "db migrate")
    assert run(["db", "migrate"], {"DATABASE_URL": url}).returncode == 0
    assert run(["inspections", "rounds"], {"DATABASE_URL": url}).returncode == 0
