"""Which file column feeds which layer column: headers matched to the layer's declaration.

Headers are compared loosely (:func:`normalise_header`, traditional characters
read as simplified) against each column's name, zh label and aliases;
coordinates are looked for first, so an ``x`` column never becomes some
field's alias. Columns the layer has no place for are kept, per row, in
``attributes``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from layers.io.options import ImportOptions
from layers.io.rawtable import RawTable
from layers.io.traditional import simplified
from layers.spec.model import ATTRIBUTES, DISTRICT_ALIASES, ROW_NUMBER_ALIASES, SOURCE, SOURCE_ID, Field, LayerSpec

#: Words before or after 经度/lng… that name the coordinates' CRS (gcj_lng, 高德经度, lng_gcj02, bd09_lng, 百度经度,
#: wgs84_lon, 经度(WGS84)), as normalise_header writes them, longest first (gcj02 is not gcj + "02").
CRS_TAGS = (("wgs84", "wgs84"), ("gcj02", "gcj02"), ("bd09ll", "bd09"), ("bd09", "bd09"), ("gcj", "gcj02"),
            ("wgs", "wgs84"), ("bd", "bd09"), ("高德", "gcj02"), ("腾讯", "gcj02"), ("火星", "gcj02"), ("百度", "bd09"))
_LON_WORDS = ("经度", "lng", "lon", "longitude")
_LAT_WORDS = ("纬度", "lat", "latitude")


def _tagged(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` with each CRS tag before and after them (gcjlng, lnggcj02, 高德经度, 经度wgs84)."""
    return tuple(w for tag, _ in CRS_TAGS for word in words for w in (tag + word, word + tag))


LON_ALIASES = ("经度", "經度", "lng", "lon", "long", "longitude", "东经", *_tagged(_LON_WORDS))
LAT_ALIASES = ("纬度", "緯度", "lat", "latitude", "北纬", *_tagged(_LAT_WORDS))
X_ALIASES = ("x", "pointx", "xcoord", "横坐标", "橫坐標", "东坐标")
Y_ALIASES = ("y", "pointy", "ycoord", "纵坐标", "縱坐標", "北坐标")
PAIR_ALIASES = ("坐标", "座標", "坐標", "经纬度", "經緯度", "latlon", "latlng", "latlong", "location", "locationpoint",
                "coordinates", "coords", "point")
WKT_ALIASES = ("wkt", "wktwgs84", "geometry", "geom", "thegeom", "shape")
#: The coordinate headers an export writes (``经度(WGS84)``): they say the coordinates' CRS, which the import reads.
EXPORT_COORD_HEADERS = {"zh": ("经度(WGS84)", "纬度(WGS84)"), "en": ("lon (WGS84)", "lat (WGS84)")}
EXPORT_WKT_HEADER = "WKT (WGS84)"
#: Language tags a header may end in when a file gives a column in several languages (Hong Kong's
#: nameTC/nameSC/nameEN, name_zh): a Chinese one feeds the column, else an English one.
ZH_TAGS = ("tc", "sc", "zh", "cn", "chi", "chs", "cht", "中文", "繁体", "繁體", "简体", "簡體")
EN_TAGS = ("en", "eng", "english", "英文")
# Options naming the column of a field (admin areas from any file).
_FIELD_OPTIONS = {"code": "code_field", "name": "name_field", "parent_code": "parent_field",
                  "population": "population_field", "name_en": "name_en_field"}


def field_option(column: str) -> str | None:
    """The command-line option that names the file's column for a layer column (``--name-field``), if any."""
    attribute = _FIELD_OPTIONS.get(column)
    return "--" + attribute.replace("_", "-") if attribute else None


def normalise_header(text: str) -> str:
    """Header text (or a constrained value) compared loosely: NFKC, traditional characters written simplified
    (工單狀態 is 工单状态, 已辦結 is 已办结), lower case, no spaces, underscores, dashes or BOM."""
    text = simplified(unicodedata.normalize("NFKC", str(text))).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_\-./()（）:：]+", "", text)


