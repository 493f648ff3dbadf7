"""Regenerating a street's grids without losing an assignment silently (SQL side).

The cutting is :func:`geo.grids.cut_grids` in the city's metric CRS
(``city_settings.metric_srid``). Each new grid inherits the assignment of
the old grid it overlaps most; the plan lists what is unchanged, reshaped,
moved, new and removed, and which old assignments no new grid inherits
("dropped"). Applying a plan with dropped assignments needs ``force``.
Removed grids go to ``grid_archive``; their history stays in
``grid_assignments``; the shapes of all the street's old grids go to
``grid_shapes`` (a complaint of before, loaded later, is charged by them).
Complaints and inspection findings of the street are re-routed to the new
grids, each keeping the grid it was first in; users given grids of the street
(grid-scoped inspectors) get the new grids on the same ground.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import shapely
from psycopg2 import sql

from data.catalog import check_street, metric_srid
from data.errors import Conflict, InvalidParameter, NotFound
from data.said import say
from geo.grids import DENSIFY_M, DUST_M2, SLIVER_SHARE, cut_grids, match_grids
from geo.metric import metric_polygon
from layers.workflow.access import audit

#: What a plan says, in Chinese and in English (data.said.say).
_SAID = {
    "summary": (
        "街道 {street}：网格 {n} 个（{shape} {size:g} 米）：未变 {unchanged} 个，形状调整 {reshaped} 个，"
        "移位 {moved} 个，新增 {new} 个，删除 {removed} 个；无新网格继承的原责任分配 {dropped_assignments} 项",
        "street {street}: {n} grids ({shape} {size:g} m): {unchanged} unchanged, {reshaped} reshaped, {moved} moved, "
        "{new} new, {removed} removed; {dropped_assignments} assignment(s) inherited by no new grid"),
}
_SHAPES_ZH = {"square": "正方形", "hex": "六边形"}


@dataclass
class GridPlan:
    """What a regeneration would do (or did)."""

    street_code: str
    size_m: float
    shape: str
    origin: tuple[float, float]
    srid: int
    new: dict[str, dict] = field(default_factory=dict)  # code → {geom, community_code, name, row, col, match…}
    removed: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)  # old assignments no new grid inherits
    old_assignment: dict[str, dict] = field(default_factory=dict)
    alone: list[str] = field(default_factory=list)  # grids under SLIVER_SHARE of a cell: their community's only one

    def counts(self) -> dict[str, int]:
        out = {"unchanged": 0, "reshaped": 0, "moved": 0, "new": 0}
        for item in self.new.values():
            out[item["match"]["status"]] += 1
        out["removed"] = len(self.removed)
        out["dropped_assignments"] = len(self.dropped)
        return out

    def summary(self, lang: str = "en") -> str:
        """One line: the street's new grids and what became of the old ones, in ``lang``."""
        shape = _SHAPES_ZH.get(self.shape, self.shape) if lang == "zh" else self.shape
        return say(_SAID, "summary", lang, street=self.street_code, n=len(self.new), shape=shape, size=self.size_m,
                   **self.counts())


def _origin(conn, street_code: str, size_m: float, shape: str, given) -> tuple[float, float]:
    """The fishnet origin: given, else the one the street's grids record for this size and shape, else (0, 0)."""
    if given is not None:
        return given
    with conn.cursor() as cur:
        cur.execute(
            """SELECT attributes->'origin' FROM grids
               WHERE street_code = %s AND (attributes->>'cell_m')::float = %s
                 AND coalesce(attributes->>'shape', 'square') = %s AND jsonb_typeof(attributes->'origin') = 'array'
               LIMIT 1""",
            (street_code, size_m, shape),
        )
        row = cur.fetchone()
    return (float(row[0][0]), float(row[0][1])) if row else (0.0, 0.0)


