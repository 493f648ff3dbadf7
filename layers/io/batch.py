"""One file's rows on their way in: the findings about them and what the import did.

Every problem names the file, the row (in the file's own numbering:
spreadsheet rows with the header as row 1, or feature numbers), the column
and the reason; errors mark their row bad, warnings do not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from data.errors import InvalidParameter
from layers.io.cells import csv_frame
from layers.io.columns import REJECTS_REASON, REJECTS_ROW, ColumnPlan
from layers.io.options import ImportOptions
from layers.io.rawtable import RawTable
from layers.spec.model import LayerSpec


class Said(NamedTuple):
    """Why a row is refused, in Chinese for the rejects spreadsheet an office corrects and in English for the report."""

    zh: str
    en: str


@dataclass
class Problem:
    """One finding about one row (or the file, row None)."""

    file: str
    row: int | None
    column: str | None
    reason: str
    severity: str = "error"  # or "warning"
    row_label: str = "row"
    reason_zh: str | None = None  # None: said in English only (warnings and file notes)

    def said(self, lang: str) -> str:
        """The reason in ``lang`` (zh or en): the English one where no Chinese was given."""
        return self.reason_zh if lang == "zh" and self.reason_zh else self.reason

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason,
                "reason_zh": self.said("zh"), "severity": self.severity, "row_label": self.row_label}


#: Problems of one severity in one column listed row by row; more are counted (ImportResult.take).
LISTED_PER_COLUMN = 100


@dataclass
class ImportResult:
    """What an import did (or, with --dry-run, would do)."""

    file: str
    layer: str
    rows_read: int
    rows_written: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    rejects_aside: Path | None = None  # the input's read-only folder the rejects file was kept out of
    #: (severity, column) → the rows' problems met beyond LISTED_PER_COLUMN, counted, not kept
    unlisted: Counter = field(default_factory=Counter)
    _listed: Counter = field(default_factory=Counter, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def take(self, problems: list[Problem]) -> None:
        """Keep a chunk's problems: the file's notes all, a row's up to LISTED_PER_COLUMN per severity and column.

        A million-row file can hold a problem on every row (a column left
        empty); listing each would fill memory and bury the report, so the
        rest are counted, as ogr2ogr stops reporting a repeated error. The
        rejects file still has every refused row with its reason.
        """
        for p in problems:
            key = (p.severity, p.column)
            if p.row is not None and self._listed[key] >= LISTED_PER_COLUMN:
                self.unlisted[key] += 1
            else:
                self._listed[key] += p.row is not None
                self.problems.append(p)

    def unlisted_notes(self, rejects: bool) -> list[Problem]:
        """One problem per (severity, column) whose rows were not all listed: how many more, and where they are."""
        out = []
        for (severity, column), n in sorted(self.unlisted.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            where = f"column {column}" if column else "rows"
            en = f"{n:,} more {where} with {severity}s not listed (the first {LISTED_PER_COLUMN} are)"
            zh = f"另有 {n:,} 行{'（' + column + '列）' if column else ''}同类{'错误' if severity == 'error' else '警告'}" \
                 f"未逐行列出（已列出前 {LISTED_PER_COLUMN} 行）"
            if severity == "error" and rejects:
                en, zh = en + "; the rejects file has every one", zh + "；拒收文件中逐行列有原因"
            elif severity == "error":
                en += "; --skip-bad (with --dry-run: nothing written) lists every one in a rejects file"
                zh += "；加 --skip-bad（与 --dry-run 同用则不写入）可得逐行列出原因的拒收文件"
            out.append(Problem(self.file, None, column, en, severity, reason_zh=zh))
        return out

    @property
    def warning_count(self) -> int:
        """Every warning, listed or not."""
        return len(self.warnings) + sum(n for (severity, _), n in self.unlisted.items() if severity == "warning")

    def summary(self, lang: str = "en") -> str:
        """One line: rows read, written (new, updated), rejected and warnings, in ``lang``."""
        if lang == "zh":
            text = (f"{self.file} → {self.layer}：读取 {self.rows_read:,} 行，{'将写入' if self.dry_run else '写入'} "
                    f"{self.rows_written:,} 行（新增 {self.inserted:,}，更新 {self.updated:,}）")
            text += f"，拒收 {self.rejected:,} 行" if self.rejected else ""
            return text + (f"，警告 {self.warning_count:,} 条" if self.warning_count else "")
        verb = "would write" if self.dry_run else "wrote"
        text = (f"{self.file} → {self.layer}: {self.rows_read:,} rows read, {verb} {self.rows_written:,} "
                f"({self.inserted:,} new, {self.updated:,} updated)")
        if self.rejected:
            text += f", {self.rejected:,} rejected"
        if self.warning_count:
            text += f", {self.warning_count:,} warnings"
        return text

    def rejects_said(self, lang: str = "en") -> str | None:
        """Where the rejected rows and their reasons are, in ``lang``, and why not beside the input when not."""
        if self.rejects_path is None:
            return None
        if lang == "zh":
            why = (f"（输入文件所在的文件夹 {self.rejects_aside} 只读，故写在 hygiene-map 主目录"
                   "（HYGIENE_MAP_HOME）下；--rejects 可另指位置）") if self.rejects_aside else ""
            return f"拒收的行及原因：{self.rejects_path}{why}"
        why = (f" (the input's folder {self.rejects_aside} is read-only, so they went under the hygiene-map home, "
               "HYGIENE_MAP_HOME; --rejects puts them elsewhere)") if self.rejects_aside else ""
        return f"rejected rows and reasons: {self.rejects_path}{why}"


class Findings:
    """Problems collected per row while the columns are checked."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self.file = raw.path.name
        self.bad = np.zeros(len(raw.frame), dtype=bool)
        self.items: list[Problem] = []
        self.refused: Counter = Counter()  # (declared none?, category) → rows refused as no hygiene event

    def rownum(self, idx: int) -> int:
        return int(idx) + self.raw.first_row

    def add(self, mask_or_idx, column: str | None, reason, severity: str = "error") -> None:
        """One problem per row of a mask (or of indexes); ``reason`` a :class:`Said` (an error's, for the rejects
        file) or English text, or a function of the row index giving one."""
        idx = np.flatnonzero(mask_or_idx) if np.asarray(mask_or_idx).dtype == bool else np.asarray(mask_or_idx)
        if len(idx) == 0:
            return
        reasons = reason if callable(reason) else None
        for i in idx:
            text = reasons(i) if reasons else reason
            zh, en = text if isinstance(text, Said) else (None, text)
            self.items.append(Problem(self.file, self.rownum(i), column, en, severity, self.raw.row_label, zh))
        if severity == "error":
            self.bad[idx] = True

    def file_note(self, reason: str, severity: str = "warning") -> None:
        self.items.append(Problem(self.file, None, None, reason, severity))


