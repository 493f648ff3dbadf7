"""The embedded PostgreSQL + PostGIS cluster used when DATABASE_URL is not set.

`hygiene-map db up` creates (once) and starts a cluster of the installed
server in a directory the project owns (``HYGIENE_MAP_HOME``)::

    HOME/pgdata        the cluster (initdb)
    HOME/run           its unix socket
    HOME/postgres.log  the server log
    HOME/port          the TCP port on 127.0.0.1 it listens on

Run as root, the cluster runs as an unprivileged OS user (PostgreSQL refuses
root), created on first use.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

from data.errors import SetupError
from data.settings import DatabaseSettings

SUPERUSER = "hygiene_map"
DATABASE = "hygiene_map"

INSTALL_HINT = (
    "install it with `sudo apt-get install postgresql postgresql-15-postgis-3` "
    "(or run ./scripts/setup.sh), or set DATABASE_URL to an existing PostGIS server"
)
INSTALL_HINT_ZH = ("请用 `sudo apt-get install postgresql postgresql-15-postgis-3` 安装（或运行 ./scripts/setup.sh），"
                   "或把 DATABASE_URL 设为已有的 PostGIS 服务器")

# Server settings for a laptop-sized cluster that bulk-loads a city.
SERVER_CONF = """
# hygiene-map embedded cluster
listen_addresses = '127.0.0.1'
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
checkpoint_timeout = 15min
max_connections = 200
"""


def find_pg_bindir(override: Path | None = None) -> Path:
    """The bin directory of the newest installed PostgreSQL server (or HYGIENE_MAP_PG_BINDIR)."""
    if override is not None:
        if not (override / "initdb").exists():
            raise SetupError(f"PostgreSQL server is not installed (no initdb in {override}): {INSTALL_HINT}",
                             f"未安装 PostgreSQL 服务器（{override} 中没有 initdb）：{INSTALL_HINT_ZH}")
        return override
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    raise SetupError(f"PostgreSQL server is not installed (no initdb found): {INSTALL_HINT}",
                     f"未安装 PostgreSQL 服务器（找不到 initdb）：{INSTALL_HINT_ZH}")


def _port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen on ``port``: nothing else listens there.

    SO_REUSEADDR as PostgreSQL sets it: connections of a cluster just
    stopped linger in TIME_WAIT for a minute, and without it the probe would
    call the port busy and ``db up`` would move the cluster to another port,
    out of reach of a running server that still has the old URL.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedCluster:
    """A project-local PostgreSQL cluster in ``settings.home``."""

    def __init__(self, settings: DatabaseSettings):
        self.settings = settings
        self.home = settings.home
        self.pgdata = self.home / "pgdata"
        self.socket_dir = self.home / "run"
        self.logfile = self.home / "postgres.log"
        self.port_file = self.home / "port"

    # -- what it is -------------------------------------------------------
    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def url(self) -> str:
        """The database URL of the cluster (it need not be running)."""
        port = self.port
        if port is None:
            done = "has never started" if self.is_initialized() else "has not been created"
            raise SetupError(f"the embedded database in {self.home} {done}: run `hygiene-map db up` "
                             "(or set DATABASE_URL)",
                             f"{self.home} 中的内置数据库{'从未启动过' if self.is_initialized() else '尚未创建'}："
                             "请运行 `hygiene-map db up`（或设置 DATABASE_URL）")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"

    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        result = self._run([self._bin("pg_ctl"), "status", "-D", str(self.pgdata)], check=False)
        return result.returncode == 0

    # -- running commands, as an unprivileged user when root ----------------
    def _bin(self, name: str) -> str:
        return str(find_pg_bindir(self.settings.pg_bindir) / name)

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        command = Path(argv[0]).name
        if self._as_root():
            argv = ["runuser", "-u", self.settings.os_user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            last = detail[-1] if detail else None
            raise SetupError(f"{command} failed: {last or f'exit code {result.returncode}'}",
                             f"{command} 失败：{last or f'退出码 {result.returncode}'}")
        return result

    def _ensure_os_user(self) -> None:
        if not self._as_root():
            return
        try:
            pwd.getpwnam(self.settings.os_user)
            return
        except KeyError:
            pass
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.settings.os_user],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SetupError(f"cannot create OS user {self.settings.os_user!r}: {result.stderr.strip()}",
                             f"无法创建操作系统用户 {self.settings.os_user!r}：{result.stderr.strip()}")

    def _prepare_home(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupError(
                f"cannot create the data directory {self.home}: {exc.strerror}; "
                "set HYGIENE_MAP_HOME to a writable directory",
                f"无法创建数据目录 {self.home}：{exc.strerror}；请把 HYGIENE_MAP_HOME 设为可写的目录"
            ) from None
        if not os.access(self.home, os.W_OK | os.X_OK):
            raise SetupError(
                f"the data directory {self.home} is not writable; set HYGIENE_MAP_HOME to a writable directory",
                f"数据目录 {self.home} 不可写；请把 HYGIENE_MAP_HOME 设为可写的目录"
            )
        if self._as_root():
            entry = pwd.getpwnam(self.settings.os_user)
            for path in (self.home, self.socket_dir):
                path.mkdir(exist_ok=True)
                os.chown(path, entry.pw_uid, entry.pw_gid)
            probe = subprocess.run(
                ["runuser", "-u", self.settings.os_user, "--", "test", "-w", str(self.home)],
                capture_output=True,
            )
            if probe.returncode != 0:
                raise SetupError(
                    f"the data directory {self.home} cannot be reached by OS user {self.settings.os_user!r} "
                    "(as root the cluster runs unprivileged); choose a HYGIENE_MAP_HOME outside /root, "
                    "e.g. /var/lib/hygiene-map",
                    f"操作系统用户 {self.settings.os_user!r} 无法访问数据目录 {self.home}（以 root 运行时数据库以非特权用户运行）；"
                    "请把 HYGIENE_MAP_HOME 设在 /root 之外，例如 /var/lib/hygiene-map"
                )
        else:
            self.socket_dir.mkdir(exist_ok=True)

    # -- lifecycle ----------------------------------------------------------
    def init(self) -> bool:
        """Create the cluster if it does not exist. Returns True if it was created."""
        find_pg_bindir(self.settings.pg_bindir)  # fail early, with the install hint
        self._ensure_os_user()
        self._prepare_home()
        if self.is_initialized():
            return False
        self._run(
            [
                self._bin("initdb"),
                "-D", str(self.pgdata),
                "-U", SUPERUSER,
                "--auth=trust",
                "-E", "UTF8",
                "--locale=C",
            ]
        )
        with open(self.pgdata / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(SERVER_CONF)
        return True

    def _choose_port(self) -> int:
        wanted = self.settings.port
        if wanted is not None:
            if not _port_is_free(wanted):
                raise SetupError(
                    f"port {wanted} (HYGIENE_MAP_DB_PORT) is busy on 127.0.0.1: "
                    "stop what uses it, choose another port, or unset HYGIENE_MAP_DB_PORT to pick a free one",
                    f"127.0.0.1 上的端口 {wanted}（HYGIENE_MAP_DB_PORT）已被占用：请停止占用它的程序、换一个端口，"
                    "或取消 HYGIENE_MAP_DB_PORT 以自动选择空闲端口"
                )
            return wanted
        previous = self.port
        if previous is not None and _port_is_free(previous):
            return previous
        return _free_port()

    def start(self, timeout_s: int = 60) -> None:
        """Start the cluster (idempotent) and create the database."""
        if self.is_running():
            return
        port, before = self._choose_port(), self.port
        self.port_file.write_text(f"{port}\n")
        logged = self.logfile.stat().st_size if self.logfile.exists() else 0
        result = self._run(
            [
                self._bin("pg_ctl"),
                "-D", str(self.pgdata),
                "-l", str(self.logfile),
                "-w", "-t", str(timeout_s),
                "-o", f"-p {port} -k {self.socket_dir}",
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            # The port stays the cluster's only if it ran there: commands must not reach whatever holds it now.
            if before is None:
                self.port_file.unlink(missing_ok=True)
            else:
                self.port_file.write_text(f"{before}\n")
            raise SetupError(*self._start_failure(port, logged))
        self._create_database()

    def _start_failure(self, port: int, logged: int) -> tuple[str, str]:
        """Why the server did not start (in English and Chinese), from what this start wrote to its log (past
        byte ``logged``): the reason (its first FATAL or PANIC line), not the last line ("database system is shut
        down"); a port taken since it was checked is said so."""
        try:
            with open(self.logfile, "rb") as log:
                log.seek(logged)
                lines = log.read().decode(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        if any("Address already in use" in line for line in lines):
            return (f"port {port} is busy on 127.0.0.1: another server took it as the embedded PostgreSQL started "
                    f"(see {self.logfile}); run `hygiene-map db up` again, or choose another HYGIENE_MAP_DB_PORT",
                    f"127.0.0.1 上的端口 {port} 已被占用：内置 PostgreSQL 启动时另一个服务器占用了它（见 {self.logfile}）；"
                    "请再次运行 `hygiene-map db up`，或换一个 HYGIENE_MAP_DB_PORT")
        reason = next((line for line in lines if "FATAL" in line or "PANIC" in line), lines[-1] if lines else "")
        return (f"the embedded PostgreSQL did not start (see {self.logfile}): {reason}",
                f"内置 PostgreSQL 未能启动（见 {self.logfile}）：{reason}")

    def _create_database(self) -> None:
        import psycopg2

        deadline = time.monotonic() + 10
        while True:
            try:
                conn = psycopg2.connect(
                    host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", connect_timeout=2
                )
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise SetupError(f"the embedded PostgreSQL started but refuses connections (see {self.logfile})",
                                     f"内置 PostgreSQL 已启动但拒绝连接（见 {self.logfile}）") from None
                time.sleep(0.2)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            conn.close()

    def empty_if_unused(self, keep: tuple[str, ...]) -> bool:
        """Drop and create again the cluster's database when it holds hygiene-map's tables but no row in any of
        ``keep`` (what `db up` leaves: migrated, no city, no user), so a backup can be restored into it; True if
        it did. A database with data is left alone."""
        import psycopg2

        conn = psycopg2.connect(self.url())
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
                if not cur.fetchone()[0]:
                    return False
                for table in keep:
                    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",))
                    if cur.fetchone()[0]:
                        cur.execute(f'SELECT EXISTS (SELECT FROM "{table}")')
                        if cur.fetchone()[0]:
                            return False
        finally:
            conn.close()
        admin = psycopg2.connect(self.url().rsplit("/", 1)[0] + "/postgres")
        try:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE "{DATABASE}"')  # fails, said, while a server is connected to it
                cur.execute(f'CREATE DATABASE "{DATABASE}"')
        except psycopg2.Error as exc:
            raise SetupError(f"cannot empty the embedded database for the restore: {exc.pgerror or exc}; "
                             "stop `hygiene-map serve` first",
                             f"无法清空内置数据库以便恢复：{exc.pgerror or exc}；请先停止 `hygiene-map serve`") from None
        finally:
            admin.close()
        return True

    def stop(self) -> bool:
        """Stop the cluster. Returns False if it was not running."""
        if not self.is_running():
            return False
        self._run([self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])
        return True
