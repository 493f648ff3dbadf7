"""Planning standards as data: ``data/standards.csv`` (STANDARDS.md §1–§3).

Every analysis names the rule it applied by id, value, source and label, and
shows the label where it is not V (seen in the standard's own wording). A city
overrides rows with its own CSV of the same columns (only ``id`` and the
columns it changes are required), named by ``HYGIENE_MAP_STANDARDS_FILE``;
an override row with a new ``id`` adds a rule. ``source_zh`` cites the source
in Chinese lines; a city's own ``source`` without one is cited as written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from data.csvrows import read_rows
from data.errors import InvalidInput, NotFound

STANDARDS_CSV = Path(__file__).with_name("standards.csv")
COLUMNS = ("id", "section", "kind", "metric", "value", "value_max", "unit", "scope", "source", "source_zh", "label",
           "label_zh", "label_en")
LABEL_TEXT = {
    "zh": {"S": "二手来源", "R": "未找到出处，凭记忆", "V (local)": "地方规定原文", "V (text)": "条文原文",
           "V (method)": "方法原文", "—": "无出处"},
    "en": {"S": "secondary source", "R": "not found in any source, recalled", "V (local)": "local regulation text",
           "V (text)": "clause text", "V (method)": "method text", "—": "no source"},
}


@dataclass(frozen=True)
class Rule:
    """One row of the standards table."""

    id: str
    section: str
    kind: str
    metric: str
    value: str
    value_max: str
    unit: str
    scope: str
    source: str
    source_zh: str  # the source in Chinese, for Chinese lines
    label: str
    label_zh: str
    label_en: str

    @property
    def verified(self) -> bool:
        """True when the label is plain V: the rule was seen in the standard's own wording."""
        return self.label.split(" ")[0] == "V" and self.label in ("V", "V (text)", "V (method)")

    def number(self) -> float:
        """The value as a number; InvalidInput naming the rule when it is not one."""
        return self._float(self.value, "value")

    def upper(self) -> float | None:
        return self._float(self.value_max, "value_max") if self.value_max else None

    def _float(self, raw: str, column: str) -> float:
        try:
            return float(raw)
        except ValueError:
            raise InvalidInput(f"standard {self.id!r}: {column}={raw!r} is not a number",
                               zh=f"标准 {self.id!r}：{column}={raw!r} 不是数字") from None

    def describe(self, lang: str = "zh") -> str:
        """'公厕服务半径 300 m，依据 GB 55013-2021 §5.0.1' plus the label where it is not V."""
        name = self.label_en if lang == "en" else self.label_zh
        value = self.value + (f"–{self.value_max}" if self.value_max else "")
        unit = {"per_km2": "座/km²" if lang != "en" else "per km²"}.get(self.unit, self.unit)
        text = (f"{name} {value} {unit}, {self.source}" if lang == "en"
                else f"{name} {value} {unit}，依据 {self.source_zh or self.source}")
        if not self.verified:
            note = LABEL_TEXT["en" if lang == "en" else "zh"].get(self.label, self.label)
            text += f" ({note}, {self.label})" if lang == "en" else f"（{note}，{self.label}）"
        return text

    def as_dict(self, lang: str = "zh") -> dict:
        """JSON-ready: the rule's fields and its one-line description."""
        return {"id": self.id, "value": self.value, "value_max": self.value_max or None, "unit": self.unit,
                "scope": self.scope, "source": self.source if lang == "en" else self.source_zh or self.source,
                "label": self.label,
                "name": self.label_en if lang == "en" else self.label_zh, "text": self.describe(lang)}


def _read(path: Path, *, partial: bool) -> list[dict]:
    rows = []
    for line, row in read_rows(path, COLUMNS, "id", "standards"):
        if not partial and any(row.get(c) is None for c in COLUMNS):
            raise InvalidInput(f"{path}, row {line}: missing columns", zh=f"{path}，第 {line} 行：缺少列")
        for col in ("value", "value_max"):
            raw = row.get(col) or ""
            if raw and row.get("unit") in ("m", "per_km2") and not _is_number(raw):
                raise InvalidInput(f"{path}, row {line}: {col}={raw!r} is not a number",
                                   zh=f"{path}，第 {line} 行：{col}={raw!r} 不是数字")
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


def _is_number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


def load(env: Mapping[str, str] | None = None) -> dict[str, Rule]:
    """The standards table by rule id, with the city's override file applied."""
    env = os.environ if env is None else env
    rules = {row["id"]: Rule(**{c: row.get(c, "") for c in COLUMNS}) for row in _read(STANDARDS_CSV, partial=False)}
    override = env.get("HYGIENE_MAP_STANDARDS_FILE")
    if override:
        for row in _read(Path(override), partial=True):
            base = rules.get(row["id"])
            if base is None:
                rules[row["id"]] = Rule(**{c: row.get(c, "") for c in COLUMNS})
            else:
                changed = {k: v for k, v in row.items() if k != "id" and v != ""}
                if "source" in changed and "source_zh" not in changed:  # a city's own source: cited as written
                    changed["source_zh"] = changed["source"]
                rules[row["id"]] = replace(base, **changed)
    return rules


def rule(rule_id: str, env: Mapping[str, str] | None = None) -> Rule:
    """One rule by id."""
    rules = load(env)
    try:
        return rules[rule_id]
    except KeyError:
        raise NotFound(f"no standard with id {rule_id!r} in data/standards.csv or the override file",
                       f"data/standards.csv 和覆盖文件中都没有编号为 {rule_id!r} 的标准") from None