@dataclass
class ColumnPlan:
    """Where each value of a row comes from (file column names)."""

    fields: dict[str, str]       # layer column → file column
    id_col: str | None
    source_col: str | None
    district_col: str | None
    attributes_col: str | None
    code_cols: dict[str, str]    # area-code column → file column stating it
    coord: tuple                 # ("lonlat", lon, lat) | ("pair", col) | ("wkt", col) | ("geometry", [col])
    extra: list[str]             # the rest: kept in attributes
    refined: dict[str, list[str]] = field(default_factory=dict)  # layer column → its finer levels' file columns
    counted: set[str] = field(default_factory=set)  # layer columns read from a count of them (Field.counted_by)
    rejected_row: str | None = None  # a rejects file's 行号: the row each line was on in the file it came from
    empty_id: str | None = None  # the id column, empty in every row of the first chunk: rows keyed by row number
    notes: list = field(default_factory=list)  # what the report says of the headers (a shapefile's cut names)

    @property
    def coord_columns(self) -> tuple[str, str]:
        """The file columns of the longitude and the latitude (one column twice for a "lat,lon" pair or WKT)."""
        return (self.coord[1], self.coord[2]) if self.coord[0] == "lonlat" else (self.coord[1],) * 2


#: The first two columns of a rejects file (``--skip-bad``): where the row was in its file, and why it was refused.
#: Read back (the rows corrected), they key the rows as that file did and are not attributes.
REJECTS_ROW = {"row": "行号", "feature": "要素序号", "record": "记录序号"}
REJECTS_REASON = "原因"


class _Headers:
    """The file's columns, each taken at most once."""

    def __init__(self, raw: RawTable, known_as: dict[str, str] | None = None):
        self.columns = list(raw.frame.columns)
        self.file = raw.path.name
        self.used: set[str] = set()
        self.known_as = known_as or {}  # a shapefile's cut header → the name it was cut from

    def _norm(self, col: str) -> str:
        return normalise_header(self.known_as.get(col, col))

    def find(self, aliases, *, take: bool = True) -> str | None:
        """The first free column matching an alias (in the aliases' order)."""
        by_norm: dict[str, str] = {}
        for col in self.columns:
            if col not in self.used:
                by_norm.setdefault(self._norm(col), col)
        for alias in aliases:
            hit = by_norm.get(normalise_header(alias))
            if hit is not None:
                if take:
                    self.used.add(hit)
                return hit
        return None

    def localised(self, aliases) -> str | None:
        """The free column named by an alias plus a language tag: the file's first Chinese one, else English."""
        names = {normalise_header(a) for a in aliases}
        free = [c for c in self.columns if c not in self.used]
        for tags in (ZH_TAGS, EN_TAGS):
            for col in free:
                norm = self._norm(col)
                if any(norm.endswith(t) and norm[:-len(t)] in names for t in tags):
                    return col
        return None

    def named(self, given: str | None, option: str) -> str | None:
        """The column an option names (exactly, else loosely), or InvalidParameter naming the columns."""
        if given is None:
            return None
        hit = given if given in self.columns else None
        if hit is None:
            by_norm = {normalise_header(c): c for c in reversed(self.columns)}
            hit = by_norm.get(normalise_header(given))
        if hit is None:
            raise InvalidParameter(option, f"{self.file} has no column {given!r}; columns are: "
                                   f"{', '.join(self.columns)}",
                                   f"{self.file} 没有 {given!r} 列；现有列：{'、'.join(self.columns)}")
        self.used.add(hit)
        return hit

    def take(self, col: str | None) -> str | None:
        if col:
            self.used.add(col)
        return col


def header_names(f: Field) -> tuple[str, ...]:
    """What a column may be called: its name, zh label, aliases, and the name a .dbf cuts it to."""
    return (f.column, f.label_zh, *f.aliases, f.column[:10])


def _named_by_values(headers: _Headers, raw: RawTable, f: Field) -> str | None:
    """The free column an ``aliases_if_values`` header names whose filled cells are more than half ``f``'s values.

    Most, not all: a ledger's odd 特级 among its 一类…三类 is then reported as the value it is not.
    """
    if not f.aliases_if_values:
        return None
    allowed = {normalise_header(v) for v in (*(f.choices or ()), *f.synonyms) if isinstance(v, str)}
    for alias in f.aliases_if_values:
        col = headers.find((alias,), take=False)
        if col is None:
            continue
        cells = [normalise_header(v) for v in raw.frame[col] if v.strip()]
        if cells and sum(v in allowed for v in cells) > len(cells) / 2:
            return col
    return None


