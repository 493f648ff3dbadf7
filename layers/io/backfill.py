"""Rows written before their areas: given the codes of the areas and grids imported after them.

A city often imports its complaints and facilities while only its districts
are drawn, and its streets, communities and grids later, district by
district. Routing happens when a row is written (:mod:`layers.io.routing`),
so those earlier rows stayed outside every street: grid generation, rosters
and bulletins did not see them. After an import of admin areas or grids,
each row with no code at a level is given the code of the area of that level
now holding its representative point (as routing places it), and the codes
above it that it lacked. A code a row already has is never changed: moving a
case to another street because an outline was redrawn is a regrid's
decision, with its own history (:mod:`layers.workflow.regrid`).
"""

from __future__ import annotations

from psycopg2 import sql

from data.said import Note
from layers.io.options import TOLERANCE_M
from layers.spec import admin_areas
from layers.spec.model import LayerSpec, values
from layers.spec.registry import LAYERS, get_layer

LEVELS = values(admin_areas.LEVELS)  # coarse to fine

# The areas of ``level`` written by this import (updated_at is the transaction's start), each joined to the rows
# with no code at that level it holds (the first in the table's order, as routing takes the first of those sharing
# an edge); with the codes above it by parent_code (two steps: community → street → district).
_AREA_SQL = """
    WITH n AS (
        SELECT DISTINCT ON (x.id) x.id, a.code, {chain}
        FROM {areas}
        LEFT JOIN admin_areas p ON p.code = a.parent_code
        LEFT JOIN admin_areas g ON g.code = p.parent_code
        WHERE x.{column} IS NULL
        ORDER BY x.id, a.id)
    UPDATE {table} x SET {column} = n.code{fill}
    FROM n WHERE x.id = n.id{agree}
    RETURNING x.id
"""
# Driven by the new areas, each finding its rows through the table's spatial index (LATERAL: whatever the
# table's statistics say, as after a bulk change).
_HOLDING = """(SELECT id, code, parent_code, geom FROM admin_areas
               WHERE level = %(level)s AND updated_at = now()) a
              CROSS JOIN LATERAL (SELECT x.* FROM {table} x
                                  WHERE x.geom && a.geom AND ST_Intersects(a.geom, {point})) x"""
# A row outside every area (the import's tolerance let it in: a pier's toilet beyond a coarse coastline) takes the
# nearest new area within the default tolerance, as routing places it (layers.io.reach): a street drawn 8 km away is
# not where it belongs, and it stays in its district. Driven by the rows still without a code: few, unless a city's
# finer areas cover only part of it (then each costs two index look-ups).
_NEAREST = """{table} x CROSS JOIN LATERAL (
                  SELECT a.id, a.code, a.parent_code FROM admin_areas a WHERE a.level = %(level)s AND a.updated_at = now()
                  AND ST_DWithin(a.geom::geography, {point}::geography, %(reach)s)
                  ORDER BY a.geom <-> {point} LIMIT 1) a
              JOIN LATERAL (SELECT NOT EXISTS (SELECT 1 FROM admin_areas o WHERE o.geom && x.geom
                                               AND ST_Intersects(o.geom, {point})) AS outside) o ON o.outside"""
# The grid written by this import holding each row with no grid, when the row's codes agree with the grid's.
_GRID_SQL = """
    WITH n AS (
        SELECT DISTINCT ON (x.id) x.id, g.code, g.district_code, g.street_code, g.community_code
        FROM grids g JOIN {table} x ON ST_Intersects(g.geom, x.geom)
        WHERE g.updated_at = now() AND x.grid_code IS NULL
        ORDER BY x.id, g.code)
    UPDATE {table} x SET grid_code = n.code, district_code = coalesce(x.district_code, n.district_code),
                         street_code = coalesce(x.street_code, n.street_code),
                         community_code = coalesce(x.community_code, n.community_code)
    FROM n WHERE x.id = n.id AND (x.district_code IS NULL OR x.district_code = n.district_code)
                             AND (x.street_code IS NULL OR x.street_code = n.street_code)
                             AND (x.community_code IS NULL OR x.community_code = n.community_code)
    RETURNING x.id
"""


def _routed(column: str) -> list[LayerSpec]:
    """The layers routed by point whose table has ``column``."""
    return [spec for spec in LAYERS
            if spec.rules.routing == "points" and any(f.column == column for f in spec.area_codes)]


