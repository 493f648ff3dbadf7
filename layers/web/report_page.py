"""The public report page (/report): place, category, description, photos, optional phone, then send.

Phone width, Chinese first, no account. The place is the phone's GPS or a tap on a
map of the city's own roads and names (static/app/context.js, no basemap, nothing
from another host), or on the configured basemap (``HYGIENE_MAP_BASEMAP``): a tap on
Gaode's GCJ-02 tiles is sent as GCJ-02 and the server stores it in WGS84. Before sending, the page asks ``/api/public/nearby`` and, when
an open case of the same type is close, says "已有人反映，是否补充？". It then
solves the server's proof-of-work (crypto.subtle, or static/app/sha256.js over
plain HTTP) and posts ``/api/public/reports``, then each photo (resized on the phone to a JPEG of at most
:data:`layers.workflow.photos.PHONE_PX` pixels) to ``/api/public/reports/{tracking}/photos`` with the report's challenge; the
answer's tracking page follows.
"""

from __future__ import annotations

import html

from data.settings import PublicSettings
from data.vocab import STATUS_EN
from layers.web.assets import STATIC_PREFIX
from layers.web.public_map import map_config, map_head, map_scripts
from layers.web.report_categories import choices
from layers.web.tracking_page import PLACE_WORDS, find_form, script_json
from layers.workflow.phones import PATTERN as PHONE_PATTERN
from layers.workflow.photos import PHONE_PX
from layers.workflow.public_photos import PER_REPORT

#: The longest description the server takes (api/routes/public.py): counted on the page, never cut silently.
DESCRIPTION_MAX = 1000