class Seen:
    """Hashes of keys met in earlier chunks of a file, each with the row it was first on.

    64-bit hashes: two different keys share one with odds of about 1 in 10^7
    for a file of 10 million rows, so the values themselves are not kept.
    """

    def __init__(self):
        self._hashes = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)

    def earlier(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, the row an earlier chunk had it on, else -1."""
        if len(self._hashes) == 0:
            return np.full(len(hashes), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
        return np.where(self._hashes[pos] == hashes, self._rows[pos], -1)

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Remember these (first occurrences, not met before) for the chunks to come."""
        merged = np.concatenate([self._hashes, hashes])
        order = np.argsort(merged, kind="stable")
        self._hashes, self._rows = merged[order], np.concatenate([self._rows, rows])[order]


@dataclass
class FileState:
    """What the chunks of one file share: ids and row contents met so far, points off the city, look-ups."""

    ids: Seen = field(default_factory=Seen)
    contents: Seen = field(default_factory=Seen)
    off_city: list = field(default_factory=list)  # (lon, lat) arrays of points strictly outside the city
    in_city: list = field(default_factory=list)  # (lon, lat) arrays of a sample of the points inside it
    in_city_n: int = 0  # how many points lie inside it
    refused: Counter = field(default_factory=Counter)  # the chunks' Findings.refused
    lookups: dict = field(default_factory=dict)

    def once(self, key, load):
        """A look-up (event types, area parents, the name rows are kept under) made for the first chunk and kept.

        The later chunks are read while the import's one COPY runs, and a
        connection in COPY answers no other query.
        """
        if key not in self.lookups:
            self.lookups[key] = load()
        return self.lookups[key]


@dataclass
class Batch:
    """A read file on its way into a layer: the plan, the values by table column, the findings."""

    raw: RawTable
    opts: ImportOptions
    spec: LayerSpec
    plan: ColumnPlan
    found: Findings
    result: ImportResult
    out: dict = field(default_factory=dict)  # table column (and lon, lat, geom) → one value per row
    state: FileState = field(default_factory=FileState)  # shared with the file's other chunks
    _stripped: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.raw.frame)

    def text(self, column: str):
        """A file column's values, stripped (once per column: several steps read the same one)."""
        if column not in self._stripped:
            self._stripped[column] = stripped(self.raw.frame[column])
        return self._stripped[column]