def _facility_number(headers: _Headers, spec: LayerSpec) -> str | None:
    """A free column named as a thing's number (公厕编号, 设施编号, 案件编号) that no column of the layer claims.

    Offices number their ledgers this way; such a number stays with its facility when the list is sorted anew,
    where a running 序号 does not.
    """
    claimed = {normalise_header(n) for f in (*spec.imported, *spec.area_codes) for n in header_names(f)}
    for col in headers.columns:
        norm = normalise_header(col)
        if col not in headers.used and norm not in claimed and norm.endswith(_NUMBER_SUFFIXES):
            return headers.take(col)
    return None


_NUMBER_SUFFIXES = ("编号",)  # as normalise_header writes it (編號 too)


def plan_columns(raw: RawTable, opts: ImportOptions, spec: LayerSpec) -> ColumnPlan:
    """Decide which file column feeds which layer column; the rest go to attributes."""
    known_as, notes = _cut_headers(raw, spec)
    headers = _Headers(raw, known_as)
    first = headers.columns[:2]
    rejected_row = first[0] if first[1:] == [REJECTS_REASON] and first[0] in REJECTS_ROW.values() else None
    if rejected_row:
        headers.used.update(first)
    mapped = _mapped(headers, opts, spec)
    id_col = mapped.pop("source_id", None) or headers.named(opts.id_field, "--id-field")
    lon_col = mapped.pop("lon", None) or headers.named(opts.lon_col, "--lon-col")
    lat_col = mapped.pop("lat", None) or headers.named(opts.lat_col, "--lat-col")
    coord = _coordinates(headers, raw, lon_col, lat_col)
    headers.used.update(c for c in coord[1:] if c)
    id_col = id_col or headers.find(SOURCE_ID.aliases) or _facility_number(headers, spec) \
        or headers.find(ROW_NUMBER_ALIASES)
    # An id column empty in every row (other tools' template) is none: rows keyed by their number, not all refused.
    empty_id = id_col if id_col and (raw.frame[id_col] == "").all() else None
    id_col = None if empty_id else id_col
    if empty_id:
        notes.append(Note(f"编号列“{empty_id}”全部为空，不作编号", f"the id column {empty_id!r} is empty in every row: "
                          "not taken as the id"))
    source_col = headers.find(SOURCE.aliases)
    attributes_col = headers.find(ATTRIBUTES.aliases)
    fields, refined, counted = {}, {}, set()
    for f in spec.imported:
        col = mapped.get(f.column) or headers.find(header_names(f), take=False)
        if col is None and f.suffixes:
            col = next((c for c in headers.columns if c not in headers.used
                        and headers._norm(c).endswith(tuple(map(normalise_header, f.suffixes)))), None)
        col = col or headers.localised(header_names(f)) or _named_by_values(headers, raw, f)
        if col is None and f.counted_by and (col := headers.find(f.counted_by, take=False)):
            counted.add(f.column)
        if col is not None:
            fields[f.column] = headers.take(col)
            # Its finer levels (二级分类, 311's Descriptor) stay free: a later field may read one too (description),
            # else attributes keep them.
            refined[f.column] = [c for names in f.refined_by if (c := headers.find(names, take=False))]
    code_cols = {}
    for f in spec.area_codes:
        if col := headers.find((f.column, f.label_zh, f.column[:10])):
            code_cols[f.column] = col
    # A stated district is checked against the routing, not stored (the admin areas state none).
    district_col = headers.find(DISTRICT_ALIASES) if spec.rules.routing != "none" else None
    extra = [c for c in headers.columns if c not in headers.used]
    return ColumnPlan(fields, id_col, source_col, district_col, attributes_col, code_cols, coord, extra,
                      {column: cols for column, cols in refined.items() if cols}, counted, rejected_row, empty_id,
                      notes)


def _cut_headers(raw: RawTable, spec: LayerSpec) -> tuple[dict[str, str], list]:
    """A shapefile's headers cut to 10 bytes → the names they were cut from, and the notes saying so
    (:mod:`layers.io.dbf_names`); nothing for other files."""
    if raw.names_cut_in is None:
        return {}, []
    from layers.io.dbf_names import cut_names  # it compares with normalise_header, from here

    known: dict[str, tuple[str, ...]] = {}
    for f in spec.imported:
        known[f.column] = header_names(f)
        known[f.column + " (values)"] = f.aliases_if_values
        known[f.column + " (count)"] = f.counted_by
        known.update({f"{f.column} (level {i})": names for i, names in enumerate(f.refined_by)})
    known.update({f.column: (f.column, f.label_zh) for f in spec.area_codes})
    known.update(source_id=SOURCE_ID.aliases, row_number=ROW_NUMBER_ALIASES, source=SOURCE.aliases,
                 attributes=ATTRIBUTES.aliases, district=DISTRICT_ALIASES)
    return cut_names(list(raw.frame.columns), raw.names_cut_in, known, raw.names_cut_off,
                     {f.column: f.suffixes for f in spec.imported if f.suffixes})


