"""The `hygiene-map` command line: the top-level group, `serve`, and the command groups it gathers.

Every command turns a :class:`~data.errors.HygieneMapError` into one line on
stderr and a non-zero exit code; users never see a traceback. A reader that
closes the pipe early (``| head -1``) stops nothing (api/cli/output.py).
"""

from __future__ import annotations

import socket
import sys

import click
import psycopg2

from api.cli.analysis import analyze
from api.cli.channels import channels
from api.cli.city import city
from api.cli.data import export_command, import_command
from api.cli.db import db
from api.cli.demo import demo
from api.cli.grids import grids
from api.cli.help_zh import SAID_ZH, chinese_first_all
from api.cli.inspections import inspections
from api.cli.output import LANG, reader_may_leave
from api.cli.prints import print_group
from api.cli.report import report
from api.cli.usage import usage_zh
from api.cli.users import users
from data.db import query_error
from data.errors import HygieneMapError
from data.redact import redact


class _Group(click.Group):
    """A click group that reports project errors on one line, and runs on when its reader leaves (`| head -1`)."""

    def invoke(self, ctx):
        words = list(ctx.args)  # the subcommand's words (click empties them before it runs): is --lang en there?
        with reader_may_leave():  # a closed pipe neither stops the work nor changes the exit code
            return self._invoke(ctx, words)

    def _invoke(self, ctx, words: list[str]):
        try:
            return super().invoke(ctx)
        except HygieneMapError as exc:
            _say(exc, words)
            sys.exit(getattr(exc, "exit_code", 2))
        except click.UsageError as exc:
            if _english(words):
                raise  # click's own words
            click.echo(usage_zh(exc), err=True)
            sys.exit(exc.exit_code)
        except psycopg2.Error as exc:
            said = query_error(exc)  # a statement time-out, a lost connection: what to do about it
            if said is not None:
                _say(said, words)
            else:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                click.echo(f"hygiene-map: database error: {redact(first)}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("hygiene-map: interrupted", err=True)
            sys.exit(130)


def _english(words: list[str]) -> bool:
    """Whether ``--lang en`` was typed among the command's words."""
    return "--lang=en" in words or any(a == "--lang" and b == "en" for a, b in zip(words, words[1:]))


def _say(exc: HygieneMapError, words: list[str]) -> None:
    """The error on one line of stderr: in Chinese where it has its Chinese words, unless ``--lang en`` was typed."""
    if exc.zh and not _english(words):
        click.echo(f"hygiene-map：错误：{exc.zh}", err=True)
    else:
        click.echo(f"hygiene-map: error: {exc}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """hygiene-map: coverage gaps, complaint hotspots, grids and field maps for city hygiene campaigns (创卫)."""


def _refuse_an_old_schema(lang: str) -> None:
    """A database whose schema lacks this code's migrations, or holds a newer code's, is refused before serving
    (each request would fail); one that cannot be reached yet is served all the same, said on one line: the
    server checks the migrations when it first reaches it (data.db.Database), /healthz says 503 until then."""
    from data.db import connect
    from data.errors import DatabaseUnavailable, SetupError
    from data.migrate import newer_schema_error, schema_state

    try:
        conn = connect()
    except DatabaseUnavailable as exc:
        if lang == "en":
            click.echo(f"hygiene-map: the database cannot be reached yet; serving all the same: its migrations are "
                       f"checked when it is first reached, /healthz is 503 until then ({exc.message})", err=True)
        else:
            click.echo(f"hygiene-map：数据库暂时无法连接，服务照常启动；数据库恢复后首次连接时检查迁移，在此之前 /healthz "
                       f"返回 503（{exc.zh or exc.message}）", err=True)
        return
    try:
        state = schema_state(conn)
    finally:
        conn.close()
    if state.unknown:
        raise newer_schema_error(state.unknown)
    pending = state.pending
    if pending:
        raise SetupError(f"the database lacks {len(pending)} migrations of this hygiene-map ({', '.join(pending)}): "
                         "apply them with `hygiene-map db migrate`, then serve",
                         f"数据库缺少当前 hygiene-map 的 {len(pending)} 个迁移（{'、'.join(pending)}）："
                         "请先运行 `hygiene-map db migrate`，再启动服务")


def _refuse_a_busy_port(host: str, port: int) -> None:
    """A port another program listens on is refused on one line before uvicorn starts (uvicorn says so in English,
    over several lines, after "Application startup complete"). The probe binds as uvicorn does (SO_REUSEADDR) and
    lets go at once."""
    import errno

    from data.errors import InvalidParameter

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InvalidParameter("--port", f"port {port} is already in use: choose another port or stop the "
                                   "program that uses it",
                                   f"端口 {port} 已被占用：换一个端口或停止占用它的程序") from None
        if exc.errno == errno.EACCES:
            raise InvalidParameter("--port", f"port {port} needs root's rights here: choose a port above 1023",
                                   f"端口 {port} 需要 root 权限：请换一个大于 1023 的端口") from None
        # Anything else (a host name that does not resolve …): uvicorn's own message says what.


def _say_how_links_are_made(host: str, lang: str) -> None:
    """Listening beyond this machine without HYGIENE_MAP_PUBLIC_URL: one line on what links will hold (api/urls.py)
    — a name users type that is not allowed becomes the address the request came in on (127.0.0.1 behind a proxy
    on this machine), so paging and QR codes would lead elsewhere."""
    import ipaddress

    from data.settings import LinkSettings

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if loopback or LinkSettings.from_env().public_url:
        return
    if lang == "en":
        click.echo(f"hygiene-map: listening on {host} without HYGIENE_MAP_PUBLIC_URL: links and QR codes use the "
                   "request's Host only when allowed (localhost, the address it reached, HYGIENE_MAP_ALLOWED_HOSTS), "
                   "else the address it reached (127.0.0.1 behind a proxy on this machine); set HYGIENE_MAP_PUBLIC_URL "
                   "to the address users reach", err=True)
        return
    click.echo(f"hygiene-map：在 {host} 上监听而未设置 HYGIENE_MAP_PUBLIC_URL：链接和二维码只在请求的 Host 被允许"
               "（localhost、请求到达的本机地址、HYGIENE_MAP_ALLOWED_HOSTS）时用它，否则用请求到达的本机地址"
               "（经本机反向代理时为 127.0.0.1）；请把 HYGIENE_MAP_PUBLIC_URL 设为用户访问的地址", err=True)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@LANG
def serve(host: str, port: int, workers: int, lang: str) -> None:
    """Serve the maps and the API."""
    import uvicorn

    from data.db import database_url

    _refuse_a_busy_port(host, port)
    database_url()  # fail now, with a clear message, if there is no database configured
    _refuse_an_old_schema(lang)
    _say_how_links_are_made(host, lang)
    # Proxy headers are read by api.urls from HYGIENE_MAP_TRUSTED_PROXIES only, not by uvicorn's own rule;
    # api/middleware.py logs each request, with its secrets masked, so uvicorn's access log is off.
    options = dict(factory=True, host=host, port=port, workers=workers, log_level="info", access_log=False,
                   proxy_headers=False)
    if workers == 1:
        uvicorn.run("api.app:create_app", **options)
        return
    from uvicorn.supervisors import Multiprocess

    # uvicorn hands its workers a socket made without a protocol number, so asyncio never sets TCP_NODELAY on
    # the connections they accept and Nagle's algorithm holds a kept-alive answer's last segment ~40 ms.
    # Accepted sockets inherit the option from the listening one.
    config = uvicorn.Config("api.app:create_app", **options)
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


# One module per command group (api/cli/*.py); serve is the only command of its own.
for _command in (db, demo, city, import_command, export_command, analyze, grids, print_group, report, users,
                 channels, inspections):
    main.add_command(_command)
chinese_first_all(main)
main.help = f"{SAID_ZH['']}\n\n{main.help}"

if __name__ == "__main__":
    main()
