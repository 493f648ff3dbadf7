"""What printed maps look like: the font, the paper, the symbols, the words.

Readable in black and white: every layer differs by shape, line pattern or
hatching, not by colour alone (colour only helps on a colour printer).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from data.errors import SetupError
from layers.spec.registry import LAYERS, get_layer

# TrueType-outline CJK fonts, first installed wins. Noto Sans CJK (the .ttc of
# fonts-noto-cjk) is *not* here: its outlines are CFF, and matplotlib's PDF
# backend embeds them as a TrueType font program (FontFile2), which is not
# valid PDF (poppler warns "Mismatch between font type and embedded font
# file"; strict viewers and printers may refuse it). WenQuanYi Micro Hei
# (Debian fonts-wqy-microhei) has TrueType outlines and subsets cleanly.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)

PAPERS_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
MM_PER_INCH = 25.4
PT_TO_MM = 25.4 / 72


@functools.lru_cache(maxsize=4)
def register_font(path: str | None) -> str:
    """Register the CJK font with matplotlib once; its family name."""
    from matplotlib import font_manager

    candidates = (path,) if path else FONT_CANDIDATES
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            font_manager.fontManager.addfont(candidate)
            added = [f for f in font_manager.fontManager.ttflist if f.fname == candidate]
            # A collection holds several faces; prefer the proportional one.
            names = [f.name for f in added if "Mono" not in f.name] or [f.name for f in added]
            if not names:
                raise SetupError(f"HYGIENE_MAP_PRINT_FONT={candidate}: matplotlib cannot read this font")
            return names[0]
    if path:
        raise SetupError(f"HYGIENE_MAP_PRINT_FONT={path}: no such font file")
    raise SetupError(
        "no CJK TrueType font for printing: install the Debian package fonts-wqy-microhei "
        "(scripts/setup.sh does), or set HYGIENE_MAP_PRINT_FONT to a TrueType .ttf/.ttc with Chinese glyphs"
    )


def rc_params(family: str) -> dict:
    """matplotlib settings of every print: embedded (Type 42) subset fonts, no Unicode minus."""
    return {
        "pdf.fonttype": 42,  # embed TrueType, text stays text (pdftotext, search, copy)
        "font.family": [family],
        "font.size": 7,
        "axes.unicode_minus": False,
        # Hinting only matters for pixels; measuring text with FreeType's
        # autohinter costs 2–3× more per string, and text is most of a page's time.
        "text.hinting": "no_hinting",
        "hatch.linewidth": 0.45,
        "pdf.compression": 6,
        "path.simplify": True,
    }


@dataclass(frozen=True)
class Paper:
    """A paper size and orientation, in millimetres."""

    name: str
    landscape: bool

    @property
    def size_mm(self) -> tuple[float, float]:
        w, h = PAPERS_MM[self.name]
        return (h, w) if self.landscape else (w, h)

    @property
    def size_in(self) -> tuple[float, float]:
        w, h = self.size_mm
        return (w / MM_PER_INCH, h / MM_PER_INCH)

    @property
    def text_scale(self) -> float:
        return 1.0 if self.name == "A4" else 1.25


# -- symbols ----------------------------------------------------------------------
# Each layer's symbols are declared with the layer (layers/spec): roads by class
# (width and dash), points by marker shape, areas by hatching.
def _styles(layer: str) -> dict:
    return dict(get_layer(layer).symbol.styles)


ROAD_STYLE = _styles("roads")
POINT_STYLE = {key: style for spec in LAYERS if spec.symbol and spec.rules.points
               for key, style in spec.symbol.styles.items()}
VILLAGE_STYLE = _styles("urban_villages")["area"]
TRAIL_LINE_STYLE = _styles("health_trails")["line"]
TRAIL_AREA_STYLE = _styles("health_trails")["area"]


def point_style_key(layer: str, kind: str | None, overdue: bool) -> str:
    return get_layer(layer).symbol.key(kind, overdue)


def _layer_labels(lang: str) -> dict[str, str]:
    """What a checklist row calls each printed layer."""
    return {spec.id: spec.symbol.label(lang) for spec in LAYERS if spec.symbol}


# -- words --------------------------------------------------------------------------
TEXT = {
    "zh": {
        "sheet": "明察暗访巡查图", "atlas": "网格巡查图册", "route": "巡查路线图",
        "grid_code": "网格编码", "located": "所属", "unit": "责任单位", "manager": "网格长", "phone": "电话",
        "area": "面积", "hectare": "公顷", "open": "待办投诉", "overdue": "超期", "items": "件",
        "back_streets": "背街小巷",
        "segments": "条", "data_time": "数据时间", "printed": "打印日期", "crs": "坐标系",
        "scale": "比例尺约", "page": "第 {n} / {total} 页", "demo": "演示数据（虚构城市）",
        "checklist": "核查清单", "continued": "（续）", "no": "编号", "type": "类型", "name_place": "名称 / 位置",
        "detail": "属性 / 状态", "id": "ID", "check": "核查", "near": "近", "nothing": "本网格内无设施和待办投诉",
        "overview": "位置示意", "qr": "扫码查看在线地图", "north": "北", "legend": "图例",
        "grid": "本网格", "neighbour": "相邻网格", "village": "城中村 / 城乡结合部", "trail": "健康步道 / 公园",
        "complaint": "待办投诉", "overdue_complaint": "超期投诉", "numbered": "编号 = 核查清单序号",
        "outside": "网格外要素淡显，不编号", "page_numbers": "格内数字为页码",
        "reported": "报", "due": "限",
        "index": "网格索引", "page_no": "页码", "grid_name": "网格名称", "open_short": "待办", "overdue_short": "超期",
        "summary": "共 {grids} 个网格 · 待办投诉 {open} 件（超期 {overdue} 件）",
        "stop": "第 {k} 站", "stops": "站", "score": "优先分", "distance": "累计距离",
        "route_note": "选取：待办 + 2×超期 投诉数最高的网格（临时评分，待优先级分析替换）；"
                      "顺序：最近邻 + 2-opt，直线距离。",
        "route_summary": "{n} 站 · 直线全长约 {km:.1f} 公里",
        "start": "起点", "shade": "网格灰度：待办投诉数",
        "layer": _layer_labels("zh"),
    },
    "en": {
        "sheet": "Inspection sheet", "atlas": "Grid inspection atlas", "route": "Inspection route",
        "grid_code": "Grid code", "located": "In", "unit": "Responsible unit", "manager": "Grid manager",
        "phone": "Phone", "area": "Area", "hectare": "ha", "open": "Open complaints", "overdue": "overdue",
        "items": "", "back_streets": "Back streets", "segments": "segments", "data_time": "Data as of",
        "printed": "Printed", "crs": "CRS", "scale": "Scale about", "page": "Page {n} of {total}",
        "demo": "Demo data (fictional city)", "checklist": "Checklist", "continued": " (continued)", "no": "No.",
        "type": "Type", "name_place": "Name / location", "detail": "Details / status", "id": "ID", "check": "OK",
        "near": "near ", "nothing": "No facilities or open complaints in this grid", "overview": "Location",
        "qr": "Scan for the online map", "north": "N", "legend": "Legend", "grid": "This grid",
        "neighbour": "Neighbouring grid", "village": "Urban village / fringe", "trail": "Health trail / park",
        "complaint": "Open complaint", "overdue_complaint": "Overdue complaint",
        "numbered": "number = checklist row", "outside": "Faded: outside the grid, not numbered",
        "page_numbers": "numbers in the grids are page numbers", "reported": "rep.", "due": "due",
        "index": "Grid index", "page_no": "Page", "grid_name": "Grid name", "open_short": "Open",
        "overdue_short": "Overdue",
        "summary": "{grids} grids · {open} open complaints ({overdue} overdue)",
        "stop": "Stop {k}", "stops": "Stop", "score": "Score", "distance": "Distance",
        "route_note": "Chosen: highest open + 2×overdue complaints (interim score until the priority analysis); "
                      "order: nearest neighbour + 2-opt, straight-line distance.",
        "route_summary": "{n} stops · about {km:.1f} km in straight lines",
        "start": "Start", "shade": "Grid shade: open complaints",
        "layer": _layer_labels("en"),
    },
}

# English for the fixed vocabularies of the schema (names of places stay as stored).
TERMS_EN = {
    "受理": "received", "立案": "registered", "派遣": "dispatched", "处置": "handled", "核查": "verifying",
    "结案": "closed", "一类": "class I", "二类": "class II", "三类": "class III", "独立式": "stand-alone",
    "附属式": "attached", "活动式": "mobile", "收集点": "collection point", "收集站": "collection station",
    "转运站": "transfer station", "分类": "sorted", "未分类": "unsorted", "农贸市场": "farmers' market",
    "集贸市场": "market", "临时便民市场": "temporary market", "城中村": "urban village",
    "城乡结合部": "urban-rural fringe", "未改造": "not renovated", "改造中": "renovating", "已改造": "renovated",
    "健康步道": "health trail", "健康主题公园": "health park", "健康街区": "health street", "摊位": " stalls",
    "快速路": "expressway", "主干路": "arterial", "次干路": "secondary road", "支路": "branch road",
    "背街小巷": "back street",
}


def term(value: str | None, lang: str) -> str:
    """A schema term (status, grade, kind) in the page language."""
    if not value:
        return ""
    if lang != "en":
        return value
    out = value
    for zh, en in TERMS_EN.items():
        out = out.replace(zh, en)
    return out
