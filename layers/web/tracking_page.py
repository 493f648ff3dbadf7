"""The public tracking page (/report/{tracking}): a report's steps, the unit's reply, the rating form.

Phone width, Chinese first. The server writes the page's frame and words; the
page's script (static/app/tracking.js) reads ``GET /api/public/reports/{tracking}``
(which never carries a contact or a staff name; with the report's key from the link's ``#k=`` fragment, kept
on the phone, the reporter's own description and the rating form), draws it with its before/after photos, follows it every
few seconds, and posts the rating. Under the facts (status first), a small map shows the report's own point (to 5
decimals) over the configured basemap or, offline, the city's own roads, outlines and names, as /report draws them
(layers/web/public_map.py): only map reads, never another report. Nothing else is loaded from another host.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote

from data.settings import PublicSettings
from data.vocab import PUBLIC_CHANNEL, RATINGS, STATUS_EN, UNSATISFIED, city_tz
from layers.web.assets import STATIC_PREFIX
from layers.web.public_map import map_config, map_head, map_scripts
from layers.web.report_categories import PLAIN

WORDS = {
    "zh": {"title": "反映办理进度", "tracking": "查询码", "category": "类别", "status": "当前状态",
           "reported": "反映时间", "due": "办理时限", "unit": "责任单位", "yours": "您的反映",
           "steps": "办理过程", "replies": "责任单位答复", "no_reply": "暂无答复",
           "supporters": "另有 {n} 人反映了同一问题", "supporter_one": "另有 1 人反映了同一问题", "joined": "您的反映已并入同一地点的已有案件",
           "rate": "评价办理结果", "rate_until": "请在 {t} 前评价", "reason": "理由（不满意时必填）",
           "send": "提交评价", "thanks": "已收到您的评价，谢谢！", "reopened": "案件已退回重新办理（返工）",
           "rework": "返工", "reconsider": "复核是否立案", "reconsidered": "案件已退回重新审查是否立案",
           "not_taken_up": "结案（不予立案）",
           "not_taken_up_note": "责任单位未立案办理这条反映（例如不属本单位职责或不在受理范围），并非问题已处理。",
           "why": "理由：{r}", "no_why": "责任单位未说明理由。", "need_reason": "选择“不满意”时请写明理由", "pick": "请选择一项评价",
           "loading": "正在加载…", "failed": "暂时无法加载，请稍后刷新", "missing": "没有这个查询码的反映，请核对后再试。",
           "other": "English", "keep": "请保存查询码，凭它查看进度。",
           "keep_link": "请收藏本页：本页链接含您的评价凭证。只凭查询码也能查看进度，但评价需用本页链接。",
           "photos_before": "现场照片", "photos_after": "处理后照片",
           "reporter_only": "只有反映人可以评价：请在提交反映的手机上，用提交后打开的链接查看本页。",
           "by_channel": "这条反映经“{c}”转来：请通过该渠道评价办理结果。",
           "rated_already": "这次办结已经评价过了。", "too_late": "已过评价期限。",
           "not_closed": "案件尚未办结，办结后才能评价。",
           "too_often": "提交太频繁（同一网络地址下的手机共用这个上限），请约 {m} 分钟后再试，或拨打 {hotline} 热线反映。",
           "rate_failed": "评价未能提交：", "find": "已反映过？输入查询码查看进度", "find_go": "查询",
           "save": "保存此链接", "save_note": "本系统不会发送短信或其他消息。请复制本页链接存到备忘录或发给自己，"
                                              "或用另一部手机扫描下面的二维码，以后凭它查看进度和评价。",
           "copy": "复制链接", "copied": "已复制，可粘贴到备忘录或聊天中发给自己。",
           "copy_failed": "无法自动复制：请长按上面的链接复制。", "qr": "本页链接的二维码（含评价凭证，请勿公开）",
           "map": "反映位置地图"},
    "en": {"title": "Report progress", "tracking": "Tracking number", "category": "Category", "status": "Status",
           "reported": "Reported", "due": "Due", "unit": "Responsible unit", "yours": "Your report",
           "steps": "Steps", "replies": "Replies from the unit", "no_reply": "No reply yet",
           "supporters": "{n} more people reported the same problem",
           "supporter_one": "1 more person reported the same problem",
           "joined": "Your report joined an open case at the same place",
           "rate": "Rate the result", "rate_until": "Please rate before {t}", "reason": "Reason (needed for 不满意)",
           "send": "Send rating", "thanks": "Thank you for your rating.", "reopened": "The case was sent back for rework",
           "rework": "rework", "reconsider": "reconsidered", "reconsidered": "The case was sent back for a fresh decision",
           "not_taken_up": "closed – not taken up (不予立案)",
           "not_taken_up_note": "The responsible unit did not take this report up (for example, not its "
                                "responsibility or not in scope); it does not mean the problem was fixed.",
           "why": "Reason: {r}", "no_why": "The unit gave no reason.", "need_reason": "Please say why you are not satisfied", "pick": "Please choose a rating",
           "loading": "Loading…", "failed": "Cannot load now; please refresh later",
           "missing": "No report has this tracking number; please check it.", "other": "中文",
           "keep": "Keep the tracking number to follow your report.",
           "keep_link": "Bookmark this page: its link holds your key to rate. The tracking number alone shows the "
                        "progress but cannot rate.",
           "photos_before": "Photos of the problem", "photos_after": "Photos after the work",
           "reporter_only": "Only the reporter can rate: open this page with the link the report page opened, "
                            "on the phone the report was sent from.",
           "by_channel": "This report came through {c}: rate the result through that channel.",
           "rated_already": "This closing has been rated already.",
           "too_late": "The time to rate this closing has passed.",
           "not_closed": "The case is not closed yet: rate it once it is.",
           "too_often": "Too many from this network address (the phones behind it share the limit): try again "
                         "in about {m} minutes, or call the {hotline} hotline.", "rate_failed": "Rating not sent: ",
           "find": "Reported already? Enter your tracking number", "find_go": "Look up",
           "save": "Keep this link", "save_note": "No text message or other message will be sent. Copy this page's "
                                                  "link into your notes or send it to yourself, or scan the QR code "
                                                  "below with another phone, to follow and rate your report later.",
           "copy": "Copy link", "copied": "Copied: paste it into your notes or a chat with yourself.",
           "copy_failed": "Could not copy: press and hold the link above to copy it.",
           "qr": "QR code of this page's link (holds your key to rate: do not share it publicly)",
           "map": "Map of the reported place"},
}

RATING_EN = {"满意": "satisfied", "基本满意": "mostly satisfied", "不满意": "not satisfied"}


#: The words of a place (layers/web/static/report-places.js placeText), on the report and tracking pages.
PLACE_WORDS = {
    "zh": {"place_is": "位置", "near": "{near}附近（约 {d} 米），{area}", "at": "{near}旁，{area}", "search": "搜索地名、公厕、街市、道路",
           "find_place": "搜索", "no_place": "本市数据中没有这个地名，请换个词或在地图上点选",
           "around": "附近已有的反映（是同一问题可在提交时补充）", "around_none": "附近暂无未办结的反映",
           "about_m": "约 {d} 米",
           "kinds": {"district": "区", "street": "街道", "community": "社区", "toilet": "公厕", "market": "市场",
                     "garbage": "垃圾收集点", "road": "道路"}},
    "en": {"place_is": "Place", "near": "near {near} (about {d} m), {area}",
           "at": "by {near}, {area}",
           "search": "Search a place, toilet, market or road", "find_place": "Search",
           "no_place": "No place of that name in the city's data: try another word or tap the map",
           "around": "Open reports nearby (if yours is the same, you can add to it when sending)",
           "around_none": "No open reports nearby", "about_m": "about {d} m",
           "kinds": {"district": "district", "street": "street", "community": "community", "toilet": "toilet",
                     "market": "market", "garbage": "garbage point", "road": "road"}},
}


def tracking_html(tracking: str, lang: str, found: bool = True, basemap: dict | None = None) -> str:
    """The page for ``tracking`` in ``lang`` (zh or en); ``found=False`` says the number is unknown. Its map is
    drawn over ``basemap`` (:func:`layers.web.basemap.basemap_config`; the city's own data by default)."""
    settings = PublicSettings.from_env()
    t = {**WORDS[lang], "too_often": WORDS[lang]["too_often"].replace("{hotline}", settings.hotline)}
    esc = html.escape
    other = "zh" if lang == "en" else "en"
    path = "/report/" + quote(tracking, safe="")
    config = {"api": "/api/public/reports/" + quote(tracking, safe=""), "tracking": tracking, "lang": lang, "follow_ms": 1000 * settings.follow_seconds,
              "time_zone": city_tz().key,  # times are shown in the city's zone, not the phone's
              "words": {**t, **PLACE_WORDS[lang]}, "place_api": "/api/public/place", "statuses": STATUS_EN if lang == "en" else {},
              "ratings": [[r, RATING_EN[r] if lang == "en" else r] for r in RATINGS], "unsatisfied": UNSATISFIED,
              "own_channel": PUBLIC_CHANNEL,  # reports made here; a partner's reporters rate through the partner
              # the plain words the resident picked on /report, beside the official name
              "plain": {name: words[1 if lang == "en" else 0] for name, words in PLAIN.items()},
              **map_config(basemap), "map_zoom": 17}  # a street's zoom: the point among its roads and names
    body = (f'<p id="tr-state" class="tr-note">{esc(t["loading"])}</p><div id="tr-report" hidden></div>'
            if found else f'<p id="tr-state" class="tr-error">{esc(t["missing"])}</p>{find_form(lang)}')
    script = (f'<script id="tr-config" type="application/json">{script_json(config)}</script>\n'
              f'{map_scripts(basemap)}\n<script src="{STATIC_PREFIX}/app/report-places.js"></script>'
              f'<script src="{STATIC_PREFIX}/app/tracking.js"></script>') if found else ""
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{esc(t["title"])} {esc(tracking)}</title>
{map_head() if found else ""}
<link rel="stylesheet" href="{STATIC_PREFIX}/app/public.css">
</head><body class="tr">
<header><h1>{esc(t["title"])}</h1><a class="tr-lang" href="{esc(path)}?lang={other}">{esc(t["other"])}</a></header>
<p class="tr-code">{esc(t["tracking"])}: <b>{esc(tracking.upper())}</b></p>
{body}
{script}
</body></html>"""


#: A public page refused: the channel closed, or this client too busy (429).
REFUSED = {"zh": {"title": "反映问题", "closed": "网上反映暂未开放，请通过其他渠道反映。",
                  "busy": "访问太频繁，请约 {s} 秒后再试。"},
           "en": {"title": "Report a problem", "closed": "Reports cannot be made here for now; please use another channel.",
                  "busy": "Too many requests from here: try again in about {s} seconds."}}


def find_form(lang: str) -> str:
    """A form to open a report's tracking page by its number, as written down or read aloud (GET /report?code=)."""
    t = WORDS[lang]
    keep = '<input type="hidden" name="lang" value="en">' if lang == "en" else ""
    return (f'<form id="tr-find" class="tr-find" method="get" action="/report"><label for="tr-find-code">'
            f'{html.escape(t["find"])}</label><div><input id="tr-find-code" name="code" maxlength="40" required '
            f'autocomplete="off" autocapitalize="characters" spellcheck="false">{keep}'
            f'<button type="submit">{html.escape(t["find_go"])}</button></div></form>')


def refused_html(lang: str, retry_after: int | None) -> str:
    """A public page refused: the channel closed (``retry_after`` None) or this client too busy, said in ``lang``."""
    t, words = WORDS[lang], REFUSED[lang]
    said = words["closed"] if retry_after is None else words["busy"].format(s=retry_after)
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(said)}</title>
<link rel="stylesheet" href="{STATIC_PREFIX}/app/public.css">
</head><body class="tr">
<header><h1>{html.escape(words["title"])}</h1><a class="tr-lang" href="?lang={'zh' if lang == 'en' else 'en'}">{html.escape(t["other"])}</a></header>
<p id="tr-state" class="tr-error">{html.escape(said)}</p>
</body></html>"""


def script_json(value) -> str:
    """JSON safe inside a <script> element (no closing tag, no comment opener)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
