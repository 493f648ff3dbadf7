"""The case page (/cases, 工单办理): a street office (or an inspector, or the campaign office) works its complaints.

Phone width and desktop, Chinese first. The server writes the frame, the words and the workflow (the statuses,
which state may follow which, which steps need a note — all from :mod:`data.vocab`, the source of the API's 409
message) into the page; the page's script (static/app/cases.js) reads the complaints through
``GET /api/complaints`` and ``GET /api/complaints/{id}`` and writes through the existing routes (``PATCH
/api/complaints/{id}``, the deadline routes), each write with an ``Idempotency-Key`` and the session's CSRF token
(``GET /api/session``). Times are shown in the city's zone. Nothing is loaded from another host.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from data.vocab import CLOSED, NOTE_REQUIRED, RECEIVED, STATUS_EN, STATUSES, TRANSITIONS
from layers.web.assets import STATIC_PREFIX
from layers.web.tracking_page import script_json
from layers.workflow.public_photos import AFTER_FROM

_APP = STATIC_PREFIX + "/app/"
PAGE_FILES = (_APP + "public.css", _APP + "cases.css", _APP + "photo-shrink.js", _APP + "cases.js",
              _APP + "cases-date.js", _APP + "cases-actions.js", _APP + "cases-public.js", _APP + "cases-photos.js")
PATH = "/cases"

WORDS = {
    "zh": {"title": "工单办理", "other": "English", "user": "当前用户", "street": "街道", "grid": "网格",
           "status": "状态", "all": "全部", "open": "未办结", "search": "查找",
           "search_hint": "编号、查询码、热线单号或地址", "hotline_no": "来源编号", "street_address": "地址",
           "not_yours": "该投诉不在您的办理范围内（{scope}），只能查看", "overdue_only": "仅超期", "pending_only": "待审延期",
           "awaiting_only": "待答复群众",
           "id": "编号", "category": "类别", "channel": "渠道", "reported": "上报时间", "due": "处置时限", "overdue": "超期",
           "more": "加载更多", "empty": "没有符合条件的投诉",
           "empty_open": "没有符合条件的未办结投诉；状态选“全部”可查已结案的", "back": "返回列表",
           "description": "问题描述", "address": "位置", "unit": "责任单位", "community": "社区",
           "history": "办理记录", "deadlines": "时限记录", "next": "下一步", "note": "办理说明",
           "note_required": "（须填写说明）",
           "moves": {"受理>结案": "不予立案（直接结案）", "核查>处置": "核查未通过，退回处置（返工）"}, "note_optional": "（选填）", "need_note": "请填写办理说明",
           "closed": "已结案，无后续步骤", "moved": "已转为 {s}", "no_write": "本账号只能查看，不能办理",
           "ask": "申请延期", "new_due": "新的处置时限（城市时间 {tz}）", "reason": "理由", "send_ask": "提交延期申请",
           "asked": "已提交延期申请，等待创卫办审批", "pending": "待审批的延期申请", "asked_for": "申请时限",
           "approve": "批准", "reject": "驳回", "decision_note": "审批意见（驳回时必填）",
           "need_reason": "请填写理由", "need_due": "请填写新的时限",
           "need_due_format": "请按“年-月-日 时:分”填写时限，如 2026-12-05 18:00", "due_hint": "年-月-日 时:分",
           "pick_day": "选日期", "weekdays": ["日", "一", "二", "三", "四", "五", "六"], "month_title": "{y}年{m}月",
           "prev_month": "上个月", "next_month": "下个月", "decided": "已处理延期申请",
           "set_due": "直接设定时限（限期整改）", "send_set": "设定时限", "set_done": "时限已修改",
           "kinds": {"request": "申请延期", "approve": "批准延期", "reject": "驳回延期", "set": "设定时限"},
           "e409_status": "该投诉当前状态为 {s}，只能转为：{a}", "e409": "操作冲突：{d}",
           "e403": "该投诉不在您的办理范围内（{scope}）", "e401": "登录已失效，请重新登录", "e422": "输入有误：{d}",
           "e_other": "操作失败（{n}）：{d}", "e_due": "新的时限须晚于当前时限，且不能早于现在", "e_net": "网络错误，请稍后重试",
           "login_needed": "工单办理页需要登录。", "login": "登录",
           "by": "办理人", "none": "无", "page_of": "已显示 {n} 件", "logout": "退出", "all_streets": "全部街道",
           "reporters": "群众反映", "first_report": "首报", "supporter": "补充", "tracking": "跟踪号",
           "reply_label": "答复内容（公开）",
           "phone": "联系电话：", "no_phone": "未留电话", "no_words": "（未填写描述）",
           "replies": "公开答复", "no_reply": "尚未答复", "send_reply": "发布公开答复",
           "reply_hint": "答复会显示在群众的跟踪页上（首报人和所有补充人都能看到），请勿写入电话号码等个人信息",
           "need_reply": "请填写答复内容", "replied": "公开答复已发布，群众可在跟踪页看到",
           "e_reply": "答复未能发布：{d}", "e_contacts": "无法读取群众反映：{d}",
           "close_unanswered": "群众尚未收到答复：结案后群众在跟踪页只能看到“{s}”。请先在下方“公开答复”中说明处理结果；"
                               "确需直接结案，请再次点击“{s}”。",
           "reject_unanswered": "不予立案须先告诉群众理由：请在下方“公开答复”中写明为何不予立案，再点击“{s}”。",
           "rated": "群众评价：", "photos": "处置照片", "before": "处置前", "after": "处置后", "photo_stage": "照片类型", "add_photo": "拍照或选择照片",
           "after_wait": "处置后照片在 {s} 时才能添加", "resizing": "正在处理照片…", "photo_added": "照片已添加",
           "photo_bad": "无法读取这张照片，请换一张", "e_photo": "照片未能添加：{d}",
           "photo_hint": "群众反映的投诉，照片会显示在群众的跟踪页上（不显示拍摄人）；请勿拍入人脸、车牌等个人信息"},
    "en": {"title": "Case handling", "other": "中文", "user": "User", "street": "Street", "grid": "Grid",
           "status": "Status", "all": "all", "open": "open", "search": "Find",
           "search_hint": "No., tracking no., hotline no. or address", "hotline_no": "Source no.", "street_address": "Address",
           "not_yours": "This complaint is outside what you handle ({scope}): read only", "overdue_only": "overdue only", "pending_only": "extension pending",
           "awaiting_only": "awaiting a reply to residents",
           "id": "No.", "category": "Category", "channel": "Channel", "reported": "Reported", "due": "Due",
           "overdue": "overdue", "more": "Load more", "empty": "No complaint matches",
           "empty_open": "No open complaint matches; choose status “all” to include closed ones",
           "back": "Back to the list", "description": "Description", "address": "Place", "unit": "Responsible unit",
           "community": "Community", "history": "Steps", "deadlines": "Deadline changes", "next": "Next step",
           "note": "Note", "note_required": " (a note is required)",
           "moves": {"受理>结案": "Not registered (close now)", "核查>处置": "Check failed: back to 处置 (rework)"}, "note_optional": " (optional)",
           "need_note": "Write a note for this step", "closed": "Closed: no further step",
           "moved": "Moved to {s}", "no_write": "This account reads only; it cannot handle cases",
           "ask": "Ask for more time", "new_due": "New deadline (city time, {tz})", "reason": "Reason",
           "send_ask": "Send the request", "asked": "Request sent; the campaign office decides",
           "pending": "Extension request awaiting a decision", "asked_for": "asked for", "approve": "Approve",
           "reject": "Reject", "decision_note": "Decision note (required to reject)", "need_reason": "Give a reason",
           "need_due": "Give the new deadline",
           "need_due_format": "Write the deadline as yyyy-mm-dd hh:mm, e.g. 2026-12-05 18:00",
           "due_hint": "yyyy-mm-dd hh:mm", "pick_day": "Pick a day",
           "weekdays": ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"], "month_title": "{y}-{m}",
           "prev_month": "Previous month", "next_month": "Next month", "decided": "Request decided", "set_due": "Set the deadline (限期整改)",
           "send_set": "Set deadline", "set_done": "Deadline changed",
           "kinds": {"request": "extension asked", "approve": "extension approved", "reject": "extension rejected",
                     "set": "deadline set"},
           "e409_status": "This complaint is now {s}; it can only move to: {a}", "e409": "Conflict: {d}",
           "e403": "This complaint is outside what you handle ({scope})", "e401": "The login has expired: log in again",
           "e422": "Invalid input: {d}", "e_other": "Failed ({n}): {d}",
           "e_due": "The new deadline must be later than the current one and not in the past", "e_net": "Network error: try again later",
           "login_needed": "The case page needs a login.", "login": "Log in",
           "by": "by", "none": "none", "page_of": "{n} shown", "logout": "Log out", "all_streets": "all streets",
           "reporters": "Residents' reports", "first_report": "First report", "supporter": "Added by a supporter",
           "tracking": "tracking no.", "phone": "Phone: ", "reply_label": "Reply to the public",
           "no_phone": "no number left",
           "no_words": "(no description)", "replies": "Public replies", "no_reply": "No reply yet",
           "send_reply": "Publish the reply",
           "reply_hint": "The reply is shown on the residents' tracking pages (the first reporter's and every "
                         "supporter's): write no phone number or other personal data",
           "need_reply": "Write the reply", "replied": "Reply published: residents see it on the tracking page",
           "e_reply": "The reply was not published: {d}", "e_contacts": "The residents' reports cannot be read: {d}",
           "close_unanswered": "The residents have had no reply: once it is {s} their tracking page shows only that. "
                               "Write what was done under “Public replies” below first, or click “{s}” again to "
                               "close anyway.",
           "reject_unanswered": "Not registering a resident's report needs the reason told to them first: write "
                                "why under “Public replies” below, then click “{s}”.",
           "rated": "Rated: ", "photos": "Photos of the work", "before": "Before", "after": "After", "photo_stage": "Photo of",
           "add_photo": "Take or choose a photo", "after_wait": "After photos can be added from {s} on",
           "resizing": "Preparing the photo…", "photo_added": "Photo added",
           "photo_bad": "This photo cannot be read: choose another", "e_photo": "The photo was not added: {d}",
           "photo_hint": "On a resident's case the photos show on the tracking page (not who took them): keep faces "
                         "and number plates out of them"},
}


def workflow(lang: str) -> dict:
    """The workflow the page offers, from the vocabulary: statuses in order, each one's next states, the steps
    that need a note, and the statuses' names in ``lang``."""
    return {"statuses": list(STATUSES), "next": {s: list(n) for s, n in TRANSITIONS.items()},
            "note_required": [f"{a}>{b}" for a, b in sorted(NOTE_REQUIRED)], "closed": CLOSED, "received": RECEIVED,
            "after_from": list(AFTER_FROM),
            "names": {s: (STATUS_EN[s] if lang == "en" else s) for s in STATUSES}}


