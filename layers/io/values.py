"""Cell values read as what the table accepts: choices, numbers, yes/no, times, JSON.

Each checker takes one column's text and returns the values to write (text
PostgreSQL casts, None for NULL), reporting every cell it cannot read.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pandas as pd
from psycopg2 import sql

from data.errors import InvalidParameter
from data.said import Note
from data.vocab import city_tz
from layers.io.batch import Batch, Findings, Said
from layers.io.cn_times import western
from layers.io.columns import normalise_header
from layers.io.times import utc_times
from layers.spec.model import Field

_BOOL_YES = {"是", "有", "y", "yes", "true", "t", "1", "免费", "免費", "√", "✓"}
_BOOL_NO = {"否", "无", "無", "n", "no", "false", "f", "0", "收费", "收費", "×"}


def parse_bool(value: str) -> bool | None:
    """是/否, yes/no, true/false, 1/0 → bool; anything else → None (caller reports it)."""
    text = normalise_header(value)
    if text in _BOOL_YES:
        return True
    if text in _BOOL_NO:
        return False
    return None


def numbers(stripped: pd.Series, *, grouped: bool = False) -> np.ndarray:
    """Numbers of text already stripped (``Batch.text``), NaN where empty or not a number. Full-width digits
    (１２３．５) are digits; with ``grouped``, so are thousands written with commas (12,345 — statistics tables
    and Excel's number format; not for coordinates, where 121,385 may be a decimal comma)."""
    values = pd.to_numeric(stripped.replace("", np.nan), errors="coerce").to_numpy(dtype="float64", copy=True)
    retry = np.isnan(values) & (stripped != "").to_numpy()
    if retry.any():  # only what pandas could not read: the rest costs nothing
        plain = stripped[retry].map(lambda v: unicodedata.normalize("NFKC", v))
        if grouped:
            plain = plain.where(~plain.str.fullmatch(_GROUPED), plain.str.replace(",", "", regex=False))
        values[retry] = pd.to_numeric(plain, errors="coerce").to_numpy(dtype="float64")
    return values


_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


def check_field(f: Field, stripped: pd.Series, column: str, found: Findings, *, names: dict | None = None,
                finer: list[tuple[str, pd.Series]] = (), timezone: str | None, counted: bool = False) -> pd.Series:
    """One column's values (stripped: ``Batch.text``) normalised to what the table accepts; the rest reported.

    ``names`` maps every spelling of the allowed values to the value, for a
    column whose values are the names of a lookup table (``f.vocabulary``,
    see :func:`vocabulary`); ``finer``: the (file column, stripped text) of
    the finer levels of such a value, coarse to fine (``f.refined_by``); ``counted``: the column gives a count
    of the yes/no (``f.counted_by``).
    """
    empty = (stripped == "").to_numpy()
    if f.required:
        found.add(empty, column, Said(f"{f.label_zh}为必填，但为空", f"{f.column} is required but empty"))
    if names is not None:
        return _named(f, [stripped, *(text for _, text in finer)], empty, names, [column, *(c for c, _ in finer)],
                      found)
    if f.choices is not None:
        return _choice(f, stripped, empty, column, found)
    if counted:
        return _counted_yes_no(f, stripped, empty, column, found)
    check = {"text": _text, "int": _number, "num": _number, "bool": _yes_no, "time": _time}[f.kind]
    return check(f, stripped, empty, column, found, timezone)


def _text(f, stripped, empty, column, found, timezone) -> pd.Series:
    return stripped.where(~empty, None)


def _lookup(stripped: pd.Series, empty: np.ndarray, table: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """Each distinct value looked up once (loosely); the values and the mask of cells not found."""
    uniques = pd.unique(stripped[~empty])
    result = stripped.map({u: table.get(normalise_header(u)) for u in uniques})
    return result, (~empty) & result.isna().to_numpy()


def _named(f: Field, levels: list[pd.Series], empty, names: dict, columns: list[str], found) -> pd.Series:
    """A vocabulary's names by the finest level of each row naming one; rows no level names, or whose finest named
    level is declared no name, reported (in the coarsest level's column, with every level's value)."""
    result, level = _by_level(levels, names)
    unknown = ~empty & (level < 0)
    declared = ~empty & (level >= 0) & pd.isna(result)

    def said(i: int) -> str:  # 'UNSANITARY CONDITION' / Descriptor 'MOLD'
        return " / ".join([repr(levels[0].iat[i])] + [f"{c} {t.iat[i]!r}" for c, t in zip(columns[1:], levels[1:])
                                                      if t.iat[i]])
    if unknown.any():
        known = "、".join(sorted({n for n in names.values() if n}))
        found.add(unknown, columns[0], lambda i: Said(
            f"{f.label_zh} {said(i)} 不是卫生事件类型（{known}）；请用 --category-map 对应到其中一类",
            f"{f.column} {said(i)} is not a hygiene event type ({known}); map it with --category-map"))
        found.refused.update((False, repr(v)) for v in levels[0][unknown])
    if declared.any():
        found.add(declared, columns[0], lambda i: Said(
            f"{f.label_zh} {said(i)} 不属于公共卫生事件（已声明不对应任何类型），未导入；如需导入，请用 --category-map 对应",
            f"{f.column} {said(i)} is no public-hygiene event (declared none of the event types): not imported; map "
            "it with --category-map to import it as one"))
        found.refused.update((True, said(i)) for i in np.flatnonzero(declared))
    return pd.Series(result, index=levels[0].index).where(~empty, None)


def refused_note(refused: Counter) -> Note:
    """The file's note on the rows refused as no hygiene event (``Findings.refused``): each category declared none
    of the event types, then the most frequent unknown ones, counted."""
    declared = [(n, what) for (none, what), n in refused.most_common() if none]
    unknown = [(n, what) for (none, what), n in refused.most_common() if not none]
    rest = unknown[6:]
    others = sum(n for n, _ in rest)
    zh = [f"{n:,} × {what}（声明为非事件类型）" for n, what in declared] + [f"{n:,} × {w}" for n, w in unknown[:6]] \
        + ([f"其他 {len(rest)} 类共 {others:,} 行"] if rest else [])
    en = [f"{n:,} × {what} (declared none of the event types)" for n, what in declared] \
        + [f"{n:,} × {w}" for n, w in unknown[:6]] + ([f"{others:,} rows of {len(rest)} other categories"] if rest else [])
    return Note("因不属于卫生事件而拒收的行，按类别：" + "；".join(zh),
                "rows refused as no hygiene event, by category: " + "; ".join(en))


def _by_level(levels: list[pd.Series], names: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each row's name by its finest non-empty level naming one, and that level (-1: none).

    At each level a path of values from the coarsest (``("unsanitarycondition", "pests")``) comes before the
    level's value alone. Vectorised: values are normalised once per distinct value, and only rows whose value
    ends a declared path are looked up by path, row by row.
    """
    n = len(levels[0])
    result, level = np.full(n, None, dtype=object), np.full(n, -1, dtype=np.int64)
    normalised = []
    for text in levels:
        code, uniques = pd.factorize(text.to_numpy(dtype=object))
        key = np.array([normalise_header(u) if isinstance(u, str) else "" for u in uniques] + [""], dtype=object)
        normalised.append((code, key))  # code -1 (None, NaN): the last key, ""
    for i in range(len(levels) - 1, -1, -1):
        code, key = normalised[i]
        paths = {p: name for p, name in names.items() if isinstance(p, tuple) and len(p) == i + 1}
        ends = {p[-1] for p in paths}
        rows = np.flatnonzero((level < 0) & np.array([k in ends for k in key])[code])
        if len(rows):
            values = zip(*(k[c[rows]] for c, k in normalised[:i + 1]))
            hit = [(r, paths[p]) for r, p in zip(rows, values) if p in paths]
            if hit:
                at, named = zip(*hit)
                result[list(at)], level[list(at)] = named, i
        known = np.array([k != "" and k in names for k in key])
        rows = (level < 0) & known[code]
        result[rows] = np.array([names.get(k) for k in key], dtype=object)[code[rows]]
        level[rows] = i
    return result, level


def vocabulary(conn, f: Field, category_map: dict[str, str]) -> dict:
    """Every spelling of the names in ``f.vocabulary`` → the name (STANDARDS §4), spellings normalised.

    The table's names and English names; the field's synonyms of names the
    table holds, a tuple key being a path of values from the coarsest level
    (None: declared no name); and the user's --category-map (whose targets
    must be names), at any level, over the paths ending in its spellings.
    """
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT name, name_en FROM {}").format(sql.Identifier(f.vocabulary)))
        rows = cur.fetchall()
    valid = {name for name, _ in rows}
    names: dict = {}
    for name, name_en in rows:
        names[normalise_header(name)] = name
        if name_en:
            names[normalise_header(name_en)] = name
    names.update({_spelling(spelling): name for spelling, name in f.synonyms.items() if name is None or name in valid})
    user = {}
    for spelling, name in category_map.items():
        if name not in valid:
            raise InvalidParameter("--category-map", f"{name!r} is not an event type; types are: "
                                   + "、".join(sorted(valid)),
                                   f"{name!r} 不是事件类型；事件类型有：" + "、".join(sorted(valid)))
        user[normalise_header(spelling)] = name
    return {**{k: v for k, v in names.items() if not (isinstance(k, tuple) and k[-1] in user)}, **user}


def _spelling(spelling: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """A synonym's key normalised: a spelling, or each value of a path."""
    return tuple(map(normalise_header, spelling)) if isinstance(spelling, tuple) else normalise_header(spelling)


def _choice(f: Field, stripped, empty, column, found) -> pd.Series:
    table = {normalise_header(c): c for c in f.choices}
    table.update({normalise_header(k): v for k, v in f.synonyms.items()})
    result, unknown = _lookup(stripped, empty, table)
    if unknown.any():
        found.add(unknown, column, lambda i: Said(f"{stripped.iat[i]!r} 不是允许的{f.label_zh}（{' / '.join(f.choices)}）",
                                                  f"{stripped.iat[i]!r} is not an allowed {f.column} "
                                                  f"({' / '.join(f.choices)})"))
    return result.where(~empty, f.default)


def _number(f: Field, stripped, empty, column, found, timezone) -> pd.Series:
    values = numbers(stripped, grouped=True)
    finite = np.isfinite(values)
    found.add((~empty) & ~finite, column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 不是数字",
                                                         f"{f.column} {stripped.iat[i]!r} is not a number"))
    found.add(finite & (values < 0), column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 为负数",
                                                            f"{f.column} {stripped.iat[i]!r} is negative"))
    if f.kind == "num":
        return pd.Series(np.where(finite, values.astype(str), None), index=stripped.index)
    frac = finite & (values % 1 != 0)
    found.add(frac, column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 不是整数",
                                           f"{f.column} {stripped.iat[i]!r} is not a whole number"))
    huge = finite & (np.abs(values) > 2**31 - 1)
    found.add(huge, column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 过大",
                                           f"{f.column} {stripped.iat[i]!r} is too large"))
    whole = np.nan_to_num(values).astype("int64").astype(str)
    return pd.Series(np.where(finite & ~huge, whole, None), index=stripped.index)


