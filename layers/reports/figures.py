"""The bulletin's figures as data: ``data/figures.csv`` (code, names, definition, source, V/S/R label).

Each figure a bulletin prints carries its definition as a footnote; where no
standard fixes one, the row says it is this project's working definition
(label "—"). ``needs`` names the part of the project a figure waits for
(``inspections``, ``public_channel``); such figures are left out until that
data exists.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from data.standards import LABEL_TEXT

FIGURES_CSV = Path(__file__).resolve().parents[2] / "data" / "figures.csv"


#: data/figures.csv's source of the figures this project defines itself, and how each language says it.
WORKING_DEFINITION = "本项目工作定义 (this project's working definition)"
_WORKING_DEFINITION = {"zh": "本项目工作定义", "en": "this project's working definition"}


@dataclass(frozen=True)
class Figure:
    """One row of ``data/figures.csv``."""

    code: str
    unit: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    source: str
    label: str
    needs: str

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    def definition(self, lang: str = "zh") -> str:
        return self.definition_en if lang == "en" else self.definition_zh

    def source_text(self, lang: str = "zh") -> str:
        """The source as a reader of ``lang`` reads it: the project's own definition said in that language only."""
        return _WORKING_DEFINITION[lang if lang == "en" else "zh"] if self.source == WORKING_DEFINITION else self.source

    def label_text(self, lang: str = "zh") -> str:
        """The label spelled out ('二手来源', 'secondary source'); the label itself when it is V."""
        return LABEL_TEXT["en" if lang == "en" else "zh"].get(self.label, self.label)

    def footnote(self, lang: str = "zh") -> str:
        """'结案率：结案数 ÷ 应结案数。依据 …（二手来源，S）' — the line printed under a table."""
        if lang == "en":
            return (f"{self.name_en}: {self.definition_en}. Source: {self.source_text('en')} ({self.label_text('en')}, "
                    f"{self.label})")
        return f"{self.name_zh}：{self.definition_zh}。依据 {self.source_text()}（{self.label_text()}，{self.label}）"

    def as_dict(self, lang: str = "zh") -> dict:
        return {"code": self.code, "name": self.name(lang), "unit": self.unit, "definition": self.definition(lang),
                "source": self.source_text(lang), "label": self.label, "label_text": self.label_text(lang),
                "needs": self.needs or None}


@cache
def figures() -> dict[str, Figure]:
    """Every figure by code, in the file's order."""
    with FIGURES_CSV.open(encoding="utf-8", newline="") as f:
        return {row["code"]: Figure(**row) for row in csv.DictReader(f)}


def available(have: frozenset[str] = frozenset()) -> list[Figure]:
    """The figures a bulletin can give: those needing nothing, and those whose ``needs`` is in ``have``."""
    return [f for f in figures().values() if not f.needs or f.needs in have]


#: A rank change of 0, and a row ranked now but not in the previous period (page and PDF; the XLSX keeps 0 and empty).
_SAME, _NEW = {"zh": "持平", "en": "="}, {"zh": "新进", "en": "new"}


def rank_change_text(row: dict, lang: str = "zh") -> str:
    """A row's rank change as printed in the bulletin: ↑2 (up two places), ↓1, 持平, 新进 (not ranked last
    period), or nothing (not ranked now)."""
    value = row["rank_change"]
    if row["rank"] is None:
        return ""
    if value is None:
        return _NEW["en" if lang == "en" else "zh"]
    return _SAME["en" if lang == "en" else "zh"] if value == 0 else (f"↑{value}" if value > 0 else f"↓{-value}")
