"""`hygiene-map channels add|disable`: the api keys of Open311 partner channels (12345 hotline, 微信 …)."""

from __future__ import annotations

import click

from api.cli.output import LANG
from api.cli.users import cli_actor
from data.said import say

#: What the channels commands print, in Chinese and in English (data.said.say); the names are the same.
_SAID = {
    "added": ("已添加合作渠道 {name}；api_key 如下（只显示这一次，请交给合作方并妥善保管）：",
              "channel {name} added; api_key (shown once, give it to the partner and keep it safe):"),
    "disabled": ("已停用合作渠道 {name}", "channel {name} disabled"),
}


@click.group("channels")
def channels() -> None:
    """Partner channels posting Open311 GeoReport v2 requests, each with its own api_key."""


@channels.command("add")
@click.argument("name")
@click.option("--display", default=None, metavar="名称",
              help="the name residents read on the public pages (\"经“名称”转来\"); NAME when not given")
@LANG
def channels_add(name: str, display: str | None, lang: str) -> None:
    """Add a partner channel and print its api_key. The key is shown only now; only its hash is stored.

    NAME is the channel's short handle (command line, audit); --display what residents read on public pages."""
    from data.db import session, transaction
    from layers.workflow.open311 import add_channel

    with session() as conn, transaction(conn):
        key = add_channel(conn, name, cli_actor(), display)
    click.echo(say(_SAID, "added", lang, name=name), err=True)
    click.echo(key)  # alone on stdout, the last line: `… | tail -n 1` is the key


@channels.command("disable")
@click.argument("name")
@LANG
def channels_disable(name: str, lang: str) -> None:
    """Disable a partner channel: its api_key is refused from now on (its requests stay)."""
    from data.db import session, transaction
    from layers.workflow.open311 import disable_channel

    with session() as conn, transaction(conn):
        disable_channel(conn, name, cli_actor())
    click.echo(say(_SAID, "disabled", lang, name=name))
