"""Complaints (投诉举报): citizens' reports and inspection findings, points with a case status."""

from __future__ import annotations

from data.vocab import RECEIVED, STATUS_EN, STATUSES
from layers.spec.common import ADDRESS_ALIASES, CASE_HISTORY, address, area_codes
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, ScaleDisplay

# Legend colours of the statuses, in the order of STATUSES: red while new, grey once closed.
_STATUS_COLORS = ("#d62728", "#e45756", "#ff7f0e", "#f2b701", "#8c6d31", "#7f7f7f")
STATUS_CATEGORIES = tuple(Category(s, s, STATUS_EN[s].capitalize(), color)
                          for s, color in zip(STATUSES, _STATUS_COLORS, strict=True))

# Other spellings of each status (besides its English name), in the order of STATUSES.
_STATUS_SPELLINGS = (
    ("open", "new", "pending", "待处理", "已受理", "待受理"),
    (),
    ("assigned", "已派单", "已派遣", "派单"),
    ("處置", "inprogress", "started", "处理中", "办理中", "处置中"),
    ("verified",),
    ("結案", "resolved", "已结案", "已办结", "办结", "已回访"),
)
STATUS_SYNONYMS = {spelling: status for status, others in zip(STATUSES, _STATUS_SPELLINGS, strict=True)
                   for spelling in (STATUS_EN[status], *others)}

# Other spellings of each hygiene event type (the names of event_types): traditional characters and the
# categories of 12345 hotline exports, at whichever level of the file's categories they stand.
_EVENT_SPELLINGS = {
    "暴露垃圾": ("垃圾乱倒", "乱扔垃圾", "乱倒垃圾"),
    "积存垃圾渣土": ("積存垃圾渣土", "乱堆乱放", "建筑垃圾乱堆", "渣土乱堆"),
    "道路不洁": ("道路不潔", "道路保洁不到位", "路面不洁"),
    "水域不洁": ("水域不潔", "河道漂浮物", "水面漂浮物"),
    "绿地脏乱": ("綠地髒亂",),
    "乱倒污水": ("亂倒污水", "污水乱排", "乱排污水", "污水外溢"),
    "餐厨垃圾遗撒": ("餐廚垃圾遺撒",),
    "垃圾满溢": ("垃圾滿溢", "垃圾清运不及时", "垃圾桶满溢", "垃圾箱满溢"),
    "占道经营": ("佔道經營", "流动摊贩", "占道摆摊"),
    "非法小广告": ("非法小廣告", "乱贴小广告", "乱张贴"),
    "病媒生物": ("鼠患", "蚊蝇", "老鼠", "蟑螂"),
}
# NYC 311's complaint types that are hygiene events, each a path of one value: a type only as the file's
# coarsest level (a Descriptor "Mobile Food Vendor" under Consumer Complaint is no street vending).
_NYC_311_TYPES = {
    "暴露垃圾": ("Illegal Dumping", "Residential Disposal Complaint", "Commercial Disposal Complaint", "Dead Animal"),
    "积存垃圾渣土": ("Lot Condition",),
    "道路不洁": ("Dirty Condition", "Dirty Conditions", "Sanitation Condition", "Street Sweeping Complaint"),
    "水域不洁": ("Water Quality",),
    "乱倒污水": ("Indoor Sewage", "Sewer"),
    "垃圾满溢": ("Litter Basket Complaint", "Litter Basket Request", "Overflowing Litter Baskets", "Missed Collection"),
    "占道经营": ("Street Vendor", "Mobile Food Vendor", "Vending"),
    "非法小广告": ("Illegal Posting",),
    "病媒生物": ("Rodent", "Mosquitoes", "Unsanitary Pigeon Condition", "Unsanitary Animal Pvt Property",
                 "Standing Water"),
}
# A 311 type its Descriptor decides (Complaint Type, Descriptor): UNSANITARY CONDITION is a flat's pests,
# stored refuse or sewage, or its mould, which is no public-hygiene event (None: refused as one).
_NYC_311_DESCRIPTORS = {
    ("UNSANITARY CONDITION", "PESTS"): "病媒生物",
    ("UNSANITARY CONDITION", "GARBAGE/RECYCLING STORAGE"): "积存垃圾渣土",
    ("UNSANITARY CONDITION", "SEWAGE"): "乱倒污水",
    ("UNSANITARY CONDITION", "MOLD"): None,
}
EVENT_SYNONYMS = {**{spelling: name for name, spellings in _EVENT_SPELLINGS.items() for spelling in spellings},
                  **{(kind,): name for name, kinds in _NYC_311_TYPES.items() for kind in kinds},
                  **_NYC_311_DESCRIPTORS}

