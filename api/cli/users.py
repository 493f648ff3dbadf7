"""`hygiene-map users add|disable`: create a user and print its token once; disable one."""

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
    """Disable a user; its token is refused from now on (to replace a token: disable, then add a new user)."""
    from data.db import session, transaction
    from layers.workflow.access import disable_user

    with session() as conn, transaction(conn):
        disable_user(conn, name, cli_actor())
    click.echo(say(_SAID, "disabled", lang, name=name))