def bool_text(value: str) -> str:
    """A yes/no spelling as PostgreSQL's boolean text."""
    return "true" if parse_bool(value) else "false"


def _yes_no(f: Field, stripped, empty, column, found, timezone) -> pd.Series:
    words = {normalise_header(k): v for k, v in f.synonyms.items()}
    said = {u: parse_bool(words.get(normalise_header(u)) or u) for u in pd.unique(stripped[~empty])}
    declared = {u for u in said if normalise_header(u) in words and words[normalise_header(u)] is None}
    result = stripped.map({u: None if u in declared else v for u, v in said.items()})
    bad = (~empty) & result.isna().to_numpy() & ~stripped.isin(declared).to_numpy()
    if words and f.default is not None:
        # A column of many words (a ledger's 状态: 良好, 一般 …) need not be about this: the default stands.
        found.add(bad, column, lambda i: Said(f"{f.label_zh}：{column} {stripped.iat[i]!r} 无法识别，按“{f.default}”处理",
                                              f"{f.column}: {column} {stripped.iat[i]!r} is not a known word, "
                                              f"taken as {f.default}"), severity="warning")
        empty = empty | bad
    else:
        found.add(bad, column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 不是“是/否”",
                                              f"{f.column} {stripped.iat[i]!r} is not yes/no (是/否)"))
    out = result.map({True: "true", False: "false"})
    if f.default is not None:
        out = out.where(~empty, bool_text(f.default))
    return out.where(out.notna(), None)


