"""What printed maps look like: the font, the paper, the symbols, the words.

Readable in black and white: every layer differs by shape, line pattern or
hatching, not by colour alone (colour only helps on a colour printer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from data.errors import SetupError
from data.vocab import STATUS_EN
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

# Glyphs no CJK font has (emoji a phone puts in a finding's note or an address: 😡 🐀 ✅), drawn from this
# font where the CJK one has none, instead of an empty box. Symbola (Debian fonts-symbola) has TrueType
# outlines, so it embeds and subsets as the CJK font does; a colour emoji font (bitmaps) would not print.
SYMBOL_FONTS = ("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
                "/usr/share/fonts/truetype/ancient-scripts/Symbola.ttf")

PAPERS_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
MM_PER_INCH = 25.4
PT_TO_MM = 25.4 / 72


def font_face(path: str | None) -> tuple[str, int, str]:
    """Register the CJK font with matplotlib (once): its file, face index (in a .ttc) and family name."""
    from matplotlib import font_manager

    candidates = (path,) if path else FONT_CANDIDATES
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            added = [f for f in font_manager.fontManager.ttflist if f.fname == candidate]
            if not added:
                font_manager.fontManager.addfont(candidate)
                added = [f for f in font_manager.fontManager.ttflist if f.fname == candidate]
            # A collection holds several faces; prefer the proportional one.
            faces = [f for f in added if "Mono" not in f.name] or added
            if not faces:
                raise SetupError(f"HYGIENE_MAP_PRINT_FONT={candidate}: matplotlib cannot read this font",
                                 f"HYGIENE_MAP_PRINT_FONT={candidate}：matplotlib 无法读取该字体")
            return candidate, faces[0].index, faces[0].name
    if path:
        raise SetupError(f"HYGIENE_MAP_PRINT_FONT={path}: no such font file", f"HYGIENE_MAP_PRINT_FONT={path}：字体文件不存在")
    raise SetupError(
        "no CJK TrueType font for printing: install the Debian package fonts-wqy-microhei "
        "(scripts/setup.sh does), or set HYGIENE_MAP_PRINT_FONT to a TrueType .ttf/.ttc with Chinese glyphs",
        "没有可用于打印的中日韩 TrueType 字体：请安装 Debian 软件包 fonts-wqy-microhei（scripts/setup.sh 会安装），"
        "或把 HYGIENE_MAP_PRINT_FONT 设为含中文字形的 TrueType .ttf/.ttc 文件",
    )


def _symbol_families() -> list[str]:
    """The symbol font's family, registered with matplotlib (once), as the CJK font's fallback; [] without it."""
    from matplotlib import font_manager

    for candidate in SYMBOL_FONTS:
        if os.path.exists(candidate):
            if not any(f.fname == candidate for f in font_manager.fontManager.ttflist):
                font_manager.fontManager.addfont(candidate)
            return [f.name for f in font_manager.fontManager.ttflist if f.fname == candidate][:1]
    return []


def register_font(path: str | None) -> str:
    """Register the CJK font with matplotlib once; its family name."""
    return font_face(path)[2]


def forget_font(path: str) -> None:
    """Unregister a font file registered by :func:`font_face` (a document's own font, about to be deleted)."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    manager.ttflist = [f for f in manager.ttflist if f.fname != path]


def rc_params(family: str) -> dict:
    """matplotlib settings of every print: embedded (Type 42) subset fonts, no Unicode minus."""
    return {
        "pdf.fonttype": 42,  # embed TrueType, text stays text (pdftotext, search, copy)
        "font.family": [family, *_symbol_families()],  # per glyph: the CJK font first, then symbols
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
#: A health trail or park not in service (shut for works): the same dots in grey, the park left white inside.
TRAIL_LINE_CLOSED = {**TRAIL_LINE_STYLE, "color": "0.6"}
TRAIL_AREA_CLOSED = {**TRAIL_AREA_STYLE, "facecolor": "white", "edgecolor": "0.6"}

#: Road classes a street's overview map draws (the others would hide its grids).
MAIN_ROADS = ("快速路", "主干路", "次干路")
#: The class of back streets (背街小巷), which a sheet names and counts.
BACK_STREET = "背街小巷"


def point_style_key(layer: str, kind: str | None, overdue: bool) -> str:
    return get_layer(layer).symbol.key(kind, overdue)


#: The ring of a facility not in service: dashed, so that it reads in black and white too, and apart from
#: a collection point's marker, which is white inside already.
HOLLOW_RING = {"linewidths": 1.0, "linestyle": (0, (1.6, 0.9))}
#: The legend's hollow marker: the ring of any kind, in dark grey.
HOLLOW_LEGEND = {"marker": "o", "s": 30, "facecolor": "white", "edgecolor": "0.2", **HOLLOW_RING}


def hollow(style: dict) -> dict:
    """A facility's marker when it is not in service (closed, under construction): white inside, ringed in its
    kind's colour, as the web map draws it; the same shape and size."""
    filled = style["facecolor"] not in ("white", "#fff", "#ffffff")
    return {**style, "facecolor": "white", "edgecolor": style["facecolor"] if filled else style["edgecolor"],
            **HOLLOW_RING}


# -- words --------------------------------------------------------------------------
# Every word of a printed page in Chinese and English, side by side.
_WORDS: dict[str, tuple[str, str]] = {
    "sheet": ("明察暗访巡查图", "Inspection sheet"),
    "atlas": ("网格巡查图册", "Grid inspection atlas"),
    "route": ("巡查路线图", "Inspection route"),
    "area": ("面积", "Area"),
    "hectare": ("公顷", "ha"),
    "open": ("待办投诉", "Open complaints"),
    "overdue": ("超期", "overdue"),
    "items": ("件", ""),
    "back_streets": ("背街小巷", "Back streets"),
    "segments": ("条", "segments"),
    "data_time": ("数据时间", "Data as of"),
    "printed": ("打印日期", "Printed"),
    "crs": ("坐标系", "CRS"),
    "scale": ("比例尺约", "Scale about"),
    "page": ("第 {n} / {total} 页", "Page {n} of {total}"),
    "demo": ("演示数据（虚构城市）", "Demo data (fictional city)"),
    "checklist": ("核查清单", "Checklist"),
    "continued": ("（续）", " (continued)"),
    "no": ("编号", "No."),
    "type": ("类型", "Type"),
    "name_place": ("名称 / 位置", "Name / location"),
    "detail": ("属性 / 状态", "Details / status"),
    "id": ("ID", "ID"),
    "check": ("核查", "OK"),
    "near": ("近", "near "),
    "nothing": ("本网格内无设施和待办投诉", "No facilities or open complaints in this grid"),
    "withheld": ("不公开", "not public"),  # a contact the viewer may not read: withheld, not missing
    "overview": ("位置示意", "Location"),
    "north": ("北", "N"),
    "grid": ("本网格", "This grid"),
    "neighbour": ("相邻网格", "Neighbouring grid"),
    "village": ("城中村 / 城乡结合部", "Urban village / fringe"),
    "trail": ("健康步道 / 公园", "Health trail / park"),
    "trail_closed": ("健康步道 / 公园（灰色：不在用）", "Trail / park not in service"),
    "complaint": ("待办投诉", "Open complaint"),
    "overdue_complaint": ("超期投诉", "Overdue complaint"),
    "numbered": ("编号 = 核查清单序号", "number = checklist row"),
    "outside": ("网格外要素淡显，不编号", "Faded: outside the grid, not numbered"),
    "hollow": ("空心：不在用（停用、在建）", "hollow: not in service"),  # the English the legend has room for
    "not_in_service": ("不在用", "not in service"),
    "page_numbers": ("格内数字为页码", "numbers in the grids are page numbers"),
    "due": ("限", "due"),
    "index": ("网格索引", "Grid index"),
    "page_no": ("页码", "Page"),
    "grid_name": ("网格名称", "Grid name"),
    "open_short": ("待办", "Open"),
    "overdue_short": ("超期", "Overdue"),
    "summary": ("共 {grids} 个网格 · 待办投诉 {open} 件（超期 {overdue} 件）",
                "{grids} grids · {open} open complaints ({overdue} overdue)"),
    "stop": ("第 {k} 站", "Stop {k}"),
    "stops": ("站", "Stop"),
    "score": ("优先分", "Score"),
    "distance": ("累计距离", "Distance"),
    "route_note": ("选取：待办 + 2×超期 投诉数最高的网格（临时评分，待优先级分析替换）；顺序：最近邻 + 2-opt，直线距离。",
                   "Chosen: highest open + 2×overdue complaints (interim score until the priority analysis); "
                   "order: nearest neighbour + 2-opt, straight-line distance."),
    "route_summary": ("{n} 站 · 直线全长约 {km:.1f} 公里", "{n} stop{s} · about {km:.1f} km in straight lines"),
    "fewer": ("只有 {n} 个网格有待办投诉，少于要求的 {top} 站", "only {n} grid{s} with open complaints, fewer than the {top} stops asked for"),
    "start": ("起点", "Start"),
    "shade": ("网格灰度：待办投诉数", "Grid shade: open complaints"),
}
# Words that name a grid's columns: the grid layer's own field labels.
_GRID_FIELDS = {"grid_code": "code", "unit": "responsible_unit", "manager": "grid_manager", "phone": "phone"}


def _text(lang: str) -> dict:
    i = 1 if lang == "en" else 0
    fields = {f.column: f.label(lang) for f in get_layer("grids").popup}
    return {**{key: pair[i] for key, pair in _WORDS.items()},
            **{key: fields[column] for key, column in _GRID_FIELDS.items()},
            # A layer's short name, for the narrow type column of a checklist: its print symbol's.
            "layer": {spec.id: spec.symbol.label(lang) for spec in LAYERS if spec.symbol}}


TEXT = {lang: _text(lang) for lang in ("zh", "en")}


def _terms_en() -> dict[str, str]:
    """English of the Chinese values of the schema: the layers' category labels, the statuses, and the
    values no layer declares as a category (kinds of toilet and village, sorting, the stall count)."""
    categories = {c.value: c.label_en for spec in LAYERS for c in spec.categories
                  if any(ord(ch) > 0x2E7F for ch in c.value)}
    others = {"独立式": "stand-alone", "附属式": "attached", "活动式": "mobile", "分类": "sorted", "未分类": "unsorted",
              "城中村": "urban village", "城乡结合部": "urban-rural fringe", "摊位": " stalls"}
    terms = {**categories, **STATUS_EN, **others}
    # Longest first, so that 未分类 is not read as 未 + 分类.
    return dict(sorted(terms.items(), key=lambda item: -len(item[0])))


TERMS_EN = _terms_en()


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
