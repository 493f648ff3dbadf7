"""The SQL of the columns a caller may read: every SQL builder selects through these.

:func:`layers.workflow.access.readable` decides which columns a user reads
(and on which rows); this module turns that decision into SQL: a column read
on every row is its identifier, a column read on some rows only (a street
user's own street) is ``CASE WHEN street_code = ANY(…) THEN col END``, a
column not readable is not selected at all.
"""

from __future__ import annotations

from psycopg2 import sql

from layers.spec.model import Field, LayerSpec
from layers.workflow.access import RowScope, User, readable


def grant_sql(column: str, grant: bool | RowScope, table: str | None = None) -> sql.Composable:
    """The expression of one readable column (``table``: qualify its columns with this alias)."""

    def ident(name: str) -> sql.Composable:
        return sql.Identifier(table, name) if table else sql.Identifier(name)

    if grant is True:
        return ident(column)
    return sql.SQL("CASE WHEN {scope} = ANY({values}) THEN {col} END").format(
        scope=ident(grant.column), values=sql.Literal(list(grant.values)), col=ident(column))


def shown_columns(spec: LayerSpec, user: User | None, fields: tuple[Field, ...] | None = None,
                  table: str | None = None) -> list[tuple[str, sql.Composable]]:
    """(column, SQL expression) of each column of ``fields`` (default: the feature properties) the user reads."""
    return [(column, grant_sql(column, grant, table)) for column, grant in readable(spec, user, fields).items()]


def properties_sql(spec: LayerSpec, user: User | None, table: str | None = None) -> sql.Composable:
    """``json_build_object('col', expression, …)`` of the feature properties ``user`` may read."""
    args: list[sql.Composable] = []
    for column, expression in shown_columns(spec, user, table=table):
        args += [sql.Literal(column), expression]
    return sql.SQL("json_build_object({})").format(sql.SQL(", ").join(args))