def _area_statement(spec: LayerSpec, level: str, way: str) -> sql.Composable:
    """The update giving the layer's rows with no ``level`` code an area of that level just written (``way``:
    the one holding them, or the nearest), with the codes above it they lack; a row whose codes above disagree
    with the area's is left as it is."""
    have = {f.column for f in spec.area_codes}
    above = {lv: f"{lv}_code" for lv in LEVELS[:LEVELS.index(level)] if f"{lv}_code" in have}
    chain = sql.SQL(", ").join(
        sql.SQL("CASE {lv} WHEN p.level THEN p.code WHEN g.level THEN g.code END AS {name}").format(
            lv=sql.Literal(lv), name=sql.Identifier(lv)) for lv in above) if above else sql.SQL("NULL AS none")
    fill = sql.SQL("").join(sql.SQL(", {c} = coalesce(x.{c}, n.{lv})").format(
        c=sql.Identifier(c), lv=sql.Identifier(lv)) for lv, c in above.items())
    agree = sql.SQL("").join(sql.SQL(" AND (x.{c} IS NULL OR n.{lv} IS NULL OR x.{c} = n.{lv})").format(
        c=sql.Identifier(c), lv=sql.Identifier(lv)) for lv, c in above.items())
    point = sql.SQL("x.geom" if spec.rules.points else "ST_PointOnSurface(x.geom)")
    table = sql.Identifier(spec.table)
    areas = sql.SQL(way).format(table=table, point=point)
    return sql.SQL(_AREA_SQL).format(table=table, column=sql.Identifier(f"{level}_code"), areas=areas,
                                     chain=chain, fill=fill, agree=agree)


def _written(cur, level: str) -> bool:
    """Whether this import wrote areas of ``level``."""
    cur.execute("SELECT EXISTS (SELECT 1 FROM admin_areas WHERE level = %s AND updated_at = now())", (level,))
    return cur.fetchone()[0]


def _any_without(cur, spec: LayerSpec, level: str) -> bool:
    """Whether a row of the layer has no ``level`` code (a city whose rows all have it pays one scan)."""
    cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} IS NULL)").format(
        sql.Identifier(spec.table), sql.Identifier(f"{level}_code")))
    return cur.fetchone()[0]


def place_in_areas(cur) -> list[Note]:
    """After admin areas were written: rows of every point-routed layer with no code at a level placed in the
    area of that level holding them, finest level first (a community brings its street and district); a note
    saying how many rows of each layer were placed, if any."""
    placed: dict[str, set[int]] = {}
    todo = [(level, spec) for level in LEVELS[::-1] if _written(cur, level)
            for spec in _routed(f"{level}_code") if _any_without(cur, spec, level)]
    for way in (_HOLDING, _NEAREST):
        for level, spec in todo:
            cur.execute(_area_statement(spec, level, way), {"level": level, "reach": TOLERANCE_M})
            placed.setdefault(spec.id, set()).update(i for (i,) in cur.fetchall())
    return _said(placed, ("区域", "areas"), ("不在任何同级区域内", "in no area of their level"))


def place_in_grids(cur) -> list[Note]:
    """After grids were written: complaints and findings with no grid placed in the grid holding them (their
    codes agreeing with the grid's); a note saying how many, if any."""
    placed: dict[str, set[int]] = {}
    for spec in _routed("grid_code"):
        cur.execute(sql.SQL(_GRID_SQL).format(table=sql.Identifier(spec.table)))
        placed[spec.id] = {i for (i,) in cur.fetchall()}
    return _said(placed, ("网格", "grids"), ("不在任何网格内", "in no grid"))


def _said(placed: dict[str, set[int]], what: tuple[str, str], before: tuple[str, str]) -> list[Note]:
    """The note of rows placed, by layer, or none."""
    counts = [(get_layer(layer), len(ids)) for layer, ids in placed.items() if ids]
    if not counts:
        return []
    zh = "、".join(f"{spec.name_zh} {n:,} 条" for spec, n in counts)
    en = ", ".join(f"{n:,} {spec.name_en.lower()}" for spec, n in counts)
    return [Note(f"已有数据按位置归入刚导入的{what[0]}（此前{before[0]}）：{zh}",
                 f"rows already stored are now placed in the {what[1]} just imported (before, {before[1]}): {en}")]
