"""Import steps one layer needs, named in its declaration (``ImportRules.hooks`` and ``after_write``).

Each hook runs once a file's columns are read, with the connection and the
:class:`~layers.io.batch.Batch`; it fills or checks columns in ``batch.out``.
An after-write step runs once the rows are written, in the import's
transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from data.params import AREA_CODE, area_code_problem
from data.said import Note
from data.settings import GridSettings
from data.vocab import CLOSED
from layers.io.backfill import place_in_areas, place_in_grids
from layers.io.batch import Batch, Said
from layers.workflow.grids import charge_late_reports


def name_from_address(conn, batch: Batch) -> None:
    """A facility needs a name: without a name column a row is called by its address, or layer name and id."""
    out = batch.out
    if "name" in batch.plan.fields:
        empty_name = pd.isna(out["name"])
        if empty_name.any():
            batch.found.add(empty_name, batch.plan.fields["name"], Said("名称为空", "name is empty"))
        return
    names = np.array([f"{batch.spec.name_zh} {i}" for i in out["source_id"]], dtype=object)
    fallback = out.get("address")
    if fallback is not None:
        names = np.where(pd.isna(fallback), names, fallback)
    out["name"] = names
    batch.result.notes.append(Note("没有名称列：各行以地址（或编号）命名", "no name column: rows are named by their address (or id)"))


def area_codes(conn, batch: Batch) -> None:
    """Admin-area codes (and parent codes) follow the one rule of area codes (data.params.AREA_CODE)."""
    for column in ("code", "parent_code"):
        _check_codes(batch, column)


def _check_codes(batch: Batch, column: str) -> pd.Series:
    """The column's codes ('' where empty); each one that breaks the rule is a bad row, with the reason."""
    codes = pd.Series(batch.out[column], dtype=object).fillna("")
    bad = ~codes.str.fullmatch(AREA_CODE.pattern).to_numpy(dtype=bool) & (codes != "").to_numpy()
    batch.found.add(bad, batch.plan.fields.get(column), lambda i: Said(
        f"{column}：编码 {codes.iat[i]!r} 不合规则（1–32 个半角字母、数字、“-”或“.”；全角数字请改为 0-9，不含空格）",
        f"{column}: {area_code_problem(codes.iat[i])}"))
    return codes


def grid_codes(conn, batch: Batch) -> None:
    """A grid's code (STANDARDS §4) is its community's code + a sequence of ``sequence_width`` digits.

    The community, street and district codes follow from the community's
    parents among the admin areas; a GB/T 2260 grid code of a community the
    city does not hold yet gives them by its digits (6 + 3 + 3).
    """
    codes = _check_codes(batch, "code")
    width = GridSettings.from_env().sequence_width
    bad = ~codes.str.fullmatch(rf".+[0-9]{{{width}}}").to_numpy(dtype=bool) & (codes != "").to_numpy()
    batch.found.add(bad, batch.plan.fields.get("code"), lambda i: Said(
        f"网格编码 {codes.iat[i]!r} 不是社区编码加 {width} 位顺序号",
        f"grid code {codes.iat[i]!r} is not a community code followed by a {width}-digit sequence (STANDARDS §4)"))
    parents = batch.state.once("area_parents", lambda: _pairs(conn, "SELECT code, parent_code FROM admin_areas"))
    areas = [_grid_areas(code, width, parents) for code in codes]
    for k, level in enumerate(("district_code", "street_code", "community_code")):
        batch.out[level] = np.array([a[k] for a in areas], dtype=object)


def _grid_areas(code: str, width: int, parents: dict) -> tuple[str | None, str | None, str | None]:
    """(district, street, community) of a grid code: by the community's parents, else by GB/T 2260 digits."""
    if len(code) <= width:
        return None, None, None
    community = code[:-width]
    if community in parents:
        street = parents[community]
        return parents.get(street), street, community
    if code.isascii() and code.isdigit() and len(code) == 12 + width:
        return code[:6], code[:9], community
    return None, None, community


def deadlines(conn, batch: Batch) -> None:
    """due_at as given, else reported_at + the event type's time limit (city configuration).

    Times are UTC datetime64 here (NaT: none); a file without a due_at column has None throughout.
    """
    out = batch.out
    limits = batch.state.once("time_limits", lambda: _pairs(conn, "SELECT name, time_limit_hours FROM event_types"))
    due = np.asarray(out["due_at"])
    due = due.copy() if due.dtype.kind == "M" else np.full(len(due), np.datetime64("NaT"), dtype="datetime64[us]")
    missing = np.isnat(due)
    if missing.any():
        hours = pd.Series(out["category"][missing], dtype=object).map(limits).to_numpy(dtype="float64")
        due[missing] = out["reported_at"][missing] + pd.to_timedelta(hours, unit="h").to_numpy(dtype="timedelta64[us]")
    out["due_at"] = due


