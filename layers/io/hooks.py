"""Import steps one layer needs, named in its declaration (``ImportRules.hooks``).

Each hook runs once a file's columns are read, with the connection and the
:class:`~layers.io.batch.Batch`; it fills or checks columns in ``batch.out``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from data.settings import GridSettings
from layers.io.batch import Batch
from layers.io.values import utc_text

_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00"


def name_from_address(conn, batch: Batch) -> None:
    """A facility needs a name: without a name column a row is called by its address, or layer name and id."""
    out = batch.out
    if "name" in batch.plan.fields:
        empty_name = pd.isna(out["name"])
        if empty_name.any():
            batch.found.add(empty_name, batch.plan.fields["name"], "name is empty")
        return
    names = np.array([f"{batch.spec.name_zh} {i}" for i in out["source_id"]], dtype=object)
    fallback = out.get("address")
    if fallback is not None:
        names = np.where(pd.isna(fallback), names, fallback)
    out["name"] = names
    batch.result.notes.append("no name column: rows are named by their address (or id)")


def grid_codes(conn, batch: Batch) -> None:
    """A grid's code (STANDARDS §4) is checked, and holds its district, street and community codes."""
    codes = pd.Series(batch.out["code"], dtype=object).fillna("")
    width = 12 + GridSettings.from_env().sequence_width
    bad = ~codes.str.fullmatch(rf"\d{{{width}}}").to_numpy() & (codes != "").to_numpy()
    batch.found.add(bad, batch.plan.fields.get("code"), lambda i: f"grid code {codes.iat[i]!r} is not {width} "
                    "digits (6 district + 3 street + 3 community + sequence, STANDARDS §4)")
    batch.out["district_code"] = codes.str[:6].to_numpy(dtype=object)
    batch.out["street_code"] = codes.str[:9].to_numpy(dtype=object)
    batch.out["community_code"] = codes.str[:12].to_numpy(dtype=object)


def deadlines(conn, batch: Batch) -> None:
    """due_at as given, else reported_at + the event type's time limit (city configuration)."""
    out = batch.out
    with conn.cursor() as cur:
        cur.execute("SELECT name, time_limit_hours FROM event_types")
        limits = dict(cur.fetchall())
    due = np.asarray(out["due_at"], dtype=object).copy()
    missing = pd.isna(due)
    if missing.any():
        reported = pd.to_datetime(pd.Series(out["reported_at"][missing], dtype=object), format=_UTC_FORMAT,
                                  errors="coerce")
        hours = pd.Series(out["category"][missing], dtype=object).map(limits).astype("float64")
        deadline = (reported + pd.to_timedelta(hours.to_numpy(), unit="h")).to_numpy(dtype="datetime64[us]")
        due[missing] = utc_text(deadline)
    out["due_at"] = due


HOOKS: dict[str, Callable[[object, Batch], None]] = {
    "name_from_address": name_from_address,
    "grid_codes": grid_codes,
    "deadlines": deadlines,
}
