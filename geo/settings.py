"""Limits of the analyses, read from the environment on demand (no web imports)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from data.settings import _int


@dataclass(frozen=True)
class AnalysisSettings:
    """How large an analysis request may grow before it is refused with a clear parameter error."""

    hotspot_max_cells: int  # hexagons in one hot-spot study area (memory and page size)
    siting_max_add: int  # new sites one siting request may propose (greedy rounds, each a full pass)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AnalysisSettings:
        env = os.environ if env is None else env
        return cls(
            hotspot_max_cells=_int(env, "HYGIENE_MAP_HOTSPOT_MAX_CELLS", 200_000),
            siting_max_add=_int(env, "HYGIENE_MAP_SITING_MAX_ADD", 200),
        )