def plan(conn, street_code: str, size_m: float, shape: str = "square", *, sequence_width: int,
         origin: tuple[float, float] | None = None) -> GridPlan:
    """Cut the street's communities and compare with its current grids; writes nothing."""
    if not 10 <= size_m <= 5000:
        raise InvalidParameter("--size", f"must be between 10 and 5000 metres, not {size_m:g}",
                               f"须在 10 到 5000 米之间，而不是 {size_m:g}")
    srid = metric_srid(conn)
    check_street(conn, street_code, "--street")
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT code, name, ST_AsBinary({metric_polygon("geom", "%s")}) FROM admin_areas
               WHERE level = 'community' AND parent_code = %s ORDER BY code""",
            (srid, street_code),
        )
        communities = [(r[0], r[1], shapely.from_wkb(bytes(r[2]))) for r in cur.fetchall()]
        cur.execute(
            f"""SELECT code, responsible_unit, grid_manager, phone, ST_AsBinary({metric_polygon("geom", "%s")})
               FROM grids WHERE street_code = %s ORDER BY code""",
            (srid, street_code),
        )
        old_rows = cur.fetchall()
    if not communities:
        raise NotFound(f"--street: street {street_code} has no communities to cut into grids",
                       f"--street：街道 {street_code} 没有社区，无法划分网格")
    origin = _origin(conn, street_code, size_m, shape, origin)
    try:
        cells = cut_grids([(c, g) for c, _, g in communities], size_m, shape, origin, sequence_width)
    except ValueError as exc:
        raise InvalidParameter("--size", str(exc), getattr(exc, "zh", None)) from None
    names = {c: n for c, n, _ in communities}
    old = {r[0]: shapely.from_wkb(bytes(r[4])) for r in old_rows}
    p = GridPlan(street_code, size_m, shape, origin, srid)
    p.old_assignment = {r[0]: {"unit": r[1], "manager": r[2], "phone": r[3]} for r in old_rows}
    new_geoms = {cell.code(sequence_width): cell.geom for cell in cells}
    matches = match_grids(old, new_geoms)
    for cell in cells:
        code = cell.code(sequence_width)
        p.new[code] = {"geom": cell.geom, "community_code": cell.community_code, "row": cell.row, "col": cell.col,
                       "name": cell.name(names[cell.community_code]), "match": matches[code]}
    p.removed = sorted(set(old) - set(new_geoms))
    # Slivers are merged into a neighbour of their community; only a community's one and only grid stays smaller.
    p.alone = [code for code, item in p.new.items() if item["geom"].area < SLIVER_SHARE * size_m * size_m]
    inherited = {m["source"] for m in matches.values() if m["source"]}
    for code, a in p.old_assignment.items():
        if code not in inherited and any(a.values()):
            p.dropped.append({"code": code, **a})
    return p


def apply(conn, p: GridPlan, actor: str, *, force: bool = False) -> dict:
    """Write a plan in the caller's transaction; Conflict when it drops assignments and ``force`` is off.

    Removed grids are archived, new and changed grids written with the
    assignment they inherit (each change appended to the history), and the
    street's complaints and inspection findings re-routed to the grid now
    containing them (:data:`_REROUTE_SQL` says why closed ones too).
    """
    if p.dropped and not force:
        listed = ", ".join(f"{d['code']} ({d['unit'] or '-'} / {d['manager'] or '-'})" for d in p.dropped[:5])
        more, more_zh = (f" and {len(p.dropped) - 5} more", f"，另有 {len(p.dropped) - 5} 个") \
            if len(p.dropped) > 5 else ("", "")
        raise Conflict(
            f"regenerating street {p.street_code} would drop the assignment of {len(p.dropped)} grid(s): "
            f"{listed}{more}; nothing was changed. Check with --dry-run, then rerun with --force to accept "
            "(the old assignments stay in the history and the grid archive)",
            f"重新划分街道 {p.street_code} 会丢掉 {len(p.dropped)} 个网格的责任单位分配：{listed}"
            f"{more_zh}；未做任何修改。请先用 --dry-run 检查，"
            "确认后加 --force 重新运行（原分配仍保留在历史和网格档案中）",
        )
    reason = f"网格重新划分 {p.shape} {p.size_m:g} m"
    with conn.cursor() as cur:
        # The street's grids as they were: a complaint of before, loaded later, is charged through them.
        cur.execute("INSERT INTO grid_shapes (code, street_code, geom, until) "
                    "SELECT code, street_code, geom, now() FROM grids WHERE street_code = %s", (p.street_code,))
        for code in p.removed:
            _archive(cur, p, code, reason, actor)
        history_rows = sum(_write_grid(cur, p, code, reason, actor) for code in p.new)
        complaints = _reroute(cur, "complaints", p.street_code)
        findings = _reroute(cur, "inspection_findings", p.street_code)
        inspectors = _keep_grounds(cur, p.street_code)
    for moved in (m for m in inspectors if m["after"] is not None):
        audit(conn, actor, "user.grids", f"user:{moved['name']}", {"grid_codes": moved["before"]},
              {"grid_codes": moved["after"]}, {"reason": reason})
    result = {**p.counts(), "history_rows": history_rows, "complaints_rerouted": complaints,
              "findings_rerouted": findings, "inspectors": inspectors}
    audit(conn, actor, "grids.generate", f"street:{p.street_code}", None, result,
          {"size_m": p.size_m, "shape": p.shape, "origin": list(p.origin), "removed": p.removed,
           "dropped": p.dropped, "forced": bool(force and p.dropped)})
    return result


def _archive(cur, p: GridPlan, code: str, reason: str, actor: str) -> None:
    """Move a removed grid to ``grid_archive``, naming the new grids that inherit from it."""
    successors = sorted(c for c, item in p.new.items() if item["match"]["source"] == code)
    cur.execute(
        """INSERT INTO grid_archive (code, street_code, last_row, geom, successors, reason, retired_by)
           SELECT code, street_code, to_jsonb(g) - 'geom', geom, %s, %s, %s FROM grids g WHERE code = %s""",
        (successors, reason, actor, code),
    )
    cur.execute("DELETE FROM grids WHERE code = %s", (code,))


# The street's district: its parent area, else (a GB/T 2260 street code without one) its first 6 digits.
_DISTRICT_SQL = ("coalesce((SELECT parent_code FROM admin_areas WHERE code = %(street)s), "
                 "CASE WHEN %(street)s ~ '^[0-9]{9}$' THEN left(%(street)s, 6) END)")
# The plan's metric cell back in WGS84, densified so that its straight edges bend like its neighbours'.
_GEOM_SQL = ("ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform("
             "ST_Segmentize(ST_GeomFromWKB(%(wkb)s, %(srid)s), %(densify)s), 4326)), 3))")


def _write_grid(cur, p: GridPlan, code: str, reason: str, actor: str) -> int:
    """Insert or update one grid of the plan; 1 when its assignment changed (a history row), else 0."""
    item = p.new[code]
    m = item["match"]
    inherited = p.old_assignment.get(m["source"]) if m["source"] else None
    before = p.old_assignment.get(code)
    a = inherited or before or {"unit": None, "manager": None, "phone": None}
    if before is not None and m["status"] == "unchanged" and a == before and m["changed_m2"] < DUST_M2:
        return 0  # same shape, same assignment: the row stays as it is (a sliver it gained or lost is written)
    params = {"code": code, "name": item["name"], "street": p.street_code,
              "community": item["community_code"], "wkb": shapely.to_wkb(item["geom"]), "srid": p.srid,
              "densify": DENSIFY_M, **a,
              "attrs": json.dumps({"row": item["row"], "col": item["col"], "cell_m": p.size_m, "shape": p.shape,
                                   "origin": list(p.origin)})}
    if before is None:
        cur.execute(
            f"""INSERT INTO grids (code, name, district_code, street_code, community_code, responsible_unit,
                                  grid_manager, phone, source, source_id, attributes, geom)
                VALUES (%(code)s, %(name)s, {_DISTRICT_SQL}, %(street)s, %(community)s, %(unit)s, %(manager)s,
                        %(phone)s, 'generated', %(code)s, %(attrs)s::jsonb, {_GEOM_SQL})""",
            params,
        )
    else:
        cur.execute(
            f"""UPDATE grids SET name = %(name)s, responsible_unit = %(unit)s, grid_manager = %(manager)s,
                      phone = %(phone)s, attributes = attributes || %(attrs)s::jsonb, geom = {_GEOM_SQL},
                      updated_at = now()
                WHERE code = %(code)s""",
            params,
        )
    if not any(a.values()) or a == before:
        return 0
    cur.execute(
        """INSERT INTO grid_assignments (grid_code, responsible_unit, grid_manager, phone, before,
                                         reason, changed_by, inherited_from)
           VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s)""",
        (code, a["unit"], a["manager"], a["phone"], json.dumps(before, ensure_ascii=False) if before else None,
         f"{reason}：继承自 {m['source']}", actor, m["source"]),
    )
    return 1


# Each case (complaint, finding) of the street goes to the grid now containing its place, closed cases too:
# a grid's lists, prints, counts and the inspectors scoped to it read grid_code as "the grid this place is
# in", and a case left on a grid that no longer exists is seen by nobody. A closed case is history, and
# what history needs stays: the grid it lay in when reported or observed (origin_grid_code, set on its
# first move only), through which the bulletin charges a complaint to the unit of that time, and a
# finding's unit, stored when it was observed.
_REROUTE_SQL = """
    WITH n AS (SELECT x.id, g.code, g.community_code
               FROM {table} x CROSS JOIN LATERAL (
                   SELECT code, community_code FROM grids g
                   WHERE g.street_code = %(s)s AND ST_Intersects(g.geom, x.geom) ORDER BY g.code LIMIT 1) g
               WHERE x.street_code = %(s)s)
    UPDATE {table} x SET grid_code = n.code, community_code = n.community_code,
                         origin_grid_code = coalesce(x.origin_grid_code, x.grid_code)
    FROM n WHERE n.id = x.id AND n.code IS NOT NULL AND x.grid_code IS DISTINCT FROM n.code"""


# Users given grids of the street: their ground as it was (the old shapes of their grids, kept just now), and the
# new grids mostly (half or more) on it — else, for a ground too small for that, the new grid overlapping it most.
_GROUNDS_SQL = """
    WITH old AS (SELECT code, geom FROM grid_shapes WHERE street_code = %(s)s AND until = now()),
    ground AS (SELECT u.name, u.grid_codes, ST_Union(o.geom) AS geom
               FROM users u JOIN old o ON o.code = ANY (u.grid_codes) GROUP BY u.name, u.grid_codes),
    share AS (SELECT gr.name, g.code, ST_Area(ST_Intersection(g.geom, gr.geom)) / ST_Area(g.geom) AS part,
                     ST_Area(ST_Intersection(g.geom, gr.geom)) AS area
              FROM ground gr JOIN grids g ON g.street_code = %(s)s AND ST_Intersects(g.geom, gr.geom))
    SELECT gr.name, gr.grid_codes,
           ARRAY(SELECT c FROM unnest(gr.grid_codes) c WHERE c NOT IN (SELECT code FROM old)) AS elsewhere,
           coalesce(ARRAY(SELECT code FROM share x WHERE x.name = gr.name AND x.part >= 0.5 ORDER BY code),
                    '{}') AS mostly,
           (SELECT code FROM share x WHERE x.name = gr.name ORDER BY area DESC, code LIMIT 1) AS most
    FROM ground gr ORDER BY gr.name"""


def _keep_grounds(cur, street_code: str) -> list[dict]:
    """Give each user scoped to grids of the street the new grids on the ground its old grids covered.

    A regrid renumbers grids: a code an inspector was given may name another
    place afterwards, so its scope follows the ground, not the code. Returns
    each user whose grids changed: name, before, after.
    """
    cur.execute(_GROUNDS_SQL, {"s": street_code})
    moved = []
    for name, before, elsewhere, mostly, most in cur.fetchall():
        after = sorted(set(elsewhere) | set(mostly or ([most] if most else [])))
        if not after:  # no grid is left on its ground: said, and left as it was (a new user can be added)
            moved.append({"name": name, "before": list(before), "after": None})
        elif after != sorted(before):
            cur.execute("UPDATE users SET grid_codes = %s WHERE name = %s", (after, name))
            moved.append({"name": name, "before": list(before), "after": after})
    return moved


def _reroute(cur, table: str, street_code: str) -> int:
    """Give each case of ``table`` in the street the grid now containing it; how many changed."""
    cur.execute(sql.SQL(_REROUTE_SQL).format(table=sql.Identifier(table)), {"s": street_code})
    return cur.rowcount

