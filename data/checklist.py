"""The inspection checklist as data: ``data/checklist.csv`` (issue 15, 明察暗访).

One row per item an inspector may record: its ``code``, the ``place_type``
it belongs to (:data:`data.vocab.PLACE_TYPES`), its wording in Chinese and
English, the points it costs (``deduction``), the days given to rectify it
(``due_days``), where the wording was seen (``source``) and how certain that
is (``label``: V, S, R as in STANDARDS.md). ``values_label`` is the label of
the deduction and the deadline: ``W`` marks this project's working values,
which no source gives — a city sets its own.

A city overrides rows or adds its own with a CSV of the same columns (only
``code`` and the columns it changes are required), named by
``HYGIENE_MAP_CHECKLIST_FILE``; a row with a new ``code`` adds an item.

Where the wordings were seen (local inspection reports, read 2026-11-30):
深圳特区报 2022-01-12 https://m.dutenews.com/n/article/6451944 ;
马关县 2021 http://wscw.wsnews.com.cn/awcwpgt/p/247755.html ;
闽南网（泉州考评） http://jingyuhuahui.com/quanzhou/news/2148549.html (a copy) ;
界首 2015-08-25 https://www.jieshounews.cn/m/display.php?id=30604 ;
江陵县三河街道 http://www.jianglingzx.com/jlxfc/424.html ;
揭阳 东兴街道 http://jydingliang.cn/jyxw/18857.html (a copy of 揭阳新闻) ;
九龙坡 黄街坪 2020-05-28 https://jiulongpo.cbg.cn/a/2020/05/28/99c26e0d0b704d6ca2556cbcfe6acf98.html ;
龙马潭 2023-08-09 https://lzq.gov.cn/news/show/20230809143841004.html .
They are news reports of inspections, not the standard's own text: label S.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from data.csvrows import read_rows
from data.errors import InvalidInput, InvalidParameter
from data.settings import InspectionSettings
from data.vocab import PLACE_TYPES

CHECKLIST_CSV = Path(__file__).with_name("checklist.csv")
COLUMNS = ("code", "place_type", "text_zh", "text_en", "deduction", "due_days", "source", "label", "values_label")
LABELS = ("V", "V (text)", "V (local)", "S", "R", "W")
LABEL_TEXT = {
    "zh": {"V": "原文", "V (text)": "条文原文", "V (local)": "地方规定原文", "S": "二手来源（检查通报、新闻）",
           "R": "未找到出处，凭记忆", "W": "本项目工作值，非标准规定"},
    "en": {"V": "source text", "V (text)": "clause text", "V (local)": "local regulation text",
           "S": "secondary source (inspection reports, news)", "R": "not found in any source, recalled",
           "W": "this project's working value, not a standard"},
}


@dataclass(frozen=True)
class Item:
    """One checklist item."""

    code: str
    place_type: str
    text_zh: str
    text_en: str
    deduction: float
    due_days: int
    source: str
    label: str
    values_label: str

    def as_dict(self, lang: str = "zh") -> dict:
        """JSON-ready, with the labels spelled out in ``lang``."""
        words = LABEL_TEXT["en" if lang == "en" else "zh"]
        return {"code": self.code, "place_type": self.place_type, "place_type_en": PLACE_TYPES[self.place_type],
                "text": self.text_en if lang == "en" else self.text_zh, "text_zh": self.text_zh,
                "text_en": self.text_en, "deduction": self.deduction, "due_days": self.due_days,
                "source": self.source, "label": self.label, "label_text": words[self.label],
                "values_label": self.values_label, "values_label_text": words[self.values_label]}


def _typed(path: Path, line: int, row: dict) -> dict:
    """The row's values checked and converted; InvalidInput naming file, row and column."""
    out = dict(row)
    where, where_zh = f"{path}, row {line}", f"{path}，第 {line} 行"
    if "place_type" in row and row["place_type"] not in PLACE_TYPES:
        raise InvalidInput(f"{where}: place_type {row['place_type']!r} is not one of {', '.join(PLACE_TYPES)}",
                           zh=f"{where_zh}：place_type {row['place_type']!r} 不是 {'、'.join(PLACE_TYPES)} 之一")
    for column in ("label", "values_label"):
        if column in row and row[column] not in LABELS:
            raise InvalidInput(f"{where}: {column} {row[column]!r} is not one of {', '.join(LABELS)}",
                               zh=f"{where_zh}：{column} {row[column]!r} 不是 {'、'.join(LABELS)} 之一")
    for column, kind in (("deduction", float), ("due_days", int)):
        if column in row:
            try:
                out[column] = kind(row[column])
            except ValueError:
                raise InvalidInput(f"{where}: {column}={row[column]!r} is not a {kind.__name__}",
                                   zh=f"{where_zh}：{column}={row[column]!r} 不是{'整数' if kind is int else '数字'}") from None
            if out[column] < 0 or (column == "due_days" and out[column] < 1):
                raise InvalidInput(f"{where}: {column}={row[column]!r} must be "
                                   + ("at least 1" if column == "due_days" else "0 or more"),
                                   zh=f"{where_zh}：{column}={row[column]!r} 应"
                                   + ("至少为 1" if column == "due_days" else "不小于 0"))
    return out


def _read(path: Path, *, partial: bool) -> list[dict]:
    """The rows of a checklist file, each with only its non-empty cells when ``partial``."""
    rows = []
    for line, raw in read_rows(path, COLUMNS, "code", "checklist"):
        row = {k: v or "" for k, v in raw.items()}
        if partial:
            row = {k: v for k, v in row.items() if v}
        elif missing := [c for c in COLUMNS if not row.get(c) and c != "text_en"]:
            raise InvalidInput(f"{path}, row {line}: empty {', '.join(missing)}",
                               zh=f"{path}，第 {line} 行：{'、'.join(missing)} 为空")
        rows.append((line, row))
    return [_typed(path, line, row) for line, row in rows]


def load(settings: InspectionSettings | None = None) -> dict[str, Item]:
    """The checklist by item code, with the city's file (``HYGIENE_MAP_CHECKLIST_FILE``) applied."""
    settings = settings or InspectionSettings.from_env()
    items = {row["code"]: Item(**row) for row in _read(CHECKLIST_CSV, partial=False)}
    if settings.checklist_file:
        path = Path(settings.checklist_file)
        for row in _read(path, partial=True):
            base = items.get(row["code"])
            if base is not None:
                items[row["code"]] = replace(base, **row)
                continue
            missing = [c for c in COLUMNS if c not in row and c != "text_en"]
            if missing:
                raise InvalidInput(f"{path}: item {row['code']!r} is new, so it needs {', '.join(missing)}",
                                   zh=f"{path}：检查项 {row['code']!r} 是新增的，需要填写 {'、'.join(missing)}")
            items[row["code"]] = Item(**{"text_en": "", **row})
    return items


def item(code: str, settings: InspectionSettings | None = None) -> Item:
    """One item by code; InvalidParameter naming ``item`` when no such item exists."""
    items = load(settings)
    try:
        return items[code]
    except KeyError:
        raise InvalidParameter("item", f"no checklist item has code {code!r} (GET /api/inspections/checklist)",
                               f"检查清单中没有代码为 {code!r} 的检查项（见 GET /api/inspections/checklist）") from None
