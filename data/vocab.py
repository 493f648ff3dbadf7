"""The words hygiene-map is built on, each written once: statuses, transitions, roles, time zone.

The SQL check constraints in ``data/migrations`` and the demo city repeat
some of them (a database cannot import Python); nothing else spells them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The complaint case workflow of CJ/T 315 (STANDARDS §4), in order.
STATUSES = ("受理", "立案", "派遣", "处置", "核查", "结案")
OPEN_STATUSES = STATUSES[:-1]
#: The type of a status in request bodies and query parameters (OpenAPI lists the values).
Status = Literal[STATUSES]
CLOSED = "结案"
RECEIVED = "受理"
#: English names of the statuses (labels on English pages and prints).
STATUS_EN = {"受理": "received", "立案": "registered", "派遣": "dispatched", "处置": "handled",
             "核查": "verifying", "结案": "closed"}
# Legal next states. Besides the main line: a case not worth registering is
# closed from 受理 (不予立案, a note is required), and a failed check sends it
# back from 核查 to 处置 (返工).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "受理": ("立案", "结案"),
    "立案": ("派遣",),
    "派遣": ("处置",),
    "处置": ("核查",),
    "核查": ("结案", "处置"),
    "结案": (),
}
#: Transitions that must say why.
NOTE_REQUIRED = frozenset({("受理", "结案"), ("核查", "处置")})

# -- The public channel (issue 17) ------------------------------------------------------------------
#: The channel of a report made on the public page (a partner channel's reports carry the partner's name).
PUBLIC_CHANNEL = "网上"
#: Who the workflow names for the public's own steps (filing, a reopening by rating): never a person.
PUBLIC_ACTOR = "公众"
#: A reporter's rating of a closed case, best first; the last, with a reason, reopens the case once.
RATINGS = ("满意", "基本满意", "不满意")
UNSATISFIED = "不满意"
#: The step a 不满意 rating takes: the closed case goes back to 处置 (返工).
REWORK = ("结案", "处置")
#: 不予立案: closing a case straight from 受理 (it was never filed).
NOT_FILED = ("受理", "结案")
#: The step a 不满意 rating of a 不予立案 takes instead (举报必查): back to 受理 for a fresh decision, since a case
#: never filed or dispatched has nothing to rework in 处置.
RECONSIDER = ("结案", "受理")

#: Who may do what (DESIGN §5): street and inspector users carry a scope.
ROLES = ("admin", "planner", "street", "inspector")
SCOPED_ROLES = ("street", "inspector")
#: Roles that may write grids and complaints of any street.
CITY_WIDE_ROLES = ("admin", "planner")

#: Basemaps a web map may draw under the layers (DESIGN §6).
BASEMAPS = ("none", "osm", "tianditu", "gaode")

#: A city's time zone until its settings name another (Chinese cities; ``hygiene-map city set --tz``).
CITY_TIME_ZONE = "Asia/Shanghai"
# The zone of the city this process works for: set from city_settings.time_zone each time a database
# connection opens (data.catalog.load_city_tz), so parsers that have no connection read it too.
_city_zone = ZoneInfo(CITY_TIME_ZONE)


def city_tz() -> ZoneInfo:
    """The city's time zone, for reading times written without one (a time without a zone means this)."""
    return _city_zone


def set_city_tz(name: str | None) -> ZoneInfo:
    """Make :func:`city_tz` answer ``name`` (an IANA zone); the default zone for ``None`` or an unknown name."""
    global _city_zone
    try:
        _city_zone = ZoneInfo(name or CITY_TIME_ZONE)
    except (ValueError, ZoneInfoNotFoundError):
        _city_zone = ZoneInfo(CITY_TIME_ZONE)
    return _city_zone


# -- Units the analyses count by (by= of coverage, density, siting and plans) ----------------------------

#: Each unit's name as pages, prints and refusals say it, by language.
UNIT_NAMES = {
    "zh": {"district": "区", "street": "街道", "community": "社区", "grid": "网格", "urban_village": "城中村"},
    "en": {"district": "district", "street": "street", "community": "community", "grid": "grid",
           "urban_village": "urban village"},
}


# -- Facility kinds of the analyses (coverage, density, siting) ---------------------------------------


@dataclass(frozen=True)
class FacilityKind:
    """A kind of facility the analyses count: the layer holding it, which of its rows, names and rule.

    ``category`` is the value of the layer's ``kind`` column that selects the
    kind's rows (garbage points, collection and transfer stations share one
    layer), ``None`` for every row; ``rule_id`` names the row of
    ``data/standards.csv`` giving the kind's service radius, ``None`` where no
    standard gives one.
    """

    key: str
    table: str
    category: str | None
    name_zh: str
    name_en: str
    rule_id: str | None

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


