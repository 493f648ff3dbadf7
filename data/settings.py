"""Settings: small classes read from the environment on demand.

Nothing is read at import time, so tests and commands can set the
environment first. Limits are named settings, not literals in code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    from data.errors import SetupError

    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SetupError(f"{name}={raw!r} is not a whole number") from None


def default_home() -> Path:
    """Where the embedded cluster lives when HYGIENE_MAP_HOME is not set.

    As root the cluster runs as an unprivileged OS user who cannot enter
    /root, so root gets a system path instead of a home directory.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/hygiene-map")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hygiene-map"


@dataclass(frozen=True)
class DatabaseSettings:
    """How to reach the database: DATABASE_URL, or the embedded cluster."""

    url: str | None
    home: Path
    pg_bindir: Path | None
    port: int | None
    os_user: str
    connect_timeout_s: int
    statement_timeout_ms: int
    pool_max: int
    pool_wait_s: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DatabaseSettings:
        env = os.environ if env is None else env
        home = env.get("HYGIENE_MAP_HOME")
        port = env.get("HYGIENE_MAP_DB_PORT")
        return cls(
            url=env.get("DATABASE_URL") or None,
            home=Path(home).expanduser().absolute() if home else default_home(),
            pg_bindir=Path(env["HYGIENE_MAP_PG_BINDIR"]) if env.get("HYGIENE_MAP_PG_BINDIR") else None,
            port=_int(env, "HYGIENE_MAP_DB_PORT", 0) or None if port else None,
            os_user=env.get("HYGIENE_MAP_DB_OS_USER", "hygienemap"),
            connect_timeout_s=_int(env, "HYGIENE_MAP_DB_CONNECT_TIMEOUT_S", 2),
            statement_timeout_ms=_int(env, "HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS", 30_000),
            pool_max=_int(env, "HYGIENE_MAP_DB_POOL_MAX", 24),
            pool_wait_s=_int(env, "HYGIENE_MAP_DB_POOL_WAIT_S", 20),
        )


@dataclass(frozen=True)
class GridSettings:
    """Grid codes (STANDARDS §4): 12-digit community code + a sequence of this width."""

    sequence_width: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GridSettings:
        env = os.environ if env is None else env
        width = _int(env, "HYGIENE_MAP_GRID_SEQ_WIDTH", 2)
        if width not in (2, 3):
            from data.errors import SetupError

            raise SetupError(f"HYGIENE_MAP_GRID_SEQ_WIDTH must be 2 (CJ/T 213) or 3 (DB11/T 2157), not {width}")
        return cls(sequence_width=width)
