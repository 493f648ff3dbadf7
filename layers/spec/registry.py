"""The registry of thematic layers: each declared once in its own module, looked up by id.

A :class:`~layers.spec.model.LayerSpec` holds a layer's table, names,
columns, style, display, print symbol and import rules; the web map, tiles,
OGC API, import, export and print code all read it from here.
"""

from __future__ import annotations

from data.errors import NotFound
from layers.spec import (
    admin_areas,
    complaints,
    garbage_stations,
    grids,
    health_trails,
    inspection_findings,
    land_use,
    markets,
    roads,
    toilets,
    urban_villages,
)
from layers.spec.model import LayerSpec

#: Every layer, in the order of the map's layer list.
LAYERS: tuple[LayerSpec, ...] = (
    admin_areas.LAYER, markets.LAYER, toilets.LAYER, garbage_stations.LAYER, urban_villages.LAYER,
    health_trails.LAYER, roads.LAYER, land_use.LAYER, complaints.LAYER, inspection_findings.LAYER,
    grids.LAYER,
)
_BY_ID = {spec.id: spec for spec in LAYERS}


def layer_ids() -> list[str]:
    return [spec.id for spec in LAYERS]


def get_layer(layer_id: str) -> LayerSpec:
    """The spec of a layer id, or NotFound naming the valid ids."""
    try:
        return _BY_ID[layer_id]
    except KeyError:
        raise NotFound(f"unknown layer {layer_id!r}; layers are: {', '.join(_BY_ID)}",
                       f"未知图层 {layer_id!r}；图层有：{'、'.join(_BY_ID)}") from None