def _head(lang: str, title: str) -> str:
    links = "".join(f'<link rel="stylesheet" href="{f}">' for f in PAGE_FILES if f.endswith(".css"))
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
{links}
</head>"""


def login_html(lang: str) -> str:
    """The page without a login: it says so and links the login form, which comes back here."""
    t, esc = WORDS[lang], html.escape
    back = PATH + ("?lang=en" if lang == "en" else "")
    target = f"/login?next={quote(back, safe='/')}" + ("&lang=en" if lang == "en" else "")
    return f"""{_head(lang, t["title"])}<body class="tr cs">
<header><h1>{esc(t["title"])}</h1><a class="tr-lang" href="{PATH}?lang={'zh' if lang == 'en' else 'en'}">{esc(t["other"])}</a></header>
<p id="cs-login">{esc(t["login_needed"])} <a id="cs-login-link" href="{esc(target)}">{esc(t["login"])}</a></p>
</body></html>"""


def cases_html(lang: str, config: dict) -> str:
    """The case page in ``lang``; ``config`` (user, streets for a city-wide user, time zone) goes to the script
    as JSON with the words and the workflow."""
    t, esc = WORDS[lang], html.escape
    other = "zh" if lang == "en" else "en"
    config = {**config, "lang": lang, "words": t, "workflow": workflow(lang)}
    scripts = "".join(f'<script src="{f}"></script>' for f in PAGE_FILES if f.endswith(".js"))
    user = config["user"]
    return f"""{_head(lang, t["title"])}<body class="tr cs">