#: The facility kinds by key (``kind=`` of /api/analysis/coverage, density and siting).
FACILITY_KINDS = {kind.key: kind for kind in (
    FacilityKind("toilets", "toilets", None, "公共厕所", "public toilets", "toilet_radius_mandatory"),
    FacilityKind("garbage_points", "garbage_stations", "收集点", "垃圾收集点", "garbage collection points",
                 "garbage_point_radius_mandatory"),
    FacilityKind("collection_stations", "garbage_stations", "收集站", "垃圾收集站", "garbage collection stations",
                 None),
    FacilityKind("transfer_stations", "garbage_stations", "转运站", "垃圾转运站", "transfer stations",
                 "transfer_station_radius_manual"),
    FacilityKind("markets", "markets", None, "农贸市场", "markets", None),
    FacilityKind("health_trails", "health_trails", None, "健康步道/主题公园/街区", "health trails and parks", None),
)}


#: Other names a user gives a facility kind → its key: the layer it was imported into (``garbage_stations``
#: holds points, collection and transfer stations; by its name alone it is its points, the kind with the
#: mandatory radius) and the kind's Chinese name (公共厕所). The one mapping of :func:`facility_key`.
FACILITY_KIND_NAMES = {
    **{kind.table: kind.key for kind in reversed(FACILITY_KINDS.values())},
    **{kind.name_zh: kind.key for kind in FACILITY_KINDS.values()},
    **{key: key for key in FACILITY_KINDS},
}


def facility_key(name: str) -> str | None:
    """The key of the facility kind ``name`` says (a key, its layer's id or its Chinese name), None for no kind."""
    return FACILITY_KIND_NAMES.get(name)


def facility_kinds_help(lang: str = "en") -> str:
    """The kinds as ``--kind``'s help says them: each key with its Chinese name, and the layer names taken too."""
    kinds = ", ".join(f"{k.key} ({k.name_zh})" for k in FACILITY_KINDS.values())
    layers = ", ".join(f"{name} = {key}" for name, key in FACILITY_KIND_NAMES.items()
                       if name != key and name.isascii())
    if lang == "zh":
        return f"{kinds} 之一（中文名或图层名亦可：{layers}）"
    return f"{kinds}; a layer's name is taken too: {layers}"


# -- Inspections (明察暗访, issue 15) -------------------------------------------------------------------

#: Place types of the inspection checklist (data/checklist.csv), with their English names.
PLACE_TYPES = {"农贸市场": "markets", "公厕": "public toilets", "垃圾收集点/转运站": "garbage points and transfer stations",
               "背街小巷": "back lanes", "城中村/城乡结合部": "urban villages and city fringes",
               "单位与门店门前三包": "units and shop fronts (门前三包)", "健康步道/公园": "health trails and parks",
               "病媒生物": "disease vectors"}
#: Kinds of inspection round.
ROUND_KINDS = ("周检查", "月度暗访", "专项检查", "复审模拟")
RoundKind = Literal[ROUND_KINDS]
#: What every list, sheet, page and print calls the unit of a grid nobody holds (a finding charged to no unit).
NO_UNIT = {"zh": "（无责任单位）", "en": "(no responsible unit)"}
#: Kinds of round unannounced (暗访) unless planned otherwise: until an unannounced round starts, the streets it
#: visits and when are kept from the street offices it inspects and from the public
#: (layers.workflow.inspections.kept_from). Any round may be planned unannounced or announced.
UNANNOUNCED_KINDS = ("月度暗访",)
#: A finding's rectification workflow: 待整改 → 已整改 → 复查通过, or 复查未通过 and back to 待整改.
TO_RECTIFY, RECTIFIED, RECHECK_PASSED, RECHECK_FAILED = "待整改", "已整改", "复查通过", "复查未通过"
FINDING_STATUSES = (TO_RECTIFY, RECTIFIED, RECHECK_PASSED, RECHECK_FAILED)
FindingStatus = Literal[FINDING_STATUSES]
FINDING_STATUS_EN = {TO_RECTIFY: "to rectify", RECTIFIED: "rectified", RECHECK_PASSED: "re-check passed",
                     RECHECK_FAILED: "re-check failed"}
# 复查未通过 is a step of the history, not a resting state: the finding goes straight back to 待整改.
FINDING_TRANSITIONS: dict[str, tuple[str, ...]] = {
    TO_RECTIFY: (RECTIFIED,),
    RECTIFIED: (RECHECK_PASSED, RECHECK_FAILED),
    RECHECK_FAILED: (TO_RECTIFY,),
    RECHECK_PASSED: (),
}
#: The moves that are a re-check (复查): never by the user who marked the finding 已整改.
RECHECKS = frozenset({RECHECK_PASSED, RECHECK_FAILED})
