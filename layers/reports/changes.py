"""What changed on the ground in a bulletin's period: hot spots that became or grew (the emerging-hotspot
analysis, :func:`geo.hotspots.emerging`) and the facilities (what the data can tell of them)."""

from __future__ import annotations

import json
from datetime import timedelta

from data.errors import InvalidParameter, NotFound
from data.params import Period, period_of
from data.vocab import FACILITY_KINDS, city_tz
from geo import hotspots as hs
from layers.reports import facility_history as fh
from layers.reports.bulletin import facility_writes, streets_at

#: Emerging-hotspot patterns that mean a cell became a hot spot at the window's end (new, consecutive) or grew
#: as one (intensifying), and their colours on the PDF's map.
EMERGED = {"new": "#e31a1c", "consecutive": "#fd8d3c", "intensifying": "#800026"}
#: Months of the window the emerging-hotspot analysis runs over, the period's end its end.
WINDOW_MONTHS = 12


def hotspot_window(period: Period) -> tuple:
    """[since, until): the :data:`WINDOW_MONTHS` calendar months ending with the month of the period's last day,
    cut at the period's end (a week's window ends with the week), and never shorter than the period."""
    last_month = period_of("month", (period.end - timedelta(days=1)).date(), period.start.tzinfo)
    first = last_month
    for _ in range(WINDOW_MONTHS - 1):
        first = first.previous()
    return min(first.start, period.start), period.end


def _centre(geojson: str) -> tuple[float, float]:
    ring = json.loads(geojson)["coordinates"][0][:-1]
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _why_none(e: InvalidParameter | NotFound, lang: str) -> str:
    """Why the window has no emerging hot spot analysis, in the bulletin's language."""
    if lang == "en":
        return getattr(e, "reason", str(e))
    if isinstance(e, NotFound):
        return "分析窗口内没有投诉" if "complaints" in str(e) else "城市还没有行政区划（六边形网格按城市轮廓划分）"
    if e.parameter == "since":
        return f"分析窗口内有投诉的月份不足{hs.MIN_MONTHS}个（逐月计算趋势）"
    return f"{e.parameter}：{e.reason}"


def hotspots_section(conn, period: Period, names: dict, lang: str) -> dict:
    """The ``hotspots`` section: the cells whose emerging pattern over the window is one of :data:`EMERGED`,
    hottest first, each with its street; or why there is none (too few months, no complaint)."""
    since, until = hotspot_window(period)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    try:
        whole, patterns, months = hs.emerging(conn, since=since, until=until, tz=city_tz().key)
    except (InvalidParameter, NotFound) as e:  # fewer than 4 months of complaints, or none: nothing to say
        return {"available": False, "window": window, "reason": _why_none(e, lang), "cells": []}
    picked = sorted((i for i, p in enumerate(patterns) if p in EMERGED), key=lambda i: -whole.gi_z[i])
    centres = [_centre(whole.geojson[i]) for i in picked]
    streets = streets_at(conn, centres)
    k = 1 if lang == "en" else 0
    cells = [{"q": int(whole.q[i]), "r": int(whole.r[i]), "lon": round(lon, 6), "lat": round(lat, 6),
              "pattern": patterns[i], "pattern_name": hs.PATTERNS[patterns[i]][k], "count": int(whole.count[i]),
              "gi_z": round(float(whole.gi_z[i]), 3), "street": street,
              "street_name": names.get(street, (street, street))[k] if street else None}
             for i, (lon, lat), street in zip(picked, centres, streets, strict=True)]
    counts = {p: sum(c["pattern"] == p for c in cells) for p in EMERGED}
    return {"available": True, "window": window, "months": len(months), "cell_m": whole.cell_m,
            "cells_analysed": int(whole.q.size), "counts": counts, "cells": cells}


