"""What GDAL's LIBKML driver makes of the KML that 奥维互动地图 and Google My Maps save, made the office's table.

Their placemarks have a name, a description and, from My Maps, ExtendedData
``<Data name="座位數">``; none has the optional ``id`` attribute, which LIBKML
still gives every layer as a column. So: ExtendedData names are read as
written (GDAL launders non-ASCII names to underscores unless told not to:
座位數 would become ``_________`` and match nothing), an ``id`` column empty in
every row is no id column (the rows are keyed by their feature number, as a
CSV without ids is by its row number), and KML's own display settings are
dropped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from layers.io.rawtable import RawTable

KML_SUFFIXES = (".kml", ".kmz")


def keep_field_names() -> None:
    """Have LIBKML read ExtendedData/SimpleData names as written (a config option of its reading only; set for
    the whole process, as no reading here wants them laundered)."""
    import pyogrio

    pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})


def is_kml(path: Path) -> bool:
    """Whether the file is KML or KMZ (by its suffix, as the readers choose)."""
    return path.suffix.lower() in KML_SUFFIXES


#: KML display settings GDAL reads as columns: never data.
_KML_DISPLAY = ("tessellate", "extrude", "visibility", "drawOrder", "icon", "altitudeMode", "timestamp", "begin", "end")
#: In this tool's own KML export (it carries source_id and attributes) the placemark id is GDAL's and the
#: description renders the other columns: re-importing them would add them to every row's attributes.
_KML_EXPORT = ("id", "description")


def without_kml_display(raw: RawTable) -> RawTable:
    """A KML's table without the columns that are KML's own (display settings; the export's rendering)."""
    if not is_kml(raw.path):
        return raw
    columns = set(raw.frame.columns)
    drop = [c for c in _KML_DISPLAY if c in columns]
    if "id" in columns and (raw.frame["id"] == "").all():
        drop.append("id")  # no placemark has an id: the rows are keyed by their number, not all refused
    if {"source_id", "attributes"} <= columns:
        drop += [c for c in _KML_EXPORT if c in columns and c not in drop]
        if "Name" in columns and raw.frame["Name"].equals(raw.frame["source_id"]):
            drop.append("Name")  # a layer without names: the placemark shows the id
    return dataclasses.replace(raw, frame=raw.frame.drop(columns=drop)) if drop else raw
