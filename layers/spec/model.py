"""The shape of a layer declaration: its columns, style, display, print symbol and import rules.

Each layer is one :class:`LayerSpec`, declared in its own module of this
package and listed by :mod:`layers.spec.registry`; the web map, tiles, OGC
API, export, import and print code all read it, and none of them names a
layer to decide what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

#: Who may read a column: anyone, the city's staff, or only those handling the case (issue 14 enforces it).
ColumnClass = Literal["public", "internal", "personal"]


class Bilingual:
    """Something with a Chinese and an English label (``label_zh``, ``label_en``)."""

    label_zh: str
    label_en: str

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class Field(Bilingual):
    """One column of a layer's table: what it holds, what people call it, who may read it.

    Parameters
    ----------
    column : the table column.
    kind : ``text``, ``int``, ``num``, ``bool``, ``time`` (timestamptz) or ``json``.
    label_zh, label_en : its name in popups, OGC pages and export headers. The zh
        label heads XLSX/KML exports and is also an import alias, so an export
        imports again unchanged.
    aliases : other header names people give it (other words, English). A traditional spelling needs none:
        headers and values are matched with traditional characters read as simplified (layers/io/traditional.py).
    suffixes : header endings that name it when no alias matched (公廁名稱, Facility Name → name).
    aliases_if_values : header names that name it only when most of the column's values are its choices or
        their synonyms (a ledger's 类别 of 一类…三类 is a toilet's grade; Taipei's 公廁類別 of 公園, 機關 is not).
    counted_by : header names of a count of it (無障礙廁座數, accessible seats): a yes/no read from such a
        column is yes when the count is above 0 (a yes/no column's own 2 may be a code for no).
    choices, synonyms : the allowed values (the table's CHECK) and other spellings of them. A
        vocabulary's synonym may be keyed by a tuple, a path of values from the coarsest level down
        (``("UNSANITARY CONDITION", "PESTS")``), and map to None: that path is declared no name. A yes/no's
        synonyms map other words to 是 or 否 (Operational, Not Operational) or to None (unknown); where it has
        a default too, a word none of them names is a warning and the default stands.
    refined_by : header names of the finer levels of the value, coarse to fine (二级分类, 三级分类;
        NYC 311's Descriptor): the finest level whose value is a synonym decides.
    vocabulary : a lookup table whose names are the allowed values (complaint categories).
    required, default : an import refuses a file or row without it / fills empty cells with it.
    option : the command-line option that may set it for a whole file (``--level``).
    past : a time that cannot lie in the future.
    popup : shown in the map popup (and so in the GeoJSON properties).
    column_class : public | internal | personal; who reads it is decided in one place,
        :func:`layers.workflow.access.column_grant`.
    contact : a grid's contact (manager's name, phone): public when the server
        says so (``HYGIENE_MAP_GRID_CONTACTS_PUBLIC``), else its ``column_class``.
    imported : read from files; False for columns the database or the routing fills.
    """

    column: str
    kind: str = "text"
    label_zh: str = ""
    label_en: str = ""
    aliases: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    aliases_if_values: tuple[str, ...] = ()
    counted_by: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    synonyms: Mapping[str | tuple[str, ...], str | None] = field(default_factory=dict, hash=False)  # hash: the others
    refined_by: tuple[tuple[str, ...], ...] = ()
    vocabulary: str | None = None
    required: bool = False
    default: str | None = None
    option: str | None = None
    past: bool = False
    popup: bool = False
    column_class: ColumnClass = "public"
    contact: bool = False
    imported: bool = True


@dataclass(frozen=True)
class Category(Bilingual):
    """One value of a layer's style column: its colour and legend labels."""

    value: str
    label_zh: str
    label_en: str
    color: str


def values(categories: tuple[Category, ...]) -> tuple[str, ...]:
    """The values of categories: the choices of the column they style."""
    return tuple(c.value for c in categories)


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
class PrintSymbol(Bilingual):
    """How a layer looks on paper, readable in black and white (shape, dash, hatching).

    ``styles`` maps a key to matplotlib keyword arguments: a value of the
    layer's kind or class (garbage station kinds, road classes), a part
    (``line``, ``area``), or a state (``overdue``); ``default`` is the key of
    rows whose value has no style of its own.
    """

    label_zh: str
    label_en: str
    styles: Mapping[str, Mapping] = field(hash=False)
    default: str | None = None

    def key(self, value: str | None, overdue: bool = False) -> str | None:
        """The style key of one feature: its state, else its value, else the default."""
        if overdue and "overdue" in self.styles:
            return "overdue"
        return value if value in self.styles else self.default


@dataclass(frozen=True)
class ImportRules:
    """How rows of files become rows of the layer's table (read by :mod:`layers.io`).

    Parameters
    ----------
    geometry : the geometry families the table holds (``Point``, ``LineString``, ``Polygon``).
    routing : how rows get their area codes: ``points`` (point-in-area), ``code``
        (from the row's own code, by a hook; the city's extent is still checked)
        or ``none`` (the admin areas themselves).
    key_column : identifies rows when the file has no id column (codes of areas, grids).
    multi_part : a row may be several lines; otherwise multi-part lines and points are refused.
    status_history : every imported status is appended to complaint_events.
    hooks : named steps of :mod:`layers.io.hooks` run once the columns are read.
    after_write : named steps of :mod:`layers.io.hooks` (``AFTER_WRITE``) run on the rows once written.
    from_files : rows may come from files; False for layers written only through
        their own workflow (inspection findings are made in the field).
    """

    geometry: tuple[str, ...]
    routing: str = "points"
    key_column: str | None = None
    multi_part: bool = False
    status_history: bool = False
    hooks: tuple[str, ...] = ()
    after_write: tuple[str, ...] = ()
    from_files: bool = True

    @property
    def points(self) -> bool:
        return self.geometry == ("Point",)


#: The area-code columns, coarse to fine; routing fills those a layer has.
AREA_CODE_COLUMNS = ("district_code", "street_code", "community_code", "grid_code")

# Provenance and leftovers, in every layer's table: re-imports update rows by
# (source, source_id); columns a layer has no place for are kept in attributes.
SOURCE = Field("source", label_zh="数据来源", label_en="Source", aliases=("source", "数据来源", "數據來源"),
               imported=False)
SOURCE_ID = Field("source_id", label_zh="编号", label_en="Source id", imported=False,
                  aliases=("sourceid", "id", "编号", "編號", "工单编号", "工單編號", "工单号", "受理编号", "诉求编号", "uniquekey",
                           "objectid", "fid", "basketid", "mapid", "gid", "uid"))
#: A table's running number (序号): the id only when a file has no other (a list sorted anew renumbers it).
ROW_NUMBER_ALIASES = ("序号", "序號", "no")
ATTRIBUTES = Field("attributes", "json", "属性", "Attributes", aliases=("attributes", "属性", "屬性"),
                   column_class="internal", imported=False)
#: Headers stating the district a row lies in: checked against the routing, not stored.
DISTRICT_ALIASES = ("行政区", "行政區", "所属区", "所屬區", "区县", "區", "区", "district", "borough")


@dataclass(frozen=True)
class LayerSpec:
    """One thematic layer: its table (named after its id), names, columns, style, display, symbol, import rules.

    Every field after ``fields`` has a default; the web map, tile, OGC,
    export, import and print code read the rest.
    """

    id: str
    name_zh: str
    name_en: str
    geometry_type: str  # Point, LineString, MultiPolygon or Geometry (mixed)
    rules: ImportRules
    fields: tuple[Field, ...] = ()  # the layer's own columns, in export order
    large: bool = False  # millions of rows possible: never COUNT(*) per request
    style_column: str | None = None  # the column whose value picks a Category
    categories: tuple[Category, ...] = ()
    color: str = "#3366cc"  # colour of rows whose value has no Category
    display: tuple[ScaleDisplay, ...] = (ScaleDisplay(0, 22, "geojson"),)
    street_filter: str = "column"  # how ?street= selects rows: column | admin | spatial
    time_column: str | None = None  # since/until filter on this column
    filter_columns: tuple[str, ...] = ()  # columns with an equality filter (?category=, ?status=)
    shown_by_default: bool = True
    order_column: str = "id"
    symbol: PrintSymbol | None = None  # how printed maps draw it (None: not printed)
    attributes_class: ColumnClass = "internal"  # what the leftover columns may hold
    own_grid_column: str | None = None  # the column holding a row's own grid code, when not grid_code
    history: tuple[Field, ...] = ()  # columns of the layer's history entries (who changed it, why), with their class

    @property
    def table(self) -> str:
        return self.id

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    @property
    def popup(self) -> tuple[Field, ...]:
        """The columns a popup shows, in declaration order."""
        return tuple(f for f in self.fields if f.popup)

    @property
    def imported(self) -> tuple[Field, ...]:
        """The columns an import reads from files."""
        return tuple(f for f in self.fields if f.imported)

    @property
    def area_codes(self) -> tuple[Field, ...]:
        """The area-code columns of the table, coarse to fine."""
        return tuple(sorted((f for f in self.fields if f.column in AREA_CODE_COLUMNS),
                            key=lambda f: AREA_CODE_COLUMNS.index(f.column)))

    @property
    def grid_column(self) -> str | None:
        """The column naming the grid a row lies in (an inspector's personal-data scope), if any."""
        if self.own_grid_column:
            return self.own_grid_column
        return "grid_code" if any(f.column == "grid_code" for f in self.fields) else None

    @property
    def stored(self) -> tuple[Field, ...]:
        """Every column an export writes: provenance, imported columns, area codes, attributes."""
        codes = tuple(f for f in self.area_codes if not f.imported)
        return (SOURCE, SOURCE_ID, *self.imported, *codes, replace(ATTRIBUTES, column_class=self.attributes_class))

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
