"""source and source_id of every row: re-imports update rows by them; duplicates (across chunks too) are errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.errors import InvalidInput
from data.said import Note
from layers.io.batch import Batch, Said, rejected_from

#: How the rejects file names a row of each kind of file (layers.io.columns.REJECTS_ROW).
_LABEL_ZH = {"row": "第 {} 行", "feature": "第 {} 个要素", "record": "第 {} 条记录"}


def identify(batch: Batch) -> None:
    """Fill ``source`` and ``source_id``; a duplicate id is a bad row naming the row the id was first on."""
    raw, plan, found, out, n = batch.raw, batch.plan, batch.found, batch.out, batch.n
    source = batch.opts.source or batch.state.once("source", lambda: _source_of(batch))  # one look in the folder
    if plan.source_col:
        src = batch.text(plan.source_col)
        out["source"] = src.where(src != "", source).to_numpy(dtype=object)
    else:
        out["source"] = np.full(n, source, dtype=object)
    key_column = batch.spec.rules.key_column
    if plan.id_col:
        ids = batch.text(plan.id_col)
        found.add((ids == "").to_numpy(), plan.id_col, Said("编号为空", "id is empty"))
        if _running_number(plan.id_col):  # said once: the chunks' notes are merged without repeats
            batch.result.notes.append(Note(
                f"以“{plan.id_col}”列为编号：表格重新排序或增删行后再次导入，数据会写到别的行上；"
                "如有设施自己的编号列，请用 --id-field 指定",
                f"the {plan.id_col!r} column is taken as the id: re-importing the list sorted anew or with rows "
                "added or removed writes its data onto other rows; name the facilities' own number with --id-field"))
    elif key_column in plan.fields:
        ids = batch.text(plan.fields[key_column])
    elif plan.rejected_row:  # rows corrected in a rejects file: the rows of the file they were refused from
        ids = "row-" + batch.text(plan.rejected_row)
    else:
        if plan.empty_id:
            _still_empty(batch, plan.empty_id)
        ids = pd.Series([f"row-{i + raw.first_row}" for i in range(n)], index=raw.frame.index)
        batch.result.notes.append(Note("没有编号列：各行以行号为键（再次导入同一文件即更新这些行）",
                                       "no id column: rows are keyed by their row number "
                                       "(re-importing the same file updates them)"))
    if plan.source_col:
        key = pd.Series(list(zip(out["source"], ids)), index=raw.frame.index)
        hashes = pd.util.hash_pandas_object(pd.DataFrame({"s": out["source"], "i": ids.to_numpy(dtype=object)}),
                                            index=False).to_numpy()
    else:
        key, hashes = ids, pd.util.hash_array(ids.to_numpy(dtype=object))
    named = (ids != "").to_numpy()
    first_on = _first_on(batch, key, hashes)
    found.add((first_on >= 0) & named, plan.id_col or plan.fields.get(key_column),
              lambda i: Said(f"编号 {ids.iat[i]!r} 重复（首次出现在{_LABEL_ZH[raw.row_label].format(first_on[i])}）",
                             f"duplicate id {ids.iat[i]!r} (first on {raw.row_label} {first_on[i]})"))
    out["source_id"] = ids.to_numpy(dtype=object)
    if plan.id_col is None and key_column is None:
        _same_values(batch)


def _still_empty(batch: Batch, column: str) -> None:
    """The id column, empty in the whole first chunk (rows keyed by their number), must stay empty: a later row's id
    would key some rows by id and others by number, so the file is refused, naming the column and the row."""
    filled = np.flatnonzero((batch.text(column) != "").to_numpy())
    if filled.size:
        row, value = batch.found.rownum(filled[0]), batch.text(column).iat[filled[0]]
        label = batch.raw.row_label
        name = batch.raw.path.name
        raise InvalidInput(
            f"{name}: the id column {column!r} is empty in every {label} up to {label} {batch.raw.first_row - 1} "
            f"(so the rows were to be keyed by their {label} number) but {label} {row} has the id {value!r}: "
            "fill the column in every row, or empty it; nothing written",
            zh=f"{name}：编号列“{column}”直到{_LABEL_ZH[label].format(batch.raw.first_row - 1)}都为空（各行原应以行号为键），"
               f"但{_LABEL_ZH[label].format(row)}有编号 {value!r}：请在每一行填写编号，或全部留空；未写入任何行")


def _running_number(column: str) -> bool:
    """Whether the id column is a table's running number (序号), said once per import."""
    from layers.io.columns import normalise_header
    from layers.spec.model import ROW_NUMBER_ALIASES

    return normalise_header(column) in ROW_NUMBER_ALIASES


def _same_values(batch: Batch) -> None:
    """Warn of each row with the same values as an earlier one (this chunk or an earlier one), naming that row."""
    raw = batch.raw
    row_hashes = pd.util.hash_pandas_object(raw.frame, index=False).to_numpy()
    first_on = batch.state.contents.earlier(row_hashes)
    # Within the chunk: each row's first row of the same hash (np.unique's first index), vectorised.
    _, first, inverse = np.unique(row_hashes, return_index=True, return_inverse=True)
    within = first[inverse]
    repeated = (first_on < 0) & (within != np.arange(len(row_hashes)))
    first_on[repeated] = within[repeated] + raw.first_row
    content = first_on >= 0
    batch.state.contents.add(row_hashes[~content], np.flatnonzero(~content) + raw.first_row)
    if content.any():
        batch.found.add(content, None, lambda i: Said(
            f"与{_LABEL_ZH[raw.row_label].format(first_on[i])}的值完全相同（重复？）",
            f"the same values as {raw.row_label} {first_on[i]} (a duplicate?)"), "warning")


def _source_of(batch: Batch) -> str:
    """The file name rows are kept under: the file's own, or for a rejects file read back, the file it was written
    for (beside it), so that its corrected rows are that file's rows, as a re-import of it will find them."""
    name = batch.raw.path.name
    if batch.plan.rejected_row and (original := rejected_from(batch.raw.path)):
        batch.result.notes.append(Note(f"{original} 的拒收行（其拒收文件）：作为 {original} 的行保存",
                                       f"the rows refused from {original} (its rejects): kept as {original}'s rows"))
        return original
    if batch.plan.rejected_row:
        batch.result.notes.append(Note("这是拒收文件：请用 --source 指明它来自哪个文件，使其各行归入该文件",
                                       "a rejects file: give --source the file it came from, so that its rows are "
                                       "that file's rows"))
    return name


def _first_on(batch: Batch, key: pd.Series, hashes: np.ndarray) -> np.ndarray:
    """Per row, the row its key was first on (this chunk or an earlier one), -1 for a first occurrence."""
    earlier = batch.state.ids.earlier(hashes)
    dup = key.duplicated(keep="first").to_numpy()
    first_on = earlier.copy()
    if dup.any():
        first_at: dict = {}
        for i, k in enumerate(key):
            first_at.setdefault(k, i)
        here = np.flatnonzero(dup & (earlier < 0))
        first_on[here] = [batch.found.rownum(first_at[key.iat[i]]) for i in here]
    fresh = (earlier < 0) & ~dup
    batch.state.ids.add(hashes[fresh], np.flatnonzero(fresh) + batch.raw.first_row)
    return first_on
