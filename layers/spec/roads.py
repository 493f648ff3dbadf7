"""Roads, back streets (背街小巷) included: lines by class."""

from __future__ import annotations

from layers.spec.common import NAME_ALIASES, area_codes, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, ScaleDisplay, values

CLASSES = (
    Category("快速路", "快速路", "Expressway", "#636363"),
    Category("主干路", "主干路", "Arterial", "#737373"),
    Category("次干路", "次干路", "Secondary", "#969696"),
    Category("支路", "支路", "Branch road", "#bdbdbd"),
    Category("背街小巷", "背街小巷", "Back street", "#d95f0e"),
)

LAYER = LayerSpec(
    "roads", "道路（含背街小巷）", "Roads (incl. back streets)", "LineString",
    rules=ImportRules(geometry=("LineString",)),
    fields=(
        name("道路名称", ("道路名称", "道路名稱", *NAME_ALIASES)),
        Field("class", label_zh="道路等级", label_en="Class", popup=True,
              aliases=("道路等级", "道路等級", "等级", "class", "roadclass"), choices=values(CLASSES), default="支路",
              synonyms={"主幹路": "主干路", "次幹路": "次干路", "expressway": "快速路", "arterial": "主干路",
                        "secondary": "次干路", "branch": "支路", "alley": "背街小巷", "backstreet": "背街小巷"}),
        *area_codes("district_code", "street_code"),
    ),
    style_column="class", categories=CLASSES, display=(ScaleDisplay(0, 22, "tiles"),),
    # On paper width and dash carry the class; back streets are dashed.
    symbol=PrintSymbol("道路", "Road", {
        "快速路": {"color": "0.15", "linewidth": 3.0, "linestyle": "solid", "zorder": 3.4},
        "主干路": {"color": "0.35", "linewidth": 2.2, "linestyle": "solid", "zorder": 3.3},
        "次干路": {"color": "0.5", "linewidth": 1.5, "linestyle": "solid", "zorder": 3.2},
        "支路": {"color": "0.62", "linewidth": 0.9, "linestyle": "solid", "zorder": 3.1},
        "背街小巷": {"color": "#5a2d0c", "linewidth": 0.9, "linestyle": (0, (3.0, 1.6)), "zorder": 3.5},
    }, default="支路"),
)
