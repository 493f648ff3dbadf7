"""The registry of thematic layers: each layer declared once, looked up by id.

A :class:`LayerSpec` names the table and how people call the layer; the web
map, tile, export and print code all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.errors import NotFound


@dataclass(frozen=True)
class LayerSpec:
    """One thematic layer: its table (named after its id) and its names."""

    id: str
    name_zh: str
    name_en: str
    geometry_type: str  # Point, LineString, MultiPolygon or Geometry (mixed)
    large: bool = False  # millions of rows possible: never COUNT(*) per request

    @property
    def table(self) -> str:
        return self.id

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("admin_areas", "行政区划", "Administrative areas", "MultiPolygon"),
    LayerSpec("markets", "农贸市场", "Farmers' markets", "Point"),
    LayerSpec("toilets", "公共厕所", "Public toilets", "Point"),
    LayerSpec("garbage_stations", "垃圾收集点与转运站", "Garbage points and stations", "Point"),
    LayerSpec("urban_villages", "城中村", "Urban villages", "MultiPolygon"),
    LayerSpec("health_trails", "健康步道与主题公园", "Health trails and parks", "Geometry"),
    LayerSpec("roads", "道路（含背街小巷）", "Roads (incl. back streets)", "LineString"),
    LayerSpec("land_use", "用地", "Land use", "MultiPolygon"),
    LayerSpec("complaints", "投诉举报", "Complaints", "Point", large=True),
    LayerSpec("grids", "网格", "Grids", "MultiPolygon"),
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