WORDS = {
    "zh": {"title": "反映问题", "intro": "无需注册。选好位置和类别，简要描述，提交后凭查询码查看办理进度。",
           "place": "位置", "gps": "用手机定位", "tap": "或在地图上点选位置", "placed": "已选位置",
           "no_gps": "无法获取手机位置，请在地图上点选位置", "category": "类别",
           "description": "描述（选填）", "description_hint": "哪里、什么问题，例如：小区北门垃圾桶满溢",
           "phone": "联系电话（选填，仅责任街道工作人员可见，用于回电）", "send": "提交",
           "no_message": "本页不会发送短信或其他消息：办理进度请凭查询码或提交后打开的链接查看。"
                         "电话只供责任单位需要时回电。",
           "count": "{n}/{max} 字", "too_long": "描述超出 {max} 字（现有 {n} 字），请删减后再提交。",
           "processing": "正在处理照片…",
           "need_place": "请先选位置", "need_category": "请选择类别",
           "nearby": "已有人反映，是否补充？", "nearby_item": "{status} · 约 {d} 米 · 已有 {n} 人支持",
           "join": "是，补充到已有反映", "back": "返回修改", "solving": "正在提交…", "sent": "已提交",
           "failed": "提交失败：", "other": "English",
           "photos": "照片（选填，最多 3 张）", "add_photo": "拍照或选择照片", "remove": "删除",
           "too_many": "最多 3 张照片", "photo_bad": "无法读取“{name}”：它不是照片，请选择 JPEG、PNG 或 WebP 格式的照片", "photo_failed": "照片未能上传：",
           "outside": "这个位置不在本市受理范围内（不在本市任何行政区划内）。请把标记移到本市范围内的地点，再提交。",
           # The API's refusals ("field: reason", in English) in the resident's words, by the field they name.
           "refused": {"phone": "联系电话格式不对：填完整的号码（至少 7 位，带 0 开头区号的至少 10 位），可在开头加 +，"
                                 "可用空格、短横线、点分隔，区号可加括号，如 (0535)6612345（最多 32 个字符）。",
                       "category": "这个类别无法受理，请从上面的列表中重新选择类别。",
                       "description": "描述太长，最多 1000 字。",
                       "challenge": "提交校验已失效，请再点一次“提交”。", "nonce": "提交校验未通过，请再点一次“提交”。",
                       "file": "这张照片无法使用：请选择 JPEG、PNG 或 WebP 格式的照片。",
                       "too_large": "内容太大：请换一张较小的照片。",
                       "too_often": "提交太频繁（同一网络地址下的手机共用这个上限），请约 {m} 分钟后再试，"
                                    "或拨打 {hotline} 热线反映。",
                       "city": "本市尚未设置网上反映的受理范围（行政区划），暂时无法在此提交，请通过其他渠道反映。"}},
    "en": {"title": "Report a problem", "intro": "No account needed. Choose the place and the category, describe it, "
                                                "then follow your report with its tracking number.",
           "place": "Place", "gps": "Use my location", "tap": "or tap the map", "placed": "Place chosen",
           "no_gps": "Your phone's location is not available: tap the map to choose the place", "category": "Category",
           "description": "Description (optional)", "description_hint": "Where and what, e.g. bins overflowing "
                                                                        "at the north gate",
           "phone": "Phone (optional; seen only by the responsible street's staff, to call you back)", "send": "Send",
           "no_message": "No text message or other message will be sent: follow your report with its tracking "
                         "number or the link that opens after sending. The phone is only for the office to "
                         "call you back if needed.",
           "count": "{n}/{max} characters", "too_long": "The description is longer than {max} characters "
                                                       "({n} now): shorten it, then send.",
           "processing": "Processing photos…",
           "need_place": "Choose the place first", "need_category": "Choose a category",
           "nearby": "Someone has reported this already. Add yours to it?",
           "nearby_item": "{status} · about {d} m · {n} supporters", "join": "Yes, add mine", "back": "Go back",
           "solving": "Sending…", "sent": "Sent", "failed": "Could not send: ", "other": "中文",
           "photos": "Photos (optional, up to 3)", "add_photo": "Take or choose photos", "remove": "Remove",
           "too_many": "Up to 3 photos", "photo_bad": "Cannot read “{name}”: it is not a photo; choose a JPEG, PNG or WebP photo",
           "photo_failed": "A photo was not uploaded: ",
           "outside": "This place is outside the area the city handles (in none of its areas). "
                      "Move the marker to a place within the city and send again.",
           "refused": {"phone": "The phone number is not valid: a whole number (7 digits or more, 10 or more with a "
                                "0 area code), an optional leading +, spaces, dashes or dots between them, the area "
                                "code in brackets if you like: (212) 555-0100 (at most 32 characters).",
                       "category": "This category cannot be taken: choose one from the list above again.",
                       "description": "The description is too long: at most 1000 characters.",
                       "challenge": "The sending check has expired: press Send again.",
                       "nonce": "The sending check failed: press Send again.",
                       "file": "This photo cannot be used: choose a JPEG, PNG or WebP photo.",
                       "too_large": "Too large: choose a smaller photo.",
                       "too_often": "Too many reports from this network address (the phones behind it share the "
                                    "limit): try again in about {m} minutes, or call the {hotline} hotline.",
                       "city": "The city has not set up the areas it takes reports in yet: reports cannot be sent "
                               "here for now; please use another channel."}},
}


def with_hotline(words: dict) -> dict:
    """The page's words with the city's hotline (``HYGIENE_MAP_PUBLIC_HOTLINE``) in the too-often refusal: a
    resident whose neighbourhood used up its address's reports still has a way to report."""
    hotline = PublicSettings.from_env().hotline
    refused = words["refused"]
    return {**words, "refused": {**refused, "too_often": refused["too_often"].replace("{hotline}", hotline)}}


