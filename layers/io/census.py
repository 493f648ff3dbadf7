"""A census table (area code → population, no geometry) attached to admin areas already imported.

A planner has the districts' outlines from one office (Gaode's GeoJSON) and their populations from another, as a
table: 区划代码, 名称, 常住人口. ``hygiene-map import admin_areas pop.csv --level district --code-field 区划代码
--population-field 常住人口`` reads a CSV or spreadsheet that has no coordinate columns (nor WKT) as attributes
only, joined by code (as QGIS's table join): each row's population is set on the existing area of that level and
code; nothing else of the area changes. All or nothing: a code that is no area of the level, a code written twice
or a population that is no whole number ≥ 0 refuses the file, naming the rows, and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from data.errors import InvalidInput, InvalidParameter
from layers.io.columns import _coordinates, _Headers
from layers.io.rawtable import RawTable
from layers.io.readers import read_chunks

#: Files that can be a table without geometry.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
#: Rows named in a refusal (then a count).
NAMED = 20


@dataclass
class CensusResult:
    """What an attached census table did, said as an import's result is (problems, notes, summary)."""

    level: str
    updated: int
    population: int
    dry_run: bool
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    rejects_path: Path | None = None

    def summary(self, lang: str) -> str:
        """One line: how many areas got a population, and their total."""
        if lang == "en":
            verb = "would set" if self.dry_run else "set"
            return (f"census table: {verb} the population of {self.updated} {self.level} areas "
                    f"({self.population:,} residents in all); outlines unchanged")
        verb = "将更新" if self.dry_run else "已更新"
        return f"人口普查表：{verb} {self.updated} 个{_LEVEL_ZH[self.level]}的人口（合计 {self.population:,} 人）；边界不变"


_LEVEL_ZH = {"district": "区县", "street": "街道", "community": "社区"}


def census_table(path: Path, opts) -> RawTable | None:
    """``path`` read whole when it is an attributes-only census table for admin areas: a CSV or spreadsheet with no
    coordinate (nor WKT) column, imported with ``--population-field``; else None (an ordinary import)."""
    if opts.layer != "admin_areas" or not opts.population_field or opts.lon_col or opts.lat_col \
            or Path(path).is_dir() or Path(path).suffix.lower() not in TABLE_SUFFIXES:
        return None
    raw = next(iter(read_chunks(Path(path), sheet=opts.sheet, encoding=opts.encoding)))
    try:
        _coordinates(_Headers(raw), raw, None, None)
    except InvalidInput:
        return raw
    return None


def _column(raw: RawTable, given: str | None, option: str) -> str:
    """The column ``option`` names, or InvalidParameter naming the option and the columns there are."""
    columns = list(raw.frame.columns)
    if not given:
        raise InvalidParameter(option, f"a census table (no coordinates) needs {option}: the file's columns are "
                                       f"{', '.join(columns)}", f"人口普查表（无坐标）须给出 {option}：现有列 {'、'.join(columns)}")
    if given not in columns:
        raise InvalidParameter(option, f"no column {given!r} in {raw.path.name}: its columns are {', '.join(columns)}",
                               f"{raw.path.name} 中没有 {given!r} 列：现有列 {'、'.join(columns)}")
    return given


def _rows(raw: RawTable, code_col: str, pop_col: str) -> tuple[dict[str, tuple[int, int]], list[tuple[int, str, str]]]:
    """Per code its (row, population); and the bad rows (row, en, zh): blank or repeated code, population no count."""
    found: dict[str, tuple[int, int]] = {}
    bad = []
    for i, (code, pop) in enumerate(zip(raw.frame[code_col], raw.frame[pop_col])):
        row, code, text = raw.first_row + i, str(code).strip(), re.sub(r"[,，\s]", "", str(pop))
        if not code:
            bad.append((row, f"{code_col} is blank", f"{code_col} 为空"))
        elif code in found:
            bad.append((row, f"code {code} repeats row {found[code][0]}", f"代码 {code} 与第 {found[code][0]} 行重复"))
        elif not re.fullmatch(r"\d+(\.0+)?", text) or int(text.split(".")[0]) > 2**31 - 1:
            bad.append((row, f"{pop_col} {pop!r} is not a whole number ≥ 0", f"{pop_col} {pop!r} 不是非负整数"))
        else:
            found[code] = (row, int(text.split(".")[0]))
    return found, bad


def _refuse(raw: RawTable, bad: list[tuple[int, str, str]]) -> None:
    """InvalidInput naming the first :data:`NAMED` bad rows (then how many more): nothing is written."""
    more_en = f"; and {len(bad) - NAMED} more" if len(bad) > NAMED else ""
    more_zh = f"；另有 {len(bad) - NAMED} 行" if len(bad) > NAMED else ""
    raise InvalidInput(f"{raw.path.name}: nothing written: " + "; ".join(f"row {r}: {en}" for r, en, _ in bad[:NAMED])
                       + more_en,
                       zh=f"{raw.path.name}：未写入任何数据：" + "；".join(f"第 {r} 行：{zh}" for r, _, zh in bad[:NAMED])
                          + more_zh)


def attach(conn, raw: RawTable, opts) -> CensusResult:
    """Set the population of the existing areas of ``opts.level`` from the census table ``raw``, joined by code.

    Every row must name an existing area of the level by its code, once, with a whole number: else InvalidInput
    naming the rows, and nothing is written (the caller's transaction; ``opts.dry_run`` writes nothing either).
    """
    if not opts.level:
        raise InvalidParameter("--level", "a census table needs the level of its areas (district, street or "
                                          "community)", "人口普查表须给出其区划级别（district、street 或 community）")
    code_col = _column(raw, opts.code_field, "--code-field")
    pop_col = _column(raw, opts.population_field, "--population-field")
    found, bad = _rows(raw, code_col, pop_col)
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM admin_areas WHERE level = %s AND code = ANY(%s)", (opts.level, list(found)))
        known = {code for (code,) in cur.fetchall()}
    bad += [(row, f"{code_col} {code} is no {opts.level} of the city (import its outline first)",
             f"{code_col} {code} 不是本市已导入的{_LEVEL_ZH[opts.level]}（请先导入其边界）")
            for code, (row, _) in found.items() if code not in known]
    if bad:
        _refuse(raw, sorted(bad))
    with conn.cursor() as cur:
        cur.execute("UPDATE admin_areas a SET population = v.p, updated_at = now() FROM unnest(%s::text[], %s::int[]) v(c, p) "
                    "WHERE a.level = %s AND a.code = v.c",
                    ([c for c in found], [p for _, p in found.values()], opts.level))
    return CensusResult(opts.level, len(found), sum(p for _, p in found.values()), opts.dry_run)
