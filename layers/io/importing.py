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

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg2

from data.city_setup import establish_city
from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from data.settings import ImportSettings
from layers.io.batch import Batch, FileState, Findings, ImportResult, Problem, rejects_path, write_rejects
from layers.io.cells import csv_unescaped
from layers.io.columns import ColumnPlan, field_option, plan_columns
from layers.io.geometry import locate
from layers.io.hooks import HOOKS
from layers.io.identity import identify
from layers.io.kml import without_kml_display
from layers.io.options import ImportOptions
from layers.io.rawtable import RawTable
from layers.io.readers import read_chunks
from layers.io.routing import AreaIndex, place
from layers.io.shift_hint import shifted_note
from layers.io.values import attributes, bool_text, check_field, refused_note, vocabulary
from layers.io.write import write
from layers.spec.admin_areas import STREET_CODE_HINT
from layers.spec.model import Field
from layers.spec.registry import get_layer


def import_file(conn, path: Path, opts: ImportOptions, settings: ImportSettings | None = None) -> ImportResult:
    """Import one file into a layer inside the caller's transaction (see the module docstring).

    Never commits or rolls back. A dry run writes too (to count what it
    would insert and update): the caller rolls it back, as it does after any
    exception. Raises InvalidInput (with every problem of the whole file)
    when a row is bad and neither --skip-bad nor --dry-run was given; the
    rows sent before it are then rolled back by the caller with the rest.
    """
    path, settings = Path(path), settings or ImportSettings.from_env()
    spec = get_layer(opts.layer)
    if not spec.rules.from_files:  # before reading: the file is not the problem, the layer is
        raise InvalidParameter("layer", f"{spec.id} ({spec.name_zh}) is not imported from files: "
                               f"its rows are recorded through the {spec.name_en.lower()} workflow of the API",
                               f"{spec.id}（{spec.name_zh}）不从文件导入：其记录经由 API 的{spec.name_zh}流程录入")
    _options_fit(spec, opts)
    chunks = read_chunks(path, sheet=opts.sheet, layer=opts.gis_layer, encoding=opts.encoding, settings=settings,
                         chunk_rows=settings.chunk_rows)
    areas = None
    if spec.rules.routing != "none":
        areas = AreaIndex.load(conn, with_grids=any(f.column == "grid_code" for f in spec.area_codes))
    run = _Run(conn, path, opts, areas)
    first = run.prepare(next(chunks))
    if run.refused:  # nothing will be written: the rest of the file is read for its problems only
        for raw in chunks:
            run.prepare(raw)
        return run.finish()
    try:
        source = None if first.plan.source_col else first.out["source"][0]
        write(conn, spec, run.kept(first, chunks), run.result, settings, source=source,
              estimate=first.raw.rows_expected)
    except psycopg2.errors.UniqueViolation as exc:
        raise _taken(path, spec, exc, opts) from None
    except psycopg2.errors.IntegrityError as exc:
        raise InvalidInput(f"{path.name}: refused by the database: {exc.diag.message_primary}",
                           zh=f"{path.name}：被数据库拒收：{exc.diag.message_primary}") from None
    except BaseException:
        run.discard_rejects()
        raise
    return run.finish()


#: PostgreSQL's detail of a unique violation: the key's columns and values.
_KEY_TAKEN = re.compile(r"Key \((?P<columns>[^)]*)\)=\((?P<values>.*)\) already exists")


def _taken(path: Path, spec, exc: psycopg2.errors.UniqueViolation, opts: ImportOptions) -> InvalidInput:
    """A row whose key (an area's code) another source's row holds: said with the key and how to update that row;
    for streets, also how a street gets a code of its own (a district file imported again as streets keeps the
    districts' codes)."""
    detail = (exc.diag.message_detail or exc.diag.message_primary or "").strip()
    key = _KEY_TAKEN.search(detail)
    said = f"{key['columns']} {key['values']}" if key else detail
    street = spec.id == "admin_areas" and opts.level == "street"
    return InvalidInput(
        f"{path.name}: conflicts with rows already in {spec.id} from another source: {said}; to update those rows "
        "(add a population, say), import again with --source naming the file they came from (the source column of "
        f"`hygiene-map export {spec.id}`)" + (f". {STREET_CODE_HINT[1]}" if street else ""),
        zh=f"{path.name}：与 {spec.id} 中来自其他来源的已有行冲突：{said}；要更新这些行（如补充人口），请加 --source "
           f"指明它们最初导入的来源文件名（见 `hygiene-map export {spec.id}` 的“数据来源”列）"
           + (f"。{STREET_CODE_HINT[0]}" if street else ""))