_NO_HISTORY = {
    "zh": "设施变更记录（自 {since} 起记录每处设施的新增、撤销与迁移）始于本期开始之后，"
          "因此无法得出期内新增或撤销了哪些设施，也无法得出覆盖率的变化。下列为期内写入（新增或修改）的设施数与该表的写入次数。",
    "en": "The facility history (which records each facility added, removed or moved since {since}) "
          "begins after the period's start, so the facilities added or removed in the period, and the change of covered "
          "share, cannot be known. Given instead: facilities written (added or changed) in the period and the writes to "
          "their table.",
}
_HISTORY = {
    "zh": "设施变更记录自 {since} 起。覆盖率：服务半径内的{basis}占比（按标准服务半径，"
          "期初、期末的设施集合由现有设施减去其后新增、加上其后撤销、迁移者回到原位得出）。",
    "en": "Facility history since {since}. Covered share: the share of {basis} within the standard "
          "service radius, at the period's start and end (the facility set then: today's, less those added since, "
          "plus those removed since, moved ones back at their old place).",
}
_BASIS = {"residents": ("居民", "residents"), "area": ("面积", "area")}
#: Most facilities listed per kind and kind of change.
LIST_CAP = 20


def coverage_section(conn, period: Period, lang: str) -> dict:
    """The ``coverage`` section: per facility kind, the facilities added, removed and moved in the period (from the
    history of the facility layers, :mod:`layers.reports.facility_history`) and the covered share at its start and
    end; or, when that history begins after the period's start, that this cannot be known and what can."""
    writes = facility_writes(conn, period, FACILITY_KINDS.values())
    since = fh.log_since(conn)
    known = [s for s in since.values() if s is not None]
    start = max(known) if known else None
    k = 1 if lang == "en" else 0
    if start is None or start > period.start:
        stamp = start.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M") if start else "—"
        return {"available": False, "reason": _NO_HISTORY[lang].format(since=stamp), "since": _iso(start),
                "added": None, "removed": None, "moved": None, "covered_share_change": None,
                "kinds": [{"kind": key, "name": FACILITY_KINDS[key].name(lang), **v} for key, v in writes.items()]}
    kinds = [{"kind": key, "name": spec.name(lang), **writes[key], **fh.kind_changes(conn, spec, period, LIST_CAP, k)}
             for key, spec in FACILITY_KINDS.items()]
    basis = next((x["basis"] for x in kinds if x.get("basis")), "area")
    return {"available": True, "since": _iso(start), "basis": basis,
            "reason": _HISTORY[lang].format(since=start.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M"),
                                            basis=_BASIS[basis][k]),
            **{op: sum(x[op] for x in kinds) for op in ("added", "removed", "moved")},
            "covered_share_change": {x["kind"]: x["share_change"] for x in kinds if x["share_change"] is not None},
            "kinds": kinds}


def _iso(t) -> str | None:
    return t.isoformat() if t is not None else None


#: The headers of the coverage table (:func:`coverage_rows`) in the PDF, the page and the workbook.
COV_HEAD = {
    "zh": ("设施类别", "现有", "期内写入（新增或修改）", "该表写入次数", "期内新增", "期内撤销", "期内迁移",
           "期初覆盖率 %", "期末覆盖率 %"),
    "en": ("Facility kind", "Now", "Written", "Table writes", "Added", "Removed", "Moved", "Cover % start",
           "Cover % end"),
}
_OP_NAMES = {"added": ("新增", "added"), "removed": ("撤销", "removed"), "moved": ("迁移", "moved")}


def coverage_rows(c: dict) -> list[list]:
    """One row per kind of the coverage section, as :data:`COV_HEAD` names them (None where not known)."""
    return [[k["name"], k["now"], k["written"], k["table_writes"], k.get("added"), k.get("removed"), k.get("moved"),
             k.get("share_start"), k.get("share_end")] for k in c["kinds"]]


def change_lines(c: dict, lang: str) -> list[str]:
    """A line per facility listed as added, removed or moved in the period: kind, name, street, address."""
    k = 1 if lang == "en" else 0
    lines = []
    for kind in c["kinds"] if c["available"] else ():
        for op in ("added", "removed", "moved"):
            for f in kind.get(f"{op}_list", ()):
                where = (", " if k else "，").join(x for x in (f["street_name"], f["address"]) if x)
                fmt = "{op} {kind}: {name} ({where}) {day}" if k else "{op}{kind}：{name}（{where}）{day}"
                lines.append(fmt.format(op=_OP_NAMES[op][k], kind=kind["name"], name=f["name"], where=where or "—",
                                        day=f["at"][:10]))
            if kind.get(op, 0) > len(kind.get(f"{op}_list", ())):
                more = kind[op] - len(kind[f"{op}_list"])
                lines.append(f"… {more} more {_OP_NAMES[op][1]}" if k else f"…另有{_OP_NAMES[op][0]} {more} 处")
    return lines