def _counted_yes_no(f: Field, stripped, empty, column, found) -> pd.Series:
    """A yes/no from a count of it (3 accessible seats: yes; 0: no); what is no whole count is reported."""
    values = numbers(stripped, grouped=True)
    bad = (~empty) & ~(np.isfinite(values) & (values >= 0) & (values % 1 == 0))
    found.add(bad, column, lambda i: Said(f"{f.label_zh}：{column} {stripped.iat[i]!r} 不是个数（0、1、2 …）",
                                          f"{f.column}: {column} {stripped.iat[i]!r} is not a count (0, 1, 2 …)"))
    out = pd.Series(np.where(values > 0, "true", "false"), index=stripped.index, dtype=object)
    return out.where(~(empty | bad), None)


def _time(f: Field, stripped, empty, column, found, timezone) -> pd.Series:
    utc = utc_times(western(stripped), empty, timezone or city_tz().key)
    found.add(np.isnat(utc) & ~empty, column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 不是日期时间",
                                                             f"{f.column} {stripped.iat[i]!r} is not a date/time"))
    if f.past:
        future = utc > np.datetime64(datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1), "us")
        found.add(future, column, lambda i: Said(f"{f.label_zh} {stripped.iat[i]!r} 晚于现在",
                                                 f"{f.column} {stripped.iat[i]!r} lies in the future"))
    return pd.Series(utc, index=stripped.index)  # UTC datetime64[us], NaT where empty (the writer formats it)


def attributes(batch: Batch) -> np.ndarray:
    """Columns the layer has no place for, kept per row as a JSON object (empty values left out)."""
    frame, plan, n = batch.raw.frame, batch.plan, batch.n
    base = _attribute_objects(batch) if plan.attributes_col else None
    if not plan.extra and base is None:
        return np.full(n, "{}", dtype=object)
    columns = [frame[c].to_numpy(dtype=object) for c in plan.extra]
    out = np.empty(n, dtype=object)
    for i in range(n):
        row = dict(base[i]) if base is not None else {}
        for name, values in zip(plan.extra, columns):
            if values[i] != "":
                row[name] = values[i]
        out[i] = orjson.dumps(row).decode()
    return out


def _attribute_objects(batch: Batch) -> list[dict]:
    """The file's own attributes column (an export's), one JSON object per row."""
    column = batch.plan.attributes_col
    base = []
    for i, t in enumerate(batch.text(column)):
        value = {}
        if t:
            try:
                value = json.loads(t)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                batch.found.add([i], column, Said("属性不是 JSON 对象", "attributes is not a JSON object"))
                value = {}
        base.append(value)
    return base
