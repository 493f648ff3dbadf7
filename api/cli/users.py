"""`hygiene-map users add|rotate|disable|enable|list`: users and their tokens (each token printed once)."""

from __future__ import annotations

import getpass

import click

from api.cli.output import LANG
from data.said import say
from data.vocab import ROLES

#: What the users commands print, in Chinese and in English (data.said.say); the names and codes are the same.
_SAID = {
    "added": ("已添加用户 {name}（{role}，{scope}）；令牌如下（只显示这一次，请妥善保管）：",
              "user {name} ({role}, {scope}) added; token (shown once, keep it safe):"),
    "disabled": ("已停用用户 {name}", "user {name} disabled"),
    "rotated": ("已为用户 {name}（{role}，{scope}）换发令牌，旧令牌即刻失效，网页登录已退出；新令牌如下（只显示这一次，请妥善保管）：",
                "user {name} ({role}, {scope}) has a new token; the old one is refused from now on and its page "
                "logins are ended; token (shown once, keep it safe):"),
    "still_disabled": ("用户 {name} 仍处于停用状态：新令牌要在 `hygiene-map users enable {name}` 之后才能使用",
                       "user {name} is still disabled: the new token works once `hygiene-map users enable {name}` "
                       "is run"),
    "enabled": ("已重新启用用户 {name}（沿用其现有令牌；令牌若已泄露，请先运行 users rotate）",
                "user {name} enabled again (with the token it holds; if that one leaked, run users rotate first)"),
    "header": ("用户\t角色\t范围\t状态\t创建时间\t创建者\t最近使用", "name\trole\tscope\tstate\tcreated\tcreated by\tlast used"),
    "never": ("从未使用", "never"),
    "active": ("启用", "enabled"),
    "off": ("已停用（{at}）", "disabled ({at})"),
    "none": ("尚无用户：用 hygiene-map users add 添加", "no users yet: add one with hygiene-map users add"),
    "none_unused": ("没有 {days} 天以上未使用的启用用户", "no enabled user unused for {days} days or more"),
}


def cli_actor() -> str:
    """Who a CLI change is recorded as: the OS user, marked as the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no passwd entry in some containers
        return "cli:unknown"


@click.group("users")
def users() -> None:
    """Users and their tokens (roles admin, planner, street, inspector)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="admin: everything; planner: reads everything but people's data, saves coverage plans; "
                   "street: its street; inspector: complaints in its grids")
@click.option("--street", "street_code", default=None, help="street code: scope of a street user or inspector")
@click.option("--grids", "grid_codes", default=None, help="comma-separated grid codes: scope of an inspector")
@LANG
def users_add(name: str, role: str, street_code: str | None, grid_codes: str | None, lang: str) -> None:
    """Add a user and print its bearer token. The token is shown only now; only its hash is stored."""
    from data.db import session, transaction
    from layers.workflow.access import add_user

    with session() as conn, transaction(conn):
        user, token = add_user(conn, name, role, street_code=street_code,
                               grid_codes=(grid_codes or "").split(","), created_by=cli_actor())
    click.echo(say(_SAID, "added", lang, name=user.name, role=user.role, scope=user.scope_text(lang)), err=True)
    click.echo(token)  # alone on stdout, the last line: `… | tail -n 1` is the token


@users.command("disable")
@click.argument("name")
@LANG
def users_disable(name: str, lang: str) -> None:
    """Disable a user; its token is refused from now on (`users enable` lets it in again)."""
    from data.db import session, transaction
    from layers.workflow.access import disable_user

    with session() as conn, transaction(conn):
        disable_user(conn, name, cli_actor())
    click.echo(say(_SAID, "disabled", lang, name=name))


@users.command("rotate")
@click.argument("name")
@LANG
def users_rotate(name: str, lang: str) -> None:
    """Replace a user's token: print the new one (only now); the old one and its page logins stop at once."""
    from data.db import session, transaction
    from layers.workflow.user_admin import rotate_token

    with session() as conn, transaction(conn):
        user, token, disabled = rotate_token(conn, name, cli_actor())
    click.echo(say(_SAID, "rotated", lang, name=user.name, role=user.role, scope=user.scope_text(lang)), err=True)
    if disabled:
        click.echo(say(_SAID, "still_disabled", lang, name=user.name), err=True)
    click.echo(token)  # alone on stdout, the last line, as `users add` prints it


@users.command("enable")
@click.argument("name")
@LANG
def users_enable(name: str, lang: str) -> None:
    """Enable a disabled user again, with the token it holds (run `users rotate` first if that one leaked)."""
    from data.db import session, transaction
    from layers.workflow.user_admin import enable_user

    with session() as conn, transaction(conn):
        enable_user(conn, name, cli_actor())
    click.echo(say(_SAID, "enabled", lang, name=name))


@users.command("list")
@click.option("--unused-days", type=click.IntRange(1, 36500), default=None, metavar="N",
              help="only the enabled users not used for N days or more (never used: counted from their creation)")
@LANG
def users_list(unused_days: int | None, lang: str) -> None:
    """List the users: name, role, scope, enabled or disabled, created, last used (tab-separated; never a token).

    Last used: the last page login or request with the user's token or login, in the city's time zone, kept to a
    quarter of an hour; 从未使用 (never) when not used since it was created."""
    from data.db import session
    from data.vocab import city_tz
    from layers.workflow.user_admin import list_users

    with session() as conn:
        rows = list_users(conn, unused_days)
    if not rows:
        click.echo(say(_SAID, "none", lang) if unused_days is None else say(_SAID, "none_unused", lang, days=unused_days))
        return
    click.echo(say(_SAID, "header", lang))
    zone = city_tz()

    def when(at) -> str:
        return f"{at.astimezone(zone):%Y-%m-%d %H:%M}"

    for row in rows:
        user, off, used = row["user"], row["disabled_at"], row["last_used_at"]
        state = say(_SAID, "off", lang, at=when(off)) if off else say(_SAID, "active", lang)
        click.echo("\t".join([user.name, user.role, user.scope_text(lang), state, when(row["created_at"]),
                              row["created_by"], when(used) if used else say(_SAID, "never", lang)]))
