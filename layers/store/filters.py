"""Which rows of a layer a request selects: typed filters and the one WHERE clause built from them.

Features (``/api/layers/…/features``), vector tiles, heatmaps and OGC API
items all select rows the same way (tipg's ``Collection.features`` style):
a :class:`Filters` value of typed keyword filters, turned into SQL by
:func:`where_clause`. Values are parameters, identifiers go through
``psycopg2.sql.Identifier``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg2 import sql

from data.catalog import check_street
from data.errors import InvalidParameter
from data.params import BBox, TimeWindow
from layers.spec.model import LayerSpec

# Filter columns whose values live in a lookup table: unknown values are a clear 422, not an empty page.
LOOKUPS = {"category": ("event_types", "name")}


@dataclass(frozen=True)
class Filters:
    """Typed row filters of a layer; all given ones must hold.

    ``boxes``: lon/lat boxes, a row in any of them (two when a box crosses
    180°); ``exact`` tests the geometry itself (``ST_Intersects``) instead of
    its bounding box (``&&``, cheaper; may take in a point a hair outside).
    ``window``: on the layer's time column, since inclusive, until exclusive.
    ``values``: (column, allowed values) pairs.
    """

    boxes: tuple[BBox, ...] = ()
    exact: bool = False
    street: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)
    values: tuple[tuple[str, tuple], ...] = ()

    @property
    def narrowed(self) -> bool:
        """Anything but the boxes given (pre-counted cells answer only for every row)."""
        return bool(self.street or self.window or self.values)


def check_window(spec: LayerSpec, window: TimeWindow, parameter: str | None = None) -> None:
    """InvalidParameter when a time window is asked of a layer without a time column."""
    if window and not spec.time_column:
        name = parameter or ("since" if window.since else "until")
        raise InvalidParameter(name, f"layer {spec.id!r} has no time to filter on",
                               f"图层 {spec.id!r} 没有时间字段，不能按时间筛选")


def unknown_value(column: str, value: str, known) -> InvalidParameter:
    """The refusal of a filter value that is none of the ``known`` ones."""
    return InvalidParameter(column, f"unknown value {value!r}; values are: {', '.join(known)}",
                            f"未知的取值 {value!r}；可选值：{'、'.join(known)}")


def where_clause(spec: LayerSpec, filters: Filters,
                 geom: sql.Composable = sql.Identifier("geom")) -> tuple[sql.Composable, list]:
    """(SQL condition, parameters) selecting the filtered rows of a layer; ``TRUE`` when unfiltered."""
    parts = [
        _boxes_sql(filters.boxes, filters.exact, geom),
        _street_sql(spec, filters.street, geom),
        *_window_sql(spec, filters.window),
        *(_values_sql(column, values) for column, values in filters.values),
    ]
    parts = [p for p in parts if p is not None]
    if not parts:
        return sql.SQL("TRUE"), []
    return sql.SQL(" AND ").join(s for s, _ in parts), [v for _, values in parts for v in values]


def _boxes_sql(boxes: tuple[BBox, ...], exact: bool, geom: sql.Composable):
    if not boxes:
        return None
    # ST_Intersects, when exact: the bounding boxes are float4, a point just outside would pass &&.
    test = "ST_Intersects({}, ST_MakeEnvelope(%s, %s, %s, %s, 4326))" if exact else \
        "{} && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
    condition = sql.SQL(" OR ").join(sql.SQL(test).format(geom) for _ in boxes)
    return sql.SQL("({})").format(condition), [v for box in boxes for v in box]


def _street_sql(spec: LayerSpec, street: str | None, geom: sql.Composable):
    if not street:
        return None
    if spec.street_filter == "column":
        return sql.SQL("street_code = %s"), [street]
    if spec.street_filter == "admin":
        return sql.SQL("(code = %s OR parent_code = %s)"), [street, street]
    return sql.SQL(
        "ST_Intersects({}, (SELECT a.geom FROM admin_areas a WHERE a.code = %s AND a.level = 'street'))"
    ).format(geom), [street]


def _window_sql(spec: LayerSpec, window: TimeWindow):
    if not window:
        return []
    column = sql.Identifier(spec.time_column)
    out = []
    if window.since is not None:
        out.append((sql.SQL("{} >= %s").format(column), [window.since]))
    if window.until is not None:
        out.append((sql.SQL("{} < %s").format(column), [window.until]))
    return out


def _values_sql(column: str, values: tuple):
    if len(values) == 1:
        return sql.SQL("{} = %s").format(sql.Identifier(column)), [values[0]]
    return sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)), [list(values)]


def check_filters(conn, filters: Filters) -> None:
    """NotFound for an unknown street, InvalidParameter for an unknown looked-up value (category)."""
    if filters.street:
        check_street(conn, filters.street)
    for column, values in filters.values:
        if column not in LOOKUPS:
            continue
        table, key = LOOKUPS[column]
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT {k} FROM {t} ORDER BY {k}").format(k=sql.Identifier(key),
                                                                           t=sql.Identifier(table)))
            known = [r[0] for r in cur.fetchall()]
        unknown = [v for v in values if v not in known]
        if unknown:
            raise unknown_value(column, unknown[0], known)
