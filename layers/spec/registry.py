"""The registry of thematic layers: each layer declared once, looked up by id.

A :class:`LayerSpec` names the table and how people call the layer; the web
map, tile, export and print code all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.errors import NotFound


@dataclass(frozen=True)
class Field:
    """A column a popup (and the GeoJSON properties) shows, with its labels."""

    column: str
    label_zh: str
    label_en: str

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class Category:
    """One value of a layer's style column: its colour and legend labels."""

    value: str
    label_zh: str
    label_en: str
    color: str

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class ScaleDisplay:
    """How a layer is drawn between two zoom levels (inclusive).

    mode: ``geojson`` (features by URL), ``cluster`` (clustered points by URL),
    ``tiles`` (vector tiles), ``heat`` (heatmap of tile-aggregated counts),
    ``hex`` (hexagon counts from the tiles).
    """

    min_zoom: int
    max_zoom: int
    mode: str


@dataclass(frozen=True)
class LayerSpec:
    """One thematic layer: its table (named after its id), names, popup, style and display.

    Every field after ``large`` has a default, so a spec can be declared with
    just its names; the web map, tile, export and print code read the rest.
    """

    id: str
    name_zh: str
    name_en: str
    geometry_type: str  # Point, LineString, MultiPolygon or Geometry (mixed)
    large: bool = False  # millions of rows possible: never COUNT(*) per request
    popup: tuple[Field, ...] = ()
    style_column: str | None = None  # the column whose value picks a Category
    categories: tuple[Category, ...] = ()
    color: str = "#3366cc"  # colour of rows whose value has no Category
    display: tuple[ScaleDisplay, ...] = (ScaleDisplay(0, 22, "geojson"),)
    street_filter: str = "column"  # how ?street= selects rows: column | admin | spatial
    time_column: str | None = None  # since/until filter on this column
    filter_columns: tuple[str, ...] = ()  # columns with an equality filter (?category=, ?status=)
    shown_by_default: bool = True
    order_column: str = "id"

    @property
    def table(self) -> str:
        return self.id

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    @property
    def columns(self) -> tuple[str, ...]:
        """Property columns of the features: the popup fields and the style column, each once."""
        out = [f.column for f in self.popup]
        for extra in (self.style_column, *self.filter_columns, self.time_column):
            if extra and extra not in out:
                out.append(extra)
        return tuple(out)

    def color_of(self, value) -> str:
        for category in self.categories:
            if category.value == value:
                return category.color
        return self.color

    def legend(self, lang: str = "zh") -> list[dict]:
        """Legend entries: one per category, or one for the whole layer."""
        if self.categories:
            return [{"value": c.value, "label": c.label(lang), "color": c.color} for c in self.categories]
        return [{"value": None, "label": self.name(lang), "color": self.color}]

    def mode_at(self, zoom: int) -> str:
        for display in self.display:
            if display.min_zoom <= zoom <= display.max_zoom:
                return display.mode
        return self.display[-1].mode


F = Field
C = Category
_NAME = F("name", "名称", "Name")
_ADDRESS = F("address", "地址", "Address")
_STREET = F("street_code", "街道代码", "Street code")

LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(
        "admin_areas", "行政区划", "Administrative areas", "MultiPolygon",
        popup=(F("name", "名称", "Name"), F("name_en", "英文名", "English name"), F("level", "级别", "Level"),
               F("code", "代码", "Code"), F("population", "人口", "Population")),
        style_column="level",
        categories=(C("district", "区/县", "District", "#444444"), C("street", "街道/乡镇", "Street", "#777777"),
                    C("community", "社区/村", "Community", "#aaaaaa")),
        display=(ScaleDisplay(0, 22, "tiles"),), street_filter="admin", order_column="code",
    ),
    LayerSpec(
        "markets", "农贸市场", "Farmers' markets", "Point",
        popup=(_NAME, F("kind", "类型", "Kind"), _ADDRESS, F("stalls", "摊位数", "Stalls"),
               F("opening_hours", "营业时间", "Opening hours"), F("operator", "管理单位", "Operator"), _STREET),
        style_column="kind",
        categories=(C("农贸市场", "农贸市场", "Farmers' market", "#e6550d"),
                    C("集贸市场", "集贸市场", "Open-air market", "#fd8d3c"),
                    C("临时便民市场", "临时便民市场", "Temporary market", "#fdae6b")),
    ),
    LayerSpec(
        "toilets", "公共厕所", "Public toilets", "Point",
        popup=(_NAME, F("grade", "等级", "Grade"), F("kind", "类型", "Kind"), _ADDRESS,
               F("opening_hours", "开放时间", "Opening hours"), F("is_free", "免费", "Free"),
               F("seats", "厕位数", "Seats"), F("accessible", "无障碍", "Accessible"),
               F("manager_unit", "管理单位", "Managed by"), _STREET),
        style_column="grade",
        categories=(C("一类", "一类公厕", "Grade I", "#08519c"), C("二类", "二类公厕", "Grade II", "#3182bd"),
                    C("三类", "三类公厕", "Grade III", "#9ecae1")),
        color="#6baed6",
    ),
    LayerSpec(
        "garbage_stations", "垃圾收集点与转运站", "Garbage points and stations", "Point",
        popup=(_NAME, F("kind", "类型", "Kind"), _ADDRESS, F("capacity_t_per_day", "能力（吨/日）", "Capacity (t/day)"),
               F("sorted", "分类投放", "Sorted"), F("schedule", "收运时间", "Schedule"), _STREET),
        style_column="kind",
        categories=(C("收集点", "垃圾收集点", "Collection point", "#74c476"),
                    C("收集站", "垃圾收集站", "Collection station", "#31a354"),
                    C("转运站", "垃圾转运站", "Transfer station", "#006d2c")),
        display=(ScaleDisplay(0, 13, "tiles"), ScaleDisplay(14, 22, "geojson")),
    ),
    LayerSpec(
        "urban_villages", "城中村", "Urban villages", "MultiPolygon",
        popup=(_NAME, F("kind", "类型", "Kind"), F("renovation_status", "改造状态", "Renovation"),
               F("population", "人口", "Population"), _STREET),
        style_column="renovation_status",
        categories=(C("未改造", "未改造", "Not renovated", "#de2d26"), C("改造中", "改造中", "Renovating", "#fc9272"),
                    C("已改造", "已改造", "Renovated", "#bdbdbd")),
    ),
    LayerSpec(
        "health_trails", "健康步道与主题公园", "Health trails and parks", "Geometry",
        popup=(_NAME, F("kind", "类型", "Kind"), F("length_m", "长度（米）", "Length (m)"),
               F("width_m", "宽度（米）", "Width (m)"), F("equipment_kinds", "器材种类", "Equipment kinds"), _STREET),
        style_column="kind",
        categories=(C("健康步道", "健康步道", "Health trail", "#7b4173"),
                    C("健康主题公园", "健康主题公园", "Health theme park", "#a55194"),
                    C("健康街区", "健康街区", "Health street", "#ce6dbd")),
    ),
    LayerSpec(
        "roads", "道路（含背街小巷）", "Roads (incl. back streets)", "LineString",
        popup=(_NAME, F("class", "道路等级", "Class"), _STREET),
        style_column="class",
        categories=(C("快速路", "快速路", "Expressway", "#636363"), C("主干路", "主干路", "Arterial", "#737373"),
                    C("次干路", "次干路", "Secondary", "#969696"), C("支路", "支路", "Branch road", "#bdbdbd"),
                    C("背街小巷", "背街小巷", "Back street", "#d95f0e")),
        display=(ScaleDisplay(0, 22, "tiles"),),
    ),
    LayerSpec(
        "land_use", "用地", "Land use", "MultiPolygon",
        popup=(F("class", "用地类别", "Class"), F("name", "名称", "Name")),
        style_column="class",
        categories=(C("R", "居住用地", "Residential", "#ffeda0"), C("A", "公共管理与公共服务用地", "Public service", "#fc9272"),
                    C("B", "商业服务业用地", "Commercial", "#fb6a4a"), C("M", "工业用地", "Industrial", "#9e9ac8"),
                    C("W", "物流仓储用地", "Warehouse", "#bcbddc"), C("S", "道路与交通设施用地", "Roads and transport", "#d9d9d9"),
                    C("U", "公用设施用地", "Utilities", "#9ecae1"), C("G", "绿地与广场用地", "Green space", "#a1d99b"),
                    C("E", "水域及其他", "Water and other", "#c6dbef")),
        display=(ScaleDisplay(0, 22, "tiles"),), street_filter="spatial", shown_by_default=False,
    ),
    LayerSpec(
        "complaints", "投诉举报", "Complaints", "Point", large=True,
        popup=(F("id", "编号", "No."), F("category", "类别", "Category"), F("status", "状态", "Status"),
               F("reported_at", "受理时间", "Reported"), F("due_at", "办结时限", "Due"), F("channel", "渠道", "Channel"),
               _ADDRESS, F("grid_code", "网格", "Grid"), _STREET),
        style_column="status",
        categories=(C("受理", "受理", "Received", "#d62728"), C("立案", "立案", "Registered", "#e45756"),
                    C("派遣", "派遣", "Dispatched", "#ff7f0e"), C("处置", "处置", "Handled", "#f2b701"),
                    C("核查", "核查", "Verified", "#8c6d31"), C("结案", "结案", "Closed", "#7f7f7f")),
        display=(ScaleDisplay(0, 13, "heat"), ScaleDisplay(14, 14, "hex"), ScaleDisplay(15, 22, "cluster")),
        time_column="reported_at", filter_columns=("category", "status"),
    ),
    LayerSpec(
        "grids", "网格", "Grids", "MultiPolygon",
        popup=(F("code", "网格编码", "Grid code"), F("name", "名称", "Name"),
               F("responsible_unit", "责任单位", "Responsible unit"), F("grid_manager", "网格长", "Grid manager"),
               F("phone", "电话", "Phone"), _STREET),
        color="#2ca02c", display=(ScaleDisplay(0, 22, "tiles"),), shown_by_default=False, order_column="code",
    ),
)
_BY_ID = {spec.id: spec for spec in LAYERS}


def layer_ids() -> list[str]:
    return [spec.id for spec in LAYERS]


def get_layer(layer_id: str) -> LayerSpec:
    """The spec of a layer id, or NotFound naming the valid ids."""
    try:
        return _BY_ID[layer_id]
    except KeyError:
        raise NotFound(f"unknown layer {layer_id!r}; layers are: {', '.join(_BY_ID)}") from None
