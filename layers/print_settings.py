"""Settings of the printed maps (read on demand, like data/settings.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from data.errors import SetupError
from data.settings import _int


@dataclass(frozen=True)
class PrintSettings:
    """Where QR codes point, which font is embedded, and the limits of a print job."""

    public_url: str  # base URL of the online maps that the QR codes open
    font_path: str | None  # a TrueType CJK font; None: the first one installed of FONT_CANDIDATES
    max_pages_http: int  # an atlas over HTTP longer than this is refused (use the CLI)
    route_max_stops: int  # --top is at most this many grids
    workers: int  # processes drawing the pages of a long document (1: in-process)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PrintSettings:
        env = os.environ if env is None else env
        url = (env.get("HYGIENE_MAP_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SetupError(f"HYGIENE_MAP_PUBLIC_URL={url!r} must start with http:// or https://")
        max_pages = _int(env, "HYGIENE_MAP_PRINT_MAX_PAGES", 250)
        max_stops = _int(env, "HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS", 40)
        workers = _int(env, "HYGIENE_MAP_PRINT_WORKERS", min(4, os.cpu_count() or 1))
        if max_pages < 1 or max_stops < 2 or workers < 1:
            raise SetupError("HYGIENE_MAP_PRINT_MAX_PAGES and HYGIENE_MAP_PRINT_WORKERS must be ≥ 1, "
                             "HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS ≥ 2")
        return cls(
            public_url=url,
            font_path=env.get("HYGIENE_MAP_PRINT_FONT") or None,
            max_pages_http=max_pages,
            route_max_stops=max_stops,
            workers=workers,
        )