def stripped(text: pd.Series) -> pd.Series:
    """Text without surrounding white space; a cell that is not text (None, NaN) kept as it is."""
    try:
        # About 3× pandas' .str.strip, which checks each value's type first.
        return pd.Series(list(map(str.strip, text.to_numpy(dtype=object))), index=text.index, dtype=object)
    except TypeError:  # a value that is not text (a reader's None or NaN)
        return text.str.strip()


def write_rejects(raw: RawTable, bad: np.ndarray, problems: list[Problem], path: Path, *, append: bool = False,
                  lang: str = "zh") -> None:
    """The bad rows as read, each with its number and reasons (in ``lang``: the office corrects them in Chinese),
    to a CSV Excel opens (``append``: a later chunk's)."""
    colon, semicolon = ("：", "；") if lang == "zh" else (": ", "; ")
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.severity == "error" and p.row is not None:
            reasons.setdefault(p.row, []).append(f"{p.column + colon if p.column else ''}{p.said(lang)}")
    rows = raw.frame[bad].copy()
    numbers = np.flatnonzero(bad) + raw.first_row
    rows.insert(0, REJECTS_ROW[raw.row_label], numbers)
    rows.insert(1, REJECTS_REASON, [semicolon.join(reasons.get(int(r), [])) for r in numbers])
    rows = csv_frame(rows)  # the office opens it in Excel: a cell's "=…" stays words
    try:
        if append:
            rows.to_csv(path, index=False, header=False, mode="a", encoding="utf-8")
        else:
            rows.to_csv(path, index=False, encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidParameter("--rejects", f"cannot write {path}: {exc.strerror}",
                               f"无法写入 {path}：{exc.strerror}") from None


_REJECTS_SUFFIX = ".rejects.csv"


def rejects_path(path: Path, opts: ImportOptions) -> tuple[Path, Path | None]:
    """Where --skip-bad writes the rejected rows, and the read-only folder they were kept out of (else None).

    --rejects, refused when it cannot be written; else beside the input,
    where an office finds it; else, the input's folder being read-only (a
    shared drive, a read-only mount), the project's home:
    ``HYGIENE_MAP_HOME/rejects/<stem>.rejects.csv``, replaced by the next
    import of that name as it would be beside the input.
    """
    if opts.rejects:
        chosen = Path(opts.rejects)
        if why := _unwritable(chosen):
            raise InvalidParameter("--rejects", f"cannot write {chosen}: {why[0]}", f"无法写入 {chosen}：{why[1]}")
        return chosen, None
    base = path if path.is_file() else path / path.name  # a folder (a shapefile's): its rejects inside it
    beside = base.with_name(base.stem + _REJECTS_SUFFIX)
    if not _unwritable(beside):
        return beside, None
    return _home_rejects(beside.name, beside.parent), beside.parent


def _unwritable(path: Path) -> tuple[str, str] | None:
    """Why ``path`` cannot be written (English, Chinese), or None: tried for real (root ignores mode bits), and
    never in a folder whose mode lets no one write (a data folder read-only by design, which root could still
    write into)."""
    try:
        if not path.parent.stat().st_mode & 0o222:
            return "its folder is read-only", "其所在文件夹只读"
        with open(path, "ab"):  # created, or opened as it is: write_rejects writes it next
            pass
    except OSError as exc:
        return exc.strerror or str(exc), exc.strerror or str(exc)
    return None


def _home_rejects(name: str, folder: Path) -> Path:
    """``HYGIENE_MAP_HOME/rejects/name``, its folder made (for its owner only: refused rows may hold callers'
    phones) when missing."""
    from data.settings import hygiene_home

    home = hygiene_home() / "rejects"
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidParameter("--rejects", f"{folder} is read-only and {home} cannot be made ({exc.strerror}): "
                               "name a writable file for the rejected rows",
                               f"{folder} 只读，且无法创建 {home}（{exc.strerror}）：请指定一个可写的文件存放拒收的行") from None
    return home / name


def rejected_from(path: Path) -> str | None:
    """The name of the file a rejects file beside it was written for (toilets.rejects.csv → toilets.xlsx), when
    exactly one file there has that stem; else None."""
    if not path.name.endswith(_REJECTS_SUFFIX):
        return None
    stem = path.name[: -len(_REJECTS_SUFFIX)]
    found = [p.name for p in path.parent.iterdir() if p.stem == stem and p != path]
    return found[0] if len(found) == 1 else None
