"""What an answer's totals are over: the whole city, or only the areas drawn at the level asked.

A city whose communities cover part of it (Yantai drawing them one street at a time: 6 communities in 13 of its
13,900 km²) answers coverage and plans by community over those 6 only; their totals are those communities', and
a label "全市合计" (city totals) over them would read as the city's. Where the areas cover at least
:data:`geo.residents.COVERS` of the city's area they are the city; else the label names them.
"""

from __future__ import annotations

from data.vocab import UNIT_NAMES
from geo.residents import COVERS, city_m2
from layers.analysis.cache import data_stamp

_PLURAL = {"community": "communities"}
#: The city's area by (database, its admin areas' change stamp): a what-if answers every edit of a draft, and the
#: sum over the districts' outlines costs ~40 ms for Yantai's 11 (a fifth of the edit's 200 ms), every time the
#: same until an admin area changes. A few entries: one per database a process serves.
_CITY_M2: dict[tuple, float | None] = {}


def _city_m2(conn) -> float | None:
    """:func:`geo.residents.city_m2`, kept while the admin areas are unchanged (the database's oid in the key: one
    dropped and made again under its name is another)."""
    with conn.cursor() as cur:
        cur.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        key = (conn.dsn, cur.fetchone()[0], data_stamp(conn, ("admin_areas",)))
    if key not in _CITY_M2:
        if len(_CITY_M2) >= 8:
            _CITY_M2.clear()
        _CITY_M2[key] = city_m2(conn)
    return _CITY_M2[key]


def scope(conn, by: str, areas: int, m2: float) -> dict:
    """The areas the totals add up: ``by``, how many (``areas``), their share of the city's area in % (``city_pct``,
    None without admin areas) and whether they are the whole city (``whole_city``)."""
    city = _city_m2(conn)
    share = m2 / city if city else None
    return {"by": by, "areas": areas, "city_pct": None if share is None else 100.0 * share,
            "whole_city": share is None or share >= COVERS}


def totals_label(scope_: dict | None, lang: str, city: tuple[str, str] = ("全市合计", "City totals")) -> str:
    """The totals' heading: ``city`` (zh, en) where they are the whole city's (or unknown: an answer from before),
    else the areas they are over, e.g. 所列 6 个社区合计（占全市面积 0.1 %）."""
    if not scope_ or scope_["whole_city"]:
        return city[lang == "en"]
    n, by, pct = scope_["areas"], scope_["by"], scope_["city_pct"]
    if lang == "en":
        unit = UNIT_NAMES["en"][by] if n == 1 else _PLURAL.get(by, UNIT_NAMES["en"][by] + "s")
        return f"Totals of the {n} {unit} drawn ({_pct(pct)} % of the city)"
    return f"所列 {n} 个{UNIT_NAMES['zh'][by]}合计（占全市面积 {_pct(pct)} %）"


def _pct(value: float) -> str:
    """A share in %: one decimal, two significant digits below 0.1 % (never a bare 0.0)."""
    return f"{value:.1f}" if value >= 0.1 else f"{value:.2g}"
