"""Settings of the web server: small classes read from the environment on demand."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from data.settings import _int


@dataclass(frozen=True)
class ServerSettings:
    """Request limits and logging of the HTTP server."""

    max_body_bytes: int
    log_requests: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if env is None else env
        return cls(
            max_body_bytes=_int(env, "HYGIENE_MAP_MAX_BODY_BYTES", 1_048_576),
            log_requests=env.get("HYGIENE_MAP_LOG_REQUESTS", "1") not in ("0", "false", "no"),
        )