<header><h1>{esc(t["title"])}</h1><a id="cs-lang" class="tr-lang" href="{PATH}?lang={other}">{esc(t["other"])}</a></header>
<form method="post" action="/logout" class="tr-note cs-who">{esc(t["user"])}: <b id="cs-user">{esc(user["name"])}</b>
({esc(user["scope"])}) <button type="submit" id="cs-logout">{esc(t["logout"])}</button></form>
<section id="cs-list-view">
<form id="cs-filters" class="cs-filters" role="search">
<label class="cs-search">{esc(t["search"])} <input type="search" id="cs-q" name="q" maxlength="100"
 enterkeyhint="search" placeholder="{esc(t["search_hint"])}"></label>
<label id="cs-scope-box">{esc(t["street"])} <select id="cs-scope" name="scope"></select></label>
<label>{esc(t["status"])} <select id="cs-status" name="status"></select></label>
<label><input type="checkbox" id="cs-overdue" name="overdue"> {esc(t["overdue_only"])}</label>
<label><input type="checkbox" id="cs-pending" name="pending"> {esc(t["pending_only"])}</label>
<label><input type="checkbox" id="cs-awaiting" name="awaiting"> {esc(t["awaiting_only"])}</label>
</form>
<p id="cs-list-msg" class="tr-error" role="alert"></p>
<table id="cs-table" class="cs-table"><thead><tr><th>{esc(t["id"])}</th><th>{esc(t["category"])}</th>
<th>{esc(t["status"])}</th><th>{esc(t["reported"])}</th><th>{esc(t["due"])}</th></tr></thead>
<tbody id="cs-rows"></tbody></table>
<p><span id="cs-count" class="tr-note"></span> <button type="button" id="cs-more" hidden>{esc(t["more"])}</button></p>
</section>
<section id="cs-detail" hidden></section>
<script id="cs-config" type="application/json">{script_json(config)}</script>
{scripts}
</body></html>"""