def report_html(lang: str, categories: list[tuple[str, str]], center: tuple[float, float] | None,
                bounds: list[float] | None, basemap: dict | None = None) -> str:
    """The report form in ``lang``; ``categories`` are (name, label) pairs; the map starts on the city,
    over ``basemap`` (:func:`layers.web.basemap.basemap_config`; none by default)."""
    t = {**with_hotline(WORDS[lang]), **PLACE_WORDS[lang]}
    esc = html.escape
    config = {"lang": lang, "words": t, "category_labels": dict(categories),
              "max_photos": PER_REPORT, "photo_px": PHONE_PX, "description_max": DESCRIPTION_MAX,
              "phone_pattern": PHONE_PATTERN,  # the server's one rule for a number, checked before sending
              **map_config(basemap), "center": list(center) if center else [0, 0], "bounds": bounds,
              "track": "/report/", "query": "?lang=en" if lang == "en" else "",
              "statuses": STATUS_EN if lang == "en" else {}}  # a nearby case's status, in the page's language
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(t["title"])}</title>
{map_head()}
<link rel="stylesheet" href="{STATIC_PREFIX}/app/public.css">
</head><body class="tr">
<header><h1>{esc(t["title"])}</h1><a class="tr-lang" href="/report?lang={'zh' if lang == 'en' else 'en'}">{esc(t["other"])}</a></header>
<p class="tr-note">{esc(t["intro"])}</p>
{find_form(lang)}
<form id="rp-form" novalidate>
<h2>{esc(t["place"])}</h2>
<button type="button" id="rp-gps" class="rp-secondary">{esc(t["gps"])}</button>
<label for="rp-q" class="rp-sr">{esc(t["search"])}</label>
<div class="rp-search"><input type="search" id="rp-q" maxlength="50" placeholder="{esc(t["search"])}"
 enterkeyhint="search"><button type="button" id="rp-find">{esc(t["find_place"])}</button></div>
<ul id="rp-results"></ul>
<p id="rp-place" class="tr-note">{esc(t["tap"])}</p>
<div id="rp-map"></div>
<div id="rp-around" hidden><p></p><ul></ul></div>
<h2>{esc(t["category"])}</h2>
<div class="rp-cats">{choices(categories, lang)}</div>
{_details(t)}
<div class="rp-hp" aria-hidden="true"><input type="text" name="website" tabindex="-1" autocomplete="off"></div>
<div id="rp-nearby" hidden><p><b>{esc(t["nearby"])}</b></p><ul></ul>
<button type="button" id="rp-join">{esc(t["join"])}</button>
<button type="button" id="rp-back" class="rp-secondary">{esc(t["back"])}</button></div>
<p id="rp-msg" class="tr-error" role="alert"></p>
<button type="submit" id="rp-send">{esc(t["send"])}</button>
</form>
<script id="rp-config" type="application/json">{script_json(config)}</script>
{map_scripts(basemap)}
<script src="{STATIC_PREFIX}/app/sha256.js"></script>
<script src="{STATIC_PREFIX}/app/report.js"></script>
<script src="{STATIC_PREFIX}/app/report-places.js"></script>
</body></html>"""


def _details(t: dict) -> str:
    """The description (labelled, counted: never cut silently), the photo button and the phone, with the note
    that nothing will be sent to the resident (the phone is for the office to call back)."""
    esc = html.escape
    return f"""<h2><label for="rp-description">{esc(t["description"])}</label></h2>
<textarea id="rp-description" name="description" rows="3" placeholder="{esc(t["description_hint"])}"
 aria-describedby="rp-count"></textarea>
<p id="rp-count" class="rp-count" aria-live="polite">{esc(t["count"].format(n=0, max=DESCRIPTION_MAX))}</p>
<h2 id="rp-photos-title">{esc(t["photos"])}</h2>
<input type="file" id="rp-photos" class="rp-file" aria-labelledby="rp-photos-title rp-add"
 accept="image/jpeg,image/png,image/webp,image/*" multiple>
<label class="rp-add" id="rp-add" for="rp-photos">{esc(t["add_photo"])}</label>
<p id="rp-photo-state" class="tr-note" aria-live="polite"></p>
<div id="rp-thumbs"></div>
<label class="rp-phone" for="rp-phone">{esc(t["phone"])}</label>
<input type="tel" id="rp-phone" name="phone" maxlength="32" autocomplete="tel" aria-describedby="rp-no-message">
<p id="rp-no-message" class="tr-note">{esc(t["no_message"])}</p>"""
