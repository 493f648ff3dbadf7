"""`hygiene-map channels add|disable`: the api keys of Open311 partner channels (12345 hotline, 微信 …)."""

from __future__ import annotations

import click

from api.cli.users import cli_actor


@click.group("channels")
def channels() -> None:
    """Partner channels posting Open311 GeoReport v2 requests, each with its own api_key."""


@channels.command("add")
@click.argument("name")
def channels_add(name: str) -> None:
    """Add a partner channel and print its api_key. The key is shown only now; only its hash is stored."""
    from data.db import session, transaction
    from layers.workflow.open311 import add_channel

    with session() as conn, transaction(conn):
        key = add_channel(conn, name, cli_actor())
    click.echo(f"channel {name} added; api_key (shown once, give it to the partner and keep it safe):", err=True)
    click.echo(key)


@channels.command("disable")
@click.argument("name")
def channels_disable(name: str) -> None:
    """Disable a partner channel: its api_key is refused from now on (its requests stay)."""
    from data.db import session, transaction
    from layers.workflow.open311 import disable_channel

    with session() as conn, transaction(conn):
        disable_channel(conn, name, cli_actor())
    click.echo(f"channel {name} disabled")