def closing_times(conn, batch: Batch) -> None:
    """A closing time belongs to a closed case, and a closed case has one.

    On a case the file says is still open a closing time is not kept (a warning naming the row), as bulletins
    count a case with a closing time as closed then; a case closed before it was reported is named and closed at its
    report time (a negative time to close would count as on time and pull every median down). A case the file says is closed (结案) without a closing
    time — an empty cell, or a file with no such column — is closed at its report time, as its history row says:
    else every bulletin would count it open and overdue for ever.

    NYC 311's older exports carry a Closed Date on Pending requests, months before their Created Date.
    """
    out, fields = batch.out, batch.plan.fields
    if "status" not in fields:  # no status column: nothing says the case is open or closed
        return
    status = np.asarray(out["status"], dtype=object)
    closed = np.asarray(out["closed_at"])
    if closed.dtype.kind == "M":
        closed = _kept_closing_times(batch, closed, status)
    else:  # no closing-time column
        closed = np.full(batch.n, np.datetime64("NaT"), dtype="datetime64[us]")
    out["closed_at"] = _closed_at_report(batch, closed, status)


def _kept_closing_times(batch: Batch, closed: np.ndarray, status: np.ndarray) -> np.ndarray:
    """The file's closing times, without those of open cases; the ones before the report named."""
    column = batch.plan.fields["closed_at"]
    written, said = batch.text(column), batch.text(batch.plan.fields["status"])
    named = ~np.isnat(closed) & ~batch.found.bad  # a rejected row is named for its own fault only
    still_open = named & (status != CLOSED)
    batch.found.add(still_open, column, lambda i: Said(
        f"结案时间 {written.iat[i]!r} 所在案件的状态为 {said.iat[i]!r}（{status[i]}），不是{CLOSED}：未保留，案件仍为未结",
        f"closing time {written.iat[i]!r} on a case whose status is {said.iat[i]!r} ({status[i]}), not {CLOSED}: "
        "not kept, the case stays open"), severity="warning")
    closed = np.where(still_open, np.datetime64("NaT"), closed).astype(closed.dtype)
    reported = np.asarray(batch.out["reported_at"]).astype(closed.dtype)
    early = named & ~still_open & (closed < reported)
    batch.found.add(early, column, lambda i: Said(
        f"结案时间 {written.iat[i]!r} 早于上报时间：未保留，按上报时间结案（办结用时计为 0 小时）",
        f"closing time {written.iat[i]!r} is before the report time: not kept, closed at its report time (its time "
        "to close counts as 0 h)"), severity="warning")
    return np.where(early, reported, closed).astype(closed.dtype)


def _closed_at_report(batch: Batch, closed: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Closed cases without a closing time closed at their report time, and said so (per row, or once per file
    that has no closing-time column)."""
    unknown = (status == CLOSED) & np.isnat(closed) & ~batch.found.bad
    if not unknown.any():
        return closed
    column = batch.plan.fields.get("closed_at")
    if column:
        batch.found.add(unknown, column, Said(f"状态为{CLOSED}但没有结案时间：按上报时间结案（办结用时计为 0 小时）",
                                              f"status {CLOSED} but no closing time: closed at its report time (its "
                                              "time to close counts as 0 h)"), severity="warning")
    else:
        batch.result.notes.append(Note(f"没有结案时间列：状态为{CLOSED}的案件按上报时间结案（办结用时计为 0 小时）",
                                       f"no closing-time column: cases whose status is {CLOSED} are closed at their "
                                       "report time (their time to close counts as 0 h)"))
    closed = closed.astype("datetime64[us]")
    closed[unknown] = np.asarray(batch.out["reported_at"]).astype("datetime64[us]")[unknown]
    return closed


def grid_then(cur) -> list[Note]:
    """Complaints reported before a regrid of their place are charged through the grid they were reported in
    (an import is one transaction: its rows are those written in it)."""
    charge_late_reports(cur)
    return []


def _pairs(conn, query: str) -> dict:
    """A two-column query as a dict."""
    with conn.cursor() as cur:
        cur.execute(query)
        return dict(cur.fetchall())


HOOKS: dict[str, Callable[[object, Batch], None]] = {
    "area_codes": area_codes,
    "name_from_address": name_from_address,
    "grid_codes": grid_codes,
    "deadlines": deadlines,
    "closing_times": closing_times,
}

#: Steps on the rows once written (``ImportRules.after_write``), given the import's cursor; each returns the notes
#: it has for the report.
AFTER_WRITE: dict[str, Callable[[object], list[Note]]] = {
    "grid_then": grid_then, "place_in_areas": place_in_areas, "place_in_grids": place_in_grids}
