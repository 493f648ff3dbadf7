"""Settings of the layer endpoints and the web map, read from the environment on demand."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from data.errors import SetupError
from data.settings import _int

BASEMAPS = ("none", "osm", "tianditu", "gaode")


@dataclass(frozen=True)
class FeatureSettings:
    """Paging limits of /api/layers/{id}/features."""

    default_limit: int
    max_limit: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FeatureSettings:
        env = os.environ if env is None else env
        default = _int(env, "HYGIENE_MAP_FEATURES_LIMIT_DEFAULT", 1_000)
        cap = _int(env, "HYGIENE_MAP_FEATURES_LIMIT_MAX", 10_000)
        if not 1 <= default <= cap:
            raise SetupError(
                f"HYGIENE_MAP_FEATURES_LIMIT_DEFAULT ({default}) must be between 1 and "
                f"HYGIENE_MAP_FEATURES_LIMIT_MAX ({cap})"
            )
        return cls(default_limit=default, max_limit=cap)


@dataclass(frozen=True)
class TileSettings:
    """Vector tiles and heatmaps: zoom range, feature and size caps, heatmap extent, client cache time."""

    max_zoom: int
    max_features: int  # per tile, before the size guard halves it
    max_bytes: int  # no tile is larger: features are capped further until it fits
    cache_max_age_s: int
    extent: int  # MVT tile extent (pixels of the tile's grid)
    heat_max_px: int  # a heatmap bbox is at most this many screen pixels wide and high at its zoom

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TileSettings:
        env = os.environ if env is None else env
        return cls(
            max_zoom=_int(env, "HYGIENE_MAP_TILE_MAX_ZOOM", 22),
            max_features=_int(env, "HYGIENE_MAP_TILE_MAX_FEATURES", 20_000),
            max_bytes=_int(env, "HYGIENE_MAP_TILE_MAX_BYTES", 500 * 1024),
            cache_max_age_s=_int(env, "HYGIENE_MAP_TILE_CACHE_S", 300),
            extent=4096,
            heat_max_px=_int(env, "HYGIENE_MAP_HEAT_MAX_PX", 8192),
        )


@dataclass(frozen=True)
class MapSettings:
    """The web map's basemap (none | osm | tianditu | gaode) and the Tianditu key."""

    basemap: str
    tianditu_key: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MapSettings:
        env = os.environ if env is None else env
        basemap = env.get("HYGIENE_MAP_BASEMAP", "none") or "none"
        if basemap not in BASEMAPS:
            raise SetupError(f"HYGIENE_MAP_BASEMAP must be one of {', '.join(BASEMAPS)}, not {basemap!r}")
        key = env.get("HYGIENE_MAP_TIANDITU_KEY") or None
        if basemap == "tianditu" and not key:
            raise SetupError("HYGIENE_MAP_BASEMAP=tianditu needs HYGIENE_MAP_TIANDITU_KEY (a Tianditu 'tk' key)")
        return cls(basemap=basemap, tianditu_key=key)
