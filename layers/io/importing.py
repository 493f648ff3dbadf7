"""Import a file into a layer: read, plan the columns, check and convert, route, write.

The steps, each vectorized over all rows, each in its own module:

1. read the file (:mod:`layers.io.readers`),
2. map headers to the layer's columns as its declaration names them
   (:mod:`layers.io.columns`; a mapping file may help); unknown columns are
   kept in ``attributes``,
3. read the values (:mod:`layers.io.values`) and run the layer's own
   steps (:mod:`layers.io.hooks`),
4. find the coordinates (lon/lat columns, a "lat,lon" column, WKT, or the
   file's geometries) and convert them to WGS84 (:mod:`layers.io.geometry`),
5. refuse rows outside the city and route the rest to their
   district/street/community (and grid) by point-in-area
   (:mod:`layers.io.routing`),
6. write: COPY, or COPY into a staging table and upsert by
   (source, source_id) (:mod:`layers.io.write`).

Every problem names the file, the row, the column and the reason; warnings
(repaired polygons, a stated district that does not hold the point) do not
block. The whole import runs in the caller's transaction and never ends
it: the caller commits, or rolls back (a dry run, an error), so a failed
import leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2

from data.catalog import establish_city
from data.errors import InvalidInput, InvalidParameter
from data.settings import ImportSettings
from layers.io.batch import Batch, Findings, ImportResult, rejects_path, write_rejects
from layers.io.columns import plan_columns
from layers.io.geometry import locate
from layers.io.hooks import HOOKS
from layers.io.options import ImportOptions
from layers.io.readers import RawTable, read_file
from layers.io.routing import AreaIndex, place
from layers.io.values import attributes, bool_text, check_field, vocabulary, without_kml_display
from layers.io.write import write
from layers.spec.model import Field
from layers.spec.registry import get_layer


def import_file(conn, path: Path, opts: ImportOptions, settings: ImportSettings | None = None) -> ImportResult:
    """Import one file into a layer inside the caller's transaction (see the module docstring).

    Never commits or rolls back. A dry run writes too (to count what it
    would insert and update): the caller rolls it back, as it does after any
    exception. Raises InvalidInput (with every problem) when a row is bad
    and neither --skip-bad nor --dry-run was given; then nothing is written.
    """
    path = Path(path)
    spec = get_layer(opts.layer)
    if not spec.rules.from_files:  # before reading: the file is not the problem, the layer is
        raise InvalidParameter("layer", f"{spec.id} ({spec.name_zh}) is not imported from files: "
                               f"its rows are recorded through the {spec.name_en.lower()} workflow of the API")
    raw = read_file(path, sheet=opts.sheet, layer=opts.gis_layer, encoding=opts.encoding, settings=settings)
    areas = None
    if spec.rules.routing != "none":
        areas = AreaIndex.load(conn, with_grids=any(f.column == "grid_code" for f in spec.area_codes))
    batch = prepare(conn, raw, opts, areas)
    result, bad = batch.result, batch.found.bad
    result.rejected = int(bad.sum())
    if bad.any() and not opts.dry_run:
        _refuse(path, raw, opts, result, bad)
    if (~bad).any():
        try:
            write(conn, spec, batch.out, ~bad, result, settings)
        except psycopg2.errors.UniqueViolation as exc:
            detail = (exc.diag.message_detail or exc.diag.message_primary or "").strip()
            raise InvalidInput(f"{path.name}: conflicts with rows already in {spec.id} from another source: "
                               f"{detail}") from None
        except psycopg2.errors.IntegrityError as exc:
            raise InvalidInput(f"{path.name}: refused by the database: {exc.diag.message_primary}") from None
        if spec.id == "admin_areas":  # the first admin areas set the city up (and say so)
            result.notes.extend(establish_city(conn, path.name, dry_run=opts.dry_run))
    if opts.skip_bad and bad.any():
        result.rejects_path = rejects_path(path, opts)
        write_rejects(raw, bad, result.problems, result.rejects_path)
    return result


def _refuse(path: Path, raw: RawTable, opts: ImportOptions, result: ImportResult, bad: np.ndarray) -> None:
    """All or nothing: bad rows refuse the file, unless --skip-bad and some rows are good."""
    if bad.all():
        if opts.skip_bad:
            result.rejects_path = rejects_path(path, opts)
            write_rejects(raw, bad, result.problems, result.rejects_path)
        raise InvalidInput(f"{path.name}: every one of the {len(bad):,} rows is bad; nothing written",
                           [p.as_dict() for p in result.problems])
    if not opts.skip_bad:
        raise InvalidInput(f"{path.name}: {int(bad.sum()):,} bad rows; nothing written "
                           "(fix them, or --skip-bad to write the good rows)",
                           [p.as_dict() for p in result.problems])


def prepare(conn, raw: RawTable, opts: ImportOptions, areas: AreaIndex | None = None) -> Batch:
    """Map, convert, check and route the rows of a read file; its findings mark the bad rows."""
    spec = get_layer(opts.layer)
    raw = without_kml_display(raw)
    result = ImportResult(raw.path.name, spec.id, len(raw.frame), dry_run=opts.dry_run)
    if raw.encoding and raw.encoding != "utf-8":
        result.notes.append(f"read as {raw.encoding}")
    batch = Batch(raw, opts, spec, plan_columns(raw, opts, spec), Findings(raw), result)
    _identify(batch)
    _read_fields(conn, batch)
    for hook in spec.rules.hooks:
        HOOKS[hook](conn, batch)
    batch.out["attributes"] = attributes(batch)
    crs = locate(batch)
    place(batch, areas, crs)
    result.problems = batch.found.items
    return batch


def _identify(batch: Batch) -> None:
    """source and source_id of every row: re-imports update rows by them; duplicates are errors."""
    raw, plan, found, out, n = batch.raw, batch.plan, batch.found, batch.out, batch.n
    source = batch.opts.source or raw.path.name
    if plan.source_col:
        src = batch.text(plan.source_col)
        out["source"] = src.where(src != "", source).to_numpy(dtype=object)
    else:
        out["source"] = np.full(n, source, dtype=object)
    key_column = batch.spec.rules.key_column
    if plan.id_col:
        ids = batch.text(plan.id_col)
        found.add((ids == "").to_numpy(), plan.id_col, "id is empty")
    elif key_column in plan.fields:
        ids = batch.text(plan.fields[key_column])
    else:
        ids = pd.Series([f"row-{i + raw.first_row}" for i in range(n)], index=raw.frame.index)
        batch.result.notes.append("no id column: rows are keyed by their row number "
                                  "(re-importing the same file updates them)")
    key = pd.Series(list(zip(out["source"], ids)), index=raw.frame.index) if plan.source_col else ids
    dup = key.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    if dup.any():
        first_at: dict = {}
        for i, k in enumerate(key):
            first_at.setdefault(k, i)
        found.add(dup, plan.id_col or plan.fields.get(key_column), lambda i: f"duplicate id {ids.iat[i]!r} "
                  f"(first on {raw.row_label} {found.rownum(first_at[key.iat[i]])})")
    out["source_id"] = ids.to_numpy(dtype=object)
    if plan.id_col is None and key_column is None:
        content = raw.frame.duplicated(keep="first").to_numpy()
        if content.any():
            found.add(content, None, "the same values as an earlier row (a duplicate?)", "warning")


def _read_fields(conn, batch: Batch) -> None:
    """Each imported column's values: from its file column, an option, or its default."""
    plan, opts, n = batch.plan, batch.opts, batch.n
    # Looked up first: a wrong --category-map is refused whatever the file holds.
    names = {f.column: vocabulary(conn, f, opts.category_map) for f in batch.spec.imported if f.vocabulary}
    for f in batch.spec.imported:
        given = getattr(opts, f.option.lstrip("-").replace("-", "_")) if f.option else None
        col = plan.fields.get(f.column)
        if given:
            if given not in f.choices:
                raise InvalidParameter(f.option, f"{given!r} is not {_one_of(f.choices)}")
            batch.out[f.column] = np.full(n, given, dtype=object)
        elif col is not None:
            batch.out[f.column] = check_field(f, batch.text(col), col, batch.found, names=names.get(f.column),
                                              timezone=opts.timezone).to_numpy(dtype=object)
        else:
            batch.out[f.column] = np.full(n, _missing(f, batch), dtype=object)


def _missing(f: Field, batch: Batch) -> str | None:
    """The value of a column the file does not have: its default, or an error for a required one."""
    if f.required:
        label = f.label_zh
        raise InvalidInput(f"{batch.raw.path.name}: no column for the required {f.column} ({label}); name it "
                           f"{label} or {f.column}, or map one with --mapping; columns are: "
                           + ", ".join(batch.raw.frame.columns))
    if f.option:
        raise InvalidParameter(f.option, f"say which {f.column} the {batch.spec.name_en.lower()} are: "
                               f"{_one_of(f.choices)}")
    if f.kind == "bool" and f.default is not None:
        return bool_text(f.default)
    return f.default


def _one_of(choices: tuple[str, ...]) -> str:
    """'a, b or c'."""
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]