class _Run:
    """One file's import, chunk by chunk: the result so far, the state the chunks share, the rejects written."""

    def __init__(self, conn, path: Path, opts: ImportOptions, areas: AreaIndex | None):
        self.conn, self.path, self.opts, self.areas = conn, path, opts, areas
        self.spec = get_layer(opts.layer)
        self.result = ImportResult(path.name, self.spec.id, 0, dry_run=opts.dry_run)
        self.state = FileState()
        self.plan: ColumnPlan | None = None
        self.rejects: Path | None = None
        self.refused = False  # a bad row without --skip-bad (a dry run too, as the real one would): only checked

    def prepare(self, raw: RawTable) -> Batch:
        """One chunk mapped, checked, converted and routed; its problems and counts added to the result."""
        if self.plan is None:  # decided once, from the first chunk's columns
            self.plan = plan_columns(without_kml_display(raw), self.opts, self.spec)
        batch = prepare(self.conn, raw, self.opts, self.areas, plan=self.plan, state=self.state)
        result, bad = self.result, batch.found.bad
        result.rows_read += batch.n
        result.rejected += int(bad.sum())
        result.take(batch.found.items)  # a row's problems listed up to a limit per column, the rest counted
        self.state.refused.update(batch.found.refused)
        for note in batch.result.notes:
            if note not in result.notes:
                result.notes.append(note)
        if bad.any():
            self.refused |= not self.opts.skip_bad
            if self.opts.skip_bad:
                append = self.rejects is not None  # a later chunk's rows after the first's
                if not append:
                    self.rejects, self.result.rejects_aside = rejects_path(self.path, self.opts)
                write_rejects(batch.raw, bad, batch.found.items, self.rejects, append=append,
                              lang=self.opts.lang)
        return batch

    def kept(self, first: Batch, chunks: Iterator[RawTable]) -> Iterator[tuple[dict, np.ndarray]]:
        """(values, rows to write) of each chunk as it is read; after a refusing bad row, the rest only checked."""
        batch = first
        while batch is not None:
            if not self.refused and (~batch.found.bad).any():
                yield batch.out, ~batch.found.bad
            raw = next(chunks, None)
            batch = self.prepare(raw) if raw is not None else None

    def finish(self) -> ImportResult:
        """The file's verdict once every chunk is read: the whole-file note, all or nothing, the city set up."""
        result = self.result
        note = shifted_note(self.areas, self.state) if self.areas is not None else None
        if note:
            result.notes.append(note)
            result.problems.append(Problem(self.path.name, None, None, note, "warning", reason_zh=note.zh))
        if self.state.refused:
            result.notes.append(refused_note(self.state.refused))
        # By row (the file's own notes first), however the file was cut into chunks.
        result.problems.sort(key=lambda p: -1 if p.row is None else p.row)
        result.problems.extend(result.unlisted_notes(rejects=self.opts.skip_bad))
        # A dry run says what the import would do: refused alike, with every problem listed.
        nothing = "nothing would be written (dry run)" if self.opts.dry_run else "nothing written"
        none_zh = "（试运行）不会写入任何行" if self.opts.dry_run else "未写入任何行"
        if result.rejected == result.rows_read:
            raise InvalidInput(f"{self.path.name}: every one of the {result.rows_read:,} rows is bad; {nothing}",
                               [p.as_dict() for p in result.problems],
                               zh=f"{self.path.name}：全部 {result.rows_read:,} 行都有错误；{none_zh}")
        if self.refused:
            good = result.rows_read - result.rejected
            raise InvalidInput(f"{self.path.name}: {result.rejected:,} bad rows; {nothing} (fix them, or --skip-bad "
                               f"to write the {good:,} good rows)", [p.as_dict() for p in result.problems],
                               zh=f"{self.path.name}：{result.rejected:,} 行有错误；{none_zh}（请改正，或加 --skip-bad "
                                  f"只写入其余 {good:,} 行正确的行）")
        if self.spec.id == "admin_areas" and result.rows_written:  # the first admin areas set the city up (and say so)
            result.notes.extend(establish_city(self.conn, self.path.name, dry_run=self.opts.dry_run))
        result.rejects_path = self.rejects
        return result

    def discard_rejects(self) -> None:
        """A file that fails part-way leaves no rejects file behind."""
        if self.rejects is not None:
            self.rejects.unlink(missing_ok=True)


def prepare(conn, raw: RawTable, opts: ImportOptions, areas: AreaIndex | None = None, *,
            plan: ColumnPlan | None = None, state: FileState | None = None) -> Batch:
    """Map, convert, check and route the rows of a read file (or chunk); its findings mark the bad rows.

    ``plan`` and ``state``: the file's first chunk's column plan, and what
    its chunks share, for the chunks after the first.
    """
    spec = get_layer(opts.layer)
    raw = without_kml_display(raw)
    result = ImportResult(raw.path.name, spec.id, len(raw.frame), dry_run=opts.dry_run)
    if raw.encoding and raw.encoding != "utf-8":
        result.notes.append(Note(f"按 {raw.encoding} 编码读取", f"read as {raw.encoding}"))
    result.notes.extend(raw.notes)  # what the reader saw in the file (a title above a sheet's header)
    plan = dataclasses.replace(plan) if plan is not None else plan_columns(raw, opts, spec)
    result.notes.extend(plan.notes)  # what the headers were read as (a shapefile's cut names)
    if raw.geometries is None:  # a table (CSV, sheet): the apostrophes our exports guard cells with are not its words
        raw = dataclasses.replace(raw, frame=csv_unescaped(raw.frame))
    batch = Batch(raw, opts, spec, plan, Findings(raw), result, state=state or FileState())
    identify(batch)
    _read_fields(conn, batch)
    for hook in spec.rules.hooks:
        HOOKS[hook](conn, batch)
    batch.out["attributes"] = attributes(batch)
    crs = locate(batch)
    place(batch, areas, crs)
    result.problems = batch.found.items
    return batch