def _mapped(headers: _Headers, opts: ImportOptions, spec: LayerSpec) -> dict[str, str]:
    """Layer column → file column, as --mapping and the --…-field options say."""
    known = {f.column for f in spec.imported}
    mapped = {}
    for header, target in opts.mapping.items():
        col = headers.named(header, "--mapping")
        if target not in known and target not in ("source_id", "lon", "lat"):
            raise InvalidParameter("--mapping", f"{target!r} is not a column of {opts.layer}; columns are: "
                                   + ", ".join(sorted(known)),
                                   f"{target!r} 不是 {opts.layer} 的列；可用的列：" + "、".join(sorted(known)))
        mapped[target] = col
    for target, attribute in _FIELD_OPTIONS.items():
        if given := getattr(opts, attribute):
            mapped[target] = headers.named(given, field_option(target))
    return mapped


def _coordinates(headers: _Headers, raw: RawTable, lon_col: str | None, lat_col: str | None) -> tuple:
    """Where the coordinates are: the file's geometries, two columns, one "lat,lon" column, or WKT."""
    if raw.geometries is not None:
        return ("geometry",)
    if lon_col or lat_col:
        if not (lon_col and lat_col):
            raise InvalidParameter("--lon-col/--lat-col", "give both columns", "两列都要给出")
        return ("lonlat", lon_col, lat_col)
    lon = headers.find(LON_ALIASES, take=False)
    lat = headers.find(LAT_ALIASES, take=False)
    lone = (lon or lat) if not (lon and lat) else None
    sample = raw.frame[lone][raw.frame[lone].str.strip() != ""].head(20) if lone else None
    if lone and len(sample) and sample.str.contains(",").all():
        # One "coordinate" column holding both numbers (Hong Kong's `latitude` is "lat,lon").
        return ("pair", lone)
    if lon and lat:
        return ("lonlat", lon, lat)
    if (x := headers.find(X_ALIASES, take=False)) and (y := headers.find(Y_ALIASES, take=False)):
        return ("lonlat", x, y)
    if pair := headers.find(PAIR_ALIASES, take=False):
        return ("pair", pair)
    if wkt := headers.find(WKT_ALIASES, take=False):
        return ("wkt", wkt)
    columns = headers.columns
    delimited = headers.file.lower().endswith((".csv", ".txt", ".tsv"))
    one = len(columns) == 1 and delimited
    hint = " (only one column was found: is the delimiter , ; or tab?)" if one else ""
    raise InvalidInput(f"{headers.file}: no coordinate columns found{hint}; expected 经度/纬度, lng/lat, lon/lat, "
                       "x/y, longitude/latitude, a \"lat,lon\" column or WKT, or give --lon-col/--lat-col; "
                       f"columns are: {', '.join(columns)}",
                       zh=f"{headers.file}：找不到坐标列{'（只读到一列：分隔符是逗号、分号还是制表符？）' if one else ''}；"
                          "应有 经度/纬度、lng/lat、lon/lat、x/y、“纬度,经度”合一的列或 WKT，或用 --lon-col/--lat-col 指明；"
                          f"现有列：{'、'.join(columns)}")


def header_crs(header: str) -> str | None:
    """The CRS a coordinate header names (wgs84, gcj02 or bd09: 高德经度 → gcj02, ``lon (WGS84)`` → wgs84), or None."""
    norm = normalise_header(header)
    return next((crs for tag, crs in CRS_TAGS if norm.startswith(tag) or norm.endswith(tag)), None)


def stated_crs(plan: ColumnPlan) -> tuple[str, str] | None:
    """The first coordinate column whose header names its coordinates' CRS, and that CRS (``("高德经度", "gcj02")``;
    ``经度(WGS84)``, ``lon (WGS84)`` as exports write them: wgs84), or None."""
    if plan.coord[0] not in ("lonlat", "pair", "wkt"):
        return None
    return next(((col, crs) for col in dict.fromkeys(plan.coord_columns) if (crs := header_crs(col))), None)
