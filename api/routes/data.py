"""HTTP for data out: GET /api/layers/{id}/export?format=…"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.auth import Reader
from api.deps import Conn, Lang, area_prefix_query
from data.errors import InvalidParameter
from layers.io.export import FORMATS, MEDIA_TYPES, SUFFIXES, export_layer
from layers.spec.registry import get_layer

router = APIRouter(tags=["data"])


@router.get("/api/layers/{layer_id}/export", summary="Download a layer as GeoJSON, GeoPackage, Shapefile (zip), "
            "CSV, XLSX or KML")
def export(layer_id: Annotated[str, PathParam(description="layer id")],
           street: Annotated[str | None, Depends(area_prefix_query)], lang: Lang, user: Reader, conn: Conn,
           format: str = Query("geojson", pattern="^(" + "|".join(FORMATS) + ")$",
                               description="geojson | gpkg | shp | csv | xlsx | kml"),
           encoding: str = Query("utf-8", pattern="^(utf-8|gbk)$", description="shp: .dbf encoding")):
    get_layer(layer_id)
    folder = Path(tempfile.mkdtemp(prefix="hm-export-"))
    out = folder / f"{layer_id}{SUFFIXES[format]}"
    try:
        export_layer(conn, layer_id, format, out, street=street, encoding=encoding, lang=lang,
                     viewer=user)
        body = out.read_bytes()
    except InvalidParameter as exc:  # the export names the command's options (--format): here they are query's
        raise InvalidParameter(exc.parameter.lstrip("-"), exc.reason, exc.reason_zh) from None
    finally:
        _cleanup(folder)
    name = out.name if street is None else f"{layer_id}-{street}{SUFFIXES[format]}"
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'},
                    )


def _cleanup(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
