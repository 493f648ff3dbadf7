"""Turn analysis results (geo/) into GeoJSON bytes, CSV and XLSX files.

Geometries arrive as GeoJSON text from PostGIS (ST_AsGeoJSON) and are
stitched in as raw JSON fragments: no geometry passes through shapely.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def coverage_features(result: dict, lang: str = "zh", gaps: bool = False) -> bytes:
    """Coverage result → FeatureCollection of areas (and gap polygons when asked)."""
    rule = result["rule"].as_dict(lang) if result["rule"] is not None else None
    keys = ("code", "name", "name_en", "area_km2", "population", "covered_area_pct", "covered_pop_pct",
            "population_spread")
    feats = [(r["geometry"], {"feature_type": "area", **{k: r[k] for k in keys},
                              "rule": rule["id"] if rule else None}) for r in result["rows"]]
    if gaps:
        feats += [(r["gaps"], {"feature_type": "gap", "code": r["code"], "name": r["name"]})
                  for r in result["rows"] if r["gaps"]]
    return feature_collection(feats, kind=result["kind"], by=result["by"], radius_m=result["radius_m"],
                              method=result["method"], method_key=result["method_key"], circle=result["circle"], rule=rule,
                              summary=result["summary"])


def hotspot_features(result, lang: str = "zh", patterns: list[str] | None = None) -> bytes:
    """Hotspot result → FeatureCollection of hexagons with count, gi_z, gi_p, gi_bin."""
    from geo.hotspots import PATTERNS

    feats = []
    for i, geometry in enumerate(result.geojson):
        props = {"q": int(result.q[i]), "r": int(result.r[i]), "count": int(result.count[i]),
                 "gi_z": float(result.gi_z[i]), "gi_p": float(result.gi_p[i]), "gi_bin": int(result.gi_bin[i])}
        if result.population is not None:
            props["population"] = float(result.population[i])
            props["rate_per_10k"] = float(result.value[i])
        if patterns is not None:
            props["pattern"] = patterns[i]
            props["pattern_name"] = PATTERNS[patterns[i]][1 if lang == "en" else 0]
        feats.append((geometry, props))
    statistic = ("Getis–Ord Gi*, binary weights over edge-sharing hexagons plus the cell itself; two-sided p; "
                 "bins ±3/±2/±1 = 99/95/90 % confidence after FDR correction")
    return feature_collection(feats, cell_m=result.cell_m, statistic=statistic, summary=result.summary)


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


def write(path: Path, rows: list[dict], geojson: bytes | None) -> str:
    """Write a result by the file's extension: .geojson/.json, .csv or .xlsx. Returns the format."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        if geojson is None:
            raise InvalidParameter("--out", "this result has no geometry; write .csv or .xlsx")
        path.write_bytes(geojson)
        return "geojson"
    frame = pd.DataFrame(table_rows(rows))
    if suffix == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel opens Chinese CSV correctly
        return "csv"
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
        return "xlsx"
    raise InvalidParameter("--out", f"{path.name}: the extension must be .geojson, .csv or .xlsx")