LAYER = LayerSpec(
    "complaints", "投诉举报", "Complaints", "Point", large=True,
    # Each imported status enters the case history; a missing deadline is the event type's time limit; an
    # open case keeps no closing time.
    rules=ImportRules(geometry=("Point",), status_history=True, hooks=("deadlines", "closing_times"),
                      after_write=("grid_then",)),
    fields=(
        Field("id", "int", "编号", "No.", popup=True, imported=False),
        Field("category", label_zh="事件类型", label_en="Category", vocabulary="event_types", synonyms=EVENT_SYNONYMS,
              required=True, popup=True,
              aliases=("事件类型", "事件類型", "问题类型", "問題類型", "投诉类型", "投訴類型", "类别", "類別", "category",
                       "complainttype", "eventtype", "type", "一级分类", "一級分類", "问题大类", "問題大類",
                       # 12345 hotline exports' own headers for it.
                       "诉求类别", "訴求類別", "诉求分类", "訴求分類", "问题分类", "問題分類", "事项分类", "事項分類"),
              # 12345 exports' finer categories; NYC 311's Descriptor (it is the description too).
              refined_by=(("二级分类", "二級分類", "问题小类", "問題小類", "descriptor"), ("三级分类", "三級分類"))),
        Field("reported_at", "time", "上报时间", "Reported", required=True, past=True, popup=True,
              aliases=("上报时间", "上報時間", "投诉时间", "投訴時間", "举报时间", "受理时间", "来电时间", "來電時間", "诉求时间",
                       "登记时间", "反映时间", "时间", "時間", "reportedat",
                       "createddate", "created", "date", "time")),
        Field("status", label_zh="状态", label_en="Status", aliases=("状态", "狀態", "办理状态", "工单状态", "工單狀態", "status"),
              choices=STATUSES, synonyms=STATUS_SYNONYMS, default=RECEIVED, popup=True),
        Field("channel", label_zh="渠道", label_en="Channel", popup=True, option="--channel",
              aliases=("渠道", "来源渠道", "來源渠道", "channel", "opendatachanneltype")),
        # What the complainant wrote: names, doors, phone numbers turn up in it.
        Field("description", label_zh="描述", label_en="Description", column_class="personal",
              aliases=("描述", "内容", "內容", "投诉内容", "投訴內容", "问题描述", "诉求内容", "訴求內容",
                       "来电内容", "反映内容", "工单内容", "description", "descriptor")),
        address(("incidentaddress", "事发地址", "事發地址", "事发地点", "诉求地址", "问题地址", *ADDRESS_ALIASES)),
        Field("due_at", "time", "处置时限", "Due", aliases=("处置时限", "办结时限", "办理时限", "承办时限", "截止时间", "dueat", "duedate"),
              popup=True),
        Field("closed_at", "time", "结案时间", "Closed", past=True,
              aliases=("结案时间", "結案時間", "办结时间", "closedat", "closeddate")),
        *area_codes("district_code", "street_code", "community_code", "grid_code", shown=("street_code", "grid_code")),
    ),
    style_column="status", categories=STATUS_CATEGORIES,
    display=(ScaleDisplay(0, 13, "heat"), ScaleDisplay(14, 14, "hex"), ScaleDisplay(15, 22, "cluster")),
    time_column="reported_at", filter_columns=("category", "status"),
    # Hotline exports carry the caller's name and number in columns of their own.
    attributes_class="personal",
    history=CASE_HISTORY,
    symbol=PrintSymbol("投诉", "Complaint", {
        "complaint": {"marker": "X", "s": 40, "facecolor": "#d62828", "edgecolor": "black", "linewidths": 0.4},
        "overdue": {"marker": "*", "s": 90, "facecolor": "black", "edgecolor": "black", "linewidths": 0.4},
    }, default="complaint"),
)