def _options_fit(spec, opts: ImportOptions) -> None:
    """A whole-file value (--level, --channel) given for a layer without that column is refused, not ignored."""
    from layers.spec.registry import LAYERS

    for owner in LAYERS:
        for f in owner.imported:
            if f.option and getattr(opts, f.option.lstrip("-")) and f not in spec.imported:
                raise InvalidParameter(f.option, f"only for {owner.id} ({owner.name_zh}), not {spec.id}",
                                       f"只用于 {owner.id}（{owner.name_zh}），不用于 {spec.id}")


def _read_fields(conn, batch: Batch) -> None:
    """Each imported column's values: from its file column, an option, or its default."""
    plan, opts, n = batch.plan, batch.opts, batch.n
    # Looked up first: a wrong --category-map is refused whatever the file holds.
    names = {f.column: batch.state.once(("vocabulary", f.column), lambda f=f: vocabulary(conn, f, opts.category_map))
             for f in batch.spec.imported if f.vocabulary}
    defaulted: list[Field] = []
    for f in batch.spec.imported:
        given = getattr(opts, f.option.lstrip("-").replace("-", "_")) if f.option else None
        col = plan.fields.get(f.column)
        if given:
            if f.choices and given not in f.choices:
                raise InvalidParameter(f.option, f"{given!r} is not {_one_of(f.choices)}",
                                       f"{given!r} 不是 {_one_of(f.choices, '或')} 之一")
            batch.out[f.column] = np.full(n, given, dtype=object)
        elif col is not None:
            finer = [(c, batch.text(c)) for c in plan.refined.get(f.column, ())]
            values = check_field(f, batch.text(col), col, batch.found, names=names.get(f.column), finer=finer,
                                 timezone=opts.timezone, counted=f.column in plan.counted)
            batch.out[f.column] = values.to_numpy(dtype="datetime64[us]" if f.kind == "time" else object)
        else:
            batch.out[f.column] = np.full(n, _missing(f, batch), dtype=object)
            if f.default is not None:
                defaulted.append(f)
    if defaulted:
        batch.result.notes.append(_defaulted_note(defaulted))


def _defaulted_note(fields: list[Field]) -> Note:
    """Which columns the file lacks and what every row was given instead: a file of New York's restrooms, with
    no word on fees, would otherwise put 1,047 "free" toilets on the map without saying it was a default."""
    def en(f: Field) -> str:
        return {"是": "yes", "否": "no"}.get(f.default, f.default) if f.kind == "bool" else f.default

    return Note("文件没有这些列，各行按默认值记录：" + "、".join(f"{f.label_zh}＝{f.default}" for f in fields),
                "not in the file, every row taken as: " + ", ".join(f"{f.label_en or f.column} = {en(f)}"
                                                                   for f in fields))


def _missing(f: Field, batch: Batch) -> str | None:
    """The value of a column the file does not have: its default, or an error for a required one."""
    if f.required:
        label = f.label_zh
        # Admin areas name their columns with --name-field and the like, which the hint then names first.
        option = field_option(f.column) if batch.spec.id == "admin_areas" else None
        say = f"say which with {option} (or --mapping)" if option else "map one with --mapping"
        columns = list(batch.raw.frame.columns)
        raise InvalidInput(f"{batch.raw.path.name}: no column for the required {f.column} ({label}); name it "
                           f"{label} or {f.column}, or {say}; columns are: " + ", ".join(columns),
                           zh=f"{batch.raw.path.name}：缺少必填的“{label}”列；请把表头写作 {label}，或用 "
                              f"{option or '--mapping'} 指明；现有列：" + "、".join(columns))
    if f.option and f.choices:  # a value the file must state (an area's level), else the option's default
        raise InvalidParameter(f.option, f"say which {f.column} the {batch.spec.name_en.lower()} are: "
                               f"{_one_of(f.choices)}",
                               f"请指明这些{batch.spec.name_zh}的{f.label_zh}：{_one_of(f.choices, '或')}")
    if f.kind == "bool" and f.default is not None:
        return bool_text(f.default)
    return f.default


def _one_of(choices: tuple[str, ...], word: str = "or") -> str:
    """'a, b or c'; with ``word`` 或: 'a、b 或 c'."""
    comma = ", " if word == "or" else "、"
    return f"{comma.join(choices[:-1])} {word} {choices[-1]}" if len(choices) > 1 else choices[0]
