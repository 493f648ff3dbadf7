"""How a setting is read from the environment: typed readers, the ``setting`` field and ``EnvSettings``.

The settings themselves are declared in data/settings.py; this module only
knows how a variable becomes a checked value, so that every class reads and
complains the same way (a :class:`SetupError` naming the variable).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any

from data.errors import SetupError


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """The whole number in ``env[name]``, ``default`` when unset or empty."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SetupError(f"{name}={raw!r} is not a whole number", f"{name}={raw!r} 不是整数") from None


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    """The number in ``env[name]``, ``default`` when unset or empty."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SetupError(f"{name}={raw!r} is not a number", f"{name}={raw!r} 不是数字") from None


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` in ``env[name]``; ``default`` when unset."""
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SetupError(f"{name}={raw!r} must be 1/true/yes/on or 0/false/no/off",
                     f"{name}={raw!r} 应为 1/true/yes/on 或 0/false/no/off")


def env_str(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    """The text in ``env[name]``; ``default`` when unset or empty."""
    raw = env.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


_READERS: dict[type, Callable] = {int: env_int, float: env_float, bool: env_bool, str: env_str}


def setting(name: str, default: Any, kind: type | None = None, scale: int = 1) -> Any:
    """A dataclass field read from the environment variable ``name``.

    ``default`` may be a callable (evaluated when read, e.g. from the CPU count).
    ``kind`` is the reader's type (int, float, bool, str); by default that of ``default``.
    ``scale`` multiplies a number as read (megabytes in the variable, bytes in the field).
    """
    kind = kind or type(default() if callable(default) else default)
    return dataclasses.field(metadata={"env": name, "default": default, "kind": kind, "scale": scale})


class EnvSettings:
    """Base of the settings classes: one ``from_env`` for all of them."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        values = {}
        for f in dataclasses.fields(cls):
            meta = f.metadata
            if "env" not in meta:
                continue
            default = meta["default"]() if callable(meta["default"]) else meta["default"]
            value = _READERS[meta["kind"]](env, meta["env"], default)
            values[f.name] = value * meta["scale"] if meta["scale"] != 1 else value
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise :class:`SetupError` when the values do not fit together (override where needed)."""


def check_paging(settings, default: str, cap: str) -> None:
    """A default page size must lie between 1 and the cap (both named by their variables)."""
    names = {f.name: f.metadata["env"] for f in dataclasses.fields(settings)}
    low, high = getattr(settings, default), getattr(settings, cap)
    if not 1 <= low <= high:
        raise SetupError(f"{names[default]} ({low}) must be between 1 and {names[cap]} ({high})",
                         f"{names[default]}（{low}）应在 1 与 {names[cap]}（{high}）之间")


def check_positive(**values: int) -> None:
    """Each value (named by its variable) must be at least 1."""
    for name, value in values.items():
        if value < 1:
            raise SetupError(f"{name} must be at least 1, not {value}", f"{name} 至少应为 1，而不是 {value}")
