"""What the analyses share to write their results: GeoJSON bytes, CSV and XLSX files, report numbers.

Geometries arrive as GeoJSON text from PostGIS (ST_AsGeoJSON) and are
stitched in as raw JSON fragments: no geometry passes through shapely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import orjson

from data.errors import InvalidParameter


def feature_collection(features: Iterable[tuple[str | None, dict]], **top: object) -> bytes:
    """A GeoJSON FeatureCollection from (geometry GeoJSON text, properties) pairs, plus top-level members."""
    parts = []
    for geometry, properties in features:
        parts.append({"type": "Feature", "geometry": orjson.Fragment(geometry) if geometry else None,
                      "properties": properties})
    return orjson.dumps({"type": "FeatureCollection", **top, "features": parts},
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def features(rows: Iterable[dict], geometry: str = "geometry") -> list[tuple[str | None, dict]]:
    """(geometry, properties) pairs of result rows whose ``geometry`` member holds GeoJSON text."""
    return [(row[geometry], {k: v for k, v in row.items() if k != geometry}) for row in rows]


def figure(value, digits: int = 1) -> str:
    """A value as a report shows it: thousands separated, ``digits`` decimals for floats, — for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table_rows(rows: list[dict], drop: tuple[str, ...] = ("geometry", "gaps", "disc")) -> list[dict]:
    """Rows without their geometries, nested dicts flattened (components.x.value → x_value)."""
    out = []
    for row in rows:
        flat = {}
        for key, value in row.items():
            if key in drop:
                continue
            if isinstance(value, dict):
                for sub, inner in value.items():
                    if isinstance(inner, dict):
                        for leaf, v in inner.items():
                            flat[f"{sub}_{leaf}"] = v
                    else:
                        flat[f"{key}_{sub}"] = inner
            else:
                flat[key] = value
        out.append(flat)
    return out


#: What ``--out`` writes, by the file's extension.
FORMATS = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".xlsx": "xlsx"}


def out_format(path: Path) -> str:
    """The format ``path`` asks for by its extension; InvalidParameter for any other."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidParameter("--out", f"{path.name}: the extension must be .geojson, .csv or .xlsx")
    return fmt


def write(path: Path, rows: list[dict], geojson: Callable[[], bytes]) -> str:
    """Write a result by the file's extension: the GeoJSON (made only now), or the rows as CSV or XLSX."""
    import pandas as pd

    fmt = out_format(path)
    if fmt == "geojson":
        path.write_bytes(geojson())
        return fmt
    frame = pd.DataFrame(table_rows(rows))
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel opens Chinese CSV correctly
    else:
        frame.to_excel(path, index=False)
    return fmt
