"""Inspection findings (明察暗访问题, issue 15): checklist items seen at points, rectification cases.

Written by ``POST /api/inspections/findings`` (layers.workflow.inspections),
never imported from files. The description (the ``note`` of the request) is what an inspector wrote at a shop or
a door: personal, like a complaint's description; who recorded, rectified
or moved a finding is staff-only.
"""

from __future__ import annotations

from data.vocab import FINDING_STATUS_EN, FINDING_STATUSES, PLACE_TYPES
from layers.spec.common import CASE_HISTORY, area_codes
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol

# Red while waiting for rectification, amber once rectified, green when the re-check passed.
_STATUS_COLORS = ("#d62728", "#f2b701", "#2ca02c", "#9467bd")
STATUS_CATEGORIES = tuple(Category(s, s, FINDING_STATUS_EN[s].capitalize(), color)
                          for s, color in zip(FINDING_STATUSES, _STATUS_COLORS, strict=True))

LAYER = LayerSpec(
    "inspection_findings", "暗访问题", "Inspection findings", "Point",
    # Findings come from the field (the API, with photos and a history), never from files.
    rules=ImportRules(geometry=("Point",), from_files=False),
    fields=(
        Field("id", "int", "编号", "No.", popup=True, imported=False),
        Field("round_id", "int", "检查轮次", "Round", popup=True),
        Field("item_code", label_zh="问题代码", label_en="Item", popup=True),
        Field("place_type", label_zh="场所类型", label_en="Place type", choices=tuple(PLACE_TYPES), popup=True),
        Field("item_text", label_zh="问题", label_en="Problem", popup=True),
        Field("deduction", "num", "扣分", "Deduction", popup=True),
        Field("observed_at", "time", "发现时间", "Observed", popup=True),
        Field("status", label_zh="整改状态", label_en="Status", choices=FINDING_STATUSES, popup=True),
        Field("due_at", "time", "整改期限", "Due", popup=True),
        Field("responsible_unit", label_zh="责任单位", label_en="Responsible unit", popup=True),
        # What the inspector wrote at the place: shop names, people, doors turn up in it.
        Field("description", label_zh="问题描述", label_en="Description", column_class="personal"),
        Field("inspector", label_zh="检查人", label_en="Inspector", column_class="internal"),
        Field("rectified_by", label_zh="整改人", label_en="Rectified by", column_class="internal"),
        *area_codes("district_code", "street_code", "community_code", "grid_code", shown=("street_code", "grid_code")),
    ),
    style_column="status", categories=STATUS_CATEGORIES,
    time_column="observed_at", filter_columns=("round_id", "item_code", "place_type", "status"),
    attributes_class="internal",
    history=CASE_HISTORY,
    symbol=PrintSymbol("暗访问题", "Finding", {
        "finding": {"marker": "^", "s": 46, "facecolor": "#d62728", "edgecolor": "black", "linewidths": 0.5},
        "overdue": {"marker": "*", "s": 90, "facecolor": "black", "edgecolor": "black", "linewidths": 0.4},
    }, default="finding"),
)
