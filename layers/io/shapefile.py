"""A layer as a zipped shapefile: one geometry type, text a .dbf can hold, long leftovers set aside.

A .dbf text field holds at most 254 bytes. A value longer than that would be
cut by GDAL without a word, so an export with one is refused before anything
is written — except ``attributes``, a row's leftover columns as JSON (New
York's 311 rows carry a kilobyte of them): a shapefile without it is still the
layer, so that column goes whole into a CSV in the zip, keyed by source and
source_id, and the export says so. Reading such a zip (or a folder holding
that CSV beside the .shp) back joins the column to its rows again: an office
that edits the shapefile in QGIS and imports it keeps every row's leftovers.
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from layers.io.cells import csv_row

#: A .dbf text field holds at most this many bytes: GDAL cuts longer values (JSON then no longer parses).
DBF_TEXT_BYTES = 254
#: The columns of the CSV an export sets ``attributes`` aside in.
ASIDE_HEADER = ["source", "source_id", "attributes"]


ASIDE_SUFFIX = "_attributes.csv"


def aside_name(layer: str) -> str:
    """The CSV beside ``layer``'s shapefile holding its ``attributes`` column."""
    return layer + ASIDE_SUFFIX


def write_shapefile(layer, out, types, geoms, data, names, encoding, written, notes=None) -> None:
    """A zip of .shp/.shx/.dbf/.prj/.cpg (the .cpg so desktop GIS reads the text right), or InvalidParameter
    before anything is written when the layer mixes geometry types or a text value is too long for a .dbf."""
    import pyogrio.raw

    encoding = encoding or "utf-8"
    if len({_FAMILY.get(t, t) for t in types}) > 1:
        raise InvalidParameter("--format", f"a shapefile holds one geometry type, but {layer} mixes "
                               f"{', '.join(sorted(types))}; export as gpkg or geojson",
                               f"shapefile 只能存一种几何类型，而 {layer} 混有 {'、'.join(sorted(types))}；"
                               "请导出为 gpkg 或 geojson")
    _check_encoding(encoding)
    aside = _attributes_aside(layer, data, names, written, encoding)
    _check_dbf_text(layer, data, names, encoding)
    folder = Path(tempfile.mkdtemp(prefix="hm-shp-"))
    try:
        target = folder / f"{layer}.shp"
        pyogrio.raw.write(str(target), geoms, data, names, driver="ESRI Shapefile",
                          encoding=encoding.upper(), **written)
        cpg = folder / f"{layer}.cpg"
        if not cpg.exists():
            cpg.write_text(encoding.upper())
        if aside is not None:
            (folder / aside[0]).write_bytes(aside[1])
            if notes is not None:
                notes.append(aside[2])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(folder.iterdir()):
                archive.write(part, part.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InvalidParameter("--encoding", f"{encoding!r} is not a text encoding (use utf-8 or gbk)",
                               f"{encoding!r} 不是文本编码（请用 utf-8 或 gbk）") from None


def _too_long(values: np.ndarray, encoding: str) -> list[int]:
    """The byte sizes (in ``encoding``) of a text column's values."""
    return [len(v.encode(encoding, errors="replace")) for v in values if v is not None]


def _attributes_aside(layer: str, data: list, names: list[str], written: dict, encoding: str):
    """When an ``attributes`` value is too long for a .dbf: the column taken out of ``data``, ``names`` and the
    field masks, and (file name, CSV bytes, note) of it with each row's source and source_id; else None."""
    if "attributes" not in names:
        return None
    j = names.index("attributes")
    sizes = _too_long(data[j], encoding)
    over = sum(size > DBF_TEXT_BYTES for size in sizes)
    if not over:
        return None
    values = data.pop(j)
    names.pop(j)
    written["field_mask"].pop(j)
    keys = [data[names.index(c)] if c in names else np.full(len(values), None) for c in ("source", "source_id")]
    text = io.StringIO()
    rows = csv.writer(text)
    rows.writerow(ASIDE_HEADER)
    rows.writerows(csv_row(row) for row in zip(*keys, values))
    name = aside_name(layer)
    note = Note(f"attributes（原文件中未对应的列，JSON）有 {over:,} 行长于 .dbf 字段的 {DBF_TEXT_BYTES} 字节：Shapefile 中"
                f"不含此列，整列另存于 zip 中的 {name}（按 source、source_id 对应）",
                f"attributes (the file's unmatched columns, as JSON) is longer than a .dbf field's {DBF_TEXT_BYTES} "
                f"bytes in {over:,} rows: the shapefile leaves it out, and the whole column is in {name} in the zip "
                "(by source and source_id)")
    return name, text.getvalue().encode("utf-8-sig"), note


def _check_dbf_text(layer: str, data: list, names: list[str], encoding: str) -> None:
    """Refuse a shapefile whose text values exceed a .dbf field (in ``encoding``'s bytes): GDAL would cut them."""
    _check_encodable(layer, data, names, encoding)
    too_long, too_long_zh = [], []
    for name, values in zip(names, data):
        if values.dtype != object:
            continue
        sizes = _too_long(values, encoding)
        over = sum(size > DBF_TEXT_BYTES for size in sizes)
        if over:
            too_long.append(f"{name} in {over:,} row{'s' if over > 1 else ''} (up to {max(sizes):,} bytes)")
            too_long_zh.append(f"{name} 列 {over:,} 行（最长 {max(sizes):,} 字节）")
    if too_long:
        raise InvalidParameter("--format", f"a shapefile's text field holds at most {DBF_TEXT_BYTES} bytes, but "
                               f"{layer} has longer values: {'; '.join(too_long)} ({encoding}); export as gpkg "
                               "(GeoPackage) or geojson, which keep every value whole",
                               f"shapefile 的文本字段最多 {DBF_TEXT_BYTES} 字节，而 {layer} 有更长的值："
                               f"{'；'.join(too_long_zh)}（{encoding}）；请导出为 gpkg（GeoPackage）或 geojson，"
                               "它们完整保留每个值")


def _check_encodable(layer: str, data: list, names: list[str], encoding: str) -> None:
    """Refuse a shapefile whose text the chosen encoding cannot hold (an emoji or a C1 character in GBK): GDAL
    would drop those characters without a word."""
    lost, lost_zh = [], []
    ids = data[names.index("source_id")] if "source_id" in names else None
    for name, values in zip(names, data):
        if values.dtype != object:
            continue
        bad = [i for i, v in enumerate(values) if v is not None and not _encodes(v, encoding)]
        if bad:
            # The row named by its id (编号), so the office can find and correct that one value.
            first = bad[0]
            chars = "".join(dict.fromkeys(ch for ch in values[first] if not _encodes(ch, encoding)))
            which = f"feature {first + 1}" + (f", source_id {ids[first]!r}" if ids is not None else "")
            which_zh = f"第 {first + 1} 个要素" + (f"，编号 {ids[first]!r}" if ids is not None else "")
            lost.append(f"{name} in {len(bad):,} row{'s' if len(bad) > 1 else ''} (first: {which}: {chars!r})")
            lost_zh.append(f"{name} 列 {len(bad):,} 行（首个：{which_zh}：{chars!r}）")
    if lost:
        raise InvalidParameter("--encoding", f"{encoding} cannot hold every character of {layer}: "
                               f"{'; '.join(lost)}; they would be lost: export with utf-8, or as gpkg or geojson",
                               f"{encoding} 无法表示 {layer} 中的全部字符：{'；'.join(lost_zh)}；这些字符会丢失："
                               "请用 utf-8 导出，或导出为 gpkg 或 geojson")


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


_FAMILY = {"POINT": "POINT", "MULTIPOINT": "POINT", "LINESTRING": "LINE", "MULTILINESTRING": "LINE",
           "POLYGON": "POLYGON", "MULTIPOLYGON": "POLYGON"}


def attributes_back(path: Path, layer: str, frame) -> Note | None:
    """This tool's own shapefile read back: the ``attributes`` its export set aside, joined to ``frame`` again.

    ``path`` is the .shp or the zip it was read from, ``layer`` the shapefile's name (its stem). Rows are matched
    by source and source_id; a row the CSV has no line for gets none. Nothing is done when ``frame`` already has
    an ``attributes`` column or no ``source_id``, or when no such CSV is there. Returns what the import says.
    """
    if "attributes" in frame.columns or "source_id" not in frame.columns:
        return None
    found = _aside(path, aside_name(layer))
    if found is None:
        return None
    name, text = found
    rows = csv.reader(io.StringIO(text))
    if next(rows, None) != ASIDE_HEADER:
        raise InvalidInput(f"{path.name}: {name} must have the columns {','.join(ASIDE_HEADER)} (as the export "
                           "wrote it); remove it to import the shapefile without attributes",
                           zh=f"{path.name}：{name} 的列应为 {','.join(ASIDE_HEADER)}（导出时所写）；"
                              "若不需要 attributes，请删除该文件后再导入")
    kept = {(row[0], row[1]): row[2] for row in rows if len(row) == 3}
    sources = frame["source"] if "source" in frame.columns else [""] * len(frame)
    frame["attributes"] = [kept.get((s, i), "") for s, i in zip(sources, frame["source_id"])]
    found = sum(v != "" for v in frame["attributes"])
    return Note(f"attributes 列读自 {name}：{found:,} 行（按 source、source_id 对应）",
                f"attributes read from {name}: {found:,} rows (by source and source_id)")


def _aside(path: Path, name: str) -> tuple[str, str] | None:
    """(name, text) of the CSV ``name`` in the zip ``path`` (any folder of it) or beside the .shp ``path``; else of
    the only ``*_attributes.csv`` there (the shapefile saved under another name in QGIS keeps its old CSV)."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = {i.rsplit("/", 1)[-1]: i for i in archive.namelist() if i.endswith(ASIDE_SUFFIX)}
            chosen = name if name in members else next(iter(members)) if len(members) == 1 else None
            return None if chosen is None else (chosen, archive.read(members[chosen]).decode("utf-8-sig"))
    there = [path.with_name(name)] if path.with_name(name).is_file() else sorted(path.parent.glob("*" + ASIDE_SUFFIX))
    return (there[0].name, there[0].read_text(encoding="utf-8-sig")) if len(there) == 1 else None
