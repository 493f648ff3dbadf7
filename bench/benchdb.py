"""The benches' own databases beside the city's: made fresh (empty, or a copy of another), dropped after."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql


def with_db(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name``."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _admin(url: str, statement: sql.Composable) -> None:
    admin = psycopg2.connect(with_db(url, "postgres"))
    admin.autocommit = True  # CREATE and DROP DATABASE run outside a transaction
    try:
        with admin.cursor() as cur:
            cur.execute(statement)
    finally:
        admin.close()


def drop_database(url: str, name: str) -> None:
    """Drop database ``name`` of ``url``'s server, if there, closing its connections."""
    _admin(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def new_database(url: str, name: str, *, template: str | None = None) -> str:
    """Database ``name`` made afresh beside ``url``'s (empty, or a copy of ``template``); its URL."""
    drop_database(url, name)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    _admin(url, create)
    return with_db(url, name)
